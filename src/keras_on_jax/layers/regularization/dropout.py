"""`Dropout` and the spatial variants: randomly zero inputs while training."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from keras_on_jax.backend import config as backend_config
from keras_on_jax.backend.random import SeedGenerator, draw_seed
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer


def _check_rate(rate, arg="rate"):
    if not 0 <= rate <= 1:
        raise ValueError(
            f"Invalid value received for argument `{arg}`. Expected a float value "
            f"between 0 and 1. Received: {arg}={rate}"
        )


def dropout(inputs, rate, noise_shape, seed_generator):
    """Keras's `backend.random.dropout`: keep with `1 - rate`, scale by `1 / (1 - rate)`."""
    key = draw_seed(seed_generator)
    keep_prob = 1.0 - rate
    shape = inputs.shape if noise_shape is None else tuple(
        inputs.shape[i] if d is None else d for i, d in enumerate(noise_shape)
    )
    mask = jax.random.bernoulli(key, keep_prob, shape)
    mask = jnp.broadcast_to(mask, inputs.shape)
    return jnp.where(mask, inputs / jnp.asarray(keep_prob, inputs.dtype), jnp.zeros_like(inputs))


class Dropout(Layer):
    """Applies dropout: sets inputs to 0 with frequency `rate` during training.

    Kept inputs are scaled by `1 / (1 - rate)`. Only active with `training=True` (which
    `fit` sets; passing `training=True` explicitly also drops at inference, e.g. for Monte
    Carlo dropout).

    Args:
        rate: float in [0, 1], the fraction of inputs to drop.
        noise_shape: shape of the binary mask, broadcast to the input (None: input shape).
        seed: integer seed.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate)
        self.rate = rate
        self.seed = seed
        self.noise_shape = self._validate_noise_shape(noise_shape)
        if rate > 0:
            self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    @staticmethod
    def _validate_noise_shape(noise_shape):
        if noise_shape is None:
            return None
        if isinstance(noise_shape, str):
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected a tuple or "
                f"list of integers. Received: noise_shape={noise_shape}"
            )
        try:
            noise_shape = tuple(noise_shape)
        except TypeError as e:
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected an iterable "
                f"of integers (e.g., a tuple or list). Received: noise_shape={noise_shape}"
            ) from e
        for i, dim in enumerate(noise_shape):
            if dim is None:
                continue
            if not isinstance(dim, int):
                raise ValueError(
                    "Invalid value received for argument `noise_shape`. Expected all "
                    f"elements to be integers or None. Received element at index {i}: "
                    f"{dim} (type: {type(dim).__name__})"
                )
            if dim <= 0:
                raise ValueError(
                    "Invalid value received for argument `noise_shape`. Expected all "
                    "dimensions to be positive integers or None. Received negative or "
                    f"zero value at index {i}: {dim}"
                )
        return noise_shape

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return dropout(inputs, self.rate, self.noise_shape, self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config


class BaseSpatialDropout(Dropout):
    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return dropout(inputs, self.rate, self._get_noise_shape(inputs), self.seed_generator)
        return inputs

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}


class SpatialDropout1D(BaseSpatialDropout):
    """Drops entire 1D feature maps: the mask has shape `(batch, 1, channels)`.

    Args:
        rate: fraction of channels to drop.
        seed: integer seed.
    """

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.input_spec = InputSpec(ndim=3)

    def _get_noise_shape(self, inputs):
        return (inputs.shape[0], 1, inputs.shape[2])


class SpatialDropout2D(BaseSpatialDropout):
    """Drops entire 2D feature maps (channels) of a 4D input.

    Args:
        rate: fraction of channels to drop.
        data_format: `"channels_last"` or `"channels_first"` (default: the Keras config).
        seed: integer seed.
    """

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = backend_config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=4)

    def _get_noise_shape(self, inputs):
        s = inputs.shape
        if self.data_format == "channels_first":
            return (s[0], s[1], 1, 1)
        return (s[0], 1, 1, s[3])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class SpatialDropout3D(BaseSpatialDropout):
    """Drops entire 3D feature maps (channels) of a 5D input.

    Args:
        rate: fraction of channels to drop.
        data_format: `"channels_last"` or `"channels_first"` (default: the Keras config).
        seed: integer seed.
    """

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = backend_config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=5)

    def _get_noise_shape(self, inputs):
        s = inputs.shape
        if self.data_format == "channels_first":
            return (s[0], s[1], 1, 1, 1)
        return (s[0], 1, 1, 1, s[4])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
