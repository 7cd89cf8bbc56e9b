"""What the packages' `get` helpers share (initializers, regularizers, constraints,
losses, metrics): Keras 3's `get` rules over one package's built-in objects."""

from __future__ import annotations

import inspect


def get_object(identifier, module_objects, deserialize, unknown_name, not_understood):
    """`None`, a config dict (through `deserialize`), a name in `module_objects`, a class
    (instantiated with no arguments), an instance or a callable.

    `unknown_name(name)` and `not_understood(identifier)` make the package's errors.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        if identifier not in module_objects:
            raise unknown_name(identifier)
        obj = module_objects[identifier]
    else:
        obj = identifier
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise not_understood(identifier)
