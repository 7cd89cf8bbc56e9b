"""`keras.ops.core`: tensors, casting, control flow and scatter/slice ops over `jax.lax`."""

from __future__ import annotations

import builtins

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend.dtypes import standardize_dtype
from keras_on_jax.backend.variables import Variable
from keras_on_jax.backend.variables import convert_to_tensor as _t


def _unwrap(tree):
    return jax.tree_util.tree_map(
        lambda v: v.value if isinstance(v, Variable) else v,
        tree,
        is_leaf=lambda v: isinstance(v, Variable),
    )


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """Convert `x` (array-like or Variable) to a JAX array of `dtype`."""
    if ragged:
        raise ValueError("`ragged=True` is not supported with the JAX backend. Received: ragged=True")
    if dtype is not None:
        dtype = standardize_dtype(dtype)
    if isinstance(x, Variable):
        x = x.value
    if dtype is None and isinstance(x, (bool, int, float, list, tuple)) and not isinstance(x, np.ndarray):
        # Python numbers follow Keras: ints -> int32, floats -> floatx.
        arr = np.asarray(x)
        if arr.dtype == np.float64:
            from keras_on_jax.backend import config

            dtype = config.floatx()
        elif arr.dtype == np.int64:
            dtype = "int32"
    return _t(x, dtype=dtype)


def convert_to_numpy(x):
    """Convert a tensor or Variable to a NumPy array."""
    if isinstance(x, Variable):
        x = x.value
    return np.array(x)


def is_tensor(x):
    """Whether `x` is a JAX array (the native tensor type)."""
    return isinstance(x, jax.Array)


def shape(x):
    """The shape of `x` as a tuple."""
    return tuple(jnp.shape(_t(x)) if not hasattr(x, "shape") else x.shape)


def dtype(x):
    """The standardized dtype name of `x` (e.g. `"float32"`)."""
    return standardize_dtype(x.dtype if hasattr(x, "dtype") else _t(x).dtype)


def cast(x, dtype):
    """Cast `x` to `dtype`."""
    return _t(x).astype(standardize_dtype(dtype))


def saturate_cast(x, dtype):
    """Cast `x` to `dtype`, clipping values to the target dtype's range first."""
    dtype = standardize_dtype(dtype)
    x = _t(x)
    in_dtype = x.dtype
    if jnp.issubdtype(jnp.dtype(dtype), jnp.integer) or jnp.issubdtype(jnp.dtype(dtype), jnp.floating):
        info = jnp.iinfo(dtype) if jnp.issubdtype(jnp.dtype(dtype), jnp.integer) else jnp.finfo(dtype)
        lo, hi = info.min, info.max
        if jnp.issubdtype(in_dtype, jnp.integer) or jnp.issubdtype(in_dtype, jnp.floating):
            in_info = jnp.iinfo(in_dtype) if jnp.issubdtype(in_dtype, jnp.integer) else jnp.finfo(in_dtype)
            lo = builtins.max(float(lo), float(in_info.min))
            hi = builtins.min(float(hi), float(in_info.max))
            # Clip in the input dtype; bounds that aren't exactly representable are
            # nudged inward so the cast cannot overflow. The bounds are constants, computed
            # now even under `jit` (they need `float()`).
            with jax.ensure_compile_time_eval():
                lo_t = jnp.asarray(lo, in_dtype)
                hi_t = jnp.asarray(hi, in_dtype)
                if float(hi_t) > hi:
                    hi_t = jnp.nextafter(hi_t, jnp.asarray(0, in_dtype))
                if float(lo_t) < lo:
                    lo_t = jnp.nextafter(lo_t, jnp.asarray(0, in_dtype))
            x = jnp.clip(x, lo_t, hi_t)
    return x.astype(dtype)


def stop_gradient(variable):
    """Block gradients through `variable`."""
    return jax.lax.stop_gradient(_t(variable))


def cond(pred, true_fn, false_fn):
    """`true_fn()` if `pred` else `false_fn()` (traced with `jax.lax.cond`)."""
    return jax.lax.cond(_t(pred), true_fn, false_fn)


