"""`keras.optimizers.Lion`."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from keras_on_jax.optimizers import base_optimizer as bo


class LionState(NamedTuple):
    count: jax.Array
    momentum: Any


def lion_transform(learning_rate=0.001, beta_1=0.9, beta_2=0.99):
    """Keras's Lion: `var -= lr * sign(b1 * m + (1 - b1) * g)`; `m = b2 * m + (1 - b2) * g`.

    (`optax.scale_by_lion` computes the same direction; it is written out here so the
    learning rate is applied in the variable's dtype exactly as Keras does.)
    """

    def slots(params):
        return (bo.zeros_like_tree(params),)

    def leaf(g, p, lr, t, m):
        b1 = jnp.asarray(beta_1, p.dtype)
        b2 = jnp.asarray(beta_2, p.dtype)
        upd = -(lr * jnp.sign(m * b1 + g * (1.0 - b1)))
        m = m * b2 + g * (1.0 - b2)
        return (upd, m)

    return bo.per_variable_transform("lion", LionState, learning_rate, slots, leaf)


class Lion(bo.Optimizer):
    """Optimizer that implements the Lion algorithm.

    Args:
        learning_rate: float, schedule or callable. Defaults to `0.001`.
        beta_1: rate to combine the gradient and the momentum. Defaults to `0.9`.
        beta_2: decay rate of the momentum. Defaults to `0.99`.
    """

    _state_cls = LionState

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.99,
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
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}."
            )

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._set_slots(momentum=self._momentums)

    def _make_transform(self):
        return lion_transform(self._learning_rate, self.beta_1, self.beta_2)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config
