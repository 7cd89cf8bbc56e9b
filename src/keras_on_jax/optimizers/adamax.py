"""`keras.optimizers.Adamax`."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from keras_on_jax.optimizers import base_optimizer as bo


class AdamaxState(NamedTuple):
    count: jax.Array
    momentum: Any
    norm: Any


def adamax_transform(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Keras's Adamax: `var -= lr * m / ((1 - beta_1**t) * (u + epsilon))`."""

    def slots(params):
        return bo.zeros_like_tree(params), bo.zeros_like_tree(params)

    def leaf(g, p, lr, t, m, u):
        b1p = jnp.power(jnp.asarray(beta_1, p.dtype), t)
        m = m + (g - m) * (1 - beta_1)
        u = jnp.maximum(beta_2 * u, jnp.abs(g))
        return (-((lr * m) / ((1 - b1p) * (u + epsilon))), m, u)

    return bo.per_variable_transform("adamax", AdamaxState, learning_rate, slots, leaf)


class Adamax(bo.Optimizer):
    """Optimizer that implements the Adamax algorithm (Adam with the infinity norm).

    Args:
        learning_rate: float, schedule or callable. Defaults to `0.001`.
        beta_1: decay rate of the first moment. Defaults to `0.9`.
        beta_2: decay rate of the weighted infinity norm. Defaults to `0.999`.
        epsilon: small constant for numerical stability. Defaults to `1e-7`.
    """

    _state_cls = AdamaxState

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(**bo.base_arguments(locals()))
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])
        self._set_slots(momentum=self._m, norm=self._u)

    def _make_transform(self):
        return adamax_transform(self._learning_rate, self.beta_1, self.beta_2, self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
