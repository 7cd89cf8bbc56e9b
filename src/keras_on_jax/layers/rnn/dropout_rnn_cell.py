"""`DropoutRNNCell`: the dropout-mask cache shared by the recurrent cells.

A cell mixing this in has `dropout`, `recurrent_dropout` and `seed_generator`. The masks
are drawn once per batch (by `RNN.call`, before the `lax.scan`, so no random draw or
seed-generator update happens inside the loop), reused at every step, then cleared.
"""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.backend import random as backend_random


class DropoutRNNCell:
    """Mixin holding the per-batch dropout masks of an RNN cell (as in Keras 3)."""

    def _create_dropout_mask(self, step_input, dropout_rate):
        count = getattr(self, "dropout_mask_count", None)
        ones = jnp.ones_like(step_input)
        if count is None:
            return backend_random.dropout(ones, rate=dropout_rate, seed=self.seed_generator)
        return [
            backend_random.dropout(ones, rate=dropout_rate, seed=self.seed_generator)
            for _ in range(count)
        ]

    def get_dropout_mask(self, step_input):
        if getattr(self, "_dropout_mask", None) is None and self.dropout > 0:
            self._dropout_mask = self._create_dropout_mask(step_input, self.dropout)
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, step_input):
        if getattr(self, "_recurrent_dropout_mask", None) is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._create_dropout_mask(
                step_input, self.recurrent_dropout
            )
        return getattr(self, "_recurrent_dropout_mask", None)

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None
