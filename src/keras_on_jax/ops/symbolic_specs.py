"""Output specs of the ops whose symbolic result tracing cannot give.

Most ops infer their outputs by tracing their eager function (`output_specs.
compute_output_spec`). The rules here are Keras 3's for ops whose result shape depends
on values (`nonzero`, `unique`), whose symbolic form Keras restricts (`x[key]` takes only
ints, slices, None and Ellipsis), or where Keras lets an unknown size stand for a known
one (`matmul` of `(None, None)` by `(4, 3)`): each `rule(op, *args, **kwargs)` returns
the output KerasTensor(s).
"""

from __future__ import annotations

from keras_on_jax.backend import config as backend_config
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.ops.output_specs import broadcast_output_spec, broadcast_shapes, dtype_of_call


def _shape(x):
    return getattr(x, "shape", ())


def _get_item(op, x, key):
    """`x[key]` for basic indexing, with Keras's errors for anything else."""
    shape, original = list(x.shape), key
    if isinstance(key, int):
        key = [key]
    elif isinstance(key, (tuple, list)):
        key = list(key)
    else:
        raise ValueError(f"Unsupported key type for array slice. Received: `{key}`")
    ellipses = sum(1 for k in key if k is Ellipsis)
    if ellipses > 1:
        raise ValueError(f"Slice should only have one ellipsis. Received: `{original}`")
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
                             f"Received: `{original}`")
        length = shape.pop(0)
        if not isinstance(sub, (int, slice)):
            raise ValueError(f"Unsupported key type for array slice. Received: `{original}`")
        if isinstance(sub, int):
            if length is not None and not -length <= sub < length:
                raise ValueError(f"Array has shape {x.shape} but out-of-bounds index "
                                 f"{original} was requested.")
        elif length is None:
            out.append(None)
        else:
            out.append(len(range(*sub.indices(length))))
    return KerasTensor(tuple(out), dtype=x.dtype)


def _nonzero(op, x):
    return tuple(KerasTensor((None,), dtype="int32") for _ in x.shape)


def _where(op, condition, x1=None, x2=None):
    if x1 is None and x2 is None:
        return _nonzero(op, condition)  # `where(condition)` is `nonzero(condition)`
    return broadcast_output_spec(op, (condition, x1, x2), {})


def _unique(op, x):
    config = op.get_config()
    size, axis = config["size"], config["axis"]
    if axis is None:
        values = (size,)
    else:
        values = list(x.shape)
        values[axis % len(values)] = size
    outputs = [KerasTensor(tuple(values), dtype=x.dtype)]
    if config["return_index"]:
        outputs.append(KerasTensor((size,), dtype="int32"))
    if config["return_inverse"]:
        outputs.append(KerasTensor(x.shape if axis is None else (x.shape[axis],), dtype="int32"))
    if config["return_counts"]:
        outputs.append(KerasTensor((size,), dtype="int32"))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _bincount(op, x):
    # The number of bins depends on the values: unknown.
    weights = op.get_config()["weights"]
    dtype = "int32" if weights is None else dtype_of_call(op, (x,), {}).dtype
    return KerasTensor((*x.shape[:-1], None), dtype=dtype)


def _like_first_input(op, x, *args, **kwargs):
    return KerasTensor(x.shape, dtype=x.dtype)


# class name -> rule(op, *args, **kwargs): always used instead of tracing.
RULES = {
    "ElasticTransform": _like_first_input,  # draws random numbers (a seed generator)
    "GetItem": _get_item,
    "Nonzero": _nonzero,
    "Where": _where,
    "Unique": _unique,
    "Bincount": _bincount,
}


def _matmul(op, x1, x2):
    """Keras's rule, where an unknown size may stand for the contracted one."""
    s1, s2 = list(_shape(x1)), list(_shape(x2))
    squeeze = []
    if len(s1) == 1:
        s1, squeeze = [1, *s1], squeeze + [-2]
    if len(s2) == 1:
        s2, squeeze = [*s2, 1], squeeze + [-1]
    if None not in (s1[-1], s2[-2]) and s1[-1] != s2[-2]:
        raise ValueError(
            "Inner dimensions (`x1.shape[-1]` and `x2.shape[-2]`) must be equal, but "
            f"received `x1.shape={_shape(x1)}` and `x2.shape={_shape(x2)}`."
        )
    shape = [*broadcast_shapes(s1[:-2], s2[:-2]), s1[-2], s2[-1]]
    for axis in sorted(squeeze):
        del shape[axis]
    return KerasTensor(tuple(shape), dtype=dtype_of_call(op, (x1, x2), {}, ones=True).dtype)


def _broadcast_to(op, x):
    shape = tuple(op.get_config()["shape"])
    broadcast_shapes(x.shape, shape)
    return KerasTensor(shape, dtype=x.dtype)


def _dot(op, x1, x2):
    s1, s2 = _shape(x1), _shape(x2)
    if 1 <= len(s1) <= 2 and 1 <= len(s2) <= 2:
        return _matmul(op, x1, x2)
    # N-d: x1's last axis meets x2's second-to-last one (its only one when 1-D).
    a, b = s1[-1], s2[-2] if len(s2) > 1 else s2[-1]
    if None not in (a, b) and a != b:
        raise ValueError("Shape must match on the last axis of `x1` and the second-to-last "
                         f"axis of `x2` when doing N-d dot. Received: x1.shape={s1}, "
                         f"x2.shape={s2}")
    shape = (*s1[:-1], *s2[:-2], *s2[-1:]) if len(s2) > 1 else tuple(s1[:-1])
    return KerasTensor(shape, dtype=dtype_of_call(op, (x1, x2), {}, ones=True).dtype)


# class name -> rule: used when tracing fails (an unknown size where a known one is needed).
FALLBACK_RULES = {
    "Matmul": _matmul,
    "Dot": _dot,
    "BroadcastTo": _broadcast_to,
}


def _get_item_arguments(x, key):
    # A key read back from a file is a JSON list; it was a tuple (basic indexing).
    return (x, tuple(key) if isinstance(key, list) else key), {}


# class name -> f(*args, **kwargs) -> (args, kwargs): call arguments as `call` needs them.
CALL_ARGUMENTS = {
    "GetItem": _get_item_arguments,
}


def _extract_patches_config(config):
    size = config.get("size")
    if isinstance(size, int):
        config["size"] = size = (size, size)
    if config.get("strides") is None:
        config["strides"] = size
    if config.get("data_format") is None:
        config["data_format"] = backend_config.image_data_format()
    return config


# class name -> f(config) -> config: what Keras's constructor standardizes (its configs
# read that way).
CONFIG_RULES = {
    "ExtractPatches": _extract_patches_config,
}
