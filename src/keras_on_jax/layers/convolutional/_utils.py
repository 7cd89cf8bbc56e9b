"""Argument validation, output-shape arithmetic and the lax calls shared by conv layers."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def standardize_tuple(value, n, name, allow_zero=False):
    """Turn an int or an iterable of ints into an n-tuple of ints, validating it."""
    error_msg = (
        f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    )
    if isinstance(value, int) and not isinstance(value, bool):
        value_tuple = (value,) * n
    else:
        try:
            value_tuple = tuple(value)
        except TypeError:
            raise ValueError(error_msg) from None
        if len(value_tuple) != n:
            raise ValueError(error_msg)
        for v in value_tuple:
            try:
                int(v)
            except (ValueError, TypeError):
                raise ValueError(
                    f"{error_msg} including element {v} of type {type(v)}"
                ) from None
        value_tuple = tuple(int(v) for v in value_tuple)
    if allow_zero:
        bad = {v for v in value_tuple if v < 0}
        req = ">= 0"
    else:
        bad = {v for v in value_tuple if v <= 0}
        req = "> 0"
    if bad:
        raise ValueError(f"{error_msg}, including values {bad} that do not satisfy `value {req}`")
    return value_tuple


def standardize_padding(value, allow_causal=False):
    if isinstance(value, (list, tuple)):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"The `padding` argument must be a string. Received: padding={value!r}"
        )
    padding = value.lower()
    allowed = {"valid", "same", "causal"} if allow_causal else {"valid", "same"}
    if padding not in allowed:
        raise ValueError(
            f"The `padding` argument must be one of {sorted(allowed)}. Received: padding={value}"
        )
    return padding


def conv_output_shape(input_shape, filters, kernel_size, strides, padding, data_format,
                      dilation_rate):
    """Output shape of a (non-transposed) convolution, with None for unknown sizes."""
    input_shape = tuple(input_shape)
    rank = len(kernel_size)
    if len(input_shape) != rank + 2:
        raise ValueError(
            f"Kernel shape must have the same length as input, but received kernel of "
            f"shape {tuple(kernel_size) + (None, filters)} and input of shape {input_shape}."
        )
    spatial = input_shape[1:-1] if data_format == "channels_last" else input_shape[2:]
    out = []
    for i, size in enumerate(spatial):
        if size is None:
            out.append(None)
            continue
        if padding == "valid":
            n = (size - dilation_rate[i] * (kernel_size[i] - 1) - 1) // strides[i] + 1
            if n <= 0:
                raise ValueError(
                    "Computed output size would be zero or negative. Received "
                    f"`inputs shape={input_shape}`, `kernel_size={tuple(kernel_size)}`, "
                    f"`dilation_rate={tuple(dilation_rate)}`, `strides={tuple(strides)}`, "
                    f"`padding={padding}`."
                )
        else:  # same / causal
            n = (size - 1) // strides[i] + 1
        out.append(int(n))
    if data_format == "channels_last":
        return (input_shape[0], *out, filters)
    return (input_shape[0], filters, *out)


def _transpose_pads(kernel_size, stride, dilation, padding, output_padding):
    """Keras's (padding, output_padding) -> explicit lax.conv_transpose pads for one axis."""
    k = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        if output_padding is None:
            output_padding = max(k, stride) - k
        return k - 1, k - 1 + output_padding
    if output_padding is None:
        total = stride + k - 2
    else:
        total = k + k % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, k - 1)
    return left, total - left


def conv_transpose_output_shape(input_shape, filters, kernel_size, strides, padding,
                                output_padding, data_format, dilation_rate):
    input_shape = tuple(input_shape)
    spatial = input_shape[1:-1] if data_format == "channels_last" else input_shape[2:]
    out = []
    for i, size in enumerate(spatial):
        if size is None:
            out.append(None)
            continue
        k = (kernel_size[i] - 1) * dilation_rate[i] + 1
        op = None if output_padding is None else output_padding[i]
        s = strides[i]
        if padding == "valid":
            op = max(k, s) - k if op is None else op
            n = (size - 1) * s + k + op
        elif op is None:
            n = size * s
        else:
            n = (size - 1) * s + k % 2 + op
        out.append(int(n))
    if data_format == "channels_last":
        return (input_shape[0], *out, filters)
    return (input_shape[0], filters, *out)


