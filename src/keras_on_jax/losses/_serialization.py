"""Minimal Keras-format (de)serialization for losses and metrics.

Produces the same dicts as `keras.saving.serialize_keras_object` for these objects:
classes -> `{"module", "class_name", "config", "registered_name"}`, functions ->
`{"module": "builtins", "class_name": "function", "config": name, "registered_name":
"function"}`. The envelopes come from `keras_on_jax.serialization` (one implementation
for the whole package); this module keeps the losses/metrics lookup rules and messages.
"""

from __future__ import annotations

import inspect

import numpy as np

from keras_on_jax import serialization as _core


def _plain(value):
    """Turn arrays / numpy scalars in a config into plain Python values."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return np.asarray(value).tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def serialize_object(obj, module):
    if obj is None:
        return None
    if isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, dict):
        return {k: serialize_object(v, module) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(serialize_object(v, module) for v in obj)
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return _core.function_envelope(obj.__name__)
    if hasattr(obj, "get_config"):
        return _core.object_envelope(module, obj.__class__.__name__, _plain(obj.get_config()))
    raise TypeError(
        f"Cannot serialize object {obj!r} of type {type(obj).__name__}: expected a "
        "function or an object with `get_config()`."
    )


def deserialize_object(config, module_objects, custom_objects=None, kind="object"):
    objects = dict(module_objects)
    if custom_objects:
        objects.update(custom_objects)
    if config is None:
        return None
    if isinstance(config, str):
        if config not in objects:
            raise ValueError(
                f"Unknown {kind}: '{config}'. Valid names are: {sorted(module_objects)}"
            )
        return objects[config]
    if callable(config):
        return config
    if not isinstance(config, dict):
        raise TypeError(
            f"Could not deserialize {kind}: expected a string, a dict or a callable. "
            f"Received: {config!r} of type {type(config).__name__}"
        )
    if "class_name" not in config:
        raise ValueError(
            f"Could not deserialize {kind}: the dict needs a 'class_name' key. "
            f"Received: {config}"
        )
    inner = config.get("config", {})
    found, cls, name = _core.lookup_envelope(config, objects)
    if cls is None:
        raise ValueError(
            f"Unknown {kind} {'function' if found == 'function' else 'class'}: '{name}'. "
            f"Valid names are: {sorted(module_objects)}"
        )
    if found == "function":
        return cls
    if inner is None:
        inner = {}
    if hasattr(cls, "from_config"):
        return cls.from_config(inner)
    return cls(**inner)


def get_object(identifier, module_objects, deserialize, kind, base_class):
    """The body of `keras.losses.get` and `keras.metrics.get`: `None`, a name in
    `module_objects`, a config dict (through `deserialize`), a function, a class
    (instantiated with no arguments) or an instance of `base_class` (named in errors)."""
    return _core.get_object(
        identifier, module_objects, deserialize,
        lambda name: ValueError(
            f"Could not interpret {kind} identifier: {name}. Valid {kind} names are: "
            f"{sorted(module_objects)}"),
        lambda bad: ValueError(
            f"Could not interpret {kind} identifier: {bad}. Expected a string, a dict, a "
            f"callable or a `{base_class}` instance; received an object of type "
            f"{type(bad).__name__}."))
