"""Serialization shared by `initializers`, `regularizers` and `constraints`.

The dict format is Keras 3's (`keras.saving.serialize_keras_object`):
`{"module": ..., "class_name": ..., "config": ..., "registered_name": ...}`, so configs
written here load in Keras and the other way round. Only what these three packages need
is handled: objects with `get_config`, plain functions, tensors/NumPy values and seed
generators inside configs. The envelopes themselves come from `keras_on_jax.serialization`
(one implementation for the whole package); this module keeps these packages' lookup
rules and error messages.
"""

from __future__ import annotations

import inspect
import types

import jax
import numpy as np

from keras_on_jax import serialization as _core
from keras_on_jax.backend.random import SeedGenerator
from keras_on_jax.backend.variables import Variable

def serialize_value(value):
    """Serialize a value found inside a config (recursively)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, SeedGenerator):
        config = {"seed": value._initial_seed, "name": value.name}
        return _core.object_envelope("keras.random", "SeedGenerator", config)
    if isinstance(value, Variable):
        value = value.value
    if isinstance(value, (jax.Array, np.ndarray)):
        return _core.array_envelope(value)
    if isinstance(value, (list, tuple)):
        return [serialize_value(v) for v in value]
    if isinstance(value, dict):
        return {k: serialize_value(v) for k, v in value.items()}
    if hasattr(value, "get_config") or callable(value):
        return serialize_object(value)
    return value


def serialize_object(obj):
    """`keras.saving.serialize_keras_object` for initializers, regularizers, constraints."""
    if obj is None:
        return None
    if isinstance(obj, types.FunctionType) or inspect.isbuiltin(obj):
        return _core.function_envelope(obj.__name__)
    if inspect.isclass(obj):
        raise TypeError(
            f"Cannot serialize a class; pass an instance. Received: {obj!r}"
        )
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"Cannot serialize {obj!r}: it has no `get_config()` method and is not a "
            "plain function."
        )
    cls = type(obj)
    module = _core.public_module_of(cls.__module__)
    registered = getattr(cls, "_keras_registered_name", None)
    config = {k: serialize_value(v) for k, v in obj.get_config().items()}
    return _core.object_envelope(module, cls.__name__, config,
                               None if module is not None else (registered or cls.__name__))


def deserialize_value(value):
    """Inverse of `serialize_value` for the special tensor/seed forms."""
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        class_name = value["class_name"]
        inner = value["config"] or {}
        if class_name in ("__tensor__", "__numpy__"):
            return _core.array_from_envelope(value)
        if class_name == "SeedGenerator":
            return SeedGenerator(seed=inner.get("seed"), name=inner.get("name"))
    if isinstance(value, list):
        return [deserialize_value(v) for v in value]
    return value


def _custom_objects(custom_objects):
    # TODO(lead): merge the global registry of `keras.saving.register_keras_serializable`
    # here once the saving package provides one.
    return dict(custom_objects or {})


def _unknown(kind, name, module_objects):
    valid = sorted(module_objects)
    return ValueError(
        f"Could not interpret {kind} identifier: {name!r}. Expected the name of a "
        f"built-in {kind} (one of {valid}), a config dict, an instance or a callable."
    )


def _instantiate(cls, inner_config, kind):
    if isinstance(cls, types.FunctionType) or (callable(cls) and not inspect.isclass(cls)):
        return cls
    if not hasattr(cls, "from_config"):
        raise TypeError(
            f"Unable to reconstruct an instance of {cls!r} ({kind}): the class has no "
            "`from_config()` method."
        )
    return cls.from_config(dict(inner_config or {}))


def deserialize_object(config, module_objects, kind, custom_objects=None):
    """`keras.saving.deserialize_keras_object` restricted to one package's objects."""
    if config is None:
        return None
    custom = _custom_objects(custom_objects)
    if isinstance(config, str):
        if config in custom:
            obj = custom[config]
            return obj() if inspect.isclass(obj) else obj
        if config in module_objects:
            return _instantiate(module_objects[config], {}, kind)
        raise _unknown(kind, config, module_objects)
    if not isinstance(config, dict):
        raise ValueError(
            f"Could not interpret {kind} config: expected a string or a dict with "
            f"'class_name' and 'config'. Received: {config!r}"
        )
    if "class_name" not in config:
        raise ValueError(f"Unknown `config` as a `dict` for a {kind}: config={config!r}")
    class_name = config["class_name"]
    inner = config.get("config")
    # custom objects first, then the package's own
    found, cls, name = _core.lookup_envelope(config, custom)
    if cls is None:
        found, cls, name = _core.lookup_envelope(config, module_objects)
    if cls is None:
        raise _unknown(kind, name, module_objects)
    if found == "function":
        return cls
    if inner is not None and not isinstance(inner, dict):
        raise TypeError(
            f"Expected 'config' to be a dict for {class_name}, instead got "
            f"{type(inner).__name__}. Full config: {config!r}"
        )
    return _instantiate(cls, inner, kind)


def get_object(identifier, module_objects, kind):
    """The shared part of `get`: None, dict, string, class, instance or callable."""
    return _core.get_object(
        identifier, module_objects,
        lambda config: deserialize_object(config, module_objects, kind),
        lambda name: _unknown(kind, name, module_objects),
        lambda bad: ValueError(
            f"Could not interpret {kind} identifier: {bad!r}. Expected a string, a "
            "config dict, an instance or a callable."))
