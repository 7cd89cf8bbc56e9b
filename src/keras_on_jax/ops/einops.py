"""`keras.ops.rearrange`: einops-style axis rearrangement (named axes and `(a b)` groups)."""

from __future__ import annotations

import math
import re

import jax.numpy as jnp

from keras_on_jax.backend.variables import convert_to_tensor as _t

_TOKEN = re.compile(r"\w+|\([\w\s]*\)")


def _groups(side):
    return [tok[1:-1].split() if tok.startswith("(") else [tok] for tok in _TOKEN.findall(side)]


def rearrange(tensor, pattern, **axes_lengths):
    """Rearrange axes with an einops pattern, e.g. `"b (h w) c -> b h w c"`, `h=4`."""
    tensor = _t(tensor)
    if "->" not in pattern:
        raise ValueError(f"Argument `pattern` must contain '->'. Received: pattern={pattern!r}")
    left, right = (s.strip() for s in pattern.split("->"))
    in_groups, out_groups = _groups(left), _groups(right)
    if len(in_groups) != tensor.ndim:
        raise ValueError(
            f"Pattern {left!r} has {len(in_groups)} axes but the tensor has rank {tensor.ndim} "
            f"(shape {tensor.shape})."
        )
    sizes = dict(axes_lengths)
    for group, dim in zip(in_groups, tensor.shape):
        unknown = [a for a in group if a not in sizes]
        if len(unknown) > 1:
            raise ValueError(f"Cannot infer sizes of axes {unknown} in group {group}; pass them as keyword arguments.")
        if unknown:
            sizes[unknown[0]] = dim // math.prod(sizes[a] for a in group if a in sizes)
    flat_in = [a for g in in_groups for a in g]
    flat_out = [a for g in out_groups for a in g]
    if sorted(flat_in) != sorted(flat_out):
        raise ValueError(f"Axes on both sides of {pattern!r} must match. Received: {flat_in} -> {flat_out}")
    x = jnp.reshape(tensor, [sizes[a] for a in flat_in])
    x = jnp.transpose(x, [flat_in.index(a) for a in flat_out])
    return jnp.reshape(x, [math.prod(sizes[a] for a in g) for g in out_groups])


# Calls on KerasTensors build graph nodes (the classes of ops/op_table.py).
from keras_on_jax.ops.builtin_ops import make_symbolic  # noqa: E402

make_symbolic(globals(), "einops")
