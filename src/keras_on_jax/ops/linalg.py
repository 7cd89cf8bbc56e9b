"""`keras.ops.linalg`: linear algebra over `jax.numpy.linalg` / `jax.scipy.linalg`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy as jsp

from keras_on_jax.backend.variables import convert_to_tensor as _t


def _float(x):
    x = _t(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        from keras_on_jax.backend import config

        x = x.astype(config.floatx())
    return x


def cholesky(x, upper=False):
    """Cholesky factor of a positive-definite matrix (lower unless `upper`)."""
    out = jnp.linalg.cholesky(_float(x), upper=upper)
    if not isinstance(out, jax.core.Tracer) and bool(jnp.any(jnp.isnan(out))):
        raise ValueError(
            "Cholesky decomposition failed. The input might not be a valid positive definite matrix."
        )
    return out


def cholesky_inverse(x, upper=False):
    """Inverse of `A` given its Cholesky factor `x`."""
    x = _float(x)
    eye = jnp.eye(x.shape[-1], dtype=x.dtype)
    inv_chol = jsp.linalg.solve_triangular(x, eye, lower=not upper)
    if upper:
        return jnp.matmul(inv_chol, jnp.swapaxes(inv_chol, -1, -2))
    return jnp.matmul(jnp.swapaxes(inv_chol, -1, -2), inv_chol)


def det(x):
    return jnp.linalg.det(_float(x))


def eig(x):
    return jnp.linalg.eig(_float(x))


def eigh(x):
    return jnp.linalg.eigh(_float(x))


def inv(x):
    return jnp.linalg.inv(_float(x))


def lu_factor(x):
    """LU factorization with partial pivoting: `(lu, pivots)`; batched over leading axes."""
    x = _float(x)
    fn = jsp.linalg.lu_factor
    for _ in range(x.ndim - 2):
        fn = jax.vmap(fn)
    return fn(x)


def norm(x, ord=None, axis=None, keepdims=False):
    return jnp.linalg.norm(_float(x), ord=ord, axis=axis, keepdims=keepdims)


def qr(x, mode="reduced"):
    if mode not in ("reduced", "complete"):
        raise ValueError(
            f"`mode` argument value not supported. Expected one of {{'reduced', 'complete'}}. Received: mode={mode}"
        )
    return jnp.linalg.qr(_float(x), mode=mode)


def solve(a, b):
    return jnp.linalg.solve(_float(a), _float(b))


def solve_triangular(a, b, lower=False):
    return jsp.linalg.solve_triangular(_float(a), _float(b), lower=lower)


def svd(x, full_matrices=True, compute_uv=True):
    return jnp.linalg.svd(_float(x), full_matrices=full_matrices, compute_uv=compute_uv)


def lstsq(a, b, rcond=None):
    """Least-squares solution of `a @ x = b`."""
    return jnp.linalg.lstsq(_float(a), _float(b), rcond=rcond)[0]


def matrix_rank(x, tol=None):
    x = _float(x)
    if x.ndim < 2:
        raise ValueError(f"Expected input to have rank >= 2. Received input with shape {x.shape}.")
    return jnp.linalg.matrix_rank(x, tol=tol).astype("int32")


def pinv(x, rcond=None):
    x = _float(x)
    if x.ndim < 2:
        raise ValueError(f"Expected input to have rank >= 2. Received input with shape {x.shape}.")
    return jnp.linalg.pinv(x, rtol=rcond) if rcond is not None else jnp.linalg.pinv(x)


def jvp(fun, primals, tangents, has_aux=False):
    """Jacobian-vector product: `(fun(*primals), J @ tangents)`."""
    return jax.jvp(fun, primals, tangents, has_aux=has_aux)


__all__ = [
    'cholesky', 'cholesky_inverse', 'det', 'eig', 'eigh', 'inv', 'jvp', 'lstsq', 'lu_factor',
    'matrix_rank', 'norm', 'pinv', 'qr', 'solve', 'solve_triangular', 'svd',
]


# Calls on KerasTensors build graph nodes (the classes of ops/op_table.py).
from keras_on_jax.ops.builtin_ops import make_symbolic  # noqa: E402

make_symbolic(globals(), "linalg")
