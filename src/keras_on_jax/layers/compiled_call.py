"""Eager calls of built-in layers and models as one compiled program per signature.

An eager `model(x)` runs each layer's `call` op by op: dozens of dispatches for a small
model. When the same layer is called again with the same signature (array shapes and
dtypes, Python arguments such as `training`), the call runs instead as one
`backend.stateful_jit` program traced from the same `_eager_call`, with the layer's
variables (and seed generators, BatchNorm statistics) threaded through it and written
back, and its `add_loss` losses put back in the layers' lists.

Only calls that cannot tell the difference take this path: every layer in the tree is a
built keras_on_jax class (no user `call`, so no Python side effects to repeat), none makes
masks (`compute_mask`) or runs on the host, the inputs carry no mask, and the call is an
outermost eager call on concrete arrays with no scope active (no trace, tape replay,
distribution or device scope). The first call of a signature runs eagerly (a one-off call
is not worth a compilation); a layer whose attributes change (`Sequential.add`, LoRA,
quantization, `trainable`) starts over (see `structure_version`).
"""

from __future__ import annotations

import weakref

from keras_on_jax.backend import scopes
from keras_on_jax.backend import stateful_jit

_NOT_COMPILED = stateful_jit.NOT_COMPILED  # the caller runs the call eagerly

# Bumped whenever an attribute of any layer is set outside a call (see Layer.__setattr__):
# a compiled call is only reused while the layers it traced are unchanged.
_VERSION = [0]

_CACHES = weakref.WeakKeyDictionary()  # layer -> _Cache


def structure_changed():
    _VERSION[0] += 1


class _Cache:
    __slots__ = ("version", "eligible", "programs")

    def __init__(self, version, eligible):
        self.version = version
        self.eligible = eligible
        self.programs = stateful_jit.ProgramCache(size=16)


def _eligible(layer):
    from keras_on_jax.layers.layer import Layer

    for sub in layer._flatten_layers():
        if not stateful_jit.is_builtin(sub):
            return False
        if not sub.built or getattr(sub, "_runs_on_host", False):
            return False
        if type(sub).compute_mask is not Layer.compute_mask:
            return False
        # A Functional graph placed on several devices (`keras.device` scopes) runs as
        # per-device segments.
        nodes = sub.__dict__.get("_graph_nodes") or ()
        if any(getattr(node, "device", None) is not None for node in nodes):
            return False
        if sub.__dict__.get("_distribution") is not None:
            return False
    return True


def call(layer, args, kwargs):
    """The outputs of `layer(*args, **kwargs)` from its compiled program, or
    `_NOT_COMPILED` when the call must run eagerly."""
    if not scopes.is_plain() or not _no_placement():
        return _NOT_COMPILED
    cache = _CACHES.get(layer)
    if cache is None or cache.version != _VERSION[0]:
        cache = _Cache(_VERSION[0], _eligible(layer))
        _CACHES[layer] = cache
    if not cache.eligible:
        return _NOT_COMPILED
    signature = stateful_jit.signature(args, kwargs)
    if signature is None:
        return _NOT_COMPILED
    key, dynamic, template = signature

    def make_program():
        def run(values):
            a, k = stateful_jit.rebuild(template, values)
            return layer._eager_call(list(a), dict(k))

        return stateful_jit.StatefulJit(run, read=layer.variables)

    return cache.programs.run(key, make_program, dynamic)


def _no_placement():
    from keras_on_jax.distribute import context
    from keras_on_jax.distribute.device import current_device

    return context.current() is None and current_device() is None
