"""Minimal Keras-format (de)serialization for losses and metrics.

Produces the same dicts as `keras.saving.serialize_keras_object` for these objects:
classes -> `{"module", "class_name", "config", "registered_name"}`, functions ->
`{"module": "builtins", "class_name": "function", "config": name, "registered_name":
"function"}`.
"""

from __future__ import annotations

import inspect

import numpy as np


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
        return {
            "module": "builtins",
            "class_name": "function",
            "config": obj.__name__,
            "registered_name": "function",
        }
    if hasattr(obj, "get_config"):
        return {
            "module": module,
            "class_name": obj.__class__.__name__,
            "config": _plain(obj.get_config()),
            "registered_name": None,
        }
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
    class_name = config["class_name"]
    inner = config.get("config", {})
    if class_name == "function":
        name = inner if isinstance(inner, str) else config.get("registered_name")
        if name not in objects:
            raise ValueError(
                f"Unknown {kind} function: '{name}'. Valid names are: "
                f"{sorted(module_objects)}"
            )
        return objects[name]
    registered = config.get("registered_name")
    cls = objects.get(class_name) or (objects.get(registered) if registered else None)
    if cls is None:
        raise ValueError(
            f"Unknown {kind} class: '{class_name}'. Valid names are: "
            f"{sorted(module_objects)}"
        )
    if inner is None:
        inner = {}
    if hasattr(cls, "from_config"):
        return cls.from_config(inner)
    return cls(**inner)
