"""`keras.ops.numpy`: NumPy-style ops as thin functions over `jax.numpy`.

Names, argument names and defaults follow Keras 3. Inputs may be arrays, NumPy arrays,
Python scalars or `keras_on_jax` Variables (read through the active scopes).
"""

from __future__ import annotations

import builtins

import jax.numpy as jnp

from keras_on_jax.backend import config
from keras_on_jax.backend.dtypes import standardize_dtype
from keras_on_jax.backend.variables import convert_to_tensor as _t


def _floatx_if_int(x):
    """Cast integer/bool tensors to `floatx()` (Keras's rule for float-valued ops)."""
    x = _t(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return x.astype(config.floatx())
    return x


def _dtype_or_floatx(dtype):
    return standardize_dtype(dtype)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# ----------------------------------------------------------------------------- factories


def _unary(fn, name, to_float=False):
    if to_float:

        def op(x):
            return fn(_floatx_if_int(x))

    else:

        def op(x):
            return fn(_t(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Element-wise `{name}` (see `numpy.{name}`)."
    return op


def _binary(fn, name, args=("x1", "x2")):
    if args == ("x1", "x2"):

        def op(x1, x2):
            return fn(_t(x1), _t(x2))

    else:

        def op(x, y):
            return fn(_t(x), _t(y))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Element-wise `{name}` of two tensors (see `numpy.{name}`)."
    return op


def _reduce(fn, name):
    def op(x, axis=None, keepdims=False):
        return fn(_t(x), axis=_axis(axis), keepdims=keepdims)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"`{name}` reduction over `axis` (see `numpy.{name}`)."
    return op


# ----------------------------------------------------------------------------- element-wise

abs = _unary(jnp.abs, "abs")
absolute = _unary(jnp.absolute, "absolute")
fabs = _unary(jnp.fabs, "fabs", to_float=True)
negative = _unary(jnp.negative, "negative")
sign = _unary(jnp.sign, "sign")
signbit = _unary(jnp.signbit, "signbit")
square = _unary(jnp.square, "square")
sqrt = _unary(jnp.sqrt, "sqrt", to_float=True)
cbrt = _unary(jnp.cbrt, "cbrt", to_float=True)
exp = _unary(jnp.exp, "exp", to_float=True)
exp2 = _unary(jnp.exp2, "exp2", to_float=True)
expm1 = _unary(jnp.expm1, "expm1", to_float=True)
log = _unary(jnp.log, "log", to_float=True)
log10 = _unary(jnp.log10, "log10", to_float=True)
log1p = _unary(jnp.log1p, "log1p", to_float=True)
log2 = _unary(jnp.log2, "log2", to_float=True)
sin = _unary(jnp.sin, "sin", to_float=True)
cos = _unary(jnp.cos, "cos", to_float=True)
tan = _unary(jnp.tan, "tan", to_float=True)
sinh = _unary(jnp.sinh, "sinh", to_float=True)
cosh = _unary(jnp.cosh, "cosh", to_float=True)
tanh = _unary(jnp.tanh, "tanh", to_float=True)
arcsin = _unary(jnp.arcsin, "arcsin", to_float=True)
arccos = _unary(jnp.arccos, "arccos", to_float=True)
arctan = _unary(jnp.arctan, "arctan", to_float=True)
arcsinh = _unary(jnp.arcsinh, "arcsinh", to_float=True)
arccosh = _unary(jnp.arccosh, "arccosh", to_float=True)
arctanh = _unary(jnp.arctanh, "arctanh", to_float=True)
sinc = _unary(jnp.sinc, "sinc", to_float=True)
i0 = _unary(jnp.i0, "i0", to_float=True)
deg2rad = _unary(jnp.deg2rad, "deg2rad", to_float=True)
rad2deg = _unary(jnp.rad2deg, "rad2deg", to_float=True)
floor = _unary(jnp.floor, "floor", to_float=True)
ceil = _unary(jnp.ceil, "ceil", to_float=True)
trunc = _unary(jnp.trunc, "trunc")
reciprocal = _unary(jnp.reciprocal, "reciprocal", to_float=True)
angle = _unary(jnp.angle, "angle", to_float=True)
real = _unary(jnp.real, "real")
imag = _unary(jnp.imag, "imag")
conj = _unary(jnp.conj, "conj")
conjugate = _unary(jnp.conjugate, "conjugate")
isfinite = _unary(jnp.isfinite, "isfinite")
isinf = _unary(jnp.isinf, "isinf")
isnan = _unary(jnp.isnan, "isnan")
isneginf = _unary(jnp.isneginf, "isneginf")
isposinf = _unary(jnp.isposinf, "isposinf")
isreal = _unary(jnp.isreal, "isreal")
logical_not = _unary(jnp.logical_not, "logical_not")
bitwise_invert = _unary(jnp.bitwise_invert, "bitwise_invert")
bitwise_not = _unary(jnp.bitwise_not, "bitwise_not")
copy = _unary(jnp.array, "copy")
ravel = _unary(jnp.ravel, "ravel")
fliplr = _unary(jnp.fliplr, "fliplr")
flipud = _unary(jnp.flipud, "flipud")
corrcoef = _unary(jnp.corrcoef, "corrcoef")

add = _binary(jnp.add, "add")
subtract = _binary(jnp.subtract, "subtract")
multiply = _binary(jnp.multiply, "multiply")
divide = _binary(jnp.divide, "divide")
true_divide = _binary(jnp.true_divide, "true_divide")
floor_divide = _binary(jnp.floor_divide, "floor_divide")
mod = _binary(jnp.mod, "mod")
fmod = _binary(jnp.fmod, "fmod")
power = _binary(jnp.power, "power")
maximum = _binary(jnp.maximum, "maximum")
minimum = _binary(jnp.minimum, "minimum")
fmax = _binary(jnp.fmax, "fmax")
fmin = _binary(jnp.fmin, "fmin")
arctan2 = _binary(lambda a, b: jnp.arctan2(_floatx_if_int(a), _floatx_if_int(b)), "arctan2")
hypot = _binary(lambda a, b: jnp.hypot(_floatx_if_int(a), _floatx_if_int(b)), "hypot")
logaddexp = _binary(lambda a, b: jnp.logaddexp(_floatx_if_int(a), _floatx_if_int(b)), "logaddexp")
logaddexp2 = _binary(lambda a, b: jnp.logaddexp2(_floatx_if_int(a), _floatx_if_int(b)), "logaddexp2")
heaviside = _binary(jnp.heaviside, "heaviside")
nextafter = _binary(lambda a, b: jnp.nextafter(_floatx_if_int(a), _floatx_if_int(b)), "nextafter")
gcd = _binary(jnp.gcd, "gcd")
lcm = _binary(jnp.lcm, "lcm")
equal = _binary(jnp.equal, "equal")
not_equal = _binary(jnp.not_equal, "not_equal")
greater = _binary(jnp.greater, "greater")
greater_equal = _binary(jnp.greater_equal, "greater_equal")
less = _binary(jnp.less, "less")
less_equal = _binary(jnp.less_equal, "less_equal")
logical_and = _binary(jnp.logical_and, "logical_and")
logical_or = _binary(jnp.logical_or, "logical_or")
logical_xor = _binary(jnp.logical_xor, "logical_xor")
bitwise_and = _binary(jnp.bitwise_and, "bitwise_and", ("x", "y"))
bitwise_or = _binary(jnp.bitwise_or, "bitwise_or", ("x", "y"))
bitwise_xor = _binary(jnp.bitwise_xor, "bitwise_xor", ("x", "y"))
bitwise_left_shift = _binary(jnp.left_shift, "bitwise_left_shift", ("x", "y"))
bitwise_right_shift = _binary(jnp.right_shift, "bitwise_right_shift", ("x", "y"))
left_shift = _binary(jnp.left_shift, "left_shift", ("x", "y"))
right_shift = _binary(jnp.right_shift, "right_shift", ("x", "y"))
matmul = _binary(jnp.matmul, "matmul")
dot = _binary(jnp.dot, "dot")
vdot = _binary(jnp.vdot, "vdot")
inner = _binary(jnp.inner, "inner")
outer = _binary(jnp.outer, "outer")
kron = _binary(jnp.kron, "kron")


def divide_no_nan(x1, x2):
    """`x1 / x2`, with 0 where `x2 == 0`."""
    x1, x2 = _t(x1), _t(x2)
    safe = jnp.where(x2 == 0, 1, x2)
    return jnp.where(x2 == 0, 0, jnp.true_divide(x1, safe))


def ldexp(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    if not jnp.issubdtype(x2.dtype, jnp.integer):
        raise TypeError(
            f"ldexp exponent must be an integer type. Received: x2 dtype={x2.dtype}"
        )
    return jnp.ldexp(_floatx_if_int(x1), x2)


def round(x, decimals=0):
    return jnp.round(_t(x), decimals=decimals)


def clip(x, x_min, x_max):
    x = _t(x)
    if x.dtype == jnp.bool_:
        x = x.astype("int32")
    return jnp.clip(x, x_min, x_max)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return jnp.nan_to_num(_t(x), nan=nan, posinf=posinf, neginf=neginf)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return jnp.isclose(_t(x1), _t(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return jnp.allclose(_t(x1), _t(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


def isin(x1, x2, assume_unique=False, invert=False):
    return jnp.isin(_t(x1), _t(x2), assume_unique=assume_unique, invert=invert)


def where(condition, x1=None, x2=None):
    if (x1 is None) != (x2 is None):
        raise ValueError(
            "`x1` and `x2` must both be given or both be None. "
            f"Received: x1={x1!r}, x2={x2!r}"
        )
    if x1 is None:
        return jnp.nonzero(_t(condition))
    return jnp.where(_t(condition), _t(x1), _t(x2))


def select(condlist, choicelist, default=0):
    return jnp.select([_t(c) for c in condlist], [_t(c) for c in choicelist], default)


# ----------------------------------------------------------------------------- reductions

all = _reduce(jnp.all, "all")
any = _reduce(jnp.any, "any")
amax = _reduce(jnp.max, "amax")
amin = _reduce(jnp.min, "amin")
sum = _reduce(jnp.sum, "sum")
ptp = _reduce(jnp.ptp, "ptp")
nanmax = _reduce(jnp.nanmax, "nanmax")
nanmin = _reduce(jnp.nanmin, "nanmin")
nansum = _reduce(jnp.nansum, "nansum")
nanprod = _reduce(jnp.nanprod, "nanprod")
nanmean = _reduce(jnp.nanmean, "nanmean")
nanmedian = _reduce(jnp.nanmedian, "nanmedian")
nanstd = _reduce(jnp.nanstd, "nanstd")
nanvar = _reduce(jnp.nanvar, "nanvar")
nanargmax = _reduce(jnp.nanargmax, "nanargmax")
nanargmin = _reduce(jnp.nanargmin, "nanargmin")


def mean(x, axis=None, keepdims=False):
    x = _t(x)
    out_dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.dtype(config.floatx())
    compute = jnp.promote_types(out_dtype, jnp.float32)
    return jnp.mean(x, axis=_axis(axis), keepdims=keepdims, dtype=compute).astype(out_dtype)


def median(x, axis=None, keepdims=False):
    return jnp.median(_floatx_if_int(x), axis=_axis(axis), keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    x = _t(x)
    out_dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.dtype(config.floatx())
    compute = jnp.promote_types(out_dtype, jnp.float32)
    return jnp.var(x.astype(compute), axis=_axis(axis), keepdims=keepdims).astype(out_dtype)


def std(x, axis=None, keepdims=False):
    x = _t(x)
    out_dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.dtype(config.floatx())
    compute = jnp.promote_types(out_dtype, jnp.float32)
    return jnp.std(x.astype(compute), axis=_axis(axis), keepdims=keepdims).astype(out_dtype)


def max(x, axis=None, keepdims=False, initial=None):
    return jnp.max(_t(x), axis=_axis(axis), keepdims=keepdims, initial=initial)


def min(x, axis=None, keepdims=False, initial=None):
    return jnp.min(_t(x), axis=_axis(axis), keepdims=keepdims, initial=initial)


def prod(x, axis=None, keepdims=False, dtype=None):
    return jnp.prod(_t(x), axis=_axis(axis), keepdims=keepdims, dtype=dtype)


def argmax(x, axis=None, keepdims=False):
    return jnp.argmax(_t(x), axis=axis, keepdims=keepdims).astype("int32")


def argmin(x, axis=None, keepdims=False):
    return jnp.argmin(_t(x), axis=axis, keepdims=keepdims).astype("int32")


def count_nonzero(x, axis=None):
    return jnp.count_nonzero(_t(x), axis=_axis(axis)).astype("int32")


def average(x, axis=None, weights=None):
    x = _t(x)
    if weights is None:
        return mean(x, axis=axis)
    weights = _t(weights)
    dtype = jnp.result_type(x.dtype, weights.dtype, jnp.float32 if not jnp.issubdtype(x.dtype, jnp.inexact) else x.dtype)
    return jnp.average(x.astype(dtype), axis=axis, weights=weights.astype(dtype))


def quantile(x, q, axis=None, method="linear", keepdims=False):
    return jnp.quantile(_floatx_if_int(x), _t(q), axis=_axis(axis), method=method, keepdims=keepdims)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    return jnp.nanquantile(_floatx_if_int(x), _t(q), axis=_axis(axis), method=method, keepdims=keepdims)


def percentile(x, q, axis=None, method="linear", keepdims=False):
    return jnp.percentile(_floatx_if_int(x), _t(q), axis=_axis(axis), method=method, keepdims=keepdims)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    return jnp.nanpercentile(_floatx_if_int(x), _t(q), axis=_axis(axis), method=method, keepdims=keepdims)


def cumsum(x, axis=None, dtype=None):
    return jnp.cumsum(_t(x), axis=axis, dtype=dtype)


def cumprod(x, axis=None, dtype=None):
    return jnp.cumprod(_t(x), axis=axis, dtype=dtype)


def nancumsum(x, axis=None, dtype=None):
    return jnp.nancumsum(_t(x), axis=axis, dtype=dtype)


def nancumprod(x, axis=None, dtype=None):
    return jnp.nancumprod(_t(x), axis=axis, dtype=dtype)


def trace(x, offset=0, axis1=0, axis2=1):
    return jnp.trace(_t(x), offset=offset, axis1=axis1, axis2=axis2)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    y = _floatx_if_int(y)
    return jnp.trapezoid(y, x=None if x is None else _t(x), dx=dx, axis=axis)


# ----------------------------------------------------------------------------- creation


def array(x, dtype=None):
    return jnp.array(_t(x), dtype=dtype)


def zeros(shape, dtype=None):
    return jnp.zeros(shape, dtype=_dtype_or_floatx(dtype))


def ones(shape, dtype=None):
    return jnp.ones(shape, dtype=_dtype_or_floatx(dtype))


def empty(shape, dtype=None):
    return jnp.empty(shape, dtype=_dtype_or_floatx(dtype))


def full(shape, fill_value, dtype=None):
    return jnp.full(shape, _t(fill_value), dtype=dtype)


def zeros_like(x, dtype=None):
    return jnp.zeros_like(_t(x), dtype=dtype)


def ones_like(x, dtype=None):
    return jnp.ones_like(_t(x), dtype=dtype)


def empty_like(x, dtype=None):
    return jnp.empty_like(_t(x), dtype=dtype)


def full_like(x, fill_value, dtype=None):
    return jnp.full_like(_t(x), _t(fill_value), dtype=dtype)


def identity(n, dtype=None):
    return jnp.identity(n, dtype=_dtype_or_floatx(dtype))


def eye(N, M=None, k=0, dtype=None):
    return jnp.eye(N, M=M, k=k, dtype=_dtype_or_floatx(dtype))


def tri(N, M=None, k=0, dtype=None):
    return jnp.tri(N, M=M, k=k, dtype=_dtype_or_floatx(dtype))


def arange(start, stop=None, step=None, dtype=None):
    if dtype is None:
        values = [v for v in (start, stop, step) if v is not None]
        is_float = builtins.any(
            isinstance(v, float) or (hasattr(v, "dtype") and jnp.issubdtype(v.dtype, jnp.floating))
            for v in values
        )
        dtype = config.floatx() if is_float else "int32"
    return jnp.arange(start, stop, step, dtype=standardize_dtype(dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    return jnp.linspace(start, stop, num=num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    return jnp.logspace(start, stop, num=num, endpoint=endpoint, base=base, dtype=dtype, axis=axis)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    return jnp.geomspace(start, stop, num=num, endpoint=endpoint, dtype=dtype, axis=axis)


def meshgrid(*x, indexing="xy"):
    return jnp.meshgrid(*[_t(a) for a in x], indexing=indexing)


def vander(x, N=None, increasing=False):
    return jnp.vander(_t(x), N=N, increasing=increasing)


def bartlett(x):
    return jnp.bartlett(int(x)).astype(config.floatx())


def blackman(x):
    return jnp.blackman(int(x)).astype(config.floatx())


def hamming(x):
    return jnp.hamming(int(x)).astype(config.floatx())


def hanning(x):
    return jnp.hanning(int(x)).astype(config.floatx())


def kaiser(x, beta):
    return jnp.kaiser(int(x), beta).astype(config.floatx())


# ----------------------------------------------------------------------------- shapes


def reshape(x, newshape):
    return jnp.reshape(_t(x), newshape)


def transpose(x, axes=None):
    return jnp.transpose(_t(x), axes)


def swapaxes(x, axis1, axis2):
    return jnp.swapaxes(_t(x), axis1, axis2)


def moveaxis(x, source, destination):
    return jnp.moveaxis(_t(x), source, destination)


def expand_dims(x, axis):
    return jnp.expand_dims(_t(x), _axis(axis))


def squeeze(x, axis=None):
    return jnp.squeeze(_t(x), axis=_axis(axis))


def broadcast_to(x, shape):
    return jnp.broadcast_to(_t(x), shape)


def flip(x, axis=None):
    return jnp.flip(_t(x), axis=_axis(axis))


def rot90(array, k=1, axes=(0, 1)):
    return jnp.rot90(_t(array), k=k, axes=tuple(axes))


def roll(x, shift, axis=None):
    return jnp.roll(_t(x), shift, axis=axis)


def tile(x, repeats):
    return jnp.tile(_t(x), repeats)


def repeat(x, repeats, axis=None):
    return jnp.repeat(_t(x), repeats, axis=axis)


def pad(x, pad_width, mode="constant", constant_values=None):
    x = _t(x)
    if constant_values is not None:
        if mode != "constant":
            raise ValueError(
                "Argument `constant_values` can only be provided when `mode == 'constant'`. "
                f"Received: mode={mode}"
            )
        return jnp.pad(x, pad_width, mode=mode, constant_values=constant_values)
    return jnp.pad(x, pad_width, mode=mode)


def concatenate(xs, axis=0):
    return jnp.concatenate([_t(x) for x in xs], axis=axis)


def stack(x, axis=0):
    return jnp.stack([_t(a) for a in x], axis=axis)


def hstack(xs):
    return jnp.hstack([_t(x) for x in xs])


def vstack(xs):
    return jnp.vstack([_t(x) for x in xs])


def dstack(xs):
    return jnp.dstack([_t(x) for x in xs])


def append(x1, x2, axis=None):
    return jnp.append(_t(x1), _t(x2), axis=axis)


def split(x, indices_or_sections, axis=0):
    return jnp.split(_t(x), indices_or_sections, axis=axis)


def array_split(x, indices_or_sections, axis=0):
    return jnp.array_split(_t(x), indices_or_sections, axis=axis)


def hsplit(x, indices_or_sections):
    return jnp.hsplit(_t(x), indices_or_sections)


def vsplit(x, indices_or_sections):
    return jnp.vsplit(_t(x), indices_or_sections)


def dsplit(x, indices_or_sections):
    return jnp.dsplit(_t(x), indices_or_sections)


def diag(x, k=0):
    return jnp.diag(_t(x), k=k)


def diagflat(x, k=0):
    return jnp.diagflat(_t(x), k=k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    return jnp.diagonal(_t(x), offset=offset, axis1=axis1, axis2=axis2)


def tril(x, k=0):
    return jnp.tril(_t(x), k=k)


def triu(x, k=0):
    return jnp.triu(_t(x), k=k)


def diff(a, n=1, axis=-1):
    return jnp.diff(_t(a), n=n, axis=axis)


def ndim(x):
    return jnp.ndim(_t(x))


def size(x):
    return jnp.size(_t(x))


def view(x, dtype=None):
    x = _t(x)
    return x if dtype is None else x.view(standardize_dtype(dtype))


# ----------------------------------------------------------------------------- indexing / sorting


def take(x, indices, axis=None):
    x, indices = _t(x), _t(indices)
    return jnp.take(x, indices, axis=axis)


def take_along_axis(x, indices, axis=None):
    return jnp.take_along_axis(_t(x), _t(indices), axis=axis)


def get_item(x, key):
    return _t(x)[key]


def nonzero(x):
    return jnp.nonzero(_t(x))


def sort(x, axis=-1):
    return jnp.sort(_t(x), axis=axis)


def argsort(x, axis=-1):
    return jnp.argsort(_t(x), axis=axis).astype("int32")


def argpartition(x, kth, axis=-1):
    return jnp.argpartition(_t(x), kth, axis=axis).astype("int32")


def searchsorted(sorted_sequence, values, side="left"):
    sorted_sequence = _t(sorted_sequence)
    if sorted_sequence.ndim != 1:
        raise ValueError(
            "`searchsorted` only supports 1-D sorted sequences. Received: "
            f"sorted_sequence.shape={sorted_sequence.shape}"
        )
    return jnp.searchsorted(sorted_sequence, _t(values), side=side).astype("int32")


def digitize(x, bins):
    return jnp.digitize(_t(x), _t(bins)).astype("int32")


def unravel_index(indices, shape):
    return tuple(jnp.unravel_index(_t(indices), shape))


def unique(
    x,
    sorted=True,
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    size=None,
    fill_value=None,
):
    return jnp.unique(
        _t(x),
        return_index=return_index,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=axis,
        size=size,
        fill_value=fill_value,
    )


def bincount(x, weights=None, minlength=0, sparse=False):
    x = _t(x)
    if weights is not None:
        weights = _t(weights)
    if x.ndim == 2:
        if weights is None:
            return jnp.stack([jnp.bincount(row, minlength=minlength) for row in x])
        return jnp.stack([jnp.bincount(r, weights=w, minlength=minlength) for r, w in zip(x, weights)])
    return jnp.bincount(x, weights=weights, minlength=minlength)


def histogram(x, bins=10, range=None):
    return jnp.histogram(_t(x), bins=bins, range=range)


def einsum(subscripts, *operands, **kwargs):
    return jnp.einsum(subscripts, *[_t(o) for o in operands], **kwargs)


def tensordot(x1, x2, axes=2):
    return jnp.tensordot(_t(x1), _t(x2), axes=axes)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    return jnp.cross(_t(x1), _t(x2), axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)


def correlate(x1, x2, mode="valid"):
    x1, x2 = _t(x1), _t(x2)
    dtype = jnp.result_type(x1.dtype, x2.dtype)
    if not jnp.issubdtype(dtype, jnp.inexact):
        dtype = config.floatx()
    return jnp.correlate(x1.astype(dtype), x2.astype(dtype), mode)


def slogdet(x):
    return tuple(jnp.linalg.slogdet(_t(x)))


def vectorize(pyfunc, *, excluded=None, signature=None):
    return jnp.vectorize(pyfunc, excluded=excluded or set(), signature=signature)



__all__ = [
    'abs', 'absolute', 'add', 'all', 'allclose', 'amax', 'amin', 'angle', 'any', 'append',
    'arange', 'arccos', 'arccosh', 'arcsin', 'arcsinh', 'arctan', 'arctan2', 'arctanh',
    'argmax', 'argmin', 'argpartition', 'argsort', 'array', 'array_split', 'average',
    'bartlett', 'bincount', 'bitwise_and', 'bitwise_invert', 'bitwise_left_shift',
    'bitwise_not', 'bitwise_or', 'bitwise_right_shift', 'bitwise_xor', 'blackman',
    'broadcast_to', 'cbrt', 'ceil', 'clip', 'concatenate', 'conj', 'conjugate', 'copy',
    'corrcoef', 'correlate', 'cos', 'cosh', 'count_nonzero', 'cross', 'cumprod', 'cumsum',
    'deg2rad', 'diag', 'diagflat', 'diagonal', 'diff', 'digitize', 'divide', 'divide_no_nan',
    'dot', 'dsplit', 'dstack', 'einsum', 'empty', 'empty_like', 'equal', 'exp', 'exp2',
    'expand_dims', 'expm1', 'eye', 'fabs', 'flip', 'fliplr', 'flipud', 'floor', 'floor_divide',
    'fmax', 'fmin', 'fmod', 'full', 'full_like', 'gcd', 'geomspace', 'get_item', 'greater',
    'greater_equal', 'hamming', 'hanning', 'heaviside', 'histogram', 'hsplit', 'hstack',
    'hypot', 'i0', 'identity', 'imag', 'inner', 'isclose', 'isfinite', 'isin', 'isinf', 'isnan',
    'isneginf', 'isposinf', 'isreal', 'kaiser', 'kron', 'lcm', 'ldexp', 'left_shift', 'less',
    'less_equal', 'linspace', 'log', 'log10', 'log1p', 'log2', 'logaddexp', 'logaddexp2',
    'logical_and', 'logical_not', 'logical_or', 'logical_xor', 'logspace', 'matmul', 'max',
    'maximum', 'mean', 'median', 'meshgrid', 'min', 'minimum', 'mod', 'moveaxis', 'multiply',
    'nan_to_num', 'nanargmax', 'nanargmin', 'nancumprod', 'nancumsum', 'nanmax', 'nanmean',
    'nanmedian', 'nanmin', 'nanpercentile', 'nanprod', 'nanquantile', 'nanstd', 'nansum',
    'nanvar', 'ndim', 'negative', 'nextafter', 'nonzero', 'not_equal', 'ones', 'ones_like',
    'outer', 'pad', 'percentile', 'power', 'prod', 'ptp', 'quantile', 'rad2deg', 'ravel',
    'real', 'reciprocal', 'repeat', 'reshape', 'right_shift', 'roll', 'rot90', 'round',
    'searchsorted', 'select', 'sign', 'signbit', 'sin', 'sinc', 'sinh', 'size', 'slogdet',
    'sort', 'split', 'sqrt', 'square', 'squeeze', 'stack', 'std', 'subtract', 'sum', 'swapaxes',
    'take', 'take_along_axis', 'tan', 'tanh', 'tensordot', 'tile', 'trace', 'transpose',
    'trapezoid', 'tri', 'tril', 'triu', 'true_divide', 'trunc', 'unique', 'unravel_index',
    'vander', 'var', 'vdot', 'vectorize', 'view', 'vsplit', 'vstack', 'where', 'zeros',
    'zeros_like',
]


# Calls on KerasTensors build graph nodes (the classes of ops/op_table.py).
from keras_on_jax.ops.builtin_ops import make_symbolic  # noqa: E402

make_symbolic(globals(), "numpy")
