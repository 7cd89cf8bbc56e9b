"""keras.utils.legacy: the Keras 2 style (de)serialization helpers, kept by Keras 3.

The legacy format is `{"class_name": name, "config": config}` with no `module` /
`registered_name` keys; names are looked up in `custom_objects`, the custom-object scopes
and registry, then `module_objects` (which the caller provides, e.g. a library's own
classes). Libraries written for Keras 2 and 3 alike (keras-tuner) use these.
"""

from __future__ import annotations

import inspect

from keras_on_jax import serialization as _registry

_PASSIVE = "__passive_serialization__"


def serialize_keras_object(instance):
    """Serialize a Keras object into the legacy `{"class_name", "config"}` form.

    Objects with `get_config()` give a dict; their non-string config values are
    serialized in turn (marked `"__passive_serialization__"` when they become dicts).
    Functions and classes give their registered name.

    Args:
        instance: The object to serialize.

    Returns:
        A JSON-compatible dict, a name string, or `None` for `None`.
    """
    instance = inspect.unwrap(instance)
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        config = instance.get_config()
        out_config = {}
        for key, item in config.items():
            if isinstance(item, str):
                out_config[key] = item
                continue
            try:
                serialized = serialize_keras_object(item)
            except ValueError:
                out_config[key] = item
                continue
            if isinstance(serialized, dict) and not isinstance(item, dict):
                serialized[_PASSIVE] = True
            out_config[key] = serialized
        return {"class_name": _registry.get_registered_name(type(instance)),
                "config": out_config}
    if hasattr(instance, "__name__"):
        return _registry.get_registered_name(instance)
    raise ValueError(
        f"Cannot serialize {instance!r} because it doesn't implement `get_config()`."
    )


def _lookup(name, module_objects, custom_objects, printable_module_name):
    obj = _registry.get_registered_object(name, custom_objects, module_objects)
    if obj is None:
        raise ValueError(
            f"Unknown {printable_module_name}: '{name}'. Please ensure you are using a "
            "`keras.utils.custom_object_scope` and that this object is included in the "
            "scope, or pass it in `custom_objects`."
        )
    return obj


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                             printable_module_name="object"):
    """Turn the legacy serialized form of a Keras object back into the object.

    Args:
        identifier: A `{"class_name": ..., "config": ...}` dict, a registered name, or
            a function (returned as is).
        module_objects: Dict of built-in objects to look names up in (caller provided).
        custom_objects: Dict of user objects to look names up in (searched first).
        printable_module_name: What the object is, for error messages.

    Returns:
        The deserialized object. A class given by name is instantiated with no
        arguments; a function given by name is returned as is.
    """
    if identifier is None:
        return None
    module_objects = module_objects or {}
    custom_objects = custom_objects or {}
    if isinstance(identifier, dict):
        if "class_name" not in identifier or "config" not in identifier:
            raise ValueError(
                f"Improper config format for {identifier!r}: expected a dict with the keys "
                "`class_name` and `config`."
            )
        cls = _lookup(identifier["class_name"], module_objects, custom_objects,
                      printable_module_name)
        cls_config = identifier["config"]
        if isinstance(cls_config, dict):
            cls_config = dict(cls_config)
            for key, item in list(cls_config.items()):
                if key == "name":
                    continue
                if isinstance(item, dict) and _PASSIVE in item:
                    item = {k: v for k, v in item.items() if k != _PASSIVE}
                    cls_config[key] = deserialize_keras_object(
                        item, module_objects, custom_objects, "config_item")
                elif isinstance(item, str):
                    found = _registry.get_registered_object(item, custom_objects, module_objects)
                    if inspect.isfunction(found):
                        cls_config[key] = found
        if hasattr(cls, "from_config"):
            params = inspect.signature(cls.from_config).parameters
            if "custom_objects" in params:
                merged = {**_registry.get_custom_objects(), **custom_objects}
                return cls.from_config(cls_config, custom_objects=merged)
            with _registry.CustomObjectScope(custom_objects):
                return cls.from_config(cls_config)
        with _registry.CustomObjectScope(custom_objects):
            return cls(**cls_config)
    if isinstance(identifier, str):
        obj = _lookup(identifier, module_objects, custom_objects, printable_module_name)
        return obj() if inspect.isclass(obj) else obj
    if inspect.isfunction(identifier):
        return identifier
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier!r}")
