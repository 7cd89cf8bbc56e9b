"""`keras.regularizers`: penalties on weights or activations, added to the loss."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from keras_on_jax.backend import config as _config
from keras_on_jax.backend.naming import to_snake_case
from keras_on_jax.backend.variables import convert_to_tensor
from keras_on_jax.initializers import _serialization


def validate_float_arg(value, name):
    """Return `value` as a float; raise ValueError unless it is a finite number >= 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (float, int))
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. "
            f"Received: {name}={value!r}"
        )
    return float(value)


class Regularizer:
    """Regularizer base class.

    A regularizer is called on a tensor (`regularizer(x)`) and returns a scalar penalty.
    Any function `fn(x) -> scalar` can be used where a regularizer is expected.
    """

    def __call__(self, x):
        return 0.0

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")


class L1L2(Regularizer):
    """L1 and L2 penalties: `l1 * sum(abs(x)) + l2 * sum(square(x))`.

    Args:
        l1: float, L1 regularization factor (default 0).
        l2: float, L2 regularization factor (default 0).
    """

    def __init__(self, l1=0.0, l2=0.0):
        l1 = 0.0 if l1 is None else l1
        l2 = 0.0 if l2 is None else l2
        self.l1 = validate_float_arg(l1, name="l1")
        self.l2 = validate_float_arg(l2, name="l2")

    def __call__(self, x):
        x = convert_to_tensor(x)
        regularization = jnp.asarray(0.0, dtype=x.dtype)
        if self.l1 != 0.0:
            regularization += jnp.asarray(self.l1, dtype=x.dtype) * jnp.sum(jnp.abs(x))
        if self.l2 != 0.0:
            regularization += jnp.asarray(self.l2, dtype=x.dtype) * jnp.sum(jnp.square(x))
        return regularization

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """L1 penalty: `l1 * sum(abs(x))`.

    Args:
        l1: float, L1 regularization factor (default 0.01).
    """

    def __init__(self, l1=0.01):
        l1 = 0.01 if l1 is None else l1
        l1 = validate_float_arg(l1, name="l1")
        # Held as a floatx scalar, as in Keras (so the config shows the rounded value).
        self.l1 = jnp.asarray(l1, dtype=_config.floatx())

    def __call__(self, x):
        x = convert_to_tensor(x)
        return self.l1.astype(x.dtype) * jnp.sum(jnp.abs(x))

    def get_config(self):
        return {"l1": float(self.l1)}


class L2(Regularizer):
    """L2 penalty: `l2 * sum(square(x))`.

    Args:
        l2: float, L2 regularization factor (default 0.01).
    """

    def __init__(self, l2=0.01):
        l2 = 0.01 if l2 is None else l2
        self.l2 = validate_float_arg(l2, name="l2")

    def __call__(self, x):
        x = convert_to_tensor(x)
        return jnp.asarray(self.l2, dtype=x.dtype) * jnp.sum(jnp.square(x))

    def get_config(self):
        return {"l2": self.l2}


def _l2_normalize(x, axis):
    square_sum = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
    inv_norm = jnp.minimum(jax.lax.rsqrt(square_sum), 1.0 / _config.epsilon())
    return x * inv_norm


class OrthogonalRegularizer(Regularizer):
    """Encourages the rows (or columns) of a rank-2 input to be orthogonal.

    The penalty is `factor * 0.5 * sum(|off-diagonal of N N^T|) / num_pairs`, where `N`
    holds the L2-normalized rows (`mode="rows"`) or columns (`mode="columns"`).

    Args:
        factor: float, the regularization factor (default 0.01).
        mode: `"rows"` or `"columns"`.
    """

    def __init__(self, factor=0.01, mode="rows"):
        validate_float_arg(factor, name="factor")
        self.factor = jnp.asarray(factor, dtype=_config.floatx())
        if mode not in {"rows", "columns"}:
            raise ValueError(
                "Invalid value for argument `mode`. Expected one of "
                f'{{"rows", "columns"}}. Received: mode={mode}'
            )
        self.mode = mode

    def __call__(self, inputs):
        inputs = convert_to_tensor(inputs)
        if inputs.ndim != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. Received: "
                f"inputs.shape={inputs.shape}"
            )
        if self.mode == "rows":
            inputs = _l2_normalize(inputs, axis=1)
            product = jnp.matmul(inputs, inputs.T)
            size = inputs.shape[0]
        else:
            inputs = _l2_normalize(inputs, axis=0)
            product = jnp.matmul(inputs.T, inputs)
            size = inputs.shape[1]
        product_no_diagonal = product * (1.0 - jnp.eye(size, dtype=inputs.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * jnp.sum(jnp.abs(product_no_diagonal)) / num_pairs

    def get_config(self):
        return {"factor": float(self.factor), "mode": self.mode}


# Aliases exported by `keras.regularizers`.
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

ALL_OBJECTS = {Regularizer, L1, L2, L1L2, OrthogonalRegularizer}
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
# `keras.regularizers.get("l1_l2")` fails in Keras 3 (its snake name is "l1l2"); the
# exported alias name is accepted here as well.
_GET_ALIASES = {**ALL_OBJECTS_DICT, "l1_l2": L1L2}


def serialize(regularizer):
    """Return the regularizer's configuration as a Keras-format Python dict."""
    return _serialization.serialize_object(regularizer)


def deserialize(config, custom_objects=None):
    """Return a regularizer from its config dict (or its string name)."""
    return _serialization.deserialize_object(
        config, _GET_ALIASES, "regularizer", custom_objects=custom_objects
    )


def get(identifier):
    """Retrieve a regularizer from `None`, a name (`"l2"`), a config dict, a class, an
    instance or a callable."""
    return _serialization.get_object(identifier, _GET_ALIASES, "regularizer")


__all__ = [
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "Regularizer",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "orthogonal_regularizer",
    "serialize",
]