def switch(index, branches, *operands):
    """Apply `branches[index](*operands)`; out-of-range indices are clamped."""
    index = _t(index)
    return jax.lax.switch(index, branches, *operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Run `body` while `cond` holds; `loop_vars` may be a tuple/list or a single value."""
    is_seq = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_seq else (loop_vars,)
    if maximum_iterations is not None:
        state = state + (jnp.asarray(0, "int32"),)

        def _cond(s):
            return jnp.logical_and(cond(*s[:-1]), s[-1] < maximum_iterations)

        def _body(s):
            out = body(*s[:-1])
            out = tuple(out) if is_seq else (out,)
            return out + (s[-1] + 1,)

    else:

        def _cond(s):
            return cond(*s)

        def _body(s):
            out = body(*s)
            return tuple(out) if is_seq else (out,)

    out = jax.lax.while_loop(_cond, _body, _unwrap(state))
    if maximum_iterations is not None:
        out = out[:-1]
    return out if is_seq else out[0]


def fori_loop(lower, upper, body_fun, init_val):
    """`for i in range(lower, upper): val = body_fun(i, val)`."""
    return jax.lax.fori_loop(lower, upper, body_fun, _unwrap(init_val))


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Scan `f(carry, x) -> (carry, y)` over the leading axis of `xs`."""
    return jax.lax.scan(f, _unwrap(init), _unwrap(xs), length=length, reverse=reverse, unroll=unroll)


def associative_scan(f, elems, reverse=False, axis=0):
    """Parallel prefix scan with the associative binary function `f`."""
    return jax.lax.associative_scan(f, _unwrap(elems), reverse=reverse, axis=axis)


def map(f, xs):
    """Apply `f` to each slice of `xs` along its leading axis and stack the results."""
    return jax.lax.map(f, _unwrap(xs))


def vectorized_map(function, elements):
    """`jax.vmap(function)(elements)`."""
    return jax.vmap(function)(_unwrap(elements))


def scatter(indices, values, shape):
    """A zeros tensor of `shape` with `values` added at `indices` (last axis indexes)."""
    indices = _t(indices)
    values = _t(values)
    zeros = jnp.zeros(shape, values.dtype)
    key = tuple(jnp.moveaxis(indices, -1, 0))
    return zeros.at[key].add(values)


def scatter_update(inputs, indices, updates, reduction=None):
    """Write (or reduce) `updates` into `inputs` at `indices`."""
    inputs = _t(inputs)
    idx = tuple(jnp.transpose(_t(indices)))
    updates = _t(updates)
    at = inputs.at[idx]
    if reduction is None:
        return at.set(updates)
    ops = {"add": at.add, "max": at.max, "min": at.min, "mul": at.multiply}
    if reduction not in ops:
        raise ValueError(
            "Argument `reduction` must be one of None, 'add', 'max', 'min', 'mul'. "
            f"Received: reduction={reduction!r}"
        )
    return ops[reduction](updates)


def slice(inputs, start_indices, shape):
    """A slice of `inputs` of size `shape` starting at `start_indices`."""
    inputs = _t(inputs)
    if isinstance(start_indices, (list, tuple)):
        start_indices = [_t(i) if not isinstance(i, int) else i for i in start_indices]
    return jax.lax.dynamic_slice(inputs, start_indices, tuple(shape))


def slice_update(inputs, start_indices, updates):
    """`inputs` with `updates` written at `start_indices`."""
    inputs = _t(inputs)
    updates = _t(updates).astype(inputs.dtype)
    if isinstance(start_indices, (list, tuple)):
        start_indices = [_t(i) if not isinstance(i, int) else i for i in start_indices]
    return jax.lax.dynamic_update_slice(inputs, updates, start_indices)


def unstack(x, num=None, axis=0):
    """Split `x` into a list of tensors along `axis`."""
    x = _t(x)
    return [jax.lax.index_in_dim(x, i, axis, keepdims=False) for i in range(x.shape[axis])]


def custom_gradient(f):
    """Decorator: `f` returns `(output, grad_fn)`; `grad_fn(*upstream)` gives the input grads."""
    fun = jax.custom_gradient(fun=f)

    def wrapper(*args, **kwargs):
        args, kwargs = _unwrap((args, kwargs))
        return fun(*args, **kwargs)

    return wrapper


__all__ = [
    'associative_scan', 'cast', 'cond', 'convert_to_numpy', 'convert_to_tensor',
    'custom_gradient', 'dtype', 'fori_loop', 'is_tensor', 'map', 'saturate_cast', 'scan',
    'scatter', 'scatter_update', 'shape', 'slice', 'slice_update', 'stop_gradient', 'switch',
    'unstack', 'vectorized_map', 'while_loop',
]


# Calls on KerasTensors build graph nodes (the classes of ops/op_table.py).
from keras_on_jax.ops.builtin_ops import make_symbolic  # noqa: E402

make_symbolic(globals(), "core")
