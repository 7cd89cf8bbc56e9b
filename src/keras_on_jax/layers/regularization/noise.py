"""`GaussianDropout`, `GaussianNoise`, `AlphaDropout`, `ActivityRegularization`."""

from __future__ import annotations

import math

import jax

from keras_on_jax.backend.random import SeedGenerator, draw_seed
from keras_on_jax.layers.layer import Layer
from keras_on_jax.layers.regularization.dropout import _check_rate


class GaussianDropout(Layer):
    """Multiplies inputs by `1`-centred Gaussian noise with stddev `sqrt(rate/(1-rate))`
    during training.

    Args:
        rate: drop probability, as in `Dropout`.
        seed: integer seed.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate)
        self.rate = rate
        self.seed = seed
        if rate > 0:
            self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            noise = jax.random.normal(draw_seed(self.seed_generator), inputs.shape,
                                      dtype=self.compute_dtype)
            return inputs * (1.0 + stddev * noise)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise with standard deviation `stddev` during training.

    Args:
        stddev: float in [0, 1], the noise standard deviation.
        seed: integer seed.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(stddev, "stddev")
        self.stddev = stddev
        self.seed = seed
        if stddev > 0:
            self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            noise = jax.random.normal(draw_seed(self.seed_generator), inputs.shape,
                                      dtype=self.compute_dtype)
            return inputs + self.stddev * noise
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class AlphaDropout(Layer):
    """Dropout that keeps the mean and variance of SELU activations.

    Dropped inputs are set to the SELU saturation value, then an affine transform
    restores the mean and variance.

    Args:
        rate: drop probability.
        noise_shape: shape of the binary mask (None: input shape).
        seed: integer seed.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate)
        self.rate = rate
        self.seed = seed
        self.noise_shape = noise_shape
        if rate > 0:
            self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            shape = inputs.shape if self.noise_shape is None else tuple(
                inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape)
            )
            alpha = 1.6732632423543772848170429916717
            scale = 1.0507009873554804934193349852946
            alpha_p = -alpha * scale
            kept = jax.random.uniform(draw_seed(self.seed_generator), shape) >= self.rate
            kept = kept.astype(inputs.dtype)
            a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
            b = -a * alpha_p * self.rate
            x = inputs * kept + alpha_p * (1 - kept)
            return a * x + b
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}


class ActivityRegularization(Layer):
    """Identity layer that adds an L1/L2 activity regularization loss on its input.

    Args:
        l1: L1 factor.
        l2: L2 factor.
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        from keras_on_jax import regularizers

        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config
