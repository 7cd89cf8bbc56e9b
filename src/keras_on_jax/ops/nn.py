"""`keras.ops.nn`: activations, convolutions, pooling, losses, normalization, attention.

Thin functions over `jax.nn` and `jax.lax` with Keras 3's names, arguments and defaults.
"""

from __future__ import annotations

import math as _pymath

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from keras_on_jax.backend import config
from keras_on_jax.backend.dtypes import standardize_dtype
from keras_on_jax.backend.variables import convert_to_tensor as _t

# ----------------------------------------------------------------------------- activations


def _float(x):
    x = _t(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(config.floatx())
    return x


def relu(x):
    return jax.nn.relu(_float(x))


def relu6(x):
    return jax.nn.relu6(_float(x))


def sigmoid(x):
    return jax.nn.sigmoid(_float(x))


def sparse_sigmoid(x):
    return jax.nn.sparse_sigmoid(_float(x))


def tanh(x):
    return jnp.tanh(_float(x))


def tanh_shrink(x):
    x = _float(x)
    return x - jnp.tanh(x)


def softplus(x):
    return jax.nn.softplus(_float(x))


def softsign(x):
    return jax.nn.soft_sign(_float(x))


def soft_shrink(x, threshold=0.5):
    x = _float(x)
    return jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, 0.0)).astype(x.dtype)


def sparse_plus(x):
    return jax.nn.sparse_plus(_float(x))


def silu(x):
    return jax.nn.silu(_float(x))


swish = silu


def squareplus(x, b=4):
    return jax.nn.squareplus(_float(x), b=b)


def log_sigmoid(x):
    return jax.nn.log_sigmoid(_float(x))


def leaky_relu(x, negative_slope=0.2):
    return jax.nn.leaky_relu(_float(x), negative_slope=negative_slope)


def hard_sigmoid(x):
    return jax.nn.hard_sigmoid(_float(x))


def hard_silu(x):
    return jax.nn.hard_silu(_float(x))


hard_swish = hard_silu


def elu(x, alpha=1.0):
    return jax.nn.elu(_float(x), alpha=alpha)


def selu(x):
    return jax.nn.selu(_float(x))


def gelu(x, approximate=True):
    return jax.nn.gelu(_float(x), approximate)


def celu(x, alpha=1.0):
    return jax.nn.celu(_float(x), alpha=alpha)


def glu(x, axis=-1):
    x = _float(x)
    if x.shape[axis] % 2 != 0:
        raise ValueError(
            f"axis size must be divisible by 2. Received: x.shape={x.shape} with axis={axis}"
        )
    return jax.nn.glu(x, axis=axis)


def hard_tanh(x):
    return jax.nn.hard_tanh(_float(x))


def hard_shrink(x, threshold=0.5):
    x = _float(x)
    return jnp.where(jnp.abs(x) > threshold, x, jnp.zeros_like(x))


def threshold(x, threshold, default_value):
    x = _t(x)
    return jnp.where(x > threshold, x, jnp.asarray(default_value, x.dtype))


def softmax(x, axis=-1):
    x = _float(x)
    if isinstance(axis, list):
        axis = tuple(axis)
    return jax.nn.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    x = _float(x)
    if isinstance(axis, list):
        axis = tuple(axis)
    return jax.nn.log_softmax(x, axis=axis)


