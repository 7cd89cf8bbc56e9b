"""`TimeDistributed`: apply a layer to every temporal slice of an input."""

from __future__ import annotations

import inspect

import jax.numpy as jnp

from keras_on_jax.backend import scopes
from keras_on_jax.layers.core.wrapper import Wrapper
from keras_on_jax.layers.layer import Layer


class TimeDistributed(Wrapper):
    """Applies `layer` to every temporal slice (axis 1) of the input.

    As in Keras 3, the wrapped layer's `call` runs once per timestep (so a layer with
    per-call state, e.g. BatchNormalization in training, sees each step separately).

    Args:
        layer: a `keras.layers.Layer` instance.

    Input shape `(batch, time, ...)`; output `(batch, time, ...layer output...)`.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `TimeDistributed` layer with a `keras.layers.Layer` "
                f"instance. Received: {layer}"
            )
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _get_child_input_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(
                "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                f"dimensions, received: {input_shape}"
            )
        return (input_shape[0], *input_shape[2:])

    def compute_output_shape(self, input_shape):
        child_input_shape = self._get_child_input_shape(input_shape)
        child_output_shape = self.layer.compute_output_shape(child_input_shape)
        return (child_output_shape[0], input_shape[1], *child_output_shape[1:])

    def build(self, input_shape):
        child_input_shape = self._get_child_input_shape(input_shape)
        if not self.layer.built:
            with scopes.NameScope(self.layer.name):
                self.layer.build(child_input_shape)
            self.layer._build_shapes = child_input_shape
            self.layer.built = True
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            mask_shape, input_shape = mask.shape, inputs.shape
            if len(mask_shape) < 2:
                raise ValueError(
                    "The `mask` passed to the `TimeDistributed` layer must be at least 2D "
                    "(e.g., `(batch_size, timesteps)`), but it has "
                    f"{len(mask_shape)} dimension(s) with shape {mask_shape}."
                )
            if tuple(mask_shape[:2]) != tuple(input_shape[:2]):
                raise ValueError(
                    f"The `mask` passed to the `TimeDistributed` layer has a shape "
                    f"{mask_shape} that is incompatible with the input shape {input_shape}. "
                    "The first two dimensions of the mask (batch size and timesteps) must "
                    f"match the input's first two dimensions. Expected mask shape prefix: "
                    f"({input_shape[0]}, {input_shape[1]})."
                )
        params = inspect.signature(self.layer.call).parameters
        outputs = []
        with scopes.NameScope(self.layer.name):
            for i in range(inputs.shape[1]):
                kwargs = {}
                if "mask" in params and mask is not None:
                    kwargs["mask"] = mask[:, i]
                if "training" in params:
                    kwargs["training"] = training
                outputs.append(self.layer.call(inputs[:, i], **kwargs))
        return jnp.stack(outputs, axis=1)
