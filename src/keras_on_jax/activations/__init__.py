"""`keras.activations`: the built-in activations plus `get`, `serialize`, `deserialize`."""

from __future__ import annotations

import types

from keras_on_jax import serialization as _serialization
from keras_on_jax.activations.activations import (
    celu,
    elu,
    exponential,
    gelu,
    glu,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    leaky_relu,
    linear,
    log_sigmoid,
    log_softmax,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_shrink,
    softmax,
    softplus,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    swish,
    tanh,
    tanh_shrink,
    threshold,
)

ALL_OBJECTS = (
    relu, leaky_relu, relu6, softmax, celu, elu, selu, softplus, softsign, squareplus,
    soft_shrink, sparse_plus, silu, gelu, glu, tanh, tanh_shrink, threshold, sigmoid,
    sparse_sigmoid, exponential, hard_sigmoid, hard_silu, hard_tanh, hard_shrink, linear,
    mish, log_softmax, log_sigmoid, sparsemax,
)
ALL_OBJECTS_DICT = {fn.__name__: fn for fn in ALL_OBJECTS}
ALL_OBJECTS_DICT["swish"] = silu
ALL_OBJECTS_DICT["hard_swish"] = hard_silu
_BUILTIN_IDS = {id(fn) for fn in ALL_OBJECTS}


def _unknown(identifier):
    return ValueError(
        f"Could not interpret activation function identifier: {identifier}. "
        f"Expected one of {sorted(ALL_OBJECTS_DICT)}, a callable, None, or a config dict."
    )


def serialize(activation):
    """The config of an activation: its name for built-ins (as Keras 3 returns)."""
    if id(activation) in _BUILTIN_IDS:
        return activation.__name__
    if hasattr(activation, "get_config"):
        return {
            "module": type(activation).__module__,
            "class_name": type(activation).__name__,
            "config": activation.get_config(),
            "registered_name": type(activation).__name__,
        }
    if isinstance(activation, types.FunctionType):
        # As Keras 3: the generic function envelope, whose `config` is the registered name
        # ("package>name") for a registered custom activation.
        return _serialization.serialize_keras_object(activation)
    raise ValueError(
        f"Unknown activation function '{activation}' cannot be serialized: expected a built-in "
        "activation, a named function, or an object with `get_config()`."
    )


def deserialize(config, custom_objects=None):
    """Return the activation function named by `config` (a name or a serialized dict)."""
    custom_objects = custom_objects or {}
    if isinstance(config, dict):
        name = config.get("config")
        registered = config.get("registered_name")
        class_name = config.get("class_name")
        if class_name == "function" or isinstance(name, str):
            for key in (registered, name):
                if key in custom_objects:
                    return custom_objects[key]
            if name in ALL_OBJECTS_DICT:
                return ALL_OBJECTS_DICT[name]
            found = _registered(name, custom_objects)
            if found is not None:
                return found
            raise _unknown(name)
        for key in (registered, class_name):
            if key in custom_objects:
                cls = custom_objects[key]
                return cls.from_config(name) if hasattr(cls, "from_config") else cls(**(name or {}))
        raise _unknown(config)
    if isinstance(config, str):
        if config in custom_objects:
            return custom_objects[config]
        if config in ALL_OBJECTS_DICT:
            return ALL_OBJECTS_DICT[config]
        found = _registered(config, custom_objects)
        if found is not None:
            return found
        raise _unknown(config)
    raise _unknown(config)


def _registered(name, custom_objects):
    """A custom activation known by `name` to the registry or an active custom object scope."""
    return _serialization.get_registered_object(name, custom_objects or None)


def get(identifier):
    """Resolve `identifier` (None, name, config dict or callable) to an activation function."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        obj = deserialize(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj
    raise _unknown(identifier)


__all__ = sorted(ALL_OBJECTS_DICT) + ["deserialize", "get", "serialize"]
