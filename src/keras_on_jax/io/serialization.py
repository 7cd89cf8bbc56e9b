"""Keras 3 object serialization and the custom-object registry.

`serialize_keras_object` writes Keras 3's envelope
`{"module", "class_name", "config", "registered_name"[, "build_config", "compile_config"]}`
with the *public Keras* module names (`keras.layers`, `keras`, ...) so that real Keras 3
resolves our files; `deserialize_keras_object` reads Keras 3 envelopes and the older
Keras 2 forms (no `module`, `tf_keras.src.engine...` / `tensorflow.python.keras...`
modules, `Custom>Name` registry keys). Built-in classes are found by class name across
the `keras_on_jax` packages, imported lazily, so layer families written later are found
without being imported here.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import marshal
import pkgutil
import re
import threading
import types

import numpy as np

# ---------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------
_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}
_THREAD = threading.local()


def _scope_stack():
    stack = getattr(_THREAD, "custom_scopes", None)
    if stack is None:
        stack = _THREAD.custom_scopes = []
    return stack


class CustomObjectScope:
    """Expose custom classes/functions to deserialization inside a `with` block.

    ```python
    with CustomObjectScope({"MyLayer": MyLayer}):
        model = keras.models.load_model("m.keras")
    ```
    """

    def __init__(self, custom_objects):
        if custom_objects is None:
            custom_objects = {}
        if not isinstance(custom_objects, dict):
            raise TypeError(
                "`custom_objects` must be a dict mapping names to classes or functions. "
                f"Received: {custom_objects!r}"
            )
        self.custom_objects = dict(custom_objects)

    def __enter__(self):
        _scope_stack().append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scope_stack().pop()
        return False


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The global dict of registered custom objects (mutable, as in Keras)."""
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """Register a class or function under `"<package>><name>"` for deserialization."""

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered_name = f"{package}>{class_name}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError(
                "Cannot register a class that does not have a get_config() method. "
                f"Received: {arg!r}"
            )
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj):
    """The name `obj` is registered under, or its `__name__` when unregistered."""
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return getattr(obj, "__name__", type(obj).__name__)


def _lookup_variants(name):
    """Registry keys Keras versions have used for the same object."""
    if not isinstance(name, str):
        return []
    out = [name]
    if ">" in name:  # "Package>Name" -> also the bare name (Keras 2 custom_objects habit)
        out.append(name.split(">")[-1])
    if "." in name and ">" not in name:  # "package.Name" (some tf.keras versions)
        out.append(name.split(".")[-1])
    return out


def get_registered_object(name, custom_objects=None, module_objects=None):
    """Find a registered/custom object by name: scopes, then the registry, then the args.

    Exact keys win; then the variants Keras versions used (`Package>Name` vs `Name`).
    """
    dicts = list(reversed(_scope_stack())) + [_GLOBAL_CUSTOM_OBJECTS]
    if custom_objects:
        dicts.append(custom_objects)
    if module_objects:
        dicts.append(module_objects)
    for key in _lookup_variants(name):
        for d in dicts:
            if key in d:
                return d[key]
    # A bare name matching exactly one registered "Package>Name".
    if isinstance(name, str) and ">" not in name:
        matches = [v for d in dicts for k, v in d.items()
                   if isinstance(k, str) and k.split(">")[-1] == name and ">" in k]
        uniq = {id(m): m for m in matches}
        if len(uniq) == 1:
            return matches[0]
    return None


# ---------------------------------------------------------------------------------------
# Safe mode
# ---------------------------------------------------------------------------------------
_UNSAFE = {"enabled": False}


def enable_unsafe_deserialization():
    """Allow Python lambdas (bytecode) to be loaded everywhere (`keras.config`)."""
    _UNSAFE["enabled"] = True


class SafeModeScope:
    def __init__(self, safe_mode=True):
        self.safe_mode = safe_mode

    def __enter__(self):
        self.previous = getattr(_THREAD, "safe_mode", None)
        if self.safe_mode is not None:
            _THREAD.safe_mode = bool(self.safe_mode)
        return self

    def __exit__(self, *exc):
        _THREAD.safe_mode = self.previous
        return False


