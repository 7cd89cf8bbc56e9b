"""Quantization primitives (Keras 3's `keras.quantizers` functions and quantizers).

Per-axis abs-max int8/int4, grouped asymmetric int4 with zero points, int4 nibble
packing, float8 scaling and quantize-dequantize, and fake quantization. Host-side
variants (`to_numpy=True`) run in NumPy, as Keras's do, so quantizing a large model does
not hold a second copy of its weights on the accelerator.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

from keras_on_jax.backend import config, dtypes
from keras_on_jax.backend.variables import Variable


def _array(x):
    return x.value if isinstance(x, Variable) else x


def _numpy_axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


class Quantizer:
    """Base class of quantizers: `quantizer(x)` returns the quantized `x` (and scale)."""

    def __init__(self, output_dtype="int8"):
        self.output_dtype = output_dtype

    def __call__(self, x):
        return x

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")


def abs_max_quantize(inputs, axis, value_range=(-127, 127), dtype="int8", epsilon=None,
                     to_numpy=False):
    """Symmetric quantization by the absolute maximum along `axis`.

    Returns `(quantized, scale)` with `quantized = clip(round(inputs * scale))` and
    `scale = value_range[1] / (max(|inputs|, axis, keepdims) + epsilon)`.
    """
    epsilon = config.epsilon() if epsilon is None else epsilon
    inputs = _array(inputs)
    source_dtype = dtypes.standardize_dtype(inputs.dtype)
    xp = np if to_numpy else jnp
    if to_numpy:
        inputs = np.asarray(inputs)
        axis = _numpy_axis(axis)
    else:
        inputs = jnp.asarray(inputs)
    scale = xp.divide(value_range[1],
                      xp.add(xp.max(xp.abs(inputs), axis=axis, keepdims=True), epsilon))
    if not to_numpy:
        scale = scale.astype(source_dtype)
    outputs = xp.clip(xp.round(xp.multiply(inputs, scale)), value_range[0], value_range[1])
    return jnp.asarray(outputs.astype(dtype)), jnp.asarray(scale.astype(source_dtype))


def abs_max_quantize_grouped_with_zero_point(inputs, block_size, value_range=(-8, 7),
                                             dtype="int8", epsilon=None, to_numpy=False):
    """Asymmetric quantization of a 2D `(input_dim, output_dim)` tensor in groups of
    `block_size` rows.

    Returns `(quantized, scale, zero_point)`; `scale` and `zero_point` have shape
    `(ceil(input_dim / block_size), output_dim)`, and `x ≈ (quantized - zero) * scale`.
    """
    epsilon = config.epsilon() if epsilon is None else epsilon
    inputs = _array(inputs)
    source_dtype = dtypes.standardize_dtype(inputs.dtype)
    xp = np if to_numpy else jnp
    inputs = np.asarray(inputs) if to_numpy else jnp.asarray(inputs)
    input_dim, output_dim = inputs.shape
    n_groups = math.ceil(input_dim / block_size)
    qmin, qmax = value_range
    padded = xp.concatenate(
        [inputs, xp.zeros((n_groups * block_size - input_dim, output_dim), inputs.dtype)])
    grouped = padded.reshape(n_groups, block_size, output_dim)
    min_val = grouped.min(axis=1, keepdims=True)
    max_val = grouped.max(axis=1, keepdims=True)
    if not to_numpy:
        # The on-device path (Keras's `compute_quantization_parameters`) widens a
        # constant group's range by one on each side.
        same = min_val == max_val
        min_val = xp.where(same, min_val - 1, min_val)
        max_val = xp.where(same, max_val + 1, max_val)
    scale = (max_val - min_val + epsilon) / (qmax - qmin)
    zero = xp.clip(xp.round(-min_val / scale) + qmin, qmin, qmax)
    outputs = xp.clip(xp.round(grouped / scale) + zero, qmin, qmax).astype(dtype)
    outputs = outputs.reshape(n_groups * block_size, output_dim)[:input_dim]
    return (jnp.asarray(outputs), jnp.asarray(scale[:, 0].astype(source_dtype)),
            jnp.asarray(zero[:, 0].astype("int8")))


class AbsMaxQuantizer(Quantizer):
    """Abs-max quantizer: `quantizer(x, axis=-1)` returns `(quantized, scale)`.

    Args:
        axis: deprecated default axis (pass `axis` to the call instead).
        value_range: the integer range, `(-127, 127)` by default.
        epsilon: added to the maximum to avoid dividing by zero.
        output_dtype: the quantized dtype.
    """

    def __init__(self, axis=None, value_range=(-127, 127), epsilon=None, output_dtype="int8"):
        super().__init__(output_dtype=output_dtype)
        if axis is not None:
            axis = (axis,) if isinstance(axis, int) else tuple(axis)
        self.axis = axis
        self.value_range = tuple(value_range)
        self.epsilon = config.epsilon() if epsilon is None else epsilon
        if output_dtype == "int8" and (value_range[0] < -128 or value_range[1] > 127):
            raise ValueError(
                "Quantizer with output_dtype='int8' requires value_range to be within the "
                f"interval [-128, 127]. Received: value_range={value_range}"
            )

    def __call__(self, x, axis=None, to_numpy=False):
        if axis is None:
            axis = self.axis if self.axis is not None else -1
        return abs_max_quantize(x, axis, self.value_range, self.output_dtype, self.epsilon,
                                to_numpy)

    def get_config(self):
        config = {"value_range": self.value_range, "epsilon": self.epsilon,
                  "output_dtype": self.output_dtype}
        if self.axis is not None:
            config["axis"] = self.axis
        return config


# ---- float8 -------------------------------------------------------------------------------
def compute_float8_scale(amax, scale, dtype_max, margin=0):
    """The next float8 scale from the running maximum `amax` (Transformer Engine's rule;
    `scale` here is the reciprocal of TE's). Keeps `scale` when `amax` is 0 or not finite."""
    amax, scale = jnp.asarray(amax), jnp.asarray(scale)
    previous = 1.0 / scale
    factor = (dtype_max / amax) / (2 ** margin)
    factor = jnp.where(amax > 0.0, factor, previous)
    factor = jnp.where(jnp.isfinite(amax), factor, previous)
    return 1.0 / factor


def compute_float8_amax_history(x, amax_history):
    """Roll the history one step and put `max(|x|)` first."""
    amax = jnp.max(jnp.abs(x)).astype(amax_history.dtype)
    return jnp.roll(amax_history, -1).at[0].set(amax)


def quantize_and_dequantize(inputs, scale, quantized_dtype, compute_dtype):
    """Round-trip `inputs / scale` through `quantized_dtype` (clipped to its range)."""
    limit = jnp.asarray(float(ml_dtypes.finfo(quantized_dtype).max), compute_dtype)
    scale = jnp.asarray(scale).astype(compute_dtype)
    x = jnp.clip(jnp.divide(inputs, scale), -limit, limit).astype(quantized_dtype)
    return x.astype(compute_dtype) * scale


# ---- int4 packing ---------------------------------------------------------------------------
def pack_int4(arr, axis=0, dtype="int8"):
    """Pack int4 values (int8 in `[-8, 7]`) two per byte along `axis`: the first of each
    pair in the low nibble. An odd length is padded with a zero.

    Returns `(packed, packed_shape, orig_len)`.
    """
    if dtype not in ("int8", "uint8"):
        raise ValueError(f"Expected dtype to be 'int8' or 'uint8', but got '{dtype}'.")
    if dtypes.standardize_dtype(arr.dtype) != dtype:
        raise TypeError(f"Expected {dtype} tensor for packing, got "
                        f"{dtypes.standardize_dtype(arr.dtype)}.")
    # On the host: packing runs once at quantization time, and NumPy's int8 shifts wrap
    # the same way on every platform.
    a = np.moveaxis(np.asarray(_array(arr)), axis, 0)
    n = a.shape[0]
    if n % 2:
        a = np.concatenate([a, np.zeros((1,) + a.shape[1:], a.dtype)])
    low = a[0::2].astype(dtype) & np.array(0x0F, dtype)
    high = a[1::2].astype(dtype) & np.array(0x0F, dtype)
    packed = np.moveaxis((low | (high << np.array(4, dtype))).astype(dtype), 0, axis)
    return jnp.asarray(packed), tuple(packed.shape), n


def unpack_int4(packed, orig_len, axis=0, dtype="int8"):
    """Inverse of `pack_int4`: int8 values in `[-8, 7]` (or uint8 nibbles)."""
    if dtype not in ("int8", "uint8"):
        raise ValueError(f"Expected dtype to be 'int8' or 'uint8', but got '{dtype}'.")
    packed = jnp.asarray(_array(packed))
    if dtypes.standardize_dtype(packed.dtype) not in ("int8", "uint8"):
        raise TypeError(f"Expected int8 or uint8 tensor for unpacking, got {packed.dtype}")
    moved = jnp.moveaxis(packed, axis, 0)
    mask = jnp.asarray(0x0F, moved.dtype)
    low = moved & mask
    high = jnp.right_shift(moved, jnp.asarray(4, moved.dtype)) & mask
    if dtype == "int8":  # sign-extend the nibbles
        low, high = (jnp.bitwise_xor(v, 8) - 8 for v in (low.astype("int8"), high.astype("int8")))
    pairs = jnp.stack([low.astype(dtype), high.astype(dtype)], axis=1)
    out = pairs.reshape((-1,) + moved.shape[1:])[:orig_len]
    return jnp.moveaxis(out, 0, axis)


# ---- grouped (scale, zero, g_idx) maps ----------------------------------------------------------
def dequantize_with_sz_map(weights_matrix, scale, zero, g_idx, group_axis=-1):
    """`(w - zero[g]) * scale[g]` where `g_idx` gives each position's group."""
    groups = jnp.asarray(_array(g_idx)).astype("int32")
    scales = jnp.take(jnp.asarray(_array(scale)), groups, axis=group_axis)
    zeros = jnp.take(jnp.asarray(_array(zero)), groups, axis=group_axis).astype(scales.dtype)
    return (jnp.asarray(_array(weights_matrix)) - zeros) * scales


def quantize_with_sz_map(weights_matrix, scale, zero, g_idx, maxq, group_axis=-1):
    """Quantize `weights_matrix` to `[0, maxq]` with per-group scale and zero point."""
    groups = jnp.asarray(_array(g_idx)).astype("int32")
    scales = jnp.take(jnp.asarray(_array(scale)), groups, axis=group_axis)
    zeros = jnp.take(jnp.asarray(_array(zero)), groups, axis=group_axis).astype(scales.dtype)
    safe = jnp.where(scales == 0, jnp.asarray(1e-8, scales.dtype), scales)
    return jnp.clip(jnp.round(jnp.asarray(weights_matrix) / safe + zeros), 0, maxq)


# ---- fake quantization ---------------------------------------------------------------------------
def _nudge(min_range, max_range, num_bits, narrow_range):
    dtype = jnp.result_type(min_range.dtype, jnp.float32)
    min_range, max_range = min_range.astype(dtype), max_range.astype(dtype)
    quant_max = (1 << num_bits) - 1
    quant_min = 1 if narrow_range else 0
    scale = (max_range - min_range) / (quant_max - quant_min)
    inv_scale = (quant_max - quant_min) / (max_range - min_range)
    zero = jnp.round(jnp.clip(quant_min - min_range / scale, quant_min, quant_max))
    return (quant_min - zero) * scale, (quant_max - zero) * scale, scale, inv_scale


def fake_quant_with_min_max_vars(inputs, min_vals, max_vals, num_bits=8, narrow_range=False,
                                 axis=None):
    """Quantize `inputs` into `num_bits` levels over `[min_vals, max_vals]` (per tensor,
    or per channel along `axis`) and dequantize back; gradients pass straight through
    inside the range and flow to `min_vals` / `max_vals` where `inputs` are clipped."""
    inputs = jnp.asarray(_array(inputs))
    min_vals = jnp.asarray(_array(min_vals))
    max_vals = jnp.asarray(_array(max_vals))
    num_bits = int(num_bits)
    if axis is not None and axis < 0:
        axis += inputs.ndim

    def forward(x, lo, hi):
        nudged_min, nudged_max, scale, inv_scale = _nudge(lo, hi, num_bits, narrow_range)
        quant_zero = jnp.floor(-nudged_min * inv_scale + 0.5)
        clamped = jnp.clip(x.astype(nudged_min.dtype), nudged_min, nudged_max) - nudged_min
        out = jnp.floor(clamped * inv_scale - quant_zero + 0.5) * scale
        return out.astype(x.dtype), (x, lo, hi, nudged_min, nudged_max)

    @jax.custom_vjp
    def fake_quant(x, lo, hi):
        return forward(x, lo, hi)[0]

    def bwd(residuals, g):
        x, lo, hi, nudged_min, nudged_max = residuals
        inside = (x >= nudged_min) & (x <= nudged_max)
        reduce_axes = tuple(i for i in range(g.ndim) if i != axis) if axis is not None else None
        grad_lo = jnp.sum(jnp.where(x <= nudged_min, g, 0.0), axis=reduce_axes)
        grad_hi = jnp.sum(jnp.where(x >= nudged_max, g, 0.0), axis=reduce_axes)
        return (jnp.where(inside, g, 0.0).astype(x.dtype),
                grad_lo.reshape(lo.shape).astype(lo.dtype),
                grad_hi.reshape(hi.shape).astype(hi.dtype))

    fake_quant.defvjp(forward, bwd)
    return fake_quant(inputs, min_vals, max_vals)