def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection of `x` onto the probability simplex."""
    x = _float(x)
    z = -jnp.sort(-x, axis=axis)
    k = jnp.arange(1, x.shape[axis] + 1, dtype=x.dtype)
    shape = [1] * x.ndim
    shape[axis] = -1
    k = jnp.reshape(k, shape)
    cumsum = jnp.cumsum(z, axis=axis)
    support = (1 + k * z) > cumsum
    k_z = jnp.sum(support, axis=axis, keepdims=True).astype(x.dtype)
    tau = (jnp.take_along_axis(cumsum, k_z.astype("int32") - 1, axis=axis) - 1) / k_z
    return jnp.maximum(x - tau, 0)


# ----------------------------------------------------------------------------- conv & pool


def _tuple(value, n, name):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"Argument `{name}` must be an int or a tuple of {n} ints. Received: {name}={value}")
    return value


def _dimension_numbers(num_spatial, data_format):
    nd = num_spatial + 2
    if data_format == "channels_last":
        spatial = tuple(range(1, nd - 1))
        lhs = (0, nd - 1) + spatial
    else:
        lhs = (0, 1) + tuple(range(2, nd))
    rhs = (nd - 1, nd - 2) + tuple(range(nd - 2))
    return lax.ConvDimensionNumbers(lhs_spec=lhs, rhs_spec=rhs, out_spec=lhs)


def _padding(padding):
    padding = str(padding).lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"Argument `padding` must be 'valid' or 'same'. Received: padding={padding}")
    return padding.upper()


def _channels(inputs, data_format):
    return inputs.shape[-1] if data_format == "channels_last" else inputs.shape[1]


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution; `kernel` has shape `spatial + (in_channels // groups, out_channels)`."""
    data_format = config.standardize_data_format(data_format)
    kernel = _t(kernel)
    inputs = _t(inputs).astype(kernel.dtype)
    n = inputs.ndim - 2
    channels = _channels(inputs, data_format)
    if channels % kernel.shape[-2]:
        raise ValueError(
            "The number of input channels must be evenly divisible by kernel's in_channels. "
            f"Received input channels {channels} and kernel in_channels {kernel.shape[-2]}."
        )
    return lax.conv_general_dilated(
        inputs,
        kernel,
        _tuple(strides, n, "strides"),
        _padding(padding),
        rhs_dilation=_tuple(dilation_rate, n, "dilation_rate"),
        dimension_numbers=_dimension_numbers(n, data_format),
        feature_group_count=channels // kernel.shape[-2],
    )


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution; `kernel` has shape `spatial + (in_channels, multiplier)`."""
    data_format = config.standardize_data_format(data_format)
    kernel = _t(kernel)
    inputs = _t(inputs).astype(kernel.dtype)
    n = inputs.ndim - 2
    channels = _channels(inputs, data_format)
    if kernel.shape[-2] != channels:
        raise ValueError(
            "The number of input channels must match the kernel's in_channels. "
            f"Received input channels {channels} and kernel in_channels {kernel.shape[-2]}."
        )
    kernel = jnp.reshape(kernel, kernel.shape[:-2] + (1, channels * kernel.shape[-1]))
    return lax.conv_general_dilated(
        inputs,
        kernel,
        _tuple(strides, n, "strides"),
        _padding(padding),
        rhs_dilation=_tuple(dilation_rate, n, "dilation_rate"),
        dimension_numbers=_dimension_numbers(n, data_format),
        feature_group_count=channels,
    )


def separable_conv(
    inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """Depthwise convolution followed by a 1x1 pointwise convolution."""
    out = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(out, pointwise_kernel, strides=1, padding="valid", data_format=data_format, dilation_rate=dilation_rate)


def _conv_transpose_pads(kernel_size, stride, dilation, padding, output_padding):
    k = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        output_padding = max(k, stride) - k if output_padding is None else output_padding
        return k - 1, k - 1 + output_padding
    if output_padding is None:
        total = stride + k - 2
    else:
        total = k + k % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, k - 1)
    return left, total - left


def conv_transpose(
    inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1
):
    """Transposed convolution; `kernel` has shape `spatial + (out_channels, in_channels)`."""
    data_format = config.standardize_data_format(data_format)
    kernel = _t(kernel)
    inputs = _t(inputs).astype(kernel.dtype)
    n = inputs.ndim - 2
    padding = str(padding).lower()
    _padding(padding)
    strides = _tuple(strides, n, "strides")
    dilation = _tuple(dilation_rate, n, "dilation_rate")
    if output_padding is None or isinstance(output_padding, int):
        out_pad = (output_padding,) * n
    else:
        out_pad = tuple(output_padding)
    pads = [
        _conv_transpose_pads(kernel.shape[i], strides[i], dilation[i], padding, out_pad[i]) for i in range(n)
    ]
    return lax.conv_transpose(
        inputs,
        kernel,
        strides,
        padding=pads,
        rhs_dilation=dilation,
        dimension_numbers=_dimension_numbers(n, data_format),
        transpose_kernel=True,
    )


def _window(value, n, data_format):
    spatial = _tuple(value, n, "pool_size")
    return (1,) + spatial + (1,) if data_format == "channels_last" else (1, 1) + spatial


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    data_format = config.standardize_data_format(data_format)
    inputs = _t(inputs)
    n = inputs.ndim - 2
    window = _window(pool_size, n, data_format)
    strides = window if strides is None else _window(strides, n, data_format)
    return lax.reduce_window(inputs, -jnp.inf, lax.max, window, strides, _padding(padding))


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    data_format = config.standardize_data_format(data_format)
    inputs = _t(inputs)
    n = inputs.ndim - 2
    window = _window(pool_size, n, data_format)
    strides = window if strides is None else _window(strides, n, data_format)
    pad = _padding(padding)
    summed = lax.reduce_window(inputs, 0.0, lax.add, window, strides, pad)
    if pad == "VALID":
        return summed / _pymath.prod(window)
    shape = [d if w != 1 else 1 for d, w in zip(inputs.shape, window)]
    counts = lax.reduce_window(jnp.ones(shape, inputs.dtype), 0.0, lax.add, window, strides, pad)
    return summed / counts


def _adaptive_pool(inputs, output_size, data_format, reduce):
    data_format = config.standardize_data_format(data_format)
    x = _t(inputs)
    n = x.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(f"Adaptive pooling supports only 1D/2D/3D inputs. Received: inputs.shape={x.shape}")
    output_size = _tuple(output_size, n, "output_size")
    first = 1 if data_format == "channels_last" else 2
    for i, out in enumerate(output_size):
        axis = first + i
        length = x.shape[axis]
        starts = np.floor(np.arange(out) * length / out).astype(int)
        ends = np.ceil(np.arange(1, out + 1) * length / out).astype(int)
        pos = np.arange(length)
        member = (pos[None, :] >= starts[:, None]) & (pos[None, :] < ends[:, None])  # (out, length)
        xm = jnp.moveaxis(x, axis, -1)[..., None, :]  # (..., 1, length)
        if reduce == "avg":
            weights = jnp.asarray(member / member.sum(axis=1, keepdims=True), x.dtype)
            y = jnp.sum(xm * weights, axis=-1)
        else:
            y = jnp.max(jnp.where(jnp.asarray(member), xm, -jnp.inf), axis=-1)
        x = jnp.moveaxis(y, -1, axis)
    return x


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed `output_size` (PyTorch-style adaptive windows)."""
    return _adaptive_pool(inputs, output_size, data_format, "avg")


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed `output_size` (PyTorch-style adaptive windows)."""
    return _adaptive_pool(inputs, output_size, data_format, "max")


# ----------------------------------------------------------------------------- encodings


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    if sparse:
        raise ValueError("Sparse tensors are not supported by keras_on_jax. Received: sparse=True")
    return jax.nn.one_hot(_t(x), num_classes, axis=axis, dtype=standardize_dtype(dtype))


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    if kwargs:
        if "num_tokens" in kwargs:
            num_classes = kwargs.pop("num_tokens")
        if kwargs:
            raise ValueError(f"Unexpected keyword arguments to `multi_hot`: {list(kwargs)}")
    if num_classes is None:
        raise ValueError("Argument `num_classes` must be specified.")
    if sparse:
        raise ValueError("Sparse tensors are not supported by keras_on_jax. Received: sparse=True")
    x = _t(inputs)
    reduction_axis = 1 if x.ndim > 1 else 0
    return jnp.max(one_hot(x.astype("int32"), num_classes, axis=axis, dtype=dtype), axis=reduction_axis)


# ----------------------------------------------------------------------------- losses


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = _t(target), _t(output)
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={target.shape}, output.shape={output.shape}"
        )
    if target.ndim < 1:
        raise ValueError(
            "Arguments `target` and `output` must be at least rank 1. "
            f"Received: target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        log_prob = jax.nn.log_softmax(output, axis=axis)
    else:
        output = output / jnp.sum(output, axis, keepdims=True)
        output = jnp.clip(output, config.epsilon(), 1.0 - config.epsilon())
        log_prob = jnp.log(output)
    return -jnp.sum(target * log_prob, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target = _t(target).astype("int32")
    output = _t(output)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = jnp.squeeze(target, axis=-1)
    if output.ndim < 1:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: output.shape={output.shape}")
    if target.shape != output.shape[:-1]:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last dimension: "
            f"target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        log_prob = jax.nn.log_softmax(output, axis=axis)
    else:
        output = output / jnp.sum(output, axis, keepdims=True)
        output = jnp.clip(output, config.epsilon(), 1.0 - config.epsilon())
        log_prob = jnp.log(output)
    target = jax.nn.one_hot(target, output.shape[axis], axis=axis)
    return -jnp.sum(target * log_prob, axis=axis)


def binary_crossentropy(target, output, from_logits=False):
    target, output = _t(target), _t(output)
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        return -target * jax.nn.log_sigmoid(output) - (1.0 - target) * jax.nn.log_sigmoid(-output)
    output = jnp.clip(output, config.epsilon(), 1.0 - config.epsilon())
    return -(target * jnp.log(output) + (1.0 - target) * jnp.log(1.0 - output))


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """CTC loss per batch element. `output` holds logits `(batch, time, classes)`."""
    import optax

    target = _t(target).astype("int32")
    output = _t(output)
    output = output.astype(jnp.promote_types(output.dtype, jnp.float32))
    target_length = _t(target_length).astype("int32")
    output_length = _t(output_length).astype("int32")
    logit_paddings = (jnp.arange(output.shape[1])[None, :] >= output_length[:, None]).astype(output.dtype)
    label_paddings = (jnp.arange(target.shape[1])[None, :] >= target_length[:, None]).astype(output.dtype)
    return optax.ctc_loss(output, logit_paddings, target, label_paddings, blank_id=mask_index)


def _ctc_greedy_decode(inputs, sequence_lengths, merge_repeated, mask_index):
    batch, max_len, num_classes = inputs.shape
    if mask_index is None:
        mask_index = num_classes - 1
    indices = jnp.argmax(inputs, axis=-1)
    scores = jnp.max(inputs, axis=-1)
    beyond = jnp.arange(max_len)[None, :] >= sequence_lengths[:, None]
    indices = jnp.where(beyond, mask_index, indices)
    scores = jnp.where(beyond, 0.0, scores)
    if merge_repeated:
        repeat = jnp.pad(indices[:, 1:] == indices[:, :-1], ((0, 0), (1, 0)))
        indices = jnp.where(repeat, mask_index, indices)
    blank = indices == mask_index
    indices = jnp.where(blank, -1, indices)
    order = jnp.where(blank, max_len, jnp.tile(jnp.arange(max_len)[None, :], (batch, 1)))
    order = jnp.argsort(order, axis=-1)
    indices = jnp.take_along_axis(indices, order, axis=-1)
    return indices[None, ...], -jnp.sum(scores, axis=1)[:, None]


def _ctc_beam_search_decode(inputs, sequence_lengths, beam_width, top_paths, mask_index):
    """CTC prefix beam search (eager, NumPy): `(paths (top, batch, T), log-probs (batch, top))`."""
    logp = np.asarray(jax.nn.log_softmax(inputs, axis=-1))
    lengths = np.asarray(sequence_lengths)
    batch, max_len, num_classes = logp.shape
    if mask_index is None:
        mask_index = num_classes - 1
    paths = -np.ones((top_paths, batch, max_len), dtype="int32")
    scores = np.full((batch, top_paths), -np.inf, dtype=logp.dtype)
    for b in range(batch):
        beams = {(): (0.0, -np.inf)}  # prefix -> (log p ending in blank, log p ending in label)
        for t in range(int(lengths[b])):
            nxt = {}

            def add(prefix, pb, pnb):
                ob, onb = nxt.get(prefix, (-np.inf, -np.inf))
                nxt[prefix] = (np.logaddexp(ob, pb), np.logaddexp(onb, pnb))

            for prefix, (pb, pnb) in beams.items():
                total = np.logaddexp(pb, pnb)
                for c in range(num_classes):
                    p = logp[b, t, c]
                    if c == mask_index:
                        add(prefix, total + p, -np.inf)
                        continue
                    new = prefix + (c,)
                    if prefix and prefix[-1] == c:
                        add(new, -np.inf, pb + p)
                        add(prefix, -np.inf, pnb + p)
                    else:
                        add(new, -np.inf, total + p)
            ranked = sorted(nxt.items(), key=lambda kv: -np.logaddexp(*kv[1]))
            beams = dict(ranked[:beam_width])
        ranked = sorted(beams.items(), key=lambda kv: -np.logaddexp(*kv[1]))[:top_paths]
        for k, (prefix, (pb, pnb)) in enumerate(ranked):
            paths[k, b, : len(prefix)] = prefix
            scores[b, k] = np.logaddexp(pb, pnb)
    return jnp.asarray(paths), jnp.asarray(scores)


def ctc_decode(
    inputs,
    sequence_lengths,
    strategy="greedy",
    beam_width=100,
    top_paths=1,
    merge_repeated=True,
    mask_index=0,
):
    """Decode CTC outputs with `"greedy"` or `"beam_search"`."""
    inputs = _t(inputs)
    inputs = inputs.astype(jnp.promote_types(inputs.dtype, jnp.float32))
    sequence_lengths = _t(sequence_lengths).astype("int32")
    if strategy == "greedy":
        return _ctc_greedy_decode(inputs, sequence_lengths, merge_repeated, mask_index)
    if strategy == "beam_search":
        return _ctc_beam_search_decode(inputs, sequence_lengths, beam_width, top_paths, mask_index)
    raise ValueError(f"Invalid strategy {strategy}. Supported values are 'greedy' and 'beam_search'.")


# ----------------------------------------------------------------------------- normalization


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and variance of `x` over `axes`."""
    x = _t(x)
    if synchronized:
        raise ValueError("Argument `synchronized=True` is not supported with JAX. Received: synchronized=True")
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else axes
    ori = x.dtype
    half = ori in (jnp.float16, jnp.bfloat16)
    if half:
        x = x.astype("float32")
    mean = jnp.mean(x, axes, keepdims=True)
    variance = jnp.var(x, axis=axes, keepdims=True)
    if not keepdims:
        mean = jnp.squeeze(mean, axes)
        variance = jnp.squeeze(variance, axes)
    if half:
        lim = jnp.finfo(jnp.float16)
        mean = jnp.clip(mean, lim.min, lim.max).astype(ori)
        variance = jnp.clip(variance, lim.min, lim.max).astype(ori)
    return mean, variance


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """Normalize `x` with the given statistics along `axis`."""
    x, mean, variance = _t(x), _t(mean), _t(variance)
    shape = [1] * x.ndim
    shape[axis] = mean.shape[0]
    inv = lax.rsqrt(jnp.reshape(variance, shape) + epsilon)
    if scale is not None:
        inv = inv * jnp.reshape(_t(scale), shape)
    res = -jnp.reshape(mean, shape) * inv
    if offset is not None:
        res = res + jnp.reshape(_t(offset), shape)
    return jnp.add(x * inv, res)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """Layer normalization over `axis`, computed in at least float32."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise ValueError(f"Unexpected keyword arguments to `layer_normalization`: {list(kwargs)}")
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = _t(x)
    ori = x.dtype
    x = x.astype(jnp.promote_types(ori, jnp.float32))
    gamma = None if gamma is None else _t(gamma).astype(x.dtype)
    beta = None if beta is None else _t(beta).astype(x.dtype)
    axes = sorted([axis] if isinstance(axis, int) else list(axis))
    axes = [a % x.ndim for a in axes]
    bshape = [1] * x.ndim
    for a in axes:
        bshape[a] = x.shape[a]

    def _b(v):
        if v is not None and v.ndim != x.ndim and axes != [x.ndim - 1]:
            return jnp.reshape(v, bshape)
        return v

    if rms_scaling:
        inv = lax.rsqrt(jnp.var(x, axis=tuple(axes), keepdims=True) + epsilon)
        out = x * inv
        if gamma is not None:
            out = out * _b(gamma)
    else:
        mean, var = moments(x, axes=tuple(axes), keepdims=True)
        inv = lax.rsqrt(var + epsilon)
        if gamma is not None:
            inv = inv * _b(gamma)
        res = -mean * inv
        if beta is not None:
            res = res + _b(beta)
        out = x * inv + res
    return out.astype(ori)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """Root-mean-square normalization over `axis`, optionally scaled."""
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = _t(x)
    ori = x.dtype
    x = x.astype(jnp.promote_types(ori, jnp.float32))
    if x.ndim == 0:
        x = x[None]
    if isinstance(axis, (list, tuple)):
        axis = tuple(sorted(axis))
    out = x * lax.rsqrt(jnp.mean(jnp.square(x), axis=axis, keepdims=True) + epsilon)
    if scale is not None:
        out = out * _t(scale).astype(x.dtype)
    return out.astype(ori)


def normalize(x, axis=-1, order=2, epsilon=None):
    """Normalize `x` by its `order`-norm along `axis`."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = _t(x)
    if x.ndim == 0:
        x = x[None]
    epsilon = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        inv = lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
        return x * jnp.minimum(inv, 1.0 / epsilon)
    norm = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / jnp.maximum(norm, epsilon)


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio between `x1` and `x2`."""
    x1, x2 = _t(x1), _t(x2)
    if x1.shape != x2.shape:
        raise ValueError(f"Input shapes {x1.shape} and {x2.shape} must match for PSNR calculation.")
    max_val = jnp.asarray(max_val, dtype=x2.dtype)
    mse = jnp.mean(jnp.square(x1 - x2))
    return 20 * jnp.log10(max_val) - 10 * jnp.log10(mse)


def polar(abs_, angle):
    """A complex tensor `abs_ * exp(i * angle)`."""
    abs_, angle = _t(abs_), _t(angle)
    return jax.lax.complex(abs_ * jnp.cos(angle), abs_ * jnp.sin(angle))


# ----------------------------------------------------------------------------- attention


def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal=False,
    flash_attention=None,
    attn_logits_soft_cap=None,
):
    """Scaled dot-product attention on `(batch, time, heads, depth)` tensors."""
    query, key, value = _t(query), _t(key), _t(value)
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ValueError(
            "`dot_product_attention` only supports 4D inputs. "
            f"Received: query.shape={query.shape}, key.shape={key.shape}, value.shape={value.shape}."
        )
    # `flash_attention` only selects a kernel; the XLA computation below is exact.
    bias = None if bias is None else _t(bias)
    mask = None if mask is None else _t(mask).astype(bool)
    _, _, num_kv_heads, depth = key.shape
    B, T, N, H = query.shape
    scale = (1.0 / np.sqrt(depth)) if scale is None else scale
    G = N // num_kv_heads
    q = jnp.reshape(query, (B, T, num_kv_heads, G, H))
    logits_dtype = jnp.promote_types(query.dtype, jnp.float32)
    logits = jnp.einsum("BTKGH,BSKH->BKGTS", q, key, preferred_element_type=logits_dtype)
    logits = logits * jnp.asarray(scale, logits.dtype)
    if attn_logits_soft_cap is not None:
        logits = jnp.tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap

    def _grouped(t):
        while t.ndim < 4:
            t = t[:, None] if not (t.ndim == 3 and t.shape[1] == N) else t[:, :, None]
        tB, tN, tT, tS = t.shape
        if tN == 1:
            return t[:, :, None]  # (B, 1, 1, T, S) broadcasts over K, G
        if tN != N:
            raise ValueError(f"Expected bias/mask to have shape (B, 1, T, S) or (B, N, T, S) with N={N}. Received: {t.shape}")
        return jnp.reshape(t, (tB, num_kv_heads, G, tT, tS))

    if bias is not None:
        logits = (logits + _grouped(bias)).astype(logits.dtype)
    if mask is not None or is_causal:
        combined = jnp.ones(logits.shape, bool)
        if mask is not None:
            combined = combined & _grouped(mask)
        if is_causal:
            S = logits.shape[-1]
            combined = combined & jnp.tril(jnp.ones((T, S), bool))
        logits = jnp.where(combined, logits, jnp.asarray(-0.7 * jnp.finfo(logits.dtype).max, logits.dtype))
    probs = jax.nn.softmax(logits.astype(jnp.float32), axis=-1).astype(key.dtype)
    out = jnp.einsum("BKGTS,BSKH->BTKGH", probs, value)
    return jnp.reshape(out, (B, T, N, value.shape[-1]))


# ----------------------------------------------------------------------------- patches


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks from an NCHW tensor: `(N, C*kH*kW, L)` (torch's `unfold`)."""
    x = _t(x)
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    N = x.shape[0]
    if p[0] or p[1]:
        x = jnp.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    patches = lax.conv_general_dilated_patches(
        x, k, s, "VALID", rhs_dilation=d, dimension_numbers=("NCHW", "OIHW", "NCHW")
    )
    return patches.reshape(N, patches.shape[1], -1)


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding blocks `(N, C*kH*kW, L)` into `(N, C, oH, oW)`, summing overlaps."""
    x = _t(x)
    oH, oW = _pair(output_size)
    kH, kW = _pair(kernel_size)
    dH, dW = _pair(dilation)
    pH, pW = _pair(padding)
    sH, sW = _pair(stride)
    N, CKK, _ = x.shape
    C = CKK // (kH * kW)
    nH = (oH + 2 * pH - dH * (kH - 1) - 1) // sH + 1
    nW = (oW + 2 * pW - dW * (kW - 1) - 1) // sW + 1
    cols = x.reshape(N, C, kH, kW, nH, nW)
    out = jnp.zeros((N, C, oH + 2 * pH, oW + 2 * pW), x.dtype)
    for i in range(kH):
        for j in range(kW):
            hs, ws = i * dH, j * dW
            out = out.at[:, :, hs : hs + sH * (nH - 1) + 1 : sH, ws : ws + sW * (nW - 1) + 1 : sW].add(
                cols[:, :, i, j]
            )
    return out[:, :, pH : pH + oH, pW : pW + oW]


def depth_to_space(x, block_size, data_format="channels_last"):
    """Rearrange channel blocks into spatial blocks (pixel shuffle)."""
    x = _t(x)
    b = block_size
    if data_format == "channels_last":
        n, h, w, c = x.shape
        x = x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5)
        return x.reshape(n, h * b, w * b, c // (b * b))
    n, c, h, w = x.shape
    x = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return x.reshape(n, c // (b * b), h * b, w * b)


def space_to_depth(x, block_size, data_format="channels_last"):
    """Rearrange spatial blocks into channels (pixel unshuffle)."""
    x = _t(x)
    b = block_size
    if data_format == "channels_last":
        n, h, w, c = x.shape
        x = x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5)
        return x.reshape(n, h // b, w // b, c * b * b)
    n, c, h, w = x.shape
    x = x.reshape(n, c, h // b, b, w // b, b).transpose(0, 1, 3, 5, 2, 4)
    return x.reshape(n, c * b * b, h // b, w // b)


__all__ = [
    'adaptive_average_pool', 'adaptive_max_pool', 'average_pool', 'batch_normalization',
    'binary_crossentropy', 'categorical_crossentropy', 'celu', 'conv', 'conv_transpose',
    'ctc_decode', 'ctc_loss', 'depth_to_space', 'depthwise_conv', 'dot_product_attention',
    'elu', 'fold', 'gelu', 'glu', 'hard_shrink', 'hard_sigmoid', 'hard_silu', 'hard_swish',
    'hard_tanh', 'layer_normalization', 'leaky_relu', 'log_sigmoid', 'log_softmax', 'max_pool',
    'moments', 'multi_hot', 'normalize', 'one_hot', 'polar', 'psnr', 'relu', 'relu6',
    'rms_normalization', 'selu', 'separable_conv', 'sigmoid', 'silu', 'soft_shrink', 'softmax',
    'softplus', 'softsign', 'space_to_depth', 'sparse_categorical_crossentropy', 'sparse_plus',
    'sparse_sigmoid', 'sparsemax', 'squareplus', 'swish', 'tanh_shrink', 'threshold', 'unfold',
]


# Calls on KerasTensors build graph nodes (the classes of ops/op_table.py).
from keras_on_jax.ops.builtin_ops import make_symbolic  # noqa: E402

make_symbolic(globals(), "nn")
