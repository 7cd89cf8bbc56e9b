"""Keras 3's envelope dicts, the one implementation every package's helpers use.

`serialize_keras_object` and the package-level serialize/deserialize helpers
(initializers/regularizers/constraints, losses/metrics) build and read the same dicts.
"""

from __future__ import annotations

import numpy as np


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
