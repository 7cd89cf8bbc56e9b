"""`Rescaling`: `inputs * scale + offset`."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import config
from keras_on_jax.layers.layer import Layer


def _serialize_number(value):
    if isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "__array__") and not isinstance(value, (list, tuple)):
        value = np.asarray(value).tolist()
    return value


class Rescaling(Layer):
    """A preprocessing layer which rescales input values to a new range.

    Every value is multiplied by `scale` and `offset` is added: `scale=1./255` maps
    `[0, 255]` to `[0, 1]`; `scale=1./127.5, offset=-1` maps it to `[-1, 1]`. Applied in
    training and inference. Integer inputs are cast to the layer's compute dtype.
    Runs inside the compiled step (pure jax.numpy).

    Args:
        scale: float (or per-channel list/array), the scale to apply.
        offset: float (or per-channel list/array), the offset to add.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        dtype = self.compute_dtype
        scale = jnp.asarray(self.scale, dtype=dtype)
        offset = jnp.asarray(self.offset, dtype=dtype)
        if scale.ndim > 0 and config.image_data_format() == "channels_first":
            scale = jnp.reshape(scale, scale.shape + (1,) * (3 - scale.ndim))
        return jnp.asarray(inputs).astype(dtype) * scale + offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config_ = super().get_config()
        config_.update({"scale": _serialize_number(self.scale),
                        "offset": _serialize_number(self.offset)})
        return config_