def dimension_numbers(rank, data_format):
    nd = rank + 2
    if data_format == "channels_last":
        lhs = (0, nd - 1) + tuple(range(1, nd - 1))
    else:
        lhs = (0, 1) + tuple(range(2, nd))
    rhs = (nd - 1, nd - 2) + tuple(range(nd - 2))
    return jax.lax.ConvDimensionNumbers(lhs_spec=lhs, rhs_spec=rhs, out_spec=lhs)


def channels_of(shape, data_format):
    return shape[-1] if data_format == "channels_last" else shape[1]


def conv(x, kernel, strides, padding, data_format, dilation_rate):
    """N-d convolution, grouped when the kernel has fewer input channels than `x`."""
    rank = x.ndim - 2
    channels = channels_of(x.shape, data_format)
    kernel_in = kernel.shape[-2]
    if channels % kernel_in:
        raise ValueError(
            "The number of input channels must be evenly divisible by kernel's in_channels. "
            f"Received input channels {channels} and kernel in_channels {kernel_in}."
        )
    kernel = jnp.asarray(kernel)
    x = jnp.asarray(x).astype(kernel.dtype)
    out = jax.lax.conv_general_dilated(
        x, kernel, tuple(strides), padding.upper(), rhs_dilation=tuple(dilation_rate),
        dimension_numbers=dimension_numbers(rank, data_format),
        feature_group_count=channels // kernel_in,
    )
    if out.size == 0 and x.size != 0:
        raise ValueError(
            "The convolution operation resulted in an empty output: the input of shape "
            f"{x.shape} is too small for kernel shape {kernel.shape}, strides={tuple(strides)}, "
            f"dilation_rate={tuple(dilation_rate)} and padding={padding!r}."
        )
    return out


def depthwise_conv(x, kernel, strides, padding, data_format, dilation_rate):
    """Depthwise convolution with a `(*kernel_size, in_channels, depth_multiplier)` kernel."""
    rank = x.ndim - 2
    channels = channels_of(x.shape, data_format)
    kernel = jnp.asarray(kernel)
    kernel = jnp.reshape(kernel, kernel.shape[:-2] + (1, channels * kernel.shape[-1]))
    return jax.lax.conv_general_dilated(
        jnp.asarray(x).astype(kernel.dtype), kernel, tuple(strides), padding.upper(),
        rhs_dilation=tuple(dilation_rate),
        dimension_numbers=dimension_numbers(rank, data_format),
        feature_group_count=channels,
    )


def conv_transpose(x, kernel, strides, padding, output_padding, data_format, dilation_rate):
    """Transposed convolution with a `(*kernel_size, filters, in_channels)` kernel."""
    rank = x.ndim - 2
    kernel = jnp.asarray(kernel)
    pads = [
        _transpose_pads(kernel.shape[i], strides[i], dilation_rate[i], padding,
                        None if output_padding is None else output_padding[i])
        for i in range(rank)
    ]
    return jax.lax.conv_transpose(
        jnp.asarray(x).astype(kernel.dtype), kernel, tuple(strides), padding=pads,
        rhs_dilation=tuple(dilation_rate),
        dimension_numbers=dimension_numbers(rank, data_format),
        transpose_kernel=True,
    )


def add_bias(outputs, bias, rank, data_format):
    if data_format == "channels_last":
        shape = (1,) * (rank + 1) + (-1,)
    else:
        shape = (1, -1) + (1,) * rank
    return outputs + jnp.reshape(bias, shape)
