"""`keras.initializers`: objects that produce the initial values of variables."""

from __future__ import annotations

import jax
import numpy as np

from keras_on_jax.backend import dtypes
from keras_on_jax.backend.naming import to_snake_case
from keras_on_jax.backend.variables import Variable, convert_to_tensor
from keras_on_jax.initializers import _serialization
from keras_on_jax.initializers.constant_initializers import (
    STFT,
    Constant,
    Identity,
    Ones,
    Zeros,
)
from keras_on_jax.initializers.initializer import Initializer
from keras_on_jax.initializers.random_initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomInitializer as RandomInitializer,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    compute_fans as compute_fans,
)

# Aliases exported by `keras.initializers`.
STFTInitializer = STFT
stft = STFT
constant = Constant
IdentityInitializer = Identity
identity = Identity
ones = Ones
zeros = Zeros
glorot_normal = GlorotNormal
glorot_uniform = GlorotUniform
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
OrthogonalInitializer = Orthogonal
orthogonal = Orthogonal
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling

ALL_OBJECTS = {
    Initializer,
    Constant,
    Identity,
    Ones,
    STFT,
    Zeros,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
}
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
ALL_OBJECTS_DICT.update(
    {
        "IdentityInitializer": Identity,
        "normal": RandomNormal,
        "one": Ones,
        "STFTInitializer": STFT,
        "OrthogonalInitializer": Orthogonal,
        "uniform": RandomUniform,
        "zero": Zeros,
    }
)


def serialize(initializer):
    """Return the initializer's configuration as a Keras-format Python dict."""
    return _serialization.serialize_object(initializer)


def deserialize(config, custom_objects=None):
    """Return an initializer from its config dict (or its string name)."""
    return _serialization.deserialize_object(
        config, ALL_OBJECTS_DICT, "initializer", custom_objects=custom_objects
    )


def _tensor_initializer(value):
    value = convert_to_tensor(value)

    def initialize_fn(shape, dtype=None):
        dtype = dtypes.standardize_dtype(dtype)
        shape = (shape,) if isinstance(shape, int) else tuple(int(d) for d in shape)
        if shape != tuple(value.shape):
            raise ValueError(
                f"Expected `shape` to be {tuple(value.shape)} for direct tensor as "
                f"initializer. Received shape={shape}"
            )
        return value.astype(dtype)

    return initialize_fn


def get(identifier):
    """Retrieve an initializer from an identifier.

    Args:
        identifier: `None`, the string name of an initializer (`"glorot_uniform"`,
            `"Zeros"`, ...), a config dict, an `Initializer` class or instance, a
            callable `fn(shape, dtype=None)`, or an array whose value is used directly.

    Returns:
        An initializer (or callable), or `None`.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return deserialize(identifier)
    if isinstance(identifier, (Variable, jax.Array, np.ndarray, np.generic)):
        return _tensor_initializer(identifier)
    return _serialization.get_object(identifier, ALL_OBJECTS_DICT, "initializer")


__all__ = [
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
    "IdentityInitializer", "Initializer", "LecunNormal", "LecunUniform", "Ones",
    "Orthogonal", "OrthogonalInitializer", "RandomNormal", "RandomUniform", "STFT",
    "STFTInitializer", "TruncatedNormal", "VarianceScaling", "Zeros", "constant",
    "deserialize", "get", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
    "identity", "lecun_normal", "lecun_uniform", "ones", "orthogonal", "random_normal",
    "random_uniform", "serialize", "stft", "truncated_normal", "variance_scaling", "zeros",
]
