"""Output specs of the ops whose symbolic result tracing cannot give.

Most ops infer their outputs by tracing their eager function (`operation.
compute_output_spec`). The rules here are Keras 3's for ops whose result shape depends
on values (`nonzero`, `unique`), or whose symbolic form Keras restricts (`x[key]` takes
only ints, slices, None and Ellipsis): each `RULES[class_name](op, *args, **kwargs)`
returns the output KerasTensor(s).
"""

from __future__ import annotations

from keras_on_jax.backend.keras_tensor import KerasTensor


def _get_item(op, x, key):
    """`x[key]` for basic indexing, with Keras's errors for anything else."""
    shape = list(x.shape)
    if isinstance(key, int):
        key = [key]
    elif isinstance(key, (tuple, list)):
        key = list(key)
    else:
        raise ValueError(f"Unsupported key type for array slice. Received: `{key}`")
    ellipses = sum(1 for k in key if k is Ellipsis)
    if ellipses > 1:
        raise ValueError(f"Slice should only have one ellipsis. Received: `{key}`")
    if not ellipses:
        key.append(Ellipsis)
    out = []
    while key:
        sub = key.pop(0)
        if sub is Ellipsis:
            consumed = len(shape) - (len(key) - sum(1 for k in key if k is None))
            out += shape[:consumed]
            shape = shape[consumed:]
            continue
        if sub is None:
            out.append(1)
            continue
        if not shape:
            raise ValueError(f"Array has shape {x.shape} but slice has to many indices. "
                             f"Received: `{key}`")
        length = shape.pop(0)
        if not isinstance(sub, (int, slice)):
            raise ValueError(f"Unsupported key type for array slice. Received: `{key}`")
        if isinstance(sub, int):
            if length is not None and not -length <= sub < length:
                raise ValueError(f"Array has shape {x.shape} but out-of-bounds index "
                                 f"{sub} was requested.")
        elif length is None:
            out.append(None)
        else:
            out.append(len(range(*sub.indices(length))))
    return KerasTensor(tuple(out), dtype=x.dtype)


RULES = {
    "GetItem": _get_item,
}


def _get_item_arguments(x, key):
    # A key read back from a file is a JSON list; it was a tuple (basic indexing).
    return (x, tuple(key) if isinstance(key, list) else key), {}


# class name -> f(*args, **kwargs) -> (args, kwargs): call arguments as `call` needs them.
CALL_ARGUMENTS = {
    "GetItem": _get_item_arguments,
}
