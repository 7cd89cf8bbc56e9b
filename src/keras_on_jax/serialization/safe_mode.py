"""Safe mode: Python bytecode (lambdas) is refused on load unless the user opts out.

`SafeModeScope(safe_mode)` sets it for a `with` block (the loaders pass their
`safe_mode=` argument); `enable_unsafe_deserialization()` (`keras.config`) turns it off
everywhere. `func_dump` / `func_load` are the bytecode encoding of `__lambda__` entries.
"""

from __future__ import annotations

import base64
import marshal
import types

import numpy as np  # noqa: F401  (a loaded lambda's globals are this module's: `np` stays reachable)

from keras_on_jax.serialization.registry import THREAD

_UNSAFE = {"enabled": False}


def enable_unsafe_deserialization():
    """Allow Python lambdas (bytecode) to be loaded everywhere (`keras.config`)."""
    _UNSAFE["enabled"] = True


class SafeModeScope:
    def __init__(self, safe_mode=True):
        self.safe_mode = safe_mode

    def __enter__(self):
        self.previous = getattr(THREAD, "safe_mode", None)
        if self.safe_mode is not None:
            THREAD.safe_mode = bool(self.safe_mode)
        return self

    def __exit__(self, *exc):
        THREAD.safe_mode = self.previous
        return False


def in_safe_mode():
    if _UNSAFE["enabled"]:
        return False
    value = getattr(THREAD, "safe_mode", None)
    return True if value is None else value


def refuse_lambda(where):
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
        refuse_lambda("func_load")
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
