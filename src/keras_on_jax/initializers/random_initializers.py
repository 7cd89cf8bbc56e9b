"""Random initializers: RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling and
its presets (Glorot, He, Lecun), Orthogonal.

Seeds follow Keras 3: an integer seed, or `None` (which draws an integer seed from
Python's `random` at construction, so `keras.utils.set_random_seed` makes it
reproducible), gives the same values on every call; a `SeedGenerator` seed gives new
values on each call.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import dtypes, random
from keras_on_jax.initializers._serialization import deserialize_value, serialize_value
from keras_on_jax.initializers.initializer import Initializer


def _shape(shape):
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(d) for d in shape)


class RandomInitializer(Initializer):
    """Base of the random initializers: holds and serializes the `seed`."""

    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = random.make_default_seed()
        elif isinstance(seed, dict):
            seed = deserialize_value(seed)
            self._init_seed = seed
        if isinstance(seed, np.integer) and not isinstance(seed, bool):
            seed = int(seed)
        if not isinstance(seed, (int, random.SeedGenerator)):
            raise ValueError(
                "`seed` argument should be an instance of "
                "`keras.random.SeedGenerator()` or an integer. "
                f"Received: seed={seed}"
            )
        self.seed = seed

    def get_config(self):
        return {"seed": serialize_value(self._init_seed)}


class RandomNormal(RandomInitializer):
    """Random normal initializer.

    Args:
        mean: Mean of the random values to generate.
        stddev: Standard deviation of the random values to generate.
        seed: An integer or a `keras.random.SeedGenerator`.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return random.normal(
            _shape(shape), mean=self.mean, stddev=self.stddev, seed=self.seed, dtype=dtype
        )

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Truncated normal initializer: values beyond two standard deviations are redrawn.

    Args:
        mean: Mean of the random values to generate.
        stddev: Standard deviation (before truncation) of the random values.
        seed: An integer or a `keras.random.SeedGenerator`.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return random.truncated_normal(
            _shape(shape), mean=self.mean, stddev=self.stddev, seed=self.seed, dtype=dtype
        )

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Random uniform initializer on `[minval, maxval)`.

    Args:
        minval: Lower bound of the range (inclusive).
        maxval: Upper bound of the range (exclusive).
        seed: An integer or a `keras.random.SeedGenerator`.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return random.uniform(
            _shape(shape), minval=self.minval, maxval=self.maxval, seed=self.seed, dtype=dtype
        )

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(shape, input_axes=None, output_axes=None):
    """Return `(fan_in, fan_out)` of a weight shape, as Keras computes them.

    Rank 0: (1, 1); rank 1: (n, n); rank 2: (rows, cols); higher ranks are conv kernels
    `(..., input_depth, depth)` and both fans are multiplied by the receptive field size.
    `input_axes`/`output_axes`, when both given, name the axes of each fan.
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        fan_in = math.prod(int(shape[a]) for a in input_axes)
        fan_out = math.prod(int(shape[a]) for a in output_axes)
        return int(fan_in), int(fan_out)
    if len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape[0], shape[1]
    else:
        receptive_field_size = math.prod(int(d) for d in shape[:-2])
        fan_in = shape[-2] * receptive_field_size
        fan_out = shape[-1] * receptive_field_size
    return int(fan_in), int(fan_out)


class VarianceScaling(RandomInitializer):
    """Initializer that adapts its scale to the shape of its input tensors.

    Normal distributions have `stddev = sqrt(scale / n)` (after truncation for
    `"truncated_normal"`); `"uniform"` draws in `[-limit, limit]` with
    `limit = sqrt(3 * scale / n)`, where `n` is fan_in, fan_out or their average.

    Args:
        scale: Scaling factor (positive float).
        mode: One of `"fan_in"`, `"fan_out"`, `"fan_avg"`.
        distribution: One of `"truncated_normal"`, `"untruncated_normal"`,
            `"uniform"` (`"normal"` means `"truncated_normal"`).
        seed: An integer or a `keras.random.SeedGenerator`.
        input_axes: Optional axes of the shape that count as input units.
        output_axes: Optional axes of the shape that count as output units.
    """

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        if scale <= 0.0:
            raise ValueError(
                f"Argument `scale` must be positive float. Received: scale={scale}"
            )
        allowed_modes = {"fan_in", "fan_out", "fan_avg"}
        if mode not in allowed_modes:
            raise ValueError(
                f"Invalid `mode` argument: {mode}. Please use one of {allowed_modes}"
            )
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        allowed_distributions = {"uniform", "truncated_normal", "untruncated_normal"}
        if distribution not in allowed_distributions:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}. "
                f"Please use one of {allowed_distributions}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        scale = self.scale
        fan_in, fan_out = compute_fans(
            shape, input_axes=self.input_axes, output_axes=self.output_axes
        )
        if self.mode == "fan_in":
            scale /= max(1.0, fan_in)
        elif self.mode == "fan_out":
            scale /= max(1.0, fan_out)
        else:
            scale /= max(1.0, (fan_in + fan_out) / 2.0)
        if self.distribution == "truncated_normal":
            # 0.879... is the stddev of a unit normal truncated to [-2, 2].
            stddev = math.sqrt(scale) / 0.87962566103423978
            return random.truncated_normal(shape, 0.0, stddev, dtype=dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            stddev = math.sqrt(scale)
            return random.normal(shape, 0.0, stddev, dtype=dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random.uniform(shape, -limit, limit, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _VarianceScalingPreset(VarianceScaling):
    """A VarianceScaling with fixed scale/mode/distribution; configs hold only seeds/axes."""

    _scale = 1.0
    _mode = "fan_in"
    _distribution = "truncated_normal"

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(
            scale=self._scale,
            mode=self._mode,
            distribution=self._distribution,
            seed=seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def get_config(self):
        return {
            "seed": serialize_value(self._init_seed),
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class GlorotUniform(_VarianceScalingPreset):
    """Glorot (Xavier) uniform: `U[-limit, limit]`, `limit = sqrt(6 / (fan_in + fan_out))`."""

    _scale, _mode, _distribution = 1.0, "fan_avg", "uniform"


class GlorotNormal(_VarianceScalingPreset):
    """Glorot (Xavier) normal: truncated normal, `stddev = sqrt(2 / (fan_in + fan_out))`."""

    _scale, _mode, _distribution = 1.0, "fan_avg", "truncated_normal"


class LecunNormal(_VarianceScalingPreset):
    """Lecun normal: truncated normal, `stddev = sqrt(1 / fan_in)`."""

    _scale, _mode, _distribution = 1.0, "fan_in", "truncated_normal"


class LecunUniform(_VarianceScalingPreset):
    """Lecun uniform: `U[-limit, limit]`, `limit = sqrt(3 / fan_in)`."""

    _scale, _mode, _distribution = 1.0, "fan_in", "uniform"


class HeNormal(_VarianceScalingPreset):
    """He normal: truncated normal, `stddev = sqrt(2 / fan_in)`."""

    _scale, _mode, _distribution = 2.0, "fan_in", "truncated_normal"


class HeUniform(_VarianceScalingPreset):
    """He uniform: `U[-limit, limit]`, `limit = sqrt(6 / fan_in)`."""

    _scale, _mode, _distribution = 2.0, "fan_in", "uniform"


class Orthogonal(RandomInitializer):
    """Initializer that generates an orthogonal matrix (from the QR decomposition of a
    normal random matrix); shapes of rank > 2 are flattened to
    `(prod(shape[:-1]), shape[-1])` and reshaped back.

    Args:
        gain: Multiplicative factor to apply to the orthogonal matrix.
        seed: An integer or a `keras.random.SeedGenerator`.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        num_rows = math.prod(shape[:-1])
        num_cols = shape[-1]
        flat_shape = (max(num_cols, num_rows), min(num_cols, num_rows))
        dtype = dtypes.standardize_dtype(dtype)
        a = random.normal(flat_shape, seed=self.seed, dtype=dtype)
        if dtype in ("float16", "bfloat16"):
            # LAPACK has no half-precision QR: decompose in float32, cast back.
            a = a.astype("float32")
        q, r = jnp.linalg.qr(a)
        q = q * jnp.sign(jnp.diag(r))
        if num_rows < num_cols:
            q = jnp.transpose(q)
        return (self.gain * jnp.reshape(q, shape)).astype(dtype)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}
