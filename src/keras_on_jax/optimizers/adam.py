"""`keras.optimizers.Adam` (with AMSGrad)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from keras_on_jax.optimizers import base_optimizer as bo


class AdamState(NamedTuple):
    count: jax.Array
    momentum: Any
    velocity: Any
    velocity_hat: Any  # None unless amsgrad


def adam_transform(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    """Keras's Adam. Keras's `epsilon` is "epsilon hat" (added to `sqrt(v)` before the
    bias correction folded into the step size), which `optax.scale_by_adam` cannot
    express exactly, hence this transformation."""

    def slots(params):
        z = bo.zeros_like_tree
        return z(params), z(params), z(params) if amsgrad else None

    def leaf(g, p, lr, t, m, v, vh):
        b1p = jnp.power(jnp.asarray(beta_1, p.dtype), t)
        b2p = jnp.power(jnp.asarray(beta_2, p.dtype), t)
        alpha = lr * jnp.sqrt(1 - b2p) / (1 - b1p)
        m = m + (g - m) * (1 - beta_1)
        v = v + (jnp.square(g) - v) * (1 - beta_2)
        denom_v = v
        if amsgrad:
            vh = jnp.maximum(vh, v)
            denom_v = vh
        return (-((m * alpha) / (jnp.sqrt(denom_v) + epsilon)), m, v, vh)

    return bo.per_variable_transform("adam", AdamState, learning_rate, slots, leaf)


class Adam(bo.Optimizer):
    """Optimizer that implements the Adam algorithm.

    Args:
        learning_rate: float, schedule or callable. Defaults to `0.001`.
        beta_1: decay rate of the first moment. Defaults to `0.9`.
        beta_2: decay rate of the second moment. Defaults to `0.999`.
        epsilon: "epsilon hat" of Kingma & Ba. Defaults to `1e-7`.
        amsgrad: whether to apply AMSGrad. Defaults to `False`.
    """

    _state_cls = AdamState

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
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
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )
        slots = {"momentum": self._momentums, "velocity": self._velocities}
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")
            slots["velocity_hat"] = self._velocity_hats
        self._set_slots(**slots)

    def _make_transform(self):
        return adam_transform(
            self._learning_rate, self.beta_1, self.beta_2, self.epsilon, self.amsgrad
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "amsgrad": self.amsgrad,
            }
        )
        return config
