"""Output KerasTensors of a function called on KerasTensors: shape and dtype inference.

`compute_output_spec(fn, *args, **kwargs)` is `keras.backend.compute_output_spec`: it
traces `fn` with `jax.eval_shape`, so an op's symbolic dtype is exactly what it computes
on arrays (Keras's promotion rules, weak Python scalars included, live in the eager ops).
Keras's broadcasting of unknown sizes is here too, for element-wise ops.
"""

from __future__ import annotations

import jax
import numpy as np

from keras_on_jax.backend import random as backend_random
from keras_on_jax.backend import scopes
from keras_on_jax.backend.keras_tensor import KerasTensor


def _is_leaf(x):
    return isinstance(x, KerasTensor) or x is None


def compute_output_spec(fn, *args, **kwargs):
    """The KerasTensors `fn(*args, **kwargs)` returns when its KerasTensor arguments are
    replaced by arrays of their shape and dtype.

    As in Keras 3 on JAX, every unknown (`None`) dimension is one JAX symbolic dimension
    (at least 2), so that output dimensions that depend on it come back unknown and
    equal unknown sizes (square images, matching sequence lengths) stay compatible.
    Functions that need concrete sizes (a Python `min` or `range` over a dimension) are
    traced again with concrete sizes instead: 120 and 180 (divisible by the usual split
    and reshape factors), then 2 (left out if it fails); a dimension that differs between
    them is unknown.
    """
    flat, treedef = jax.tree.flatten((args, kwargs), is_leaf=_is_leaf)
    positions = [i for i, x in enumerate(flat) if isinstance(x, KerasTensor)]
    # An unseeded draw reads the global seed: made outside the trace, read in the scope.
    seed_state = backend_random.global_seed_generator().state

    def trace(fill):
        def traced(*arrays):
            filled = list(flat)
            for i, a in zip(positions, arrays):
                filled[i] = a
            a, k = jax.tree.unflatten(treedef, filled)
            # Variable writes (a random draw advancing a seed) stay in the scope: a trace
            # must not leave its values in state.
            with scopes.StatelessScope([(seed_state, seed_state.value)]), scopes.SymbolicScope():
                return fn(*a, **k)

        structs = [
            jax.ShapeDtypeStruct(tuple(fill if d is None else d for d in flat[i].shape),
                                 np.dtype(object) if flat[i].dtype == "string" else flat[i].dtype)
            for i in positions
        ]
        return jax.eval_shape(traced, *structs)

    with scopes.SpecTracingScope():
        if not any(None in flat[i].shape for i in positions):
            return _to_keras_tensors(trace(None))
        try:
            return _to_keras_tensors(trace(_symbolic_dim()))
        except Exception as symbolic_error:
            try:
                probes = [trace(_PROBES[1]), trace(_PROBES[2])]
            except Exception:
                raise symbolic_error from None
            try:
                probes.append(trace(_PROBES[0]))
            except Exception:
                pass
            return _to_keras_tensors(*probes)


_PROBES = (2, 120, 180)
_SYMBOLIC_DIM = []


def _symbolic_dim():
    if not _SYMBOLIC_DIM:
        _SYMBOLIC_DIM.append(
            jax.export.symbolic_shape("(dynamic_dimension)", constraints=["dynamic_dimension>=2"])[0]
        )
    return _SYMBOLIC_DIM[0]


def _to_keras_tensors(out, *others):
    """ShapeDtypeStructs -> KerasTensors; symbolic dimensions, and dimensions that differ
    from the other probes' results, become None."""

    def convert(x, *ys):
        if isinstance(x, (bool, int, float, np.generic)):  # `size`, `ndim`: a scalar tensor
            return KerasTensor((), dtype=_scalar_dtype(x))
        if not isinstance(x, jax.ShapeDtypeStruct):
            return x
        shape = []
        for i, d in enumerate(x.shape):
            known = not jax.export.is_symbolic_dim(d) and all(y.shape[i] == d for y in ys)
            shape.append(int(d) if known else None)
        return KerasTensor(tuple(shape), dtype=x.dtype)

    return jax.tree.map(convert, out, *others)


def _scalar_dtype(x):
    if isinstance(x, np.generic):
        return x.dtype
    return "bool" if isinstance(x, bool) else ("int32" if isinstance(x, int) else "float32")


def with_context(error, message):
    """`error`'s type with `message` (JAX's own errors cannot be rebuilt from a message:
    those become a ValueError)."""
    try:
        return type(error)(message)
    except Exception:
        return ValueError(message)


# ---------------------------------------------------------------------------------------
# Broadcasting
# ---------------------------------------------------------------------------------------
def broadcast_shapes(shape1, shape2):
    """Keras's broadcasting of two shapes whose sizes may be unknown (None): an unknown
    size broadcast with a known one (other than 1) is that size."""
    s1, s2 = list(shape1), list(shape2)
    n = max(len(s1), len(s2))
    s1, s2 = [1] * (n - len(s1)) + s1, [1] * (n - len(s2)) + s2
    out = []
    for a, b in zip(s1, s2):
        if a == 1:
            out.append(b)
        elif a is None:
            out.append(None if b == 1 else b)
        elif b in (1, None, a):
            out.append(a)
        else:
            raise ValueError(
                f"Cannot broadcast shape, the failure dim has value {a}, which cannot be "
                f"broadcasted to {b}. Input shapes are: {list(shape1)} and {list(shape2)}."
            )
    return tuple(out)


def dtype_of_call(op, args, kwargs, ones=False):
    """The output spec of `op.call` on arrays whose unknown sizes are 1 (all sizes 1 with
    `ones=True`): for the dtype, where the shape comes from a rule."""

    def known(x):
        if isinstance(x, KerasTensor):
            return KerasTensor(tuple(1 if ones or d is None else d for d in x.shape), x.dtype)
        return x

    return compute_output_spec(op.call, *[known(a) for a in args],
                               **{k: known(v) for k, v in kwargs.items()})


def broadcast_output_spec(op, args, kwargs):
    """Element-wise ops: the broadcast shape of the array arguments, and the dtype the
    op computes."""
    shape = ()
    for a in (*args, *kwargs.values()):
        if a is not None and not isinstance(a, str):
            shape = broadcast_shapes(shape, getattr(a, "shape", np.shape(a)))
    return KerasTensor(shape, dtype=dtype_of_call(op, args, kwargs).dtype)
