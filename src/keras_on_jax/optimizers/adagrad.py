"""`keras.optimizers.Adagrad`."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from keras_on_jax.optimizers import base_optimizer as bo


class AdagradState(NamedTuple):
    count: jax.Array
    accumulator: Any


def adagrad_transform(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
    """Keras's Adagrad: `var -= lr * g / sqrt(acc + epsilon)` (epsilon inside the root,
    as in Keras; `optax.scale_by_rss` puts it elsewhere)."""

    def slots(params):
        return (jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value), params),)

    def leaf(g, p, lr, t, acc):
        acc = acc + jnp.square(g)
        return (-((lr * g) / jnp.sqrt(acc + epsilon)), acc)

    return bo.per_variable_transform("adagrad", AdagradState, learning_rate, slots, leaf)


class Adagrad(bo.Optimizer):
    """Optimizer that implements the Adagrad algorithm.

    Args:
        learning_rate: float, schedule or callable. Defaults to `0.001`.
        initial_accumulator_value: starting value of the accumulators. Defaults to 0.1.
        epsilon: small constant for numerical stability. Defaults to `1e-7`.
    """

    _state_cls = AdagradState

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
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
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators = self.add_optimizer_variables(
            var_list,
            "accumulator",
            initializer=bo.constant_initializer(self.initial_accumulator_value),
        )
        self._set_slots(accumulator=self._accumulators)

    def _make_transform(self):
        return adagrad_transform(self._learning_rate, self.initial_accumulator_value, self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon,
            }
        )
        return config
