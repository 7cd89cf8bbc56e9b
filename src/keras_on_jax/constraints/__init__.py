"""`keras.constraints`: projections applied to weights after each optimizer update."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.backend import config as _config
from keras_on_jax.backend.naming import to_snake_case
from keras_on_jax.backend.variables import convert_to_tensor
from keras_on_jax.initializers import _serialization


def _norms(w, axis):
    return jnp.sqrt(jnp.sum(jnp.square(w), axis=_axis(axis), keepdims=True))


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


class Constraint:
    """Base class for weight constraints: `constraint(w)` returns the projected weight.

    The base class returns its input unchanged.
    """

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Constrains the norm of the weights incident to each unit to at most `max_value`.

    Args:
        max_value: the maximum norm.
        axis: int or list of ints, the axes along which the norms are computed
            (`0` for a Dense kernel, `[0, 1, 2]` for a channels-last Conv2D kernel).
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = jnp.clip(norms, 0, self.max_value)
        return w.astype(norms.dtype) * (desired / (_config.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Constrains the weights to be non-negative."""

    def __call__(self, w):
        w = convert_to_tensor(w)
        return jnp.maximum(w, 0)


class UnitNorm(Constraint):
    """Constrains the weights incident to each unit to have unit norm.

    Args:
        axis: int or list of ints, the axes along which the norms are computed.
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        return w.astype(norms.dtype) / (_config.epsilon() + norms)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Constrains the norm of the weights incident to each unit to `[min_value, max_value]`.

    Weights are rescaled to `(1 - rate) * norm + rate * clip(norm, min_value, max_value)`.

    Args:
        min_value: the minimum norm.
        max_value: the maximum norm.
        rate: the enforcement rate (1.0 means strict enforcement).
        axis: int or list of ints, the axes along which the norms are computed.
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = (
            self.rate * jnp.clip(norms, self.min_value, self.max_value)
            + (1 - self.rate) * norms
        )
        return w.astype(norms.dtype) * (desired / (_config.epsilon() + norms))

    def get_config(self):
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


# Aliases exported by `keras.constraints`.
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

ALL_OBJECTS = {Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm}
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})


def serialize(constraint):
    """Return the constraint's configuration as a Keras-format Python dict."""
    return _serialization.serialize_object(constraint)


def deserialize(config, custom_objects=None):
    """Return a constraint from its config dict (or its string name)."""
    return _serialization.deserialize_object(
        config, ALL_OBJECTS_DICT, "constraint", custom_objects=custom_objects
    )


def get(identifier):
    """Retrieve a constraint from `None`, a name (`"max_norm"`), a config dict, a class,
    an instance or a callable."""
    return _serialization.get_object(identifier, ALL_OBJECTS_DICT, "constraint")


__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]