def in_safe_mode():
    if _UNSAFE["enabled"]:
        return False
    value = getattr(_THREAD, "safe_mode", None)
    return True if value is None else value


def _refuse_lambda(where):
    raise ValueError(
        f"Requested the deserialization of a Python lambda ({where}). This carries a "
        "potential risk of arbitrary code execution and thus it is disallowed by default. "
        "If you trust the source of the artifact, you can override this error by passing "
        "`safe_mode=False` to the loading function, or calling "
        "`keras.config.enable_unsafe_deserialization()`."
    )


def func_dump(fn):
    code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
    closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
    return code, fn.__defaults__, closure


def func_load(code, defaults=None, closure=None, globs=None):
    if in_safe_mode():
        _refuse_lambda("func_load")
    if isinstance(code, (tuple, list)):
        code, defaults, closure = (list(code) + [None, None])[:3]
    if isinstance(defaults, list):
        defaults = tuple(defaults)
    raw = base64.b64decode(code.encode("ascii") if isinstance(code, str) else code)
    code_obj = marshal.loads(raw)  # noqa: S302 (only reached with safe_mode=False)

    def cell(value):
        return (lambda: value).__closure__[0]

    if closure is not None:
        closure = tuple(cell(c) for c in closure)
    return types.FunctionType(code_obj, globs if globs is not None else globals(),
                              name=code_obj.co_name, argdefs=defaults, closure=closure)


# ---------------------------------------------------------------------------------------
# Built-in classes: found by name in our packages (lazily)
# ---------------------------------------------------------------------------------------
_PACKAGES = {
    "keras.layers": ["keras_on_jax.layers"],
    "keras.models": ["keras_on_jax.models"],
    "keras": ["keras_on_jax.models", "keras_on_jax.backend.dtype_policies", "keras_on_jax.layers"],
    "keras.losses": ["keras_on_jax.losses"],
    "keras.metrics": ["keras_on_jax.metrics"],
    "keras.optimizers": ["keras_on_jax.optimizers"],
    "keras.optimizers.schedules": ["keras_on_jax.optimizers.schedules"],
    "keras.initializers": ["keras_on_jax.initializers"],
    "keras.regularizers": ["keras_on_jax.regularizers"],
    "keras.constraints": ["keras_on_jax.constraints"],
    "keras.activations": ["keras_on_jax.activations"],
    "keras.dtype_policies": ["keras_on_jax.backend.dtype_policies"],
    "keras.random": ["keras_on_jax.backend.random", "keras_on_jax.random"],
}
_SEARCH_ORDER = [
    "keras_on_jax.layers", "keras_on_jax.models", "keras_on_jax.optimizers",
    "keras_on_jax.optimizers.schedules", "keras_on_jax.losses", "keras_on_jax.metrics",
    "keras_on_jax.initializers", "keras_on_jax.regularizers", "keras_on_jax.constraints",
    "keras_on_jax.backend.dtype_policies", "keras_on_jax.backend.random",
    "keras_on_jax.activations",
]
# Public Keras names that must never be resolved from a file (they would let a file
# change how it is loaded, download, or load other files).
_REFUSED = {
    "load_model", "load_weights", "get_file", "enable_unsafe_deserialization",
    "save_model", "model_from_json", "set_global_policy", "func_load",
}
_REFUSED_MODULES = ("keras.saving", "keras.config", "keras.utils", "keras.src.saving",
                    "keras.src.utils", "keras_on_jax.io", "keras_on_jax.saving")
_INDEX = {}
_INDEX_LOCK = threading.Lock()


