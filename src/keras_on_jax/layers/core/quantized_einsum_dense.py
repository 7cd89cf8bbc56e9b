"""`EinsumDense` quantized: int8 (scales per non-contracted kernel axis), int4 (the kernel
flattened to `(contracted, other)` and packed) and float8, as Keras 3 lays them out."""

from __future__ import annotations

import math
import re
import string

import jax.numpy as jnp
import numpy as np

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


def _full_specs(equation, ndim):
    """The input, weight and output subscripts with any `...` spelled out."""
    eq = re.sub(r"\.\.\.", "0", equation)
    for pattern, side in (("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", None),
                          ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", "left"),
                          ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", "right")):
        match = re.match(pattern, eq)
        if match is None:
            continue
        inp, weight, out = match.groups()
        if side is not None:
            spare = sorted(set(string.ascii_letters) - set(inp) - set(weight) - set(out))
            extra = "".join(spare[: ndim - len(inp)])
            inp, out = (extra + inp, extra + out) if side == "left" else (inp + extra, out + extra)
        return inp, weight, out
    raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form "
                     "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


def analyze_quantization_info(equation, ndim):
    """How scales computed over the contracted axes line up with the output.

    Returns a dict with, for `input` and `kernel`: `reduced` (contracted axes), and the
    `transpose` / `expand` / `squeeze` steps that move a keepdims scale into the output's
    layout; plus `grad_equation` (output, kernel -> input). This reproduces Keras 3's
    `_analyze_quantization_info` step for step (including its position bookkeeping), so
    scale shapes match the ones in Keras files.
    """
    inp, weight, out = _full_specs(equation, ndim)
    info = {}
    index = out.find(weight[-1]) if weight else out.find(inp[-1])
    for key, spec in (("input", inp), ("kernel", weight)):
        reduced = [i for i, label in enumerate(spec) if label not in out]
        expand = [i for i, label in enumerate(out) if label not in spec]
        transpose = [spec.find(label) for label in out if label in spec]
        expand_left, squeeze = list(expand), []
        for axis in reduced:
            if expand_left:
                index = expand_left.pop(0)
            else:
                squeeze.append(axis)
            transpose.insert(index, axis)
        info[key] = {"reduced": reduced, "transpose": transpose, "expand": expand_left,
                     "squeeze": squeeze}
    info["grad_equation"] = f"{out},{weight}->{inp}"
    return info


def _to_output_layout(scale, steps):
    if steps["transpose"]:
        scale = jnp.transpose(scale, steps["transpose"])
    if steps["expand"]:
        scale = jnp.expand_dims(scale, tuple(steps["expand"]))
    if steps["squeeze"]:
        scale = jnp.squeeze(scale, tuple(steps["squeeze"]))
    return scale


def _from_output_layout(scale, steps):
    if steps["squeeze"]:
        scale = jnp.expand_dims(scale, tuple(steps["squeeze"]))
    if steps["expand"]:
        scale = jnp.squeeze(scale, tuple(steps["expand"]))
    if steps["transpose"]:
        scale = jnp.transpose(scale, np.argsort(steps["transpose"]))
    return scale


class EinsumDenseQuantization(KernelQuantization):
    """Quantization of `EinsumDense`."""

    def _set_quantization_info(self):
        if "_qinfo" not in self.__dict__:
            self._qinfo = analyze_quantization_info(self.equation, self.input_spec.ndim)

    def _stored_kernel(self):
        if self.quantization_mode == "int4":
            unpacked = q.unpack_int4(self._kernel, self._int4_unpacked_column_size, axis=-1)
            return jnp.reshape(unpacked, self.original_kernel_shape)
        return self._kernel

    def _lora_base_shape(self):
        if self.quantization_mode == "int4":
            return tuple(self.original_kernel_shape)
        return tuple(self._kernel.shape)

    def _flat_dims(self, kernel_shape):
        reduced = self._qinfo["kernel"]["reduced"]
        rows = math.prod(d for i, d in enumerate(kernel_shape) if i in reduced)
        return rows, math.prod(kernel_shape) // rows

    # ---- building -----------------------------------------------------------------------
    def _int8_build(self, kernel_shape, config=None):
        self._set_quantization_info()
        self.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(
            config, q.AbsMaxQuantizer())
        self.quantization_axis = tuple(self._qinfo["input"]["reduced"])
        self._kernel = self.add_weight(name="kernel", shape=tuple(kernel_shape),
                                       initializer="zeros", dtype="int8", trainable=False)
        shape = np.array(kernel_shape)
        steps = self._qinfo["kernel"]
        shape[steps["reduced"]] = 1
        shape = shape[steps["transpose"]].tolist()
        for axis in sorted(steps["expand"]):
            shape.insert(axis, 1)
        for axis in sorted(steps["squeeze"], reverse=True):
            shape.pop(axis)
        self.kernel_scale = self.add_weight(name="kernel_scale", shape=tuple(shape),
                                            initializer="ones", trainable=False)

    def _int4_build(self, kernel_shape, config=None):
        self._set_quantization_info()
        self.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(config, None)
        self.quantization_axis = tuple(self._qinfo["input"]["reduced"])
        self.original_kernel_shape = tuple(kernel_shape)
        rows, columns = self._flat_dims(kernel_shape)
        block_size = get_block_size_for_layer(self, config)
        self._int4_block_size = block_size if grouped(block_size) else None
        self._int4_unpacked_column_size = columns
        self._int4_rows = rows
        self._kernel = self.add_weight(name="kernel", shape=(rows, (columns + 1) // 2),
                                       initializer="zeros", dtype="int8", trainable=False)
        scale_shape = ((math.ceil(rows / block_size), columns) if grouped(block_size)
                       else (columns,))
        add_int4_scales(self, scale_shape, block_size, rows)

    # ---- calling --------------------------------------------------------------------------
    def _contract(self, inputs, kernel):
        return jnp.einsum(self.equation, inputs, kernel)

    def _input_grad(self, float_kernel):
        equation = self._qinfo["grad_equation"]
        return lambda g, *consts: jnp.einsum(equation, g, float_kernel(*consts))

    def _int8_call(self, inputs, training=None):
        self._set_quantization_info()

        def forward(x, kernel, kernel_scale):
            if self.inputs_quantizer:
                x, x_scale = self.inputs_quantizer(x, axis=self.quantization_axis)
                x_scale = _to_output_layout(x_scale, self._qinfo["input"])
                y = int_matmul(x, kernel, self.equation).astype(self.compute_dtype)
                return y / (x_scale * kernel_scale)
            y = int_matmul(x, kernel, self.equation).astype(self.compute_dtype)
            return y / kernel_scale

        def float_kernel(kernel, kernel_scale):
            return kernel.astype(self.compute_dtype) / _from_output_layout(
                kernel_scale, self._qinfo["kernel"])

        x = with_input_gradient(forward, self._input_grad(float_kernel), inputs,
                                self._kernel.value, self.kernel_scale.value)
        return self._finish(x, inputs)

    def _int4_float_kernel(self, packed, scale, zero=None, g_idx=None):
        unpacked = q.unpack_int4(packed, self._int4_unpacked_column_size, axis=-1)
        if zero is None:
            kernel = unpacked.astype(self.compute_dtype) / scale
        else:
            kernel = q.dequantize_with_sz_map(unpacked, scale, zero, g_idx,
                                              group_axis=0).astype(self.compute_dtype)
        return jnp.reshape(kernel, self.original_kernel_shape)

    def _int4_call(self, inputs, training=None):
        self._set_quantization_info()
        consts = [self._kernel.value, self.kernel_scale.value]
        is_grouped = grouped(getattr(self, "_int4_block_size", None))
        if is_grouped:
            consts += [self.kernel_zero.value, self.g_idx.value]

        def forward(x, *c):
            kernel = self._int4_float_kernel(*c)
            if self.inputs_quantizer and not is_grouped:
                x, x_scale = self.inputs_quantizer(x, axis=self.quantization_axis)
                x_scale = _to_output_layout(x_scale, self._qinfo["input"])
                return jnp.einsum(self.equation, x, kernel).astype(self.compute_dtype) / x_scale
            return jnp.einsum(self.equation, x, kernel)

        x = with_input_gradient(forward, self._input_grad(self._int4_float_kernel), inputs,
                                *consts)
        return self._finish(x, inputs)

    # ---- quantizing -------------------------------------------------------------------------
    def _quantized_weight(self, kernel, mode, config):
        """`(kernel, scale, zero)` of a float kernel of the original shape."""
        self._set_quantization_info()
        steps = self._qinfo["kernel"]
        if mode == "int8":
            quantizer = QuantizationConfig.weight_quantizer_or_default(
                config, q.AbsMaxQuantizer(axis=steps["reduced"]))
            value, scale = quantizer(kernel, to_numpy=True)
            return value, _to_output_layout(scale, steps), None
        block_size = config.block_size if isinstance(config, Int4QuantizationConfig) else None
        flat = jnp.reshape(kernel, self._flat_dims(kernel.shape))
        zero = None
        if grouped(block_size):
            value, scale, zero = q.abs_max_quantize_grouped_with_zero_point(
                flat, block_size=block_size, to_numpy=True)
        else:
            value, scale = q.abs_max_quantize(flat, axis=0, value_range=(-8, 7), to_numpy=True)
            scale = jnp.squeeze(scale, axis=0)
        return q.pack_int4(value, axis=-1)[0], scale, zero

    def _dequantized_weight(self):
        if self.quantization_mode == "int8":
            return self._kernel.value / _from_output_layout(
                self.kernel_scale.value, self._qinfo["kernel"])
        zero = getattr(self, "kernel_zero", None)
        extra = [zero.value, self.g_idx.value] if zero is not None else []
        return self._int4_float_kernel(self._kernel.value, self.kernel_scale.value, *extra)
