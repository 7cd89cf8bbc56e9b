"""`keras.ops.math`: segment reductions, top-k, logsumexp, FFTs, STFT, special functions."""

from __future__ import annotations

import math as _pymath

import jax
import jax.numpy as jnp

from keras_on_jax.backend.variables import convert_to_tensor as _t


def _segment(fn, name):
    def op(data, segment_ids, num_segments=None, sorted=False):
        data, segment_ids = _t(data), _t(segment_ids)
        if num_segments is None:
            # Eager fallback (as TF does): infer from the ids; not traceable.
            num_segments = int(jnp.max(segment_ids)) + 1
        return fn(data, segment_ids, num_segments, indices_are_sorted=sorted)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"`{name}` of `data` grouped by `segment_ids`."
    return op


segment_sum = _segment(jax.ops.segment_sum, "segment_sum")
segment_max = _segment(jax.ops.segment_max, "segment_max")
segment_min = _segment(jax.ops.segment_min, "segment_min")
segment_prod = _segment(jax.ops.segment_prod, "segment_prod")


def top_k(x, k, sorted=True):
    """The `k` largest values along the last axis and their indices."""
    values, indices = jax.lax.top_k(_t(x), k)
    return values, indices.astype("int32")


def in_top_k(targets, predictions, k):
    """Whether each target is among the top-`k` predictions."""
    targets, predictions = _t(targets), _t(predictions)
    at_label = jnp.take_along_axis(predictions, targets[..., None].astype("int32"), axis=-1)
    at_label = jnp.where(jnp.isnan(at_label), -jnp.inf, at_label)
    rank = 1 + jnp.sum(predictions > at_label, axis=-1)
    return rank <= k


