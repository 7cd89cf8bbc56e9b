"""`serialize_keras_object` / `deserialize_keras_object`.

`serialize_keras_object` writes Keras 3's envelope
`{"module", "class_name", "config", "registered_name"[, "build_config", "compile_config"]}`
with the *public Keras* module names (`keras.layers`, `keras`, ...) so that real Keras 3
resolves our files; `deserialize_keras_object` reads Keras 3 envelopes and the older
Keras 2 forms (no `module`, `tf_keras.src.engine...` / `tensorflow.python.keras...`
modules, `Custom>Name` registry keys).

The core knows no class above the backend. Objects take part through duck-typed hooks:
- `obj._saved_compile_config()` -> the `compile_config` entry of a compiled model, and
  `obj._compile_from_saved_config(config, custom_objects)` compiles it again on load
  (the trainer defines both);
- `cls._translate_keras2_config(config)` -> the config with Keras-2-only keys
  translated, called before `cls.from_config` (the Layer base defines it);
- `cls._deserialize_nested_in_owner = True`: an object of this class found nested in
  another object's config stays a config, for the owner's `from_config` to rebuild
  (layers, as in Keras 3).
"""

from __future__ import annotations

import inspect
import types

import numpy as np

from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.backend.variables import Variable
from keras_on_jax.serialization.namespaces import (
    REFUSED_MODULES,
    REFUSED_NAMES,
    builtin_class,
    builtin_function,
    public_module_and_name,
    public_module_of,
)
from keras_on_jax.serialization.envelopes import (
    array_envelope,
    array_from_envelope,
    function_envelope,
    object_envelope,
)
from keras_on_jax.serialization.registry import (
    THREAD,
    CustomObjectScope,
    get_registered_name,
    get_registered_object,
    is_registered,
)
from keras_on_jax.serialization.safe_mode import (
    SafeModeScope,
    func_dump,
    func_load,
    in_safe_mode,
    refuse_lambda,
)


# ---------------------------------------------------------------------------------------
# Serialization
# ---------------------------------------------------------------------------------------
def _serialize_dict(d):
    return {k: serialize_keras_object(v) for k, v in d.items()}


