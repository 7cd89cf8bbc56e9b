"""`Masking`: masks timesteps whose features all equal `mask_value`."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.layers.layer import Layer, set_keras_mask
from keras_on_jax.backend.keras_tensor import KerasTensor


class Masking(Layer):
    """Masks a sequence by skipping timesteps where every feature equals `mask_value`.

    Masked timesteps are zeroed in the output and the mask `(batch, timesteps)` is
    propagated to downstream layers.

    Args:
        mask_value: the value marking padding (default 0.0).
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, dict) and mask_value.get("config", None) is not None:
            # A serialized tensor/NumPy value (as Keras writes it).
            mask_value = mask_value["config"].get("value", mask_value)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def compute_mask(self, inputs, mask=None):
        if isinstance(inputs, KerasTensor):
            return KerasTensor(inputs.shape[:-1], dtype="bool")
        return jnp.any(jnp.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        boolean_mask = jnp.any(jnp.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        outputs = jnp.where(boolean_mask, inputs, jnp.zeros((), dtype=inputs.dtype))
        set_keras_mask(outputs, jnp.squeeze(boolean_mask, axis=-1))
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
