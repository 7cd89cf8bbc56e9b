"""`keras.optimizers.Adafactor`."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from keras_on_jax.backend.variables import Variable
from keras_on_jax.optimizers import base_optimizer as bo


class AdafactorState(NamedTuple):
    count: jax.Array
    r: Any  # row statistics (int32 0 placeholders for variables with rank < 2)
    c: Any  # column statistics (same placeholders)
    velocity: Any


def _rms(x):
    return jnp.sqrt(jnp.mean(jnp.square(x)))


def adafactor_transform(
    learning_rate=0.001,
    beta_2_decay=-0.8,
    epsilon_1=1e-30,
    epsilon_2=1e-3,
    clip_threshold=1.0,
    relative_step=True,
):
    """Keras's Adafactor (factored second moments; update scaled by the parameter RMS).

    `relative_step` caps the learning rate at `1 / sqrt(step)`; the Keras optimizer
    passes `relative_step=False` when its learning rate is a schedule or callable.
    """

    def rc(p, axis_drop):
        if p.ndim < 2:
            return jnp.zeros([], jnp.int32)
        shape = p.shape[:-1] if axis_drop == -1 else p.shape[:-2] + (p.shape[-1],)
        return jnp.zeros(shape, p.dtype)

    def slots(params):
        return (
            jax.tree.map(lambda p: rc(p, -1), params),
            jax.tree.map(lambda p: rc(p, -2), params),
            bo.zeros_like_tree(params),
        )

    def leaf(g, p, lr, t, r, c, v):
        eps2 = jnp.asarray(epsilon_2, p.dtype)
        one = jnp.asarray(1.0, p.dtype)
        if relative_step:
            lr = jnp.minimum(lr, 1 / jnp.sqrt(t))
        rho_t = jnp.minimum(lr, 1 / jnp.sqrt(t))
        alpha_t = jnp.maximum(eps2, _rms(p)) * rho_t
        reg = jnp.square(g) + epsilon_1
        beta_2_t = 1 - jnp.power(t, beta_2_decay)
        if p.ndim >= 2:
            r = beta_2_t * r + (1 - beta_2_t) * jnp.mean(reg, axis=-1)
            c = beta_2_t * c + (1 - beta_2_t) * jnp.mean(reg, axis=-2)
            v = jnp.expand_dims(r / jnp.mean(r, axis=-1, keepdims=True), -1) * jnp.expand_dims(
                c, -2
            )
        else:
            v = beta_2_t * v + (1 - beta_2_t) * reg
        u = g / jnp.sqrt(v)
        u_hat = u / jnp.maximum(one, _rms(u) / clip_threshold)
        return (-(alpha_t * u_hat), r, c, v)

    return bo.per_variable_transform("adafactor", AdafactorState, learning_rate, slots, leaf)


class Adafactor(bo.Optimizer):
    """Optimizer that implements the Adafactor algorithm.

    Args:
        learning_rate: float, schedule or callable. Defaults to `0.001`.
        beta_2_decay: decay rate of the second moment. Defaults to `-0.8`.
        epsilon_1: small offset in the denominator. Defaults to `1e-30`.
        epsilon_2: small offset of the parameter RMS. Defaults to `1e-3`.
        clip_threshold: update clipping threshold. Defaults to `1.0`.
        relative_step: cap the learning rate at `1/sqrt(step)`. Defaults to `True`.
    """

    _state_cls = AdafactorState

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay=-0.8,
        epsilon_1=1e-30,
        epsilon_2=1e-3,
        clip_threshold=1.0,
        relative_step=True,
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
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._r, self._c, self._v = [], [], []
        for var in var_list:
            if len(var.shape) < 2:
                # Keras keeps unused int32 scalar placeholders here (bare Variables).
                for store in (self._r, self._c):
                    placeholder = Variable(0, dtype="int32", name=var.name, trainable=False)
                    self._track_variable(placeholder)
                    store.append(placeholder)
            elif self._overwrite_variable_with_gradient(var):
                self._r.append(None)
                self._c.append(None)
            else:
                r_shape = var.shape[:-1]
                c_shape = var.shape[:-2] + (var.shape[-1],)
                self._r.append(self.add_variable(shape=r_shape, dtype=var.dtype, name=var.name))
                self._c.append(self.add_variable(shape=c_shape, dtype=var.dtype, name=var.name))
            if self._overwrite_variable_with_gradient(var):
                self._v.append(None)
            else:
                self._v.append(self.add_variable_from_reference(var, name="velocity"))
        self._set_slots(r=self._r, c=self._c, velocity=self._v)

    def _make_transform(self):
        relative = self.relative_step and isinstance(self._learning_rate, Variable)
        return adafactor_transform(
            self._learning_rate,
            self.beta_2_decay,
            self.epsilon_1,
            self.epsilon_2,
            self.clip_threshold,
            relative,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step,
            }
        )
        return config