def serialize_keras_object(obj):
    """Turn a Keras object (and anything inside its config) into JSON-able data."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return _serialize_dict(obj)
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        return {"class_name": "__slice__", "config": {
            "start": serialize_keras_object(obj.start), "stop": serialize_keras_object(obj.stop),
            "step": serialize_keras_object(obj.step)}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, KerasTensor):
        history = getattr(obj, "_keras_history", None)
        if history:
            history = [history[0].name, history[1], history[2]]
        return {"class_name": "__keras_tensor__", "config": {
            "shape": list(obj.shape), "dtype": obj.dtype, "keras_history": history}}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0:
            return obj.item()
        return array_envelope(obj)
    if isinstance(obj, Variable) or type(obj).__module__.startswith("jax"):
        return array_envelope(obj)
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        code, defaults, closure = func_dump(obj)
        return {"class_name": "__lambda__", "config": {"value": [code, defaults, closure]}}
    if isinstance(obj, types.FunctionType):
        return _serialize_function(obj)
    if inspect.isclass(obj):
        return _serialize_function(obj)

    inner = obj.get_config() if hasattr(obj, "get_config") else None
    if inner is None:
        raise TypeError(f"Cannot serialize {obj!r}: it has no `get_config()` method.")
    inner = serialize_keras_object(inner)
    cls = type(obj)
    public = public_module_and_name(cls)
    if public is not None:
        module, registered = public
    else:
        module = cls.__module__
        if module == "__main__":
            module = None
        registered = get_registered_name(cls)
    out = object_envelope(module, cls.__name__, inner, registered)
    if hasattr(obj, "get_build_config"):
        build_config = obj.get_build_config()
        if build_config is not None:
            out["build_config"] = serialize_keras_object(build_config)
    saved_compile_config = getattr(obj, "_saved_compile_config", None)
    if saved_compile_config is not None and getattr(obj, "compiled", False):
        out["compile_config"] = saved_compile_config()
    return out


def _serialize_function(fn):
    if is_registered(fn):
        return function_envelope(get_registered_name(fn),
                                 "builtins" if isinstance(fn, types.FunctionType) else fn.__module__)
    public = public_module_of(getattr(fn, "__module__", "") or "")
    if public is not None:
        return function_envelope(fn.__name__, public)
    return function_envelope(fn.__name__)


# ---------------------------------------------------------------------------------------
# Deserialization
# ---------------------------------------------------------------------------------------
def _shared_objects():
    return getattr(THREAD, "shared", None)


class SharedObjectLoadingScope:
    def __enter__(self):
        self.previous = getattr(THREAD, "shared", None)
        if self.previous is None:
            THREAD.shared = {}
        return self

    def __exit__(self, *exc):
        THREAD.shared = self.previous
        return False


def _check_safe_config(config, class_name):
    """In safe mode, refuse configs that carry bytecode or try to switch safe mode off."""
    if not in_safe_mode() or not isinstance(config, dict):
        return
    if config.get("safe_mode") is False or "safe_mode" in config and config["safe_mode"] not in (None, True):
        raise ValueError(
            f"The config of '{class_name}' contains `safe_mode={config['safe_mode']!r}`. A "
            "file cannot disable safe mode; pass `safe_mode=False` to the loading function "
            "if you trust it."
        )
    if class_name == "Lambda" or "function_type" in config:
        for key in ("function", "output_shape"):
            val = config.get(key)
            if isinstance(val, dict) and val.get("class_name") == "__lambda__":
                refuse_lambda(f"layer '{config.get('name')}', argument `{key}`")
            if isinstance(val, (list, tuple)) and val and isinstance(val[0], str) and (
                config.get(f"{key}_type" if key != "function" else "function_type") == "lambda"
                or key == "function" and config.get("function_type") == "lambda"
            ):
                refuse_lambda(f"layer '{config.get('name')}', argument `{key}`")


def _is_keras_module(module):
    if not module:
        return False
    top = module.split(".")[0]
    return top in ("keras", "tf_keras", "tensorflow", "keras_on_jax", "keras_hub",
                   "keras_nlp", "keras_cv")


def _resolve(class_name, registered_name, module, custom_objects, obj_type):
    if module in REFUSED_MODULES or class_name in REFUSED_NAMES or (
        isinstance(module, str) and any(module.startswith(m + ".") for m in REFUSED_MODULES)
    ):
        raise ValueError(
            f"Refusing to deserialize '{module}.{class_name}': saving/config/utility APIs "
            "cannot be referenced from a saved file."
        )
    if obj_type == "function":
        keys = [registered_name if registered_name not in (None, "function") else None, class_name]
    else:
        keys = [registered_name, class_name]
    for key in keys:
        if key:
            obj = get_registered_object(key, custom_objects)
            if obj is not None:
                return obj
    if obj_type == "function":
        name = class_name.split(">")[-1]
        obj = builtin_function(name)
        if obj is not None:
            return obj
        raise TypeError(
            f"Could not locate function '{class_name}'. Make sure custom functions are "
            "decorated with `@keras.saving.register_keras_serializable()` or passed in "
            f"`custom_objects`. Full object config: module={module!r}"
        )
    bare = class_name.split(">")[-1]
    if module is None or _is_keras_module(module) or ">" in class_name:
        cls = builtin_class(bare, module)
        if cls is not None:
            return cls
    raise TypeError(
        f"Could not locate class '{class_name}' (module={module!r}, "
        f"registered_name={registered_name!r}). Make sure custom classes are decorated with "
        "`@keras.saving.register_keras_serializable()` or passed in `custom_objects`."
    )


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Rebuild an object from `serialize_keras_object`'s output (Keras 3 or Keras 2 form)."""
    module_objects = kwargs.pop("module_objects", None)
    if module_objects and isinstance(config, str):
        if config in module_objects:
            return module_objects[config]
    with SafeModeScope(safe_mode if not hasattr(THREAD, "safe_mode") or THREAD.safe_mode is None else None):
        with CustomObjectScope(custom_objects or {}), SharedObjectLoadingScope():
            return deserialize_envelope(config, custom_objects or {})