def _index_package(pkg_name, rescan=False):
    """Map public names -> objects defined in `pkg_name` (and its submodules)."""
    with _INDEX_LOCK:
        if pkg_name in _INDEX and not rescan:
            return _INDEX[pkg_name]
        names = {}
        try:
            pkg = importlib.import_module(pkg_name)
        except Exception:  # a package another engineer is still writing
            _INDEX[pkg_name] = names
            return names
        modules = [pkg]
        if hasattr(pkg, "__path__"):
            for info in pkgutil.walk_packages(pkg.__path__, pkg_name + "."):
                if info.name.rsplit(".", 1)[-1].startswith("_") and not info.ispkg:
                    continue
                try:
                    modules.append(importlib.import_module(info.name))
                except Exception:
                    continue
        for module in modules:
            for attr, value in list(vars(module).items()):
                if attr.startswith("_"):
                    continue
                if inspect.isclass(value) or isinstance(value, types.FunctionType):
                    if getattr(value, "__module__", "").startswith("keras_on_jax"):
                        names.setdefault(attr, value)
        # What the package itself exports wins (aliases, `get`-style names).
        for attr in dir(pkg):
            if not attr.startswith("_"):
                value = getattr(pkg, attr, None)
                if inspect.isclass(value) or isinstance(value, types.FunctionType):
                    names[attr] = value
        _INDEX[pkg_name] = names
        return names


def _find_in(pkg_names, name, want_class=True):
    for rescan in (False, True):
        for pkg in pkg_names:
            obj = _index_package(pkg, rescan=rescan).get(name)
            if obj is None:
                continue
            if want_class and not inspect.isclass(obj):
                continue
            return obj
    return None


