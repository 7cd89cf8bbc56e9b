"""Eager `GradientTape.gradient` as one compiled program per recorded structure.

Eagerly, `tape.gradient` replays the recorded calls under `jax.vjp` op by op: most of an
eager training step's time. A loop records the same calls every step (the same layers,
losses and operators, on arrays of the same shapes), so the replay and its vjp are
compiled once per *structure* of the recording and called with that step's arrays: the
structure key names each node's callable and static arguments, how the arrays flow
between nodes, and the shapes and dtypes of the arrays that come from outside (inputs,
targets, the variables' values recorded before each layer call). The program is a
`backend.stateful_jit` one, so a Variable the replay reads that is neither a source nor
recorded (a loss with a Variable weight, say) is an input too, never a stale constant.

A structure seen for the first time runs eagerly (a one-off gradient is not worth a
compilation); the second time it is compiled. Gradients recorded on enclosing tapes
(nested tapes, for second order) keep the eager path.
"""

from __future__ import annotations

import jax
import numpy as np

from keras_on_jax.backend import scopes, stateful_jit
from keras_on_jax.backend.stateful_jit import Ident
from keras_on_jax.backend.variables import Variable

_PROGRAMS = stateful_jit.ProgramCache(size=64)
_SCALARS = (bool, int, float, complex, str, bytes, type(None))


class _NotCompilable(Exception):
    pass


class _Structure:
    """Walks the recorded nodes: the key, and the outside arrays in order."""

    def __init__(self, flat_sources):
        self.sources = {id(s): i for i, s in enumerate(flat_sources) if not isinstance(s, Variable)}
        self.produced = {}
        self.externals = []
        self.external_ids = {}

    def leaf(self, x):
        if isinstance(x, (jax.Array, np.ndarray)):
            i = id(x)
            if i in self.sources:
                return ("s", self.sources[i])
            if i in self.produced:
                return self.produced[i]
            if isinstance(x, jax.core.Tracer):
                raise _NotCompilable()
            if i not in self.external_ids:
                self.external_ids[i] = len(self.externals)
                self.externals.append(x)
            return ("e", self.external_ids[i], x.shape, x.dtype, getattr(x, "weak_type", False))
        if isinstance(x, _SCALARS):
            return ("c", type(x), x)
        return ("o", Ident(x))

    def walk(self, x):
        if isinstance(x, dict):
            return ("d", type(x), tuple((k, self.walk(v)) for k, v in x.items()))
        if isinstance(x, (list, tuple)):
            return ("l", type(x), tuple(self.walk(v) for v in x))
        return self.leaf(x)

    def produce(self, n, leaves):
        for j, x in enumerate(leaves):
            self.produced.setdefault(id(x), ("n", n, j))


def _key(fn, target, flat, output_gradients, flags):
    from keras_on_jax.training.gradient_tape import _leaves

    walker = _Structure(flat)
    parts = [flags, tuple(("v", Ident(s)) if isinstance(s, Variable)
                          else ("a", s.shape, s.dtype) for s in flat)]
    for n, node in enumerate(fn.needed):
        if getattr(node.fn, "_tape_fresh", False):
            raise _NotCompilable()
        snapshot = tuple((Ident(v), walker.leaf(val)) for v, val in node.snapshot)
        parts.append((Ident(node.fn), walker.walk(node.args), walker.walk(node.kwargs),
                      snapshot, len(node.extras)))
        walker.produce(n, _leaves(node.output) + _leaves(node.extras))
    parts.append(walker.walk(target))
    parts.append(walker.walk(output_gradients))
    return tuple(parts), walker.externals


def gradient(fn, target, flat, values, output_gradients, flags, compute):
    """The gradient list from the compiled replay, or None to compute it eagerly."""
    if not scopes.is_plain() or any(isinstance(v, jax.core.Tracer) for v in values):
        return None
    try:
        key, externals = _key(fn, target, flat, output_gradients, flags)
    except _NotCompilable:
        return None

    def make_program():
        recorded = list(externals)

        def replay(dynamic):
            sources, outside, grads_out = dynamic
            seed = {id(r): x for r, x in zip(recorded, outside)}
            return compute(list(sources), seed, grads_out)

        return stateful_jit.StatefulJit(replay)

    out = _PROGRAMS.run(key, make_program, (list(values), list(externals), output_gradients))
    return None if out is stateful_jit.NOT_COMPILED else out
