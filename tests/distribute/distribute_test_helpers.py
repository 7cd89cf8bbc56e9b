"""Shared helpers for the distribution tests."""

import importlib

import keras_on_jax as keras

_SUBMODULES = {
    "BatchNormalization": "keras_on_jax.layers.normalization.batch_normalization",
    "Dropout": "keras_on_jax.layers.regularization.dropout",
    "Conv2D": "keras_on_jax.layers.convolutional",
    "GlobalMaxPooling2D": "keras_on_jax.layers.pooling",
    "LSTM": "keras_on_jax.layers.rnn.lstm",
    "Concatenate": "keras_on_jax.layers.merging",
}


def layer_class(name):
    """A layer class from `keras.layers`, or from its module while it is not exported yet."""
    cls = getattr(keras.layers, name, None)
    if cls is not None:
        return cls
    try:
        return getattr(importlib.import_module(_SUBMODULES[name]), name)
    except (ImportError, AttributeError, KeyError):
        return None
