"""`keras.optimizers.Adadelta`."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from keras_on_jax.optimizers import base_optimizer as bo


class AdadeltaState(NamedTuple):
    count: jax.Array
    accumulated_grad: Any
    accumulated_delta_var: Any


def adadelta_transform(learning_rate=0.001, rho=0.95, epsilon=1e-7):
    """Keras's Adadelta (the learning rate scales the delta, as in Keras)."""

    def slots(params):
        return bo.zeros_like_tree(params), bo.zeros_like_tree(params)

    def rms(x):
        return jnp.sqrt(x + epsilon)

    def leaf(g, p, lr, t, acc_g, acc_d):
        acc_g = rho * acc_g + (1 - rho) * jnp.square(g)
        delta = -((rms(acc_d) * g) / rms(acc_g))
        acc_d = rho * acc_d + (1 - rho) * jnp.square(delta)
        return (lr * delta, acc_g, acc_d)

    return bo.per_variable_transform("adadelta", AdadeltaState, learning_rate, slots, leaf)


class Adadelta(bo.Optimizer):
    """Optimizer that implements the Adadelta algorithm.

    Args:
        learning_rate: float, schedule or callable. Defaults to `0.001`.
        rho: the decay rate. Defaults to `0.95`.
        epsilon: small constant for numerical stability. Defaults to `1e-7`.
    """

    _state_cls = AdadeltaState

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.95,
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
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"]
        )
        self._set_slots(
            accumulated_grad=self._accumulated_grads,
            accumulated_delta_var=self._accumulated_delta_vars,
        )

    def _make_transform(self):
        return adadelta_transform(self._learning_rate, self.rho, self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
