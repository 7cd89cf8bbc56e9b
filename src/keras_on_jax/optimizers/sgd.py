"""`keras.optimizers.SGD` (momentum, Nesterov)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from keras_on_jax.optimizers import base_optimizer as bo


class SGDState(NamedTuple):
    count: jax.Array
    momentum: Any  # None when momentum == 0


def sgd_transform(learning_rate=0.01, momentum=0.0, nesterov=False):
    """Keras's SGD as an optax transformation.

    The `momentum` slot holds Keras's velocity `m = momentum * m - lr * g` (it includes
    the learning rate, unlike `optax.trace`, so it stays Keras-compatible when the
    learning rate changes between steps).
    """

    def slots(params):
        return (bo.zeros_like_tree(params) if momentum != 0 else None,)

    def leaf(g, p, lr, t, m):
        if m is None:
            return (-(g * lr), None)
        mom = jnp.asarray(momentum, p.dtype)
        m = m * mom - g * lr
        if nesterov:
            return (m * mom - g * lr, m)
        return (m, m)

    return bo.per_variable_transform("sgd", SGDState, learning_rate, slots, leaf)


class SGD(bo.Optimizer):
    """Gradient descent (with momentum) optimizer.

    Args:
        learning_rate: float, schedule or callable. Defaults to `0.01`.
        momentum: float in [0, 1]. Defaults to `0.0`.
        nesterov: whether to apply Nesterov momentum. Defaults to `False`.
    """

    _state_cls = SGDState

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
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
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError(
                f"`momentum` must be a float between [0, 1]. Received: momentum={momentum}"
            )
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")
            self._set_slots(momentum=self.momentums)

    def _make_transform(self):
        return sgd_transform(self._learning_rate, self.momentum, self.nesterov)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
