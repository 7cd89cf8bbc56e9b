"""Max and average pooling (1D/2D/3D) on `jax.lax.reduce_window`.

`padding="same"` average pooling divides each window's sum by the number of real
(non-padded) positions in it, as Keras does.
"""

from __future__ import annotations

import math

import jax
import numpy as np
import jax.numpy as jnp

from keras_on_jax.backend import config as _config
from keras_on_jax.layers.convolutional._utils import standardize_tuple
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer


def _window(values, rank, data_format):
    if data_format == "channels_last":
        return (1, *values, 1)
    return (1, 1, *values)


def pool(inputs, pool_size, strides, padding, data_format, mode):
    rank = inputs.ndim - 2
    window = _window(pool_size, rank, data_format)
    steps = _window(strides, rank, data_format)
    pad = padding.upper()
    if mode == "max":
        init = -jnp.inf if jnp.issubdtype(inputs.dtype, jnp.floating) else jnp.iinfo(inputs.dtype).min
        return jax.lax.reduce_window(inputs, np.array(init, inputs.dtype), jax.lax.max,
                                     window, steps, pad)
    summed = jax.lax.reduce_window(inputs, np.array(0, inputs.dtype), jax.lax.add,
                                   window, steps, pad)
    if padding == "valid":
        return summed / math.prod(pool_size)
    ones_shape = [d if w != 1 else 1 for d, w in zip(inputs.shape, window)]
    counts = jax.lax.reduce_window(jnp.ones(ones_shape, inputs.dtype),
                                   np.array(0, inputs.dtype), jax.lax.add, window, steps,
                                   pad)
    return summed / counts


def pooling_output_shape(input_shape, pool_size, strides, padding, data_format):
    input_shape = tuple(input_shape)
    spatial = input_shape[1:-1] if data_format == "channels_last" else input_shape[2:]
    out = []
    for size, p, s in zip(spatial, pool_size, strides):
        if size is None:
            out.append(None)
        elif padding == "valid":
            n = (size - p) // s + 1
            if n <= 0:
                raise ValueError(
                    "Computed output size would be zero or negative. Received: "
                    f"`inputs.shape={input_shape}`, `pool_size={tuple(pool_size)}`, "
                    f"`strides={tuple(strides)}`, `padding={padding}`."
                )
            out.append(n)
        else:
            out.append((size - 1) // s + 1)
    if data_format == "channels_last":
        return (input_shape[0], *out, input_shape[-1])
    return (input_shape[0], input_shape[1], *out)


class BasePooling(Layer):
    """Shared implementation of the max/average pooling layers."""

    def __init__(self, pool_size, strides, pool_dimensions, pool_mode="max", padding="valid",
                 data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = standardize_tuple(pool_size, pool_dimensions, "pool_size")
        strides = pool_size if strides is None else strides
        self.strides = standardize_tuple(strides, pool_dimensions, "strides", allow_zero=True)
        self.pool_mode = pool_mode
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(
                f"Argument `padding` of {type(self).__name__} must be either 'valid' or "
                f"'same'. Received: padding={padding!r}"
            )
        self.padding = padding
        self.data_format = _config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self.built = True

    def call(self, inputs):
        return pool(inputs, self.pool_size, self.strides, self.padding.lower(),
                    self.data_format, self.pool_mode)

    def compute_output_shape(self, input_shape):
        return pooling_output_shape(input_shape, self.pool_size, self.strides,
                                    self.padding.lower(), self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update({
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        })
        return config


def _make(name, rank, mode, default_pool):
    required = default_pool is None

    if required:
        def __init__(self, pool_size, strides=None, padding="valid", data_format=None,
                     name=None, **kwargs):
            BasePooling.__init__(self, pool_size, strides, pool_dimensions=rank,
                                 pool_mode=mode, padding=padding, data_format=data_format,
                                 name=name, **kwargs)
    else:
        def __init__(self, pool_size=default_pool, strides=None, padding="valid",
                     data_format=None, name=None, **kwargs):
            BasePooling.__init__(self, pool_size, strides, pool_dimensions=rank,
                                 pool_mode=mode, padding=padding, data_format=data_format,
                                 name=name, **kwargs)

    kind = "Max" if mode == "max" else "Average"
    doc = (f"{kind} pooling over {rank}D windows of size `pool_size`, moved by `strides` "
           "(default: `pool_size`).")
    return type(name, (BasePooling,), {"__init__": __init__, "__doc__": doc,
                                       "__module__": __name__})


MaxPooling1D = _make("MaxPooling1D", 1, "max", 2)
MaxPooling2D = _make("MaxPooling2D", 2, "max", (2, 2))
MaxPooling3D = _make("MaxPooling3D", 3, "max", (2, 2, 2))
AveragePooling1D = _make("AveragePooling1D", 1, "average", None)
AveragePooling2D = _make("AveragePooling2D", 2, "average", None)
AveragePooling3D = _make("AveragePooling3D", 3, "average", None)
