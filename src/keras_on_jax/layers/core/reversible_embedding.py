"""`ReversibleEmbedding`: an embedding that can also project back to the vocabulary."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.layers.core.embedding import Embedding
from keras_on_jax.layers.core.quantized_embedding import ReversibleEmbeddingQuantization


class ReversibleEmbedding(ReversibleEmbeddingQuantization, Embedding):
    """An `Embedding` that `reverse=True` turns into a projection from `output_dim` back
    to `input_dim` (a language model's output logits).

    Args:
        input_dim, output_dim, embeddings_*, mask_zero: as for `Embedding`.
        tie_weights: project with the transposed `embeddings` (True, the default) or with a
            separate trainable `reverse_embeddings` matrix of shape
            `(output_dim, input_dim)`.
        reverse_dtype: dtype of the reverse projection (default: the compute dtype).
        logit_soft_cap: when set, reverse logits become
            `tanh(logits / logit_soft_cap) * logit_soft_cap`.

    Call arguments: `inputs`, and `reverse` (default False).
    """

    _quantizable = True

    def __init__(self, input_dim, output_dim, tie_weights=True,
                 embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape=None):
        if self.built:
            return
        super().build(input_shape)
        if not self.tie_weights and self.quantization_mode not in ("int8", "int4"):
            self.reverse_embeddings = self.add_weight(
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer,
                name="reverse_embeddings",
                trainable=True,
            )

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        if self.tie_weights:
            table = self._lora_merged(self._embeddings)
            kernel = jnp.transpose(getattr(table, "value", table))
        else:
            kernel = self.reverse_embeddings.value
        inputs = jnp.asarray(inputs)
        if self.reverse_dtype is not None:
            inputs = inputs.astype(self.reverse_dtype)
            kernel = kernel.astype(self.reverse_dtype)
        logits = jnp.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            logits = jnp.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs, mask=None):
        # Only the forward (index) direction masks: reverse inputs are hidden states.
        if jnp.issubdtype(jnp.dtype(inputs.dtype), jnp.floating):
            return None
        return super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return (*tuple(input_shape)[:-1], self.input_dim)
        return super().compute_output_shape(input_shape)

    def compute_output_spec(self, inputs, reverse=False):
        return KerasTensor(self.compute_output_shape(inputs.shape, reverse=reverse),
                           dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update({
            "tie_weights": self.tie_weights,
            "reverse_dtype": self.reverse_dtype,
            "logit_soft_cap": self.logit_soft_cap,
        })
        return config
