"""Adaptive pooling (`AdaptiveAveragePooling1D/2D/3D`, `AdaptiveMaxPooling1D/2D/3D`).

Output cell `i` of a spatial axis of length `L` pooled to `n` covers the input window
`[floor(i * L / n), ceil((i + 1) * L / n))` (PyTorch's and Keras 3's definition). Both
reductions are separable over axes, so each spatial axis is pooled in turn.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import config
from keras_on_jax.layers.layer import Layer


def _window_mask(length, out):
    starts = [math.floor(i * length / out) for i in range(out)]
    ends = [math.ceil((i + 1) * length / out) for i in range(out)]
    mask = np.zeros((out, length), dtype=bool)
    for i, (s, e) in enumerate(zip(starts, ends)):
        mask[i, s:e] = True
    return mask


def adaptive_pool(inputs, output_size, mode, data_format):
    x = jnp.asarray(inputs)
    dims = x.ndim - 2
    spatial = list(range(1, 1 + dims)) if data_format == "channels_last" else list(range(2, 2 + dims))
    for axis, out in zip(spatial, output_size):
        length = x.shape[axis]
        mask = _window_mask(length, out)
        moved = jnp.moveaxis(x, axis, -1)
        if mode == "average":
            weights = jnp.asarray(mask / mask.sum(axis=1, keepdims=True), dtype=x.dtype)
            pooled = jnp.einsum("...l,ol->...o", moved, weights)
        else:
            neg = jnp.asarray(-jnp.inf, x.dtype) if jnp.issubdtype(x.dtype, jnp.floating) else jnp.iinfo(x.dtype).min
            pooled = jnp.max(jnp.where(jnp.asarray(mask), moved[..., None, :], neg), axis=-1)
        x = jnp.moveaxis(pooled, -1, axis)
    return x


class _BaseAdaptivePooling(Layer):
    _DIMS = 1
    _MODE = "average"

    def __init__(self, output_size, data_format=None, **kwargs):
        n = self._DIMS
        if isinstance(output_size, int) and not isinstance(output_size, bool):
            output_size = (output_size,) * n
        elif isinstance(output_size, (tuple, list)) and len(output_size) == n:
            output_size = tuple(output_size)
        else:
            raise TypeError(
                f"{type(self).__name__}: `output_size` must be an integer or a tuple of {n} "
                f"integers. Received: {output_size} of type {type(output_size)}")
        super().__init__(**kwargs)
        self.output_size = output_size
        self.data_format = data_format or config.image_data_format()
        if self.data_format not in {"channels_first", "channels_last"}:
            raise ValueError(f"{type(self).__name__}: invalid data_format: {self.data_format}. "
                             "Expected 'channels_first' or 'channels_last'.")

    def call(self, inputs):
        x = jnp.asarray(inputs)
        if x.ndim != self._DIMS + 2:
            raise ValueError(f"{type(self).__name__} expects inputs of rank {self._DIMS + 2}. "
                             f"Received: inputs.shape={tuple(x.shape)}")
        return adaptive_pool(x, self.output_size, self._MODE, self.data_format)

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        if self.data_format == "channels_last":
            return (batch, *self.output_size, input_shape[-1])
        return (batch, input_shape[1], *self.output_size)

    def get_config(self):
        base = super().get_config()
        base.update({"output_size": self.output_size, "data_format": self.data_format})
        return base


def _make(name, dims, mode):
    doc = (f"Adaptive {mode} pooling over {dims} spatial dimension(s) "
           f"(`keras.layers.{name}`).\n\n    Args:\n        output_size: int or tuple of "
           f"{dims} ints, the output spatial size.\n        data_format: `\"channels_last\"` or "
           "`\"channels_first\"`.\n")
    return type(name, (_BaseAdaptivePooling,), {"_DIMS": dims, "_MODE": mode, "__doc__": doc,
                                                "__module__": __name__})


AdaptiveAveragePooling1D = _make("AdaptiveAveragePooling1D", 1, "average")
AdaptiveAveragePooling2D = _make("AdaptiveAveragePooling2D", 2, "average")
AdaptiveAveragePooling3D = _make("AdaptiveAveragePooling3D", 3, "average")
AdaptiveMaxPooling1D = _make("AdaptiveMaxPooling1D", 1, "max")
AdaptiveMaxPooling2D = _make("AdaptiveMaxPooling2D", 2, "max")
AdaptiveMaxPooling3D = _make("AdaptiveMaxPooling3D", 3, "max")
