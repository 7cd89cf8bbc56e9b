"""`Wrapper`: base class of layers that wrap another layer."""

from __future__ import annotations

from keras_on_jax import serialization
from keras_on_jax.layers.layer import Layer


def serialize_layer(layer):
    """`keras.saving.serialize_keras_object(layer)` (with its build config)."""
    return serialization.serialize_keras_object(layer)


def deserialize_layer(config, custom_objects=None):
    """`keras.saving.deserialize_keras_object` for a layer config."""
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects)


class Wrapper(Layer):
    """Abstract wrapper base class: holds `self.layer`, builds it, serializes it.

    Args:
        layer: the layer to be wrapped.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please "
                "ensure wrapped layer is a valid Keras layer."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer._build_shapes = input_shape
            self.layer.built = True

    def get_config(self):
        config = {"layer": serialize_layer(self.layer)}
        base_config = super().get_config()
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects=custom_objects)
        return super().from_config({**config, "layer": layer})
