"""Global max/average pooling (1D/2D/3D): reduce every spatial axis."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.backend import config as _config
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer


class BaseGlobalPooling(Layer):
    """Shared implementation of the global pooling layers."""

    _mode = "max"

    def __init__(self, pool_dimensions, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _config.standardize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self._pool_dimensions = pool_dimensions
        self.built = True

    def _axes(self):
        start = 1 if self.data_format == "channels_last" else 2
        return tuple(range(start, start + self._pool_dimensions))

    def call(self, inputs):
        if self._mode == "max":
            return jnp.max(inputs, axis=self._axes(), keepdims=self.keepdims)
        return jnp.mean(inputs, axis=self._axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        n = len(input_shape) - 2
        if self.data_format == "channels_last":
            if self.keepdims:
                return (input_shape[0], *(1,) * n, input_shape[-1])
            return (input_shape[0], input_shape[-1])
        if self.keepdims:
            return (input_shape[0], input_shape[1], *(1,) * n)
        return (input_shape[0], input_shape[1])

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


def _make(name, rank, mode):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        BaseGlobalPooling.__init__(self, pool_dimensions=rank, data_format=data_format,
                                   keepdims=keepdims, **kwargs)

    kind = "max" if mode == "max" else "average"
    doc = f"Global {kind} pooling over the {rank} spatial axes."
    return type(name, (BaseGlobalPooling,), {"__init__": __init__, "__doc__": doc,
                                             "_mode": mode, "__module__": __name__})


GlobalMaxPooling1D = _make("GlobalMaxPooling1D", 1, "max")
GlobalMaxPooling2D = _make("GlobalMaxPooling2D", 2, "max")
GlobalMaxPooling3D = _make("GlobalMaxPooling3D", 3, "max")
GlobalAveragePooling2D = _make("GlobalAveragePooling2D", 2, "average")
GlobalAveragePooling3D = _make("GlobalAveragePooling3D", 3, "average")


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Global average pooling over time; masked steps (mask False) are left out."""

    _mode = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=1, data_format=data_format, keepdims=keepdims,
                         **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        steps_axis = 1 if self.data_format == "channels_last" else 2
        if mask is None:
            return jnp.mean(inputs, axis=steps_axis, keepdims=self.keepdims)
        mask = jnp.expand_dims(jnp.asarray(mask), 2 if self.data_format == "channels_last" else 1)
        mask = mask.astype(bool)
        inputs = jnp.where(mask, inputs, 0)
        float_mask = mask.astype(inputs.dtype)
        return (jnp.sum(inputs, axis=steps_axis, keepdims=self.keepdims)
                / jnp.sum(float_mask, axis=steps_axis, keepdims=self.keepdims))

    def compute_mask(self, inputs, previous_mask=None):
        return None
