"""Deterministic initializers: Zeros, Ones, Constant, Identity, STFT."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import dtypes
from keras_on_jax.backend.variables import convert_to_tensor
from keras_on_jax.initializers._serialization import deserialize_value, serialize_value
from keras_on_jax.initializers.initializer import Initializer


def _shape(shape):
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(d) for d in shape)


class Constant(Initializer):
    """Initializer that generates tensors with constant values.

    Args:
        value: A Python scalar (or an array broadcastable to the requested shape).
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dtype = dtypes.standardize_dtype(dtype)
        value = self.value
        if isinstance(value, (int, float, np.ndarray, np.generic, list, tuple)):
            host = np.broadcast_to(np.asarray(value, dtype=jnp.dtype(dtype)), _shape(shape))
            return jnp.asarray(np.array(host))
        return convert_to_tensor(value, dtype=dtype) * jnp.ones(_shape(shape), dtype=dtype)

    def get_config(self):
        return {"value": serialize_value(self.value)}

    @classmethod
    def from_config(cls, config):
        if "value" not in config:  # `get("constant")`, which fails in Keras 3
            return cls()
        return cls(deserialize_value(config["value"]))


class Zeros(Initializer):
    """Initializer that generates tensors initialized to 0."""

    def __call__(self, shape, dtype=None):
        # Built on the host: no XLA compilation per weight shape.
        return jnp.asarray(np.zeros(_shape(shape), dtype=jnp.dtype(dtypes.standardize_dtype(dtype))))


class Ones(Initializer):
    """Initializer that generates tensors initialized to 1."""

    def __call__(self, shape, dtype=None):
        return jnp.asarray(np.ones(_shape(shape), dtype=jnp.dtype(dtypes.standardize_dtype(dtype))))


class Identity(Initializer):
    """Initializer that generates the identity matrix (2D shapes only).

    Args:
        gain: Multiplicative factor to apply to the identity matrix.
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        dtype = dtypes.standardize_dtype(dtype)
        return self.gain * jnp.eye(*shape, dtype=dtype)

    def get_config(self):
        # Keras 3 writes `{}` (dropping `gain`); the default config matches it exactly,
        # and a non-default gain is kept so that it survives a round trip.
        return {} if self.gain == 1.0 else {"gain": self.gain}


# ---- STFT windows -------------------------------------------------------------------------
# The windows of `scipy.signal.get_window` most used for STFT, computed here so scipy is
# not a dependency; any other scipy window name is delegated to scipy when it is installed.
_COSINE_WINDOWS = {
    "hann": (0.5, 0.5),
    "hamming": (0.54, 0.46),
    "blackman": (0.42, 0.50, 0.08),
}
_WINDOW_ALIASES = {
    "hann": "hann",
    "han": "hann",
    "hamming": "hamming",
    "hamm": "hamming",
    "ham": "hamming",
    "blackman": "blackman",
    "black": "blackman",
    "blk": "blackman",
    "boxcar": "boxcar",
    "box": "boxcar",
    "ones": "boxcar",
    "rect": "boxcar",
    "rectangular": "boxcar",
    "bartlett": "bartlett",
    "bart": "bartlett",
    "brt": "bartlett",
}


def _native_window(name, length, periodic):
    if length == 1:
        return np.ones(1)
    m = length + 1 if periodic else length
    n = np.arange(m, dtype=np.float64)
    if name == "boxcar":
        w = np.ones(m)
    elif name == "bartlett":
        w = np.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))
    else:
        coeffs = _COSINE_WINDOWS[name]
        fac = np.linspace(-np.pi, np.pi, m)
        w = np.zeros(m)
        for k, a in enumerate(coeffs):
            w += a * np.cos(k * fac)
    return w[:-1] if periodic else w


def _get_window(window, length, periodic):
    name = _WINDOW_ALIASES.get(window.lower()) if isinstance(window, str) else None
    if name is not None:
        return _native_window(name, length, periodic)
    try:
        import scipy.signal
    except ImportError as e:
        raise ValueError(
            f"Argument `window` of STFT: unknown window {window!r}. Built-in windows: "
            f"{sorted(set(_WINDOW_ALIASES.values()))}; other names need scipy."
        ) from e
    return scipy.signal.get_window(window, length, periodic)


class STFT(Initializer):
    """Initializer of Conv kernels for the Short-term Fourier Transformation (STFT).

    Args:
        side: `"real"` or `"imag"`: which part of the transform the kernel computes.
        window: name of a window function (as in `scipy.signal.windows`, e.g.
            `"hann"`, `"hamming"`), array_like window values, or `None`.
        scaling: `"density"`, `"spectrum"` or `None`: normalization of the window.
        periodic: whether the window is periodic.
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ["real", "imag"]:
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            _get_window(window, 1, periodic)  # raises for an unknown window
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError(
                "Scaling is invalid, it must be `None`, 'density' "
                f"or 'spectrum'. Received scaling={scaling}"
            )
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape, dtype=None):
        dtype = dtypes.standardize_dtype(dtype)
        frame_length, _, fft_length = _shape(shape)
        win = None
        scaling = 1
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                win = _get_window(win, frame_length, self.periodic)
            win = convert_to_tensor(win, dtype=dtype)
            if len(win.shape) != 1 or win.shape[-1] != frame_length:
                raise ValueError(
                    "The shape of `window` must be equal to [frame_length]."
                    f"Received: window shape={win.shape}"
                )
            win = jnp.reshape(win, (frame_length, 1, 1))
            if self.scaling == "density":
                scaling = jnp.sqrt(jnp.sum(jnp.square(win)))
            elif self.scaling == "spectrum":
                scaling = jnp.sum(jnp.abs(win))
        full_fft_length = (fft_length - 1) * 2
        freq = jnp.reshape(jnp.arange(fft_length, dtype=dtype), (1, 1, fft_length))
        freq = jnp.divide(freq, full_fft_length)
        time = jnp.reshape(jnp.arange(frame_length, dtype=dtype), (frame_length, 1, 1))
        args = (-2 * time) * freq * jnp.arccos(jnp.asarray(-1, dtype=dtype))
        kernel = jnp.cos(args) if self.side == "real" else jnp.sin(args)
        kernel = kernel.astype(dtype)
        if win is not None:
            kernel = jnp.divide(kernel * win, scaling)
        return kernel

    def get_config(self):
        return {
            "side": self.side,
            "window": self.window,
            "periodic": self.periodic,
            "scaling": self.scaling,
        }
