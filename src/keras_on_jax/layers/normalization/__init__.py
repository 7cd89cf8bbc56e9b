"""Normalization layers."""

from keras_on_jax.layers.normalization.batch_normalization import BatchNormalization
from keras_on_jax.layers.normalization.layer_normalization import (
    GroupNormalization,
    LayerNormalization,
    UnitNormalization,
)
from keras_on_jax.layers.normalization.spectral_normalization import SpectralNormalization

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization",
           "SpectralNormalization", "UnitNormalization"]
