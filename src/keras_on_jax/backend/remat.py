"""Rematerialization (gradient checkpointing): `keras.RematScope` and `keras.remat`.

A layer created inside `RematScope(mode)` remembers the mode; its calls then recompute
their activations in the backward pass (`jax.checkpoint`) instead of storing them, as
Keras 3's JAX backend does.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import namedtuple

import jax
import numpy as np

from keras_on_jax.backend import scopes

_LOCAL = threading.local()
_MODES = ("full", "activations", "larger_than", "list_of_layers", None)

RematMode = namedtuple("RematMode", ["mode", "output_size_threshold", "layer_names"])


def _stack():
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    return stack


class RematScope:
    """Layers created inside this scope rematerialize their calls.

    Args:
        mode: `"full"` (every call), `"activations"` (the `activation` of layers that
            have one), `"larger_than"` (calls whose outputs have more than
            `output_size_threshold` elements), `"list_of_layers"` (the layers named in
            `layer_names`), or None (off).
        output_size_threshold: the size threshold of `"larger_than"`.
        layer_names: the layer names of `"list_of_layers"`.
    """

    def __init__(self, mode="full", output_size_threshold=1024, layer_names=None):
        if mode not in _MODES:
            raise ValueError(f"Invalid mode '{mode}'. Supported modes are: 'full', "
                             "'activations', 'larger_than', 'list_of_layers', or  None.")
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = layer_names or []

    def __enter__(self):
        _stack().append(self)
        return self

    def __exit__(self, *exc):
        _stack().pop()
        return False


def get_current_remat_mode():
    """The innermost `RematScope`'s settings as a `RematMode`, or None."""
    stack = _stack()
    if not stack:
        return None
    scope = stack[-1]
    return RematMode(scope.mode, scope.output_size_threshold, scope.layer_names)


def remat(f):
    """`f` recomputed in the backward pass instead of storing its intermediates.

    Only array arguments are traced (flags such as `training=True` stay Python values),
    and what `f` does to Keras state inside (variable assignments such as BatchNorm's
    moving statistics, `add_loss` terms) is carried out of the recomputed region and
    applied after it, so layers with state can be rematerialized too.
    """

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        leaves, treedef = jax.tree.flatten((args, kwargs))
        traced = [isinstance(leaf, (jax.Array, np.ndarray)) for leaf in leaves]
        updated, n_losses = [], [0]

        def inner(*arrays):
            it = iter(arrays)
            full = [next(it) if t else leaf for leaf, t in zip(leaves, traced)]
            a, k = jax.tree.unflatten(treedef, full)
            with scopes.StatelessScope(collect_losses=True) as scope:
                out = f(*a, **k)
            updated[:] = scope.updated_variables()
            n_losses[0] = len(scope.losses)
            return out, [scope.get_current_value(v) for v in updated], list(scope.losses)

        out, values, losses = jax.checkpoint(inner)(
            *[leaf for leaf, t in zip(leaves, traced) if t])
        for variable, value in zip(updated, values):
            variable.assign(value)
        outer = scopes.get_stateless_scope()
        if losses and outer is not None and outer.collect_losses:
            outer.losses.extend(losses)
        return out

    return wrapped


def rematerialized(layer, call, args, kwargs):
    """`call` (a layer's `call` or `quantized_call`) wrapped as `layer._remat_mode` asks."""
    mode = getattr(layer, "_remat_mode", None)
    if not mode or mode.mode is None:
        return call
    if mode.mode == "full":
        return remat(call)
    if mode.mode == "list_of_layers":
        return remat(call) if layer.name in mode.layer_names else call
    if mode.mode == "activations":
        if getattr(layer, "activation", None) is None:
            return call

        @functools.wraps(call)
        def with_remat_activation(*a, **k):
            original = layer.activation
            layer.activation = remat(original)
            try:
                return call(*a, **k)
            finally:
                layer.activation = original

        return with_remat_activation
    if mode.mode == "larger_than":
        def probe(*a):
            with scopes.StatelessScope():  # state updates of the probe are discarded
                return call(*a, **kwargs)

        shapes = jax.eval_shape(probe, *args)
        size = sum(math.prod(s.shape) for s in jax.tree.leaves(shapes))
        return remat(call) if size > mode.output_size_threshold else call
    return call
