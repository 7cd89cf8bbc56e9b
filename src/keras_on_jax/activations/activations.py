"""The built-in Keras activation functions, over `keras_on_jax.ops`."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax import ops
from keras_on_jax.backend.variables import convert_to_tensor as _t


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """ReLU with optional leak (`negative_slope`), cap (`max_value`) and `threshold`."""
    x = _t(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return ops.leaky_relu(x, negative_slope=negative_slope)
        negative_part = ops.relu(-x + threshold) if threshold != 0 else ops.relu(-x)
    else:
        negative_part = 1
    clip_max = max_value is not None
    if threshold != 0:
        x = jnp.where(x > jnp.asarray(threshold, x.dtype), x, jnp.zeros((), x.dtype))
    elif max_value == 6:
        x = ops.relu6(x)
        clip_max = False
    else:
        x = ops.relu(x)
    if clip_max:
        x = jnp.clip(x, jnp.asarray(0.0, x.dtype), jnp.asarray(max_value, x.dtype))
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


def leaky_relu(x, negative_slope=0.2):
    return ops.leaky_relu(x, negative_slope=negative_slope)


def relu6(x):
    return ops.relu6(x)


def softmax(x, axis=-1):
    return ops.softmax(x, axis=axis)


def elu(x, alpha=1.0):
    return ops.elu(x, alpha=alpha)


def selu(x):
    return ops.selu(x)


def softplus(x):
    return ops.softplus(x)


def softsign(x):
    return ops.softsign(x)


def soft_shrink(x, threshold=0.5):
    return ops.soft_shrink(x, threshold=threshold)


def sparse_plus(x):
    return ops.sparse_plus(x)


def silu(x):
    return ops.silu(x)


swish = silu


def squareplus(x, b=4):
    return ops.squareplus(x, b=b)


def gelu(x, approximate=False):
    return ops.gelu(x, approximate=approximate)


def celu(x, alpha=1.0):
    return ops.celu(x, alpha=alpha)


def glu(x, axis=-1):
    return ops.glu(x, axis=axis)


def tanh(x):
    return ops.tanh(x)


def tanh_shrink(x):
    return ops.tanh_shrink(x)


def hard_tanh(x):
    return ops.hard_tanh(x)


def hard_shrink(x, threshold=0.5):
    return ops.hard_shrink(x, threshold=threshold)


def threshold(x, threshold, default_value):
    return ops.threshold(x, threshold, default_value)


def sigmoid(x):
    return ops.sigmoid(x)


def exponential(x):
    return ops.exp(x)


def hard_sigmoid(x):
    return ops.hard_sigmoid(x)


def log_sigmoid(x):
    return ops.log_sigmoid(x)


def sparse_sigmoid(x):
    return ops.sparse_sigmoid(x)


def hard_silu(x):
    return ops.hard_silu(x)


hard_swish = hard_silu


def linear(x):
    """The identity."""
    return x


def mish(x):
    """`x * tanh(softplus(x))`."""
    x = _t(x)
    return x * ops.nn.tanh(ops.softplus(x))


def log_softmax(x, axis=-1):
    return ops.log_softmax(x, axis=axis)


def sparsemax(x, axis=-1):
    return ops.sparsemax(x, axis=axis)
