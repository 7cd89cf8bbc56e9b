"""`keras.optimizers.RMSprop` (rho, momentum, centered)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from keras_on_jax.optimizers import base_optimizer as bo


class RMSpropState(NamedTuple):
    count: jax.Array
    velocity: Any
    momentum: Any  # None unless momentum > 0
    average_gradient: Any  # None unless centered


def rmsprop_transform(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    """Keras's RMSprop: epsilon is added inside the square root (optax adds it outside
    by default) and the momentum slot holds `lr`-scaled increments."""

    def slots(params):
        z = bo.zeros_like_tree
        return z(params), z(params) if momentum > 0 else None, z(params) if centered else None

    def leaf(g, p, lr, t, vel, mom, avg):
        vel = rho * vel + (1 - rho) * jnp.square(g)
        if centered:
            avg = rho * avg + (1 - rho) * g
            denominator = vel - jnp.square(avg) + epsilon
        else:
            denominator = vel + epsilon
        increment = (lr * g) / jnp.sqrt(denominator)
        if momentum > 0:
            mom = momentum * mom + increment
            return (-mom, vel, mom, avg)
        return (-increment, vel, mom, avg)

    return bo.per_variable_transform("rmsprop", RMSpropState, learning_rate, slots, leaf)


class RMSprop(bo.Optimizer):
    """Optimizer that implements the RMSprop algorithm.

    Args:
        learning_rate: float, schedule or callable. Defaults to `0.001`.
        rho: discounting factor for the old gradients. Defaults to `0.9`.
        momentum: momentum (0 disables). Defaults to `0.0`.
        epsilon: small constant added under the square root. Defaults to `1e-7`.
        centered: normalize by the estimated variance. Defaults to `False`.
    """

    _state_cls = RMSpropState

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
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
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient")
        self._set_slots(
            velocity=self._velocities,
            momentum=self._momentums if self.momentum > 0 else None,
            average_gradient=self._average_gradients if self.centered else None,
        )

    def _make_transform(self):
        return rmsprop_transform(
            self._learning_rate, self.rho, self.momentum, self.epsilon, self.centered
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "rho": self.rho,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "centered": self.centered,
            }
        )
        return config
