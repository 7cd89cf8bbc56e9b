"""`Dense` quantized: int8 and int4 kernels (per output unit, or int4 in row groups with
zero points) and float8 training, with Keras 3's variables, names and numerics."""

from __future__ import annotations

import math

import jax.numpy as jnp

from keras_on_jax.layers.core.quantized import (
    QuantizableMixin,
    grouped,
    build_float8_variables,
    float8_contract,
    int_matmul,
    with_input_gradient,
)
from keras_on_jax.quantizers import quantizers as q
from keras_on_jax.quantizers.quantization_config import (
    Int4QuantizationConfig,
    QuantizationConfig,
    get_block_size_for_layer,
)


class DenseQuantization(QuantizableMixin):
    """Quantization of `Dense` (its `kernel` is `(input_dim, units)`)."""

    @property
    def variable_serialization_spec(self):
        """The variables a file holds for each quantization mode, in Keras 3's order."""
        return {
            None: ["kernel", "bias"],
            "int8": ["kernel", "bias", "kernel_scale"],
            "int4": ["kernel", "bias", "kernel_scale", "kernel_zero", "g_idx"],
            "float8": ["kernel", "bias", "inputs_scale", "inputs_amax_history",
                       "kernel_scale", "kernel_amax_history", "outputs_grad_scale",
                       "outputs_grad_amax_history"],
        }

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
        self.kernel_scale = self.add_weight(name="kernel_scale", shape=scale_shape,
                                            initializer="ones", trainable=False)
        if grouped(block_size):
            self.kernel_zero = self.add_weight(name="kernel_zero", shape=scale_shape,
                                               initializer="zeros", dtype="int8",
                                               trainable=False)
            self.g_idx = self.add_weight(
                name="g_idx", shape=(input_dim,), dtype="float32", trainable=False,
                initializer=lambda shape, dtype: jnp.floor_divide(
                    jnp.arange(input_dim, dtype=dtype), block_size))
        self._orig_input_dim = input_dim
        self._orig_output_dim = output_dim

    def _float8_build(self):
        build_float8_variables(self)

    # ---- calling --------------------------------------------------------------------------
    def _finish(self, x, inputs):
        """LoRA update, bias and activation after the quantized product."""
        if self.lora_enabled:
            a, b = self._lora_factors()
            lora = jnp.matmul(jnp.matmul(inputs, a.value), b.value)
            x = (x + (self.lora_alpha / self.lora_rank) * lora).astype(self.compute_dtype)
        if self.bias is not None:
            x = x + self.bias.value
        if self.activation is not None:
            x = self.activation(x)
        return x

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

    def _float8_call(self, inputs, training=None):
        x = float8_contract(self, inputs, jnp.matmul, training)
        return self.activation(x) if self.activation is not None else x

    # ---- quantizing -------------------------------------------------------------------------
    def _quantize(self, mode, config):
        kernel_shape = tuple(self._kernel.shape)
        if mode == "float8":
            self.quantized_build(kernel_shape, mode)
            return
        values = self._quantized_kernel(self._kernel.value, mode, config)
        self._replace_weight("_kernel")
        self.quantized_build(kernel_shape, mode, config)
        self._assign_quantized(*values)

    def _quantized_kernel(self, kernel, mode, config):
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

    def _assign_quantized(self, kernel, scale, zero):
        self._kernel.assign(kernel)
        self.kernel_scale.assign(scale)
        if zero is not None:
            self.kernel_zero.assign(zero)

    def _merged_for_saving(self):
        mode = self.quantization_mode
        if mode not in ("int8", "int4"):
            return super()._merged_for_saving()
        zero = getattr(self, "kernel_zero", None)
        if not self.lora_enabled:
            return {"kernel": self._kernel, "kernel_scale": self.kernel_scale,
                    "kernel_zero": zero}
        # Dequantize, merge the LoRA update, quantize again (as Keras writes it).
        unpacked = self._stored_kernel()
        unpacked = getattr(unpacked, "value", unpacked)
        float_kernel = self._dequantized_kernel(
            unpacked, self.kernel_scale.value, zero.value if zero is not None else None,
            self.g_idx.value if zero is not None else None)
        merged = float_kernel + self._lora_delta()
        if mode == "int8":
            value, scale = q.abs_max_quantize(merged, axis=0, to_numpy=True)
            return {"kernel": value, "kernel_scale": jnp.squeeze(scale, axis=0),
                    "kernel_zero": None}
        block_size = getattr(self, "_int4_block_size", None)
        if grouped(block_size):
            value, scale, new_zero = q.abs_max_quantize_grouped_with_zero_point(
                merged, block_size=block_size, to_numpy=True)
        else:
            value, scale = q.abs_max_quantize(merged, axis=0, value_range=(-8, 7),
                                              to_numpy=True)
            scale, new_zero = jnp.squeeze(scale, axis=0), None
        return {"kernel": q.pack_int4(value, axis=-1)[0], "kernel_scale": scale,
                "kernel_zero": new_zero}