def _snake(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def builtin_class(class_name, module=None):
    """Our implementation of the built-in Keras class `class_name` (or None)."""
    if class_name in _REFUSED:
        return None
    if isinstance(module, str) and (module.startswith(_OP_MODULES) or class_name == "Operation"):
        # Op nodes of Functional graphs (`keras.src.ops.numpy` `Add`, ...).
        from keras_on_jax.ops.builtin_ops import resolve_op_class

        return resolve_op_class(class_name, module)
    if class_name in ("Functional",):
        from keras_on_jax.models.functional import Functional

        return Functional
    if class_name in ("Model",):
        from keras_on_jax.models.model import Model

        return Model
    if class_name == "Sequential":
        from keras_on_jax.models.sequential import Sequential

        return Sequential
    if class_name in ("DTypePolicy", "FloatDTypePolicy", "Policy"):
        from keras_on_jax.backend.dtype_policies import DTypePolicy

        return DTypePolicy
    if module in _PACKAGES:
        found = _find_in(_PACKAGES[module], class_name)
        if found is not None:
            return found
    return _find_in(_SEARCH_ORDER, class_name)


def builtin_function(name):
    for pkg in ("keras_on_jax.activations", "keras_on_jax.losses", "keras_on_jax.metrics",
                "keras_on_jax.initializers", "keras_on_jax.regularizers",
                "keras_on_jax.constraints"):
        try:
            mod = importlib.import_module(pkg)
        except Exception:
            continue
        table = getattr(mod, "ALL_OBJECTS_DICT", None)
        if isinstance(table, dict) and isinstance(table.get(name), types.FunctionType):
            return table[name]
        obj = getattr(mod, name, None)
        if isinstance(obj, types.FunctionType):
            return obj
    return None


_OP_MODULES = ("keras.src.ops.", "keras.ops.", "keras_on_jax.ops.")


def _is_keras_module(module):
    if not module:
        return False
    top = module.split(".")[0]
    return top in ("keras", "tf_keras", "tensorflow", "keras_on_jax", "keras_hub",
                   "keras_nlp", "keras_cv")


# ---------------------------------------------------------------------------------------
# Serialization
# ---------------------------------------------------------------------------------------
_PUBLIC_MODULE_PREFIXES = [
    ("keras_on_jax.layers", "keras.layers"),
    ("keras_on_jax.optimizers.schedules", "keras.optimizers.schedules"),
    ("keras_on_jax.optimizers", "keras.optimizers"),
    ("keras_on_jax.losses", "keras.losses"),
    ("keras_on_jax.metrics", "keras.metrics"),
    ("keras_on_jax.initializers", "keras.initializers"),
    ("keras_on_jax.regularizers", "keras.regularizers"),
    ("keras_on_jax.constraints", "keras.constraints"),
    ("keras_on_jax.activations", "keras.activations"),
    ("keras_on_jax.backend.dtype_policies", "keras"),
    ("keras_on_jax.backend.random", "keras.random"),
    ("keras_on_jax.random", "keras.random"),
]


def public_module_and_name(cls):
    """`(module, registered_name)` Keras 3 writes for a built-in class, or None."""
    if cls in _GLOBAL_CUSTOM_NAMES:
        return None
    if "_keras_names" in cls.__dict__:  # ops: ("keras.src.ops.numpy", "Add"), ("keras", None)
        return cls._keras_names
    mod = getattr(cls, "__module__", "") or ""
    if not mod.startswith("keras_on_jax.") or cls.__name__.startswith("_"):
        return None
    name = cls.__name__
    if name == "Functional" and mod.startswith("keras_on_jax.models"):
        return "keras.src.models.functional", "Functional"
    if name in ("Sequential", "Model") and mod.startswith("keras_on_jax.models"):
        return "keras", None
    for prefix, public in _PUBLIC_MODULE_PREFIXES:
        if mod == prefix or mod.startswith(prefix + "."):
            return public, None
    return None


# ---------------------------------------------------------------------------------------
# Envelope primitives, the one implementation also used by the package-level
# serialize/deserialize helpers (initializers/regularizers/constraints, losses/metrics)
# ---------------------------------------------------------------------------------------
def object_envelope(module, class_name, config, registered_name=None):
    """Keras 3's `{"module", "class_name", "config", "registered_name"}` dict."""
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": registered_name}


def function_envelope(name, module="builtins"):
    """How Keras 3 writes a plain function: class_name "function", its name as config."""
    return object_envelope(module, "function", name, "function")


def array_envelope(value):
    """`__tensor__` (JAX arrays, Variables) or `__numpy__` (NumPy arrays) value encoding."""
    kind = "__numpy__" if isinstance(value, np.ndarray) else "__tensor__"
    arr = np.asarray(value)
    return {"class_name": kind, "config": {"value": arr.tolist(), "dtype": str(arr.dtype)}}


def array_from_envelope(config):
    """Inverse of `array_envelope`; None when `config` is not an array envelope."""
    if not (isinstance(config, dict) and config.get("class_name") in ("__tensor__", "__numpy__")):
        return None
    inner = config.get("config") or {}
    arr = np.array(inner["value"], dtype=inner["dtype"])
    if config["class_name"] == "__tensor__":
        import jax.numpy as jnp

        return jnp.asarray(arr)
    return arr


def lookup_envelope(config, objects):
    """Resolve an envelope against a name -> object mapping.

    Returns `(kind, obj, name)`: kind "function" (looked up by the registered name, then
    the function name) or "class" (by class name, then registered name); `obj` is None
    when nothing matches, and `name` is the name to report.
    """
    class_name = config["class_name"]
    inner = config.get("config")
    registered = config.get("registered_name")
    if class_name == "function":
        name = inner if isinstance(inner, str) else registered
        for key in (registered, name):
            if key is not None and key != "function" and key in objects:
                return "function", objects[key], name
        return "function", None, name
    for key in (class_name, registered):
        if key is not None and key in objects:
            return "class", objects[key], class_name
    return "class", None, class_name


def _serialize_dict(d):
    return {k: serialize_keras_object(v) for k, v in d.items()}


def serialize_keras_object(obj):
    """Turn a Keras object (and anything inside its config) into JSON-able data."""
    from keras_on_jax.backend.variables import Variable
    from keras_on_jax.backend.keras_tensor import KerasTensor

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
    if hasattr(obj, "get_compile_config") and getattr(obj, "compiled", False):
        out["compile_config"] = serialize_compile_config(obj)
    return out


def _serialize_function(fn):
    if fn in _GLOBAL_CUSTOM_NAMES:
        return function_envelope(_GLOBAL_CUSTOM_NAMES[fn],
                                 "builtins" if isinstance(fn, types.FunctionType) else fn.__module__)
    mod = getattr(fn, "__module__", "") or ""
    if mod.startswith("keras_on_jax."):
        for prefix, public in _PUBLIC_MODULE_PREFIXES:
            if mod == prefix or mod.startswith(prefix + "."):
                return function_envelope(fn.__name__, public)
    return function_envelope(fn.__name__)


def serialize_compile_config(model):
    """The model's `compile_config` as Keras 3 writes it (optimizer always an envelope)."""
    config = model.get_compile_config()
    if not config or not getattr(model, "compiled", False):
        return {}
    if _overrides_trainer(model, "get_compile_config"):
        # A user's `get_compile_config()` may return live objects: Keras 3 serializes
        # whatever it returns, and hands it back to the user's `compile_from_config()`.
        return serialize_keras_object(config)
    config = dict(config)
    out = {}
    opt = getattr(model, "optimizer", None)
    if opt is not None:
        out["optimizer"] = serialize_keras_object(opt)
    elif config.get("optimizer") is not None:
        out["optimizer"] = serialize_keras_object(config["optimizer"])
    for key in ("loss", "loss_weights", "metrics", "weighted_metrics"):
        out[key] = _serialize_compile_value(config.get(key))
    out["run_eagerly"] = bool(config.get("run_eagerly", False))
    out["steps_per_execution"] = config.get("steps_per_execution", 1)
    jit = getattr(model, "jit_compile", config.get("jit_compile", True))
    out["jit_compile"] = bool(jit) if jit != "auto" else True
    return out


def _serialize_compile_value(value):
    if isinstance(value, types.FunctionType):
        # Built-in losses/metrics given as functions: Keras writes their name.
        mod = getattr(value, "__module__", "") or ""
        if mod.startswith("keras_on_jax.") and value not in _GLOBAL_CUSTOM_NAMES:
            return value.__name__
    if isinstance(value, (list, tuple)):
        return [_serialize_compile_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _serialize_compile_value(v) for k, v in value.items()}
    return serialize_keras_object(value)


# ---------------------------------------------------------------------------------------
# Deserialization
# ---------------------------------------------------------------------------------------
def _shared_objects():
    d = getattr(_THREAD, "shared", None)
    return d


class SharedObjectLoadingScope:
    def __enter__(self):
        self.previous = getattr(_THREAD, "shared", None)
        if self.previous is None:
            _THREAD.shared = {}
        return self

    def __exit__(self, *exc):
        _THREAD.shared = self.previous
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
    fn = config.get("function")
    if class_name == "Lambda" or "function_type" in config:
        for key in ("function", "output_shape"):
            val = config.get(key)
            if isinstance(val, dict) and val.get("class_name") == "__lambda__":
                _refuse_lambda(f"layer '{config.get('name')}', argument `{key}`")
            if isinstance(val, (list, tuple)) and val and isinstance(val[0], str) and (
                config.get(f"{key}_type" if key != "function" else "function_type") == "lambda"
                or key == "function" and config.get("function_type") == "lambda"
            ):
                _refuse_lambda(f"layer '{config.get('name')}', argument `{key}`")
    del fn


def _resolve(class_name, registered_name, module, custom_objects, obj_type):
    if module in _REFUSED_MODULES or class_name in _REFUSED or (
        isinstance(module, str) and any(module.startswith(m + ".") for m in _REFUSED_MODULES)
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
    with SafeModeScope(safe_mode if not hasattr(_THREAD, "safe_mode") or _THREAD.safe_mode is None else None):
        with CustomObjectScope(custom_objects or {}), SharedObjectLoadingScope():
            return _deserialize(config, custom_objects or {})


def _deserialize(config, custom_objects):
    from keras_on_jax.backend.keras_tensor import KerasTensor

    if config is None or isinstance(config, (bool, int, float, str)):
        return config
    if isinstance(config, (list, tuple)):
        return [_deserialize(x, custom_objects) for x in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {k: _deserialize(v, custom_objects) for k, v in config.items()}
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
        return slice(*(_deserialize(inner.get(k), custom_objects) for k in ("start", "stop", "step")))
    if class_name == "__lambda__":
        if in_safe_mode():
            _refuse_lambda("a `__lambda__` entry")
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
    inner = translate_layer_config(cls, inner)
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
        instance.build_from_config(_deserialize(build_config, custom_objects))
        instance.built = True
    compile_config = config.get("compile_config")
    if compile_config and hasattr(instance, "compile"):
        compile_model_from_config(instance, compile_config, custom_objects)
    if sid is not None and shared is not None:
        shared[sid] = instance
    return instance


_NESTED_LAYER_KEYS = ("layers", "layer", "backward_layer", "cell", "cells", "forward_layer")


def _is_layer_class(obj):
    from keras_on_jax.layers.layer import Layer

    return isinstance(obj, type) and issubclass(obj, Layer)


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
                return _deserialize(value, custom_objects)
            reg = value.get("registered_name")
            for k in (reg, cn):
                found = get_registered_object(k, custom_objects) if k else None
                if found is not None and not public_module_for_config(value):
                    if _is_layer_class(found):
                        # A nested custom layer stays a config, as in Keras 3: the owner's
                        # `from_config` deserializes it (`keras.layers.deserialize(...)`).
                        return value
                    return _deserialize(value, custom_objects)
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


# ---------------------------------------------------------------------------------------
# Keras 2 -> Keras 3 config translation (spec section 4.7)
# ---------------------------------------------------------------------------------------
_K2_DROP = {
    "LSTM": ("time_major",), "GRU": ("time_major",), "SimpleRNN": ("time_major",),
    "ConvLSTM2D": ("time_major",), "Embedding": ("input_length",),
    "MultiHeadAttention": ("query_shape", "key_shape", "value_shape", "softmax_robust_masking"),
}
_K2_GROUPS = ("Conv2DTranspose", "Conv1DTranspose", "Conv3DTranspose", "DepthwiseConv2D",
              "DepthwiseConv1D", "SeparableConv2D", "SeparableConv1D")


def translate_layer_config(cls, config):
    """Drop/translate the Keras-2-only keys Keras 3 constructors reject."""
    name = getattr(cls, "__name__", "")
    if not isinstance(config, dict):
        return config
    changed = None

    def c():
        nonlocal changed
        if changed is None:
            changed = dict(config)
        return changed

    if name == "InputLayer" and "batch_input_shape" in config:
        cfg = c()
        cfg["batch_shape"] = cfg.pop("batch_input_shape")
    for key in _K2_DROP.get(name, ()):
        if key in config:
            c().pop(key)
    if name in _K2_GROUPS and config.get("groups", 1) == 1 and "groups" in config:
        c().pop("groups")
    if name.startswith("SeparableConv"):
        for key in ("kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            if key in config:
                c().pop(key)
    if name in ("BatchNormalization", "LayerNormalization") or "Normalization" in name:
        axis = config.get("axis")
        if isinstance(axis, list) and len(axis) == 1 and name == "BatchNormalization":
            c()["axis"] = axis[0]
    if name == "Lambda" and isinstance(config.get("function"), (list, tuple)) and config.get("function_type") == "lambda":
        cfg = c()
        code, defaults, closure = (list(cfg["function"]) + [None, None])[:3]
        cfg["function"] = {"class_name": "__lambda__", "config": {"value": [code, defaults, closure]}}
        if cfg.get("output_shape_type") == "lambda" and isinstance(cfg.get("output_shape"), (list, tuple)):
            cfg["output_shape"] = {"class_name": "__lambda__", "config": {"value": list(cfg["output_shape"])}}
        for key in ("function_type", "module", "output_shape_type", "output_shape_module"):
            cfg.pop(key, None)
    elif name == "Lambda" and config.get("function_type") == "function" and isinstance(config.get("function"), str):
        cfg = c()
        cfg["function"] = {"module": "builtins", "class_name": "function",
                           "config": cfg["function"], "registered_name": "function"}
        for key in ("function_type", "module", "output_shape_type", "output_shape_module"):
            cfg.pop(key, None)
    # Keys newer Keras versions write with a null value (e.g. Dense `quantization_config`)
    # that this implementation's constructor does not take: a null means "default".
    accepted = _accepted_kwargs(cls)
    if accepted is not None:
        for key, value in list(config.items()):
            if value is None and key not in accepted:
                c().pop(key, None)
    return changed if changed is not None else config


def _accepted_kwargs(cls):
    """Names any `__init__` in the class's MRO accepts, or None when unknown."""
    names = set()
    try:
        from keras_on_jax.layers.layer import Layer
    except Exception:  # pragma: no cover
        return None
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        return None
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters
        except (TypeError, ValueError):
            return None
        names.update(p for p, v in params.items() if v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL))
        if klass is Layer:
            break
    names.update({"input_shape", "input_dim", "batch_size", "batch_input_shape", "input_length"})
    return names


# ---------------------------------------------------------------------------------------
# Compile config
# ---------------------------------------------------------------------------------------
_K2_OPTIMIZER_KEYS = ("jit_compile", "is_legacy_optimizer", "decay")


def deserialize_optimizer(config, custom_objects=None):
    from keras_on_jax import optimizers

    if config is None or isinstance(config, str):
        return optimizers.get(config) if config else None
    config = dict(config)
    class_name = str(config.get("class_name", ""))
    inner = dict(config.get("config") or {})
    for key in _K2_OPTIMIZER_KEYS:
        inner.pop(key, None)
    if isinstance(inner.get("learning_rate"), dict):
        inner["learning_rate"] = _deserialize(inner["learning_rate"], custom_objects or {})
    if "lr" in inner and "learning_rate" not in inner:
        inner["learning_rate"] = inner.pop("lr")
    reg = config.get("registered_name")
    custom = None
    for key in (reg, class_name):
        if key and ">" in key and key.split(">")[0] == "Custom":
            continue  # Keras 2 writes built-ins as "Custom>Adam"
        if key:
            custom = get_registered_object(key, custom_objects)
            if custom is not None:
                break
    if custom is not None:
        return custom.from_config(inner)
    bare = class_name.split(">")[-1]
    cls = optimizers.ALL_OBJECTS_DICT.get(bare.lower())
    if cls is None:
        raise ValueError(f"Could not interpret optimizer identifier: {class_name!r}")
    import inspect as _inspect

    params = _inspect.signature(cls.__init__).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        inner = {k: v for k, v in inner.items() if k in params}
    return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)


def _deserialize_compile_value(value, custom_objects):
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        return _deserialize(value, custom_objects)
    if isinstance(value, list):
        return [_deserialize_compile_value(v, custom_objects) for v in value]
    if isinstance(value, dict):
        return {k: _deserialize_compile_value(v, custom_objects) for k, v in value.items()}
    return value


def _overrides_trainer(model, method):
    """True when `type(model).<method>` is a user's override of the trainer's default."""
    from keras_on_jax.training.trainer import Trainer

    fn = getattr(type(model), method, None)
    return fn is not None and fn is not getattr(Trainer, method, None)


def compile_model_from_config(model, config, custom_objects=None, build_optimizer=True):
    """`model.compile(...)` from a saved `compile_config` (Keras 3 or Keras 2 flavour)."""
    if not config:
        return
    if _overrides_trainer(model, "compile_from_config"):
        # Keras 3 calls the model's own `compile_from_config(config)` with the saved dict.
        model.compile_from_config(config)
        if build_optimizer and getattr(model, "built", False) and getattr(model, "optimizer", None) is not None:
            build_model_optimizer(model)
        return
    config = dict(config)
    opt = config.get("optimizer")
    optimizer = deserialize_optimizer(opt, custom_objects) if opt is not None else "rmsprop"
    kwargs = {}
    for key in ("loss", "loss_weights", "metrics", "weighted_metrics"):
        if config.get(key) is not None:
            kwargs[key] = _deserialize_compile_value(config[key], custom_objects or {})
    for key in ("run_eagerly", "steps_per_execution", "jit_compile"):
        if config.get(key) is not None:
            kwargs[key] = config[key]
    model.compile(optimizer=optimizer, **kwargs)
    # Record what compile() was given, so saving again writes the same config.
    cc = getattr(model, "_compile_config", None)
    if isinstance(cc, dict):
        cc["optimizer"] = optimizer if isinstance(optimizer, str) else None
    if build_optimizer and getattr(model, "built", False):
        build_model_optimizer(model)


def build_model_optimizer(model):
    """Create the optimizer's variables over the model's trainable variables (Keras order)."""
    opt = getattr(model, "optimizer", None)
    if opt is None or getattr(opt, "built", False):
        return
    getter = getattr(model, "_trainable_for_step", None)
    variables = getter() if getter is not None else model.trainable_variables
    opt.build(list(variables))
