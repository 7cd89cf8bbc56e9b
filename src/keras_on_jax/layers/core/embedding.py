"""`Embedding`: maps integer indices to dense vectors."""

from __future__ import annotations

import warnings

import jax.numpy as jnp

from keras_on_jax import constraints, initializers, regularizers
from keras_on_jax.layers.core.lora import LoRAMixin
from keras_on_jax.layers.core.quantized_embedding import EmbeddingQuantization
from keras_on_jax.layers.layer import Layer
from keras_on_jax.backend.keras_tensor import KerasTensor


class Embedding(EmbeddingQuantization, LoRAMixin, Layer):
    """Turns non-negative integers (indices) into dense vectors of fixed size.

    Args:
        input_dim: vocabulary size (maximum index + 1).
        output_dim: size of each embedding vector.
        embeddings_initializer: initializer of the `embeddings` matrix (`"uniform"`).
        embeddings_regularizer, embeddings_constraint: for the `embeddings` matrix.
        mask_zero: whether index 0 is padding to be masked out.
        weights: optional initial `(input_dim, output_dim)` matrix.
        input_length: accepted (deprecated in Keras 3) and ignored.
        lora_rank, lora_alpha: enable LoRA at build time (see `enable_lora`).
        quantization_config: the config the layer was quantized with (see `quantize`).

    Input shape: `(batch_size, input_length)` (any rank). Float indices are cast to int32.
    Output shape: `(*input_shape, output_dim)`.
    """

    _quantizable = True
    _lora_base = "_embeddings"
    _lora_names = ("lora_embeddings_a", "lora_embeddings_b")
    _lora_constraint = "embeddings_constraint"
    _lora_regularizer = "embeddings_regularizer"

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 **kwargs):
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"`{arg}` must be a positive integer. Received: {arg}={value} "
                    f"(of type {type(value).__name__})."
                )
        input_length = kwargs.pop("input_length", None)
        if input_length is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.autocast = False
        self._init_lora(lora_rank, lora_alpha)
        self._init_quantization(quantization_config)
        if weights is not None:
            self.build()
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape=None):
        if self.built:
            return
        shape = (self.input_dim, self.output_dim)
        mode = self.quantization_mode
        if mode:
            self.quantized_build(shape, mode, self.quantization_config)
        if mode not in ("int8", "int4"):
            self._embeddings = self.add_weight(
                shape=shape,
                initializer=self.embeddings_initializer,
                name="embeddings",
                regularizer=self.embeddings_regularizer,
                constraint=self.embeddings_constraint,
                trainable=True,
            )
        self.built = True
        if self.lora_rank:
            self.enable_lora(self.lora_rank, self.lora_alpha)

    @property
    def embeddings(self):
        """The table: a Variable, or with LoRA the merged (or int4-unpacked) array."""
        if not self.built:
            raise AttributeError("You must build the layer before accessing `embeddings`.")
        return self._lora_merged(self._stored_embeddings())

    def call(self, inputs):
        inputs = jnp.asarray(inputs)
        if inputs.dtype not in (jnp.int32, jnp.int64):
            inputs = inputs.astype("int32")
        table = self._lora_merged(self._embeddings)
        outputs = jnp.take(getattr(table, "value", table), inputs, axis=0)
        return outputs.astype(self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        if isinstance(inputs, KerasTensor):
            return KerasTensor(inputs.shape, dtype="bool")
        return jnp.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.output_dim)

    def compute_output_spec(self, *args, **kwargs):
        inputs = args[0] if args else next(iter(kwargs.values()))
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            **self._quantization_config_entry(),
            **self._lora_config(),
        })
        return config