def deserialize_envelope(config, custom_objects):
    """`deserialize_keras_object` without entering its scopes (`custom_objects` is given
    explicitly; the safe mode and shared objects are whatever the caller has set)."""
    if config is None or isinstance(config, (bool, int, float, str)):
        return config
    if isinstance(config, (list, tuple)):
        return [deserialize_envelope(x, custom_objects) for x in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_envelope(v, custom_objects) for k, v in config.items()}
    class_name = config["class_name"]
    inner = config["config"] if config["config"] is not None else {}
    if class_name == "__keras_tensor__":
        t = KerasTensor(inner["shape"], dtype=inner["dtype"])
        t._pre_serialization_keras_history = inner.get("keras_history")
        return t
    if class_name in ("__tensor__", "__numpy__"):
        return array_from_envelope(config)
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        return slice(*(deserialize_envelope(inner.get(k), custom_objects)
                       for k in ("start", "stop", "step")))
    if class_name == "__lambda__":
        if in_safe_mode():
            refuse_lambda("a `__lambda__` entry")
        value = inner.get("value", inner.get("code"))
        if isinstance(value, (list, tuple)):
            return func_load(*value)
        return func_load(value, inner.get("defaults"), inner.get("closure"))
    module = config.get("module")
    registered_name = config.get("registered_name", class_name)
    if class_name == "function":
        if not isinstance(inner, str):
            raise TypeError(f"Expected the name of a function in 'config'. Received: {config!r}")
        key = inner
        return _resolve(key, registered_name if registered_name != "function" else None,
                        module, custom_objects, "function")
    shared = _shared_objects()
    sid = config.get("shared_object_id")
    if sid is not None and shared is not None and sid in shared:
        return shared[sid]
    cls = _resolve(class_name, registered_name, module, custom_objects, "class")
    if isinstance(cls, types.FunctionType):
        return cls
    if not hasattr(cls, "from_config"):
        raise TypeError(
            f"Unable to reconstruct an instance of '{class_name}' because the class is "
            f"missing a `from_config()` method. Full object config: {config}"
        )
    if not isinstance(inner, dict):
        raise TypeError(f"Expected 'config' to be a dict for {class_name}. Received: {inner!r}")
    _check_safe_config(inner, class_name)
    translate = getattr(cls, "_translate_keras2_config", None)
    if translate is not None:
        inner = translate(inner)
    inner = _preresolve(inner, custom_objects)
    try:
        params = inspect.signature(cls.from_config).parameters
        if "custom_objects" in params:
            instance = cls.from_config(inner, custom_objects=custom_objects or None)
        else:
            instance = cls.from_config(inner)
    except TypeError as e:
        raise TypeError(
            f"{cls} could not be deserialized properly. Please ensure that components that "
            "are Python object instances (layers, models, etc.) returned by `get_config()` "
            "are explicitly deserialized in the model's `from_config()` method.\n\n"
            f"config={config}.\n\nException encountered: {e}"
        ) from e
    build_config = config.get("build_config")
    if build_config and hasattr(instance, "build_from_config") and not getattr(instance, "built", True):
        instance.build_from_config(deserialize_envelope(build_config, custom_objects))
        instance.built = True
    compile_config = config.get("compile_config")
    compile_from_saved_config = getattr(instance, "_compile_from_saved_config", None)
    if compile_config and compile_from_saved_config is not None:
        compile_from_saved_config(compile_config, custom_objects)
    if sid is not None and shared is not None:
        shared[sid] = instance
    return instance


_NESTED_LAYER_KEYS = ("layers", "layer", "backward_layer", "cell", "cells", "forward_layer")


def _preresolve(inner, custom_objects):
    """Resolve custom functions/objects nested in a config before `from_config`.

    Other packages' `get()` helpers only know their built-ins; a registered activation
    such as `Custom>my_act` is turned into the function here, so they receive a callable.
    Nested layer configs are left for the owner's `from_config` (it deserializes them
    through this module, inside the same custom-object scope).
    """
    def fix(value, key=None):
        if key in _NESTED_LAYER_KEYS:
            return value
        if isinstance(value, dict) and "class_name" in value and "config" in value:
            cn = value["class_name"]
            if cn == "function":
                name = value["config"]
                reg = value.get("registered_name")
                obj = get_registered_object(name, custom_objects)
                if obj is None and reg not in (None, "function"):
                    obj = get_registered_object(reg, custom_objects)
                if obj is not None:
                    return obj
                if value.get("module") in ("builtins", None) and isinstance(name, str) and builtin_function(name) is None:
                    raise TypeError(
                        f"Could not locate function '{name}'. Make sure custom functions are "
                        "decorated with `@keras.saving.register_keras_serializable()` or "
                        "passed in `custom_objects`."
                    )
                return value
            if cn == "__lambda__":
                return deserialize_envelope(value, custom_objects)
            reg = value.get("registered_name")
            for k in (reg, cn):
                found = get_registered_object(k, custom_objects) if k else None
                if found is not None and not public_module_for_config(value):
                    if isinstance(found, type) and getattr(found, "_deserialize_nested_in_owner", False):
                        # A nested custom layer stays a config, as in Keras 3: the owner's
                        # `from_config` deserializes it (`keras.layers.deserialize(...)`).
                        return value
                    return deserialize_envelope(value, custom_objects)
            return value
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v, k) for k, v in value.items()}
        return value

    return {k: fix(v, k) for k, v in inner.items()}


def public_module_for_config(envelope):
    module = envelope.get("module")
    return isinstance(module, str) and module.split(".")[0] == "keras" and envelope.get("registered_name") in (None, envelope.get("class_name"))
