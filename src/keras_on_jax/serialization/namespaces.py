"""Built-in objects: which of our packages holds each public Keras module's objects.

The core imports none of the packages whose objects it (de)serializes. They make
themselves known instead:
- the door (`keras_on_jax/_namespaces.py`, run first by `keras_on_jax/__init__.py`)
  declares, in search order, the package that serves each public Keras module
  (`keras.layers` -> `keras_on_jax.layers`). A declared package is imported on the first
  lookup that needs it (losses, metrics and optimizers load lazily), and objects are found
  among the names it exports, as Keras 3 finds `module` + `class_name` in its public API;
- a class whose public name is not its package's (`Functional`, `Model`, `Sequential`)
  declares it where it is defined (`register_public_class`).
"""

from __future__ import annotations

import importlib
import inspect
import types

from keras_on_jax.serialization.registry import is_registered

# Public Keras names that must never be resolved from a file (they would let a file
# change how it is loaded, download, or load other files).
REFUSED_NAMES = {
    "load_model", "load_weights", "get_file", "enable_unsafe_deserialization",
    "save_model", "model_from_json", "set_global_policy", "func_load",
}
REFUSED_MODULES = ("keras.saving", "keras.config", "keras.utils", "keras.src.saving",
                   "keras.src.utils", "keras_on_jax.io", "keras_on_jax.saving",
                   "keras_on_jax.serialization")


class _Namespace:
    __slots__ = ("public", "package", "serves", "writes", "searched", "functions")

    def __init__(self, public, package, serves, writes, searched, functions):
        self.public = public
        self.package = package
        self.serves = (public, *serves)
        self.writes = writes
        self.searched = searched
        self.functions = functions


_NAMESPACES = []
_CLASS_RESOLVERS = []  # (module prefixes, class names, resolver(class_name, module))
_PUBLIC_CLASSES = {}  # class -> (module, registered_name) written for it
_PUBLIC_CLASSES_BY_NAME = {}


def register_namespace(public_module, package, *, serves=(), writes=True, searched=True,
                       functions=False):
    """Declare that our `package` holds the objects of the Keras module `public_module`.

    Args:
        public_module: the module Keras writes for these objects (`"keras.layers"`).
        package: the import name of our package; imported on the first lookup that
            needs it, never by this call.
        serves: other public modules whose envelopes are looked up here too (`"keras"`).
        writes: whether classes and functions defined under `package` are written with
            `public_module` (otherwise with their own module).
        searched: whether envelopes without a known module (Keras 2 files, bare
            names) look here. Declaration order is search order.
        functions: whether built-in functions (`"relu"`, `"mse"`) are looked up here.
    """
    entry = _Namespace(public_module, package, tuple(serves), writes, searched, functions)
    for i, old in enumerate(_NAMESPACES):
        if old.package == package and old.public == public_module:
            _NAMESPACES[i] = entry
            return
    _NAMESPACES.append(entry)


def register_public_class(cls, module, registered_name=None):
    """Declare the `module` / `registered_name` Keras writes for the built-in `cls`."""
    _PUBLIC_CLASSES[cls] = (module, registered_name)
    _PUBLIC_CLASSES_BY_NAME[cls.__name__] = cls
    return cls


def register_class_resolver(resolver, *, module_prefixes=(), class_names=()):
    """Let `resolver(class_name, module)` answer envelopes whose module starts with one of
    `module_prefixes` (or whose class is one of `class_names`): classes made on demand,
    such as Keras's op classes (`keras.src.ops.numpy` `Add`), that no namespace lists."""
    _CLASS_RESOLVERS.append((tuple(module_prefixes), tuple(class_names), resolver))


def _load(package):
    try:
        return importlib.import_module(package)
    except Exception:  # a package that cannot be imported offers no objects
        return None


def _exported_class(namespace, name):
    module = _load(namespace.package)
    if module is None or name.startswith("_"):
        return None
    obj = getattr(module, name, None)
    return obj if inspect.isclass(obj) else None


def builtin_class(class_name, module=None):
    """Our implementation of the built-in Keras class `class_name` (or None)."""
    if class_name in REFUSED_NAMES:
        return None
    if isinstance(module, str):
        for prefixes, names, resolver in _CLASS_RESOLVERS:
            if module.startswith(prefixes) or class_name in names:
                return resolver(class_name, module)
    if class_name in _PUBLIC_CLASSES_BY_NAME:
        return _PUBLIC_CLASSES_BY_NAME[class_name]
    if class_name in ("DTypePolicy", "FloatDTypePolicy", "Policy"):
        from keras_on_jax.backend.dtype_policies import DTypePolicy

        return DTypePolicy
    if module is not None:
        for namespace in _NAMESPACES:
            if module in namespace.serves:
                found = _exported_class(namespace, class_name)
                if found is not None:
                    return found
    for namespace in _NAMESPACES:
        if namespace.searched:
            found = _exported_class(namespace, class_name)
            if found is not None:
                return found
    return None


def builtin_function(name):
    """Our built-in function `name` (activations, losses, metrics, ...), or None."""
    for namespace in _NAMESPACES:
        if not namespace.functions:
            continue
        mod = _load(namespace.package)
        if mod is None:
            continue
        table = getattr(mod, "ALL_OBJECTS_DICT", None)
        if isinstance(table, dict) and isinstance(table.get(name), types.FunctionType):
            return table[name]
        obj = getattr(mod, name, None)
        if isinstance(obj, types.FunctionType):
            return obj
    return None


def public_module_of(module_name):
    """The public Keras module written for objects defined in our `module_name`, or None."""
    best = None
    for namespace in _NAMESPACES:
        prefix = namespace.package
        if namespace.writes and (module_name == prefix or module_name.startswith(prefix + ".")):
            if best is None or len(prefix) > len(best.package):
                best = namespace
    return best.public if best is not None else None


def public_module_and_name(cls):
    """`(module, registered_name)` Keras 3 writes for a built-in class, or None."""
    if is_registered(cls):
        return None
    if cls in _PUBLIC_CLASSES:
        return _PUBLIC_CLASSES[cls]
    if "_keras_names" in cls.__dict__:  # classes made on demand name themselves
        return cls.__dict__["_keras_names"]
    if cls.__name__.startswith("_"):
        return None
    public = public_module_of(getattr(cls, "__module__", "") or "")
    return (public, None) if public is not None else None
