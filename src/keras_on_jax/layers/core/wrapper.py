"""`Wrapper`: base class of layers that wrap another layer."""

from __future__ import annotations

from keras_on_jax.layers.layer import Layer


def serialize_layer(layer):
    """`keras.saving.serialize_keras_object(layer)` (with its build config)."""
    try:
        from keras_on_jax.io import serialization
    except Exception:  # the shared serializer is not always available
        serialization = None
    if serialization is not None and hasattr(serialization, "serialize_keras_object"):
        return serialization.serialize_keras_object(layer)
    config = {"module": "keras.layers", "class_name": type(layer).__name__,
              "config": layer.get_config(), "registered_name": None}
    build_config = layer.get_build_config()
    if build_config is not None:
        config["build_config"] = build_config
    return config


def deserialize_layer(config, custom_objects=None):
    """`keras.saving.deserialize_keras_object` for a layer config."""
    try:
        from keras_on_jax.io import serialization
    except Exception:
        serialization = None
    if serialization is not None and hasattr(serialization, "deserialize_keras_object"):
        return serialization.deserialize_keras_object(config, custom_objects=custom_objects)
    if isinstance(config, Layer):
        return config
    custom_objects = custom_objects or {}
    name = config["class_name"]
    cls = custom_objects.get(name) or custom_objects.get(config.get("registered_name") or "")
    if cls is None:
        import keras_on_jax.layers as layers_pkg

        cls = getattr(layers_pkg, name, None)
    if cls is None:
        from keras_on_jax.layers import attention, core, normalization, regularization

        for pkg in (core, normalization, regularization, attention):
            cls = getattr(pkg, name, None)
            if cls is not None:
                break
    if cls is None:
        raise TypeError(
            f"Could not locate class '{name}'. Make sure custom classes are passed in "
            f"`custom_objects`. Full object config: {config}"
        )
    layer = cls.from_config(config["config"])
    build_config = config.get("build_config")
    if build_config:
        layer.build_from_config(build_config)
    return layer


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
