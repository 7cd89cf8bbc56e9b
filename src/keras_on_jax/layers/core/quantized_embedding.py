"""`Embedding` and `ReversibleEmbedding` quantized to int8 or int4 (one scale per token,
or int4 in groups of `block_size` features with zero points), with Keras 3's variables."""

from __future__ import annotations

import math

import jax.numpy as jnp

from keras_on_jax.layers.core.quantized import (
    QuantizableMixin,
    add_int4_scales,
    grouped,
    int_matmul,
)
from keras_on_jax.quantizers import quantizers as q
from keras_on_jax.quantizers.quantization_config import (
    Int4QuantizationConfig,
    QuantizationConfig,
    get_block_size_for_layer,
)


def _block_size(config):
    return config.block_size if isinstance(config, Int4QuantizationConfig) else None


def _indices(inputs):
    inputs = jnp.asarray(inputs)
    return inputs if inputs.dtype in (jnp.int32, jnp.int64) else inputs.astype("int32")


class EmbeddingQuantization(QuantizableMixin):
    """Quantization of `Embedding` (rows are tokens: scales are per token)."""

    _base_name = "embeddings"

    @property
    def variable_serialization_spec(self):
        """The variables a file holds for each quantization mode, in Keras 3's order."""
        return {
            None: ["embeddings"],
            "int8": ["embeddings", "embeddings_scale"],
            "int4": ["embeddings", "embeddings_scale", "embeddings_zero", "g_idx"],
        }

    def _stored_embeddings(self):
        if self.quantization_mode == "int4":
            return q.unpack_int4(self._embeddings, self._orig_output_dim, axis=-1)
        return self._embeddings

    def _lora_base_shape(self):
        return (self.input_dim, self.output_dim)

    # ---- building -----------------------------------------------------------------------
    def _int8_build(self, embeddings_shape, config=None):
        self._embeddings = self.add_weight(name="embeddings", shape=embeddings_shape,
                                           initializer="zeros", dtype="int8", trainable=False)
        # One scale per token (row): vocabularies are usually larger than `output_dim`.
        self.embeddings_scale = self.add_weight(name="embeddings_scale",
                                                shape=(self.input_dim,), initializer="ones",
                                                trainable=False)

    def _int4_build(self, embeddings_shape, config=None):
        input_dim, output_dim = embeddings_shape
        self._embeddings = self.add_weight(name="embeddings",
                                           shape=(input_dim, (output_dim + 1) // 2),
                                           initializer="zeros", dtype="int8", trainable=False)
        block_size = get_block_size_for_layer(self, config)
        self._int4_block_size = block_size
        scale_shape = ((self.input_dim, math.ceil(output_dim / block_size))
                       if grouped(block_size) else (self.input_dim,))
        add_int4_scales(self, scale_shape, block_size, output_dim)
        self._orig_output_dim = output_dim

    # ---- calling --------------------------------------------------------------------------
    def _contract(self, inputs, table):
        """The rows of `table` the token ids pick (the LoRA update's first product)."""
        return jnp.take(table, inputs, axis=0)

    def _int8_call(self, inputs, training=None):
        inputs = _indices(inputs)
        scale = jnp.take(self.embeddings_scale.value, inputs, axis=0)
        outputs = jnp.take(self._embeddings.value, inputs, axis=0)
        outputs = outputs.astype(self.compute_dtype) / jnp.expand_dims(scale, -1)
        return self._add_lora(outputs, inputs)

    def _int4_call(self, inputs, training=None):
        inputs = _indices(inputs)
        unpacked = q.unpack_int4(self._embeddings.value, self._orig_output_dim, axis=-1)
        outputs = jnp.take(unpacked, inputs, axis=0).astype(self.compute_dtype)
        scale = jnp.take(self.embeddings_scale.value, inputs, axis=0)
        if not grouped(getattr(self, "_int4_block_size", None)):
            outputs = outputs / jnp.expand_dims(scale, -1)
        else:
            zero = jnp.take(self.embeddings_zero.value, inputs, axis=0)
            outputs = q.dequantize_with_sz_map(outputs, scale, zero, self.g_idx.value,
                                               group_axis=-1)
        return self._add_lora(outputs, inputs)

    # ---- quantizing -------------------------------------------------------------------------
    def _quantized_weight(self, table, mode, config):
        """`(table, scale, zero)` per row of `(input_dim, output_dim)`; int4 packed."""
        if mode == "int8":
            quantizer = QuantizationConfig.weight_quantizer_or_default(
                config, q.AbsMaxQuantizer(axis=-1))
            value, scale = quantizer(table, to_numpy=True)
            return value, jnp.squeeze(scale, axis=-1), None
        block_size = _block_size(config)
        zero = None
        if grouped(block_size):
            value, scale, zero = q.abs_max_quantize_grouped_with_zero_point(
                jnp.transpose(table), block_size=block_size, to_numpy=True)
            value, scale, zero = (jnp.transpose(v) for v in (value, scale, zero))
        else:
            quantizer = QuantizationConfig.weight_quantizer_or_default(
                config, q.AbsMaxQuantizer(axis=-1, value_range=(-8, 7), output_dtype="int8"))
            value, scale = quantizer(table, to_numpy=True)
            scale = jnp.squeeze(scale, axis=-1)
        return q.pack_int4(value, axis=-1)[0], scale, zero

    def _dequantized_weight(self):
        """The dequantized `(input_dim, output_dim)` table (int modes)."""
        if self.quantization_mode == "int8":
            return (self._embeddings.value.astype(self.compute_dtype)
                    / jnp.expand_dims(self.embeddings_scale.value, -1))
        unpacked = q.unpack_int4(self._embeddings.value, self._orig_output_dim, axis=-1)
        unpacked = unpacked.astype(self.compute_dtype)
        if not grouped(getattr(self, "_int4_block_size", None)):
            return unpacked / jnp.expand_dims(self.embeddings_scale.value, -1)
        return q.dequantize_with_sz_map(unpacked, self.embeddings_scale.value,
                                        self.embeddings_zero.value, self.g_idx.value,
                                        group_axis=-1)


class ReversibleEmbeddingQuantization(EmbeddingQuantization):
    """Adds the reverse projection: the transposed table (tied) or `reverse_embeddings`,
    quantized per vocabulary entry; the hidden states are quantized per row too."""

    @property
    def variable_serialization_spec(self):
        spec = {mode: list(names) for mode, names in super().variable_serialization_spec.items()}
        if not self.tie_weights:
            for mode, names in spec.items():
                names.append("reverse_embeddings")
                if mode in ("int8", "int4"):
                    names.append("reverse_embeddings_scale")
                if mode == "int4":
                    names.append("reverse_embeddings_zero")
        return spec

    def _int8_build(self, embeddings_shape, config=None):
        super()._int8_build(embeddings_shape, config)
        self.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(
            config, q.AbsMaxQuantizer(axis=-1))
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                name="reverse_embeddings", shape=(self.output_dim, self.input_dim),
                initializer="zeros", dtype="int8", trainable=False)
            self.reverse_embeddings_scale = self.add_weight(
                name="reverse_embeddings_scale", shape=(self.input_dim,), initializer="ones",
                trainable=False)

    def _int4_build(self, embeddings_shape, config=None):
        super()._int4_build(embeddings_shape, config)
        self.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(
            config, q.AbsMaxQuantizer(axis=-1))
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                name="reverse_embeddings", shape=((self.output_dim + 1) // 2, self.input_dim),
                initializer="zeros", dtype="int8", trainable=False)
            block_size = get_block_size_for_layer(self, config)
            shape = ((math.ceil(self.output_dim / block_size), self.input_dim)
                     if grouped(block_size) else (self.input_dim,))
            self.reverse_embeddings_scale = self.add_weight(
                name="reverse_embeddings_scale", shape=shape, initializer="ones",
                trainable=False)
            if grouped(block_size):
                # float32, as Keras creates it
                self.reverse_embeddings_zero = self.add_weight(
                    name="reverse_embeddings_zero", shape=shape, initializer="zeros",
                    trainable=False)

    def _reverse_logits(self, logits):
        if self.logit_soft_cap is not None:
            logits = jnp.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def _quantized_inputs(self, inputs):
        if self.inputs_quantizer:
            return self.inputs_quantizer(inputs)
        return inputs, jnp.ones((1,), dtype=self.compute_dtype)

    def _int8_call(self, inputs, reverse=False):
        if not reverse:
            return super()._int8_call(inputs)
        if self.tie_weights:
            kernel = jnp.transpose(self._embeddings.value)
            scale = jnp.transpose(self.embeddings_scale.value)
        else:
            kernel, scale = self.reverse_embeddings.value, self.reverse_embeddings_scale.value
        inputs, inputs_scale = self._quantized_inputs(inputs)
        logits = int_matmul(inputs, kernel).astype(self.compute_dtype)
        return self._reverse_logits(logits / (inputs_scale * scale))

    def _int4_call(self, inputs, reverse=False):
        if not reverse:
            return super()._int4_call(inputs)
        block_size = getattr(self, "_int4_block_size", None)
        if self.tie_weights:
            packed = jnp.transpose(self._embeddings.value)
            scale = self.embeddings_scale.value
            if not grouped(block_size):
                scale = jnp.transpose(scale)
        else:
            packed, scale = self.reverse_embeddings.value, self.reverse_embeddings_scale.value
        unpacked = q.unpack_int4(packed, self.output_dim, axis=0)
        inputs, inputs_scale = self._quantized_inputs(inputs)
        if not grouped(block_size):
            logits = int_matmul(inputs, unpacked).astype(self.compute_dtype)
            return self._reverse_logits(logits / (inputs_scale * scale))
        if self.tie_weights:
            scale, zero = jnp.transpose(scale), jnp.transpose(self.embeddings_zero.value)
        else:
            zero = self.reverse_embeddings_zero.value
        table = q.dequantize_with_sz_map(unpacked.astype(self.compute_dtype), scale, zero,
                                         self.g_idx.value, group_axis=0)
        return self._reverse_logits(jnp.matmul(inputs, table) / inputs_scale)

    def _quantize_other_weights(self, mode, config):
        if self.tie_weights:
            return {}
        table = self.reverse_embeddings.value
        self._replace_weight("reverse_embeddings")
        if mode == "int8":
            quantizer = QuantizationConfig.weight_quantizer_or_default(
                config, q.AbsMaxQuantizer(axis=0))
            value, scale = quantizer(table, to_numpy=True)
            return {"reverse_embeddings": value,
                    "reverse_embeddings_scale": jnp.squeeze(scale, axis=0)}
        block_size = _block_size(config)
        out = {}
        if grouped(block_size):
            value, scale, zero = q.abs_max_quantize_grouped_with_zero_point(
                table, block_size=block_size, to_numpy=True)
            out["reverse_embeddings_zero"] = zero
        else:
            quantizer = QuantizationConfig.weight_quantizer_or_default(
                config, q.AbsMaxQuantizer(axis=0, value_range=(-8, 7), output_dtype="int8"))
            value, scale = quantizer(table, to_numpy=True)
            scale = jnp.squeeze(scale, axis=0)
        out.update(reverse_embeddings=q.pack_int4(value, axis=0)[0],
                   reverse_embeddings_scale=scale)
        return out
