"""`keras.optimizers.Lamb`."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from keras_on_jax.optimizers import base_optimizer as bo


class LambState(NamedTuple):
    count: jax.Array
    momentum: Any
    velocity: Any


def lamb_transform(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Keras's Lamb: Adam direction scaled by the trust ratio `||w|| / ||update||`
    (Keras adds epsilon after the bias-corrected square root and applies no weight
    decay inside the update, unlike `optax.lamb`)."""

    def slots(params):
        return bo.zeros_like_tree(params), bo.zeros_like_tree(params)

    def leaf(g, p, lr, t, m, v):
        b1p = jnp.power(jnp.asarray(beta_1, p.dtype), t)
        b2p = jnp.power(jnp.asarray(beta_2, p.dtype), t)
        m = m + (g - m) * (1 - beta_1)
        v = v + (jnp.square(g) - v) * (1 - beta_2)
        m_hat = m / (1.0 - b1p)
        v_sqrt = jnp.sqrt(v / (1.0 - b2p)) + epsilon
        update = m_hat / v_sqrt
        w_norm = jnp.sqrt(jnp.sum(jnp.power(p, 2)))
        g_norm = jnp.sqrt(jnp.sum(jnp.power(update, 2)))
        ratio = jnp.where(w_norm > 0, jnp.where(g_norm > 0, w_norm / g_norm, 1.0), 1.0)
        return (-(ratio * lr * update), m, v)

    return bo.per_variable_transform("lamb", LambState, learning_rate, slots, leaf)


class Lamb(bo.Optimizer):
    """Optimizer that implements the Lamb algorithm.

    Args:
        learning_rate: float, schedule or callable. Defaults to `0.001`.
        beta_1: decay rate of the first moment. Defaults to `0.9`.
        beta_2: decay rate of the second moment. Defaults to `0.999`.
        epsilon: small constant for numerical stability. Defaults to `1e-7`.
    """

    _state_cls = LambState

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
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )
        self._set_slots(momentum=self._momentums, velocity=self._velocities)

    def _make_transform(self):
        return lamb_transform(self._learning_rate, self.beta_1, self.beta_2, self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
