"""The active distribution: set by a strategy's `scope()` or `keras.distribution`.

The trainer asks `current()` before each compiled call and, when one is active, lets it
place the state (`distribute_state`) and the batch (`distribute_batch`) on its devices.
"""

from __future__ import annotations

import threading

_STATE = threading.local()
_GLOBAL = [None]


def current():
    stack = getattr(_STATE, "stack", None)
    if stack:
        return stack[-1]
    return _GLOBAL[0]


def set_global(distribution):
    _GLOBAL[0] = distribution


def push(distribution):
    stack = getattr(_STATE, "stack", None)
    if stack is None:
        stack = []
        _STATE.stack = stack
    stack.append(distribution)


def pop():
    _STATE.stack.pop()


def get_global():
    """The distribution set with `set_global` (ignoring scopes), or None."""
    return _GLOBAL[0]
