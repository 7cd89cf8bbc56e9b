"""The custom-object registry: `register_keras_serializable`, scopes, lookups.

Names are Keras's: `"<package>><name>"` keys in one global dict (`get_custom_objects()`),
plus per-thread `CustomObjectScope`s that shadow it inside a `with` block.
"""

from __future__ import annotations

import inspect
import threading

_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}
# Per-thread state of the core: custom-object scopes, safe mode, shared objects.
THREAD = threading.local()


def _scope_stack():
    stack = getattr(THREAD, "custom_scopes", None)
    if stack is None:
        stack = THREAD.custom_scopes = []
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


def _registry_key(obj):
    # A class made on the fly from another (a subclassed model that turned Functional)
    # is registered as the class it was made from.
    if isinstance(obj, type):
        return obj.__dict__.get("_keras_registered_as", obj)
    return obj


def is_registered(obj):
    """True when `obj` was registered with `register_keras_serializable`."""
    return _registry_key(obj) in _GLOBAL_CUSTOM_NAMES


def get_registered_name(obj):
    """The name `obj` is registered under, or its `__name__` when unregistered."""
    key = _registry_key(obj)
    if key in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[key]
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