def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))`, computed stably."""
    return jax.scipy.special.logsumexp(_t(x), axis=axis, keepdims=keepdims)


def cdist(x, y):
    """Pairwise Euclidean distances between the rows of `x` and `y`."""
    x, y = _t(x), _t(y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError(f"`cdist` inputs must have rank >= 2. Received: x.shape={x.shape}, y.shape={y.shape}")
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(
            f"Last dimension of `cdist` inputs must match. Received: x.shape={x.shape}, y.shape={y.shape}"
        )
    diff = x[..., :, None, :] - y[..., None, :, :]
    return jnp.sqrt(jnp.sum(diff * diff, axis=-1))


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of length `sequence_length` every `sequence_stride` along the last axis."""
    x = _t(x)
    *batch, n = x.shape
    flat = jnp.reshape(x, (_pymath.prod(batch), n, 1))
    out = jax.lax.conv_general_dilated_patches(
        flat, (sequence_length,), (sequence_stride,), "VALID", dimension_numbers=("NTC", "OIT", "NTC")
    )
    return jnp.reshape(out, (*batch, *out.shape[-2:]))


def _complex(x):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"Input `x` should be a tuple of two tensors - real and imaginary. Received: x={x}")
    real, imag = _t(x[0]), _t(x[1])
    if real.shape != imag.shape:
        raise ValueError(
            "The real and imaginary parts of `x` must have the same shape. "
            f"Received: x[0].shape={real.shape}, x[1].shape={imag.shape}"
        )
    if not (jnp.issubdtype(real.dtype, jnp.floating) and jnp.issubdtype(imag.dtype, jnp.floating)):
        raise ValueError(f"Both parts of `x` must be floating tensors. Received dtypes: {real.dtype}, {imag.dtype}")
    return jax.lax.complex(real, imag)


def _split(c):
    return jnp.real(c), jnp.imag(c)


def fft(x):
    """1-D FFT over the last axis of `(real, imag)`."""
    return _split(jnp.fft.fft(_complex(x)))


def fft2(x):
    """2-D FFT over the last two axes of `(real, imag)`."""
    return _split(jnp.fft.fft2(_complex(x)))


def ifft2(x):
    """Inverse 2-D FFT over the last two axes of `(real, imag)`."""
    return _split(jnp.fft.ifft2(_complex(x)))


def rfft(x, fft_length=None):
    """Real FFT over the last axis; returns `(real, imag)`."""
    return _split(jnp.fft.rfft(_t(x), n=fft_length, axis=-1))


def irfft(x, fft_length=None):
    """Inverse real FFT over the last axis of `(real, imag)`."""
    return jnp.fft.irfft(_complex(x), n=fft_length, axis=-1)


def _window(window, sequence_length, dtype):
    if window is None:
        return None
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f'If a string is passed to `window`, it must be one of "hann", "hamming". Received: window={window}')
        n = jnp.arange(sequence_length, dtype="float32")
        a = 0.5 if window == "hann" else 0.54
        win = a - (1 - a) * jnp.cos(2 * jnp.pi * n / sequence_length)  # periodic window
        return win.astype(dtype)
    win = _t(window).astype(dtype)
    if win.ndim != 1 or win.shape[-1] != sequence_length:
        raise ValueError(f"The shape of `window` must be equal to [sequence_length]. Received: window shape={win.shape}")
    return win


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform along the last axis; returns `(real, imag)`."""
    x = _t(x)
    if str(x.dtype) not in ("float32", "float64"):
        raise TypeError(f"Invalid input type. Expected `float32` or `float64`. Received: input type={x.dtype}")
    if fft_length < sequence_length:
        raise ValueError(
            "`fft_length` must equal or larger than `sequence_length`. "
            f"Received: sequence_length={sequence_length}, fft_length={fft_length}"
        )
    if center:
        pad = [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)]
        x = jnp.pad(x, pad, mode="reflect")
    l_pad = (fft_length - sequence_length) // 2
    r_pad = fft_length - sequence_length - l_pad
    win = _window(window, sequence_length, x.dtype)
    win = jnp.ones((sequence_length,), x.dtype) if win is None else win
    win = jnp.pad(win, (l_pad, r_pad))
    frames = extract_sequences(x, fft_length, sequence_stride)
    spec = jnp.fft.rfft(frames * win, n=fft_length, axis=-1)
    return jnp.real(spec).astype(x.dtype), jnp.imag(spec).astype(x.dtype)


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """Inverse short-time Fourier transform of `(real, imag)` (overlap-add)."""
    c = _complex(x)
    dtype = jnp.real(c).dtype
    if c.ndim < 2:
        raise ValueError(f"Input `x` must have at least 2 dimensions. Received shape: {c.shape}")
    num_frames = c.shape[-2]
    expected_len = fft_length + sequence_stride * (num_frames - 1)
    l_pad = (fft_length - sequence_length) // 2
    r_pad = fft_length - sequence_length - l_pad
    win = _window(window, sequence_length, dtype)
    frames = jnp.fft.irfft(c, n=fft_length, axis=-1).astype(dtype)
    if win is not None:
        win = jnp.pad(win, (l_pad, r_pad))
        frames = frames * win
    out = jnp.zeros((*c.shape[:-2], expected_len), dtype)
    norm = jnp.zeros((expected_len,), dtype)
    for i in range(num_frames):
        s = i * sequence_stride
        out = out.at[..., s : s + fft_length].add(frames[..., i, :])
        if win is not None:
            norm = norm.at[s : s + fft_length].add(win * win)
    if win is not None:
        out = out / jnp.where(norm > 1e-10, norm, 1.0)
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = expected_len - fft_length // 2
    else:
        end = expected_len
    return out[..., start:end]


def rsqrt(x):
    """`1 / sqrt(x)`."""
    x = _t(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        from keras_on_jax.backend import config

        x = x.astype(config.floatx())
    return jax.lax.rsqrt(x)


def erf(x):
    """The error function."""
    x = _t(x)
    return jax.lax.erf(x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype("float32"))


def erfc(x):
    """The complementary error function."""
    return jax.scipy.special.erfc(_t(x))


def erfinv(x):
    """The inverse error function."""
    return jax.scipy.special.erfinv(_t(x))


def logdet(x):
    """`log(det(x))` via `slogdet`."""
    return jnp.linalg.slogdet(_t(x))[1]


def view_as_complex(x):
    """A complex tensor from a real tensor whose last axis (size 2) holds `(real, imag)`."""
    x = _t(x)
    if x.shape[-1] != 2:
        raise ValueError(f"Input tensor's last dimension must be 2 (real and imaginary). Received shape: {x.shape}")
    return jax.lax.complex(x[..., 0], x[..., 1])


def view_as_real(x):
    """A real tensor with a trailing axis of size 2 holding `(real, imag)` of complex `x`."""
    x = _t(x)
    if not jnp.issubdtype(x.dtype, jnp.complexfloating):
        raise ValueError(f"Input must be a complex tensor. Received dtype: {x.dtype}")
    return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)


__all__ = [
    'cdist', 'erf', 'erfc', 'erfinv', 'extract_sequences', 'fft', 'fft2', 'ifft2', 'in_top_k',
    'irfft', 'istft', 'logdet', 'logsumexp', 'rfft', 'rsqrt', 'segment_max', 'segment_min',
    'segment_prod', 'segment_sum', 'stft', 'top_k', 'view_as_complex', 'view_as_real',
]


# Calls on KerasTensors build graph nodes (the classes of ops/op_table.py).
from keras_on_jax.ops.builtin_ops import make_symbolic  # noqa: E402

make_symbolic(globals(), "math")
