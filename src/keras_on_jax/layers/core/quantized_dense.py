"""`Dense` quantized: int8 and int4 kernels (per output unit, or int4 in row groups with
zero points) and float8 training, with Keras 3's variables, names and numerics."""

from __future__ import annotations

import math

import jax.numpy as jnp

from keras_on_jax.layers.core.quantized import (
    KernelQuantization,
    add_int4_scales,
    grouped,
    int_matmul,
    with_input_gradient,
)
from keras_on_jax.quantizers import quantizers as q
from keras_on_jax.quantizers.quantization_config import (
    Int4QuantizationConfig,
    QuantizationConfig,
    get_block_size_for_layer,
)


class DenseQuantization(KernelQuantization):
    """Quantization of `Dense` (its `kernel` is `(input_dim, units)`)."""

    def _stored_kernel(self):
        if self.quantization_mode == "int4":
            return q.unpack_int4(self._kernel, self._orig_output_dim, axis=-1)
        return self._kernel

    def _lora_base_shape(self):
        return (self._kernel.shape[0], self.units)

    # ---- building -----------------------------------------------------------------------
    def _int8_build(self, kernel_shape, config=None):
        self.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(
            config, q.AbsMaxQuantizer())
        self._kernel = self.add_weight(name="kernel", shape=kernel_shape, initializer="zeros",
                                       dtype="int8", trainable=False)
        self.kernel_scale = self.add_weight(name="kernel_scale", shape=(self.units,),
                                            initializer="ones", trainable=False)

    def _int4_build(self, kernel_shape, config=None):
        self.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(config, None)
        input_dim, output_dim = kernel_shape
        self._kernel = self.add_weight(name="kernel", shape=(input_dim, (output_dim + 1) // 2),
                                       initializer="zeros", dtype="int8", trainable=False)
        block_size = get_block_size_for_layer(self, config)
        self._int4_block_size = block_size
        scale_shape = ((math.ceil(input_dim / block_size), self.units) if grouped(block_size)
                       else (self.units,))
        add_int4_scales(self, scale_shape, block_size, input_dim)
        self._orig_input_dim = input_dim
        self._orig_output_dim = output_dim

    # ---- calling --------------------------------------------------------------------------
    def _contract(self, inputs, kernel):
        return jnp.matmul(inputs, kernel)

    def _dequantized_kernel(self, unpacked, kernel_scale, kernel_zero=None, g_idx=None):
        if kernel_zero is None:
            return unpacked.astype(self.compute_dtype) / kernel_scale
        return q.dequantize_with_sz_map(unpacked, kernel_scale, kernel_zero, g_idx,
                                        group_axis=0).astype(self.compute_dtype)

    def _scaled_matmul(self, inputs, kernel, kernel_scale):
        """`inputs @ kernel / scales`, the inputs quantized too when a quantizer is set."""
        output_scale = kernel_scale
        if self.inputs_quantizer:
            inputs, inputs_scale = self.inputs_quantizer(inputs, axis=-1)
            output_scale = output_scale * inputs_scale
        return int_matmul(inputs, kernel).astype(self.compute_dtype) / output_scale

    def _int8_call(self, inputs, training=None):
        x = with_input_gradient(
            self._scaled_matmul,
            lambda g, kernel, scale: g @ self._dequantized_kernel(kernel, scale).T,
            inputs, self._kernel.value, self.kernel_scale.value)
        return self._finish(x, inputs)

    def _int4_call(self, inputs, training=None):
        unpack = lambda packed: q.unpack_int4(packed, self._orig_output_dim, axis=-1)  # noqa: E731
        if not grouped(getattr(self, "_int4_block_size", None)):
            x = with_input_gradient(
                lambda x, k, s: self._scaled_matmul(x, unpack(k), s),
                lambda g, k, s: g @ self._dequantized_kernel(unpack(k), s).T,
                inputs, self._kernel.value, self.kernel_scale.value)
        else:
            def dequantized(k, s, z, i):
                return self._dequantized_kernel(unpack(k), s, z, i)

            x = with_input_gradient(
                lambda x, *c: jnp.matmul(x, dequantized(*c)),
                lambda g, *c: g @ dequantized(*c).T,
                inputs, self._kernel.value, self.kernel_scale.value,
                self.kernel_zero.value, self.g_idx.value)
        return self._finish(x, inputs)

    # ---- quantizing -------------------------------------------------------------------------
    def _quantized_weight(self, kernel, mode, config):
        """`(kernel, scale, zero)` of a float kernel (int4 packed; zero None unless grouped)."""
        if mode == "int8":
            quantizer = QuantizationConfig.weight_quantizer_or_default(
                config, q.AbsMaxQuantizer(axis=0))
            value, scale = quantizer(kernel, to_numpy=True)
            return value, jnp.squeeze(scale, axis=0), None
        block_size = config.block_size if isinstance(config, Int4QuantizationConfig) else None
        zero = None
        if grouped(block_size):
            value, scale, zero = q.abs_max_quantize_grouped_with_zero_point(
                kernel, block_size=block_size, to_numpy=True)
        else:
            quantizer = QuantizationConfig.weight_quantizer_or_default(
                config, q.AbsMaxQuantizer(axis=0, value_range=(-8, 7), output_dtype="int8"))
            value, scale = quantizer(kernel, to_numpy=True)
            scale = jnp.squeeze(scale, axis=0)
        return q.pack_int4(value, axis=-1)[0], scale, zero

    def _dequantized_weight(self):
        unpacked = self._stored_kernel()
        zero = getattr(self, "kernel_zero", None)
        return self._dequantized_kernel(
            getattr(unpacked, "value", unpacked), self.kernel_scale.value,
            zero.value if zero is not None else None,
            self.g_idx.value if zero is not None else None)
