"""`keras.optimizers.Ftrl`."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from keras_on_jax.optimizers import base_optimizer as bo


class FtrlState(NamedTuple):
    count: jax.Array
    accumulator: Any
    linear: Any


def ftrl_transform(
    learning_rate=0.001,
    learning_rate_power=-0.5,
    initial_accumulator_value=0.1,
    l1_regularization_strength=0.0,
    l2_regularization_strength=0.0,
    l2_shrinkage_regularization_strength=0.0,
    beta=0.0,
):
    """Keras's FTRL-Proximal. Its update is the difference between Keras's new value
    of the variable and the current one."""

    l1 = l1_regularization_strength

    def slots(params):
        accumulator = jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value), params)
        return accumulator, bo.zeros_like_tree(params)

    def leaf(g, p, lr, t, accum, linear):
        l2 = l2_regularization_strength + beta / (2.0 * lr)
        grad_to_use = g + 2 * l2_shrinkage_regularization_strength * p
        new_accum = accum + jnp.square(g)
        linear = linear + (
            grad_to_use
            - ((jnp.power(new_accum, -learning_rate_power) - jnp.power(accum, -learning_rate_power)) / lr)
            * p
        )
        quadratic = jnp.power(new_accum, -learning_rate_power) / lr + 2 * l2
        linear_clipped = jnp.clip(linear, -l1, l1)
        new_p = (linear_clipped - linear) / quadratic
        return (new_p - p, new_accum, linear)

    return bo.per_variable_transform("ftrl", FtrlState, learning_rate, slots, leaf)


class Ftrl(bo.Optimizer):
    """Optimizer that implements the FTRL algorithm.

    Args:
        learning_rate: float, schedule or callable. Defaults to `0.001`.
        learning_rate_power: <= 0. Defaults to `-0.5`.
        initial_accumulator_value: >= 0. Defaults to `0.1`.
        l1_regularization_strength: >= 0. Defaults to `0.0`.
        l2_regularization_strength: >= 0. Defaults to `0.0`.
        l2_shrinkage_regularization_strength: >= 0. Defaults to `0.0`.
        beta: Defaults to `0.0`.
    """

    _state_cls = FtrlState

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        l2_shrinkage_regularization_strength=0.0,
        beta=0.0,
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
        checks = [
            ("initial_accumulator_value", initial_accumulator_value < 0.0, "positive or zero"),
            ("learning_rate_power", learning_rate_power > 0.0, "negative or zero"),
            ("l1_regularization_strength", l1_regularization_strength < 0.0, "positive or zero"),
            ("l2_regularization_strength", l2_regularization_strength < 0.0, "positive or zero"),
            (
                "l2_shrinkage_regularization_strength",
                l2_shrinkage_regularization_strength < 0.0,
                "positive or zero",
            ),
        ]
        for arg, bad, expected in checks:
            if bad:
                raise ValueError(
                    f"`{arg}` needs to be {expected}. Received: {arg}={locals()[arg]}."
                )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list,
            ["accumulator", "linear"],
            initializer=[bo.constant_initializer(self.initial_accumulator_value), "zeros"],
        )
        self._set_slots(accumulator=self._accumulators, linear=self._linears)

    def _make_transform(self):
        return ftrl_transform(
            self._learning_rate,
            self.learning_rate_power,
            self.initial_accumulator_value,
            self.l1_regularization_strength,
            self.l2_regularization_strength,
            self.l2_shrinkage_regularization_strength,
            self.beta,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta,
            }
        )
        return config
