"""`keras.Sequential`: a linear stack of layers."""

from __future__ import annotations

import numpy as np

from keras_on_jax import serialization
from keras_on_jax.layers.core.input_layer import InputLayer
from keras_on_jax.layers.layer import Layer
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.models.model import Model


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: optional list of layers to add.
        trainable: whether the model's variables are trained.
        name: model name.
    """

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        self._seq_layers = []
        self._functional = None
        if layers:
            for layer in layers:
                self.add(layer, rebuild=False)
            self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        """Add a layer (or a `keras.Input` tensor) on top of the stack."""
        if isinstance(layer, KerasTensor) and layer._keras_history is not None:
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `keras.Layer` can be added to a Sequential model. "
                f"Received: {layer} (of type {type(layer)})"
            )
        if isinstance(layer, InputLayer) and self._seq_layers and isinstance(self._seq_layers[0], InputLayer):
            raise ValueError(
                f"Sequential model '{self.name}' has already been configured to use input "
                f"shape {self._seq_layers[0].batch_shape}. You cannot add a different Input "
                f"layer to it."
            )
        if not self._seq_layers and not isinstance(layer, InputLayer):
            shape = getattr(layer, "_input_shape_arg", None)
            if shape is not None:
                self._seq_layers.append(InputLayer(batch_shape=shape))
        names = {l.name for l in self._seq_layers}
        if layer.name in names:
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f"'{layer.name}' is already the name of a layer in this model. Update the "
                "`name` argument to pass a unique name."
            )
        self._seq_layers.append(layer)
        if rebuild:
            self._maybe_rebuild()
        else:
            self.built = False

    def pop(self, rebuild=True):
        """Remove the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._seq_layers.pop()
        self.built = False
        self._functional = None
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        self.built = False
        self._functional = None
        if len(self._seq_layers) < 2:
            return
        first = self._seq_layers[0]
        if isinstance(first, InputLayer):
            self.build(first.batch_shape)
        elif isinstance(first, Model):
            # A built model as the first layer (a pretrained base) gives the input shape,
            # as in Keras 3.
            try:
                shape = first.input_shape
            except (AttributeError, ValueError):
                shape = None
            if isinstance(shape, tuple):
                self.build(shape)

    def build(self, input_shape=None):
        if input_shape is None:
            if self._seq_layers and isinstance(self._seq_layers[0], InputLayer):
                input_shape = self._seq_layers[0].batch_shape
            else:
                raise ValueError("You must provide an `input_shape` argument.")
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        if not self._seq_layers:
            raise ValueError(
                f"Sequential model {self.name} cannot be built because it has no layers. "
                "Call `model.add(layer)`."
            )
        if isinstance(self._seq_layers[0], InputLayer):
            if tuple(self._seq_layers[0].batch_shape) != input_shape and not all(
                a is None or b is None or a == b
                for a, b in zip(self._seq_layers[0].batch_shape, input_shape)
            ):
                raise ValueError(
                    f"Sequential model '{self.name}' has already been configured to use input "
                    f"shape {self._seq_layers[0].batch_shape}. You cannot build it with "
                    f"input_shape {input_shape}"
                )
            input_layer, layers = self._seq_layers[0], self._seq_layers[1:]
        else:
            dtype = getattr(self._seq_layers[0], "input_dtype", None)
            input_layer, layers = InputLayer(batch_shape=input_shape, dtype=dtype), self._seq_layers
        inputs = x = input_layer.output
        with self._own_name_scope():  # `build` may already run in it
            for layer in layers:
                x = layer(x)
        # Only a build that went through adds the InputLayer (one that failed, say inside
        # a trace, leaves the model as it was, to be built again).
        self._seq_layers = [input_layer, *layers]
        from keras_on_jax.models.functional import Functional

        self._functional = Functional(inputs=inputs, outputs=x, name=self.name + "_functional")
        # As Keras 3's Sequential: inputs are checked for rank only (its layers check what
        # they need), so a model built from a first batch, or loaded from a file that
        # recorded one, takes sequences of other lengths.
        self._functional._checks_input_dims = False
        self.built = True
        self._build_shapes = input_shape

    def call(self, inputs, training=None, mask=None):
        if self._functional is not None:
            return self._functional.call(inputs, training=training, mask=mask)
        x = inputs
        for layer in self.layers:
            kwargs = {}
            if "training" in layer._call_signature.parameters:
                kwargs["training"] = training
            x = layer(x, **kwargs)
        return x

    def _maybe_build(self, args, kwargs):
        if self.built:
            return
        first = args[0] if args else next(iter(kwargs.values()))
        self._build_for_data(first)

    def _build_for_data(self, first):
        """Build from a batch; strings for a host layer get a `string` input layer.

        As in Keras 3, the model's input is that first batch's shape (`input_shape` is
        `(3, 6)` after a first call on a (3, 6) batch), and the model then takes batches
        of other shapes of the same rank (the masking guide's sequences of another
        length); its layers check what they need.
        """
        if not hasattr(first, "shape"):
            first = np.asarray(first)
        shape = tuple(first.shape)
        # The trainer builds from a one-row probe when a first attempt inside a trace
        # failed (weights cannot be made there): the model keeps the first batch's shape.
        seen = self.__dict__.get("_first_data_shape")
        if seen is not None and len(seen) == len(shape) and seen[1:] == shape[1:]:
            shape = seen
        self._first_data_shape = shape
        dtype = getattr(first, "dtype", None)
        if (dtype is not None and np.dtype(dtype).kind in "OSU" and self._seq_layers
                and not isinstance(self._seq_layers[0], InputLayer)
                and getattr(self._seq_layers[0], "_runs_on_host", False)):
            self._seq_layers.insert(0, InputLayer(batch_shape=shape, dtype="string"))
            self.build()
            return
        self.build(shape)

    def _host_preprocess(self, x):
        """Run the leading host-only layers (string preprocessing) on a batch `x`.

        See `Functional._host_preprocess`; an unbuilt model is built from `x` first.
        """
        if x is None:
            return x
        if (self._functional is None and not self.built and self._seq_layers
                and getattr(self._seq_layers[0], "_runs_on_host", False)
                and not isinstance(x, (dict, list, tuple))):
            self._build_for_data(x)
        if self._functional is None:
            return x
        return self._functional._host_preprocess(x)

    @property
    def _layers(self):
        return list(self._seq_layers)

    @property
    def layers(self):
        return [l for l in self._seq_layers if not isinstance(l, InputLayer)]

    @property
    def inputs(self):
        return self._functional.inputs if self._functional is not None else None

    @property
    def outputs(self):
        return self._functional.outputs if self._functional is not None else None

    @property
    def input(self):
        if self._functional is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined input yet.")
        return self._functional.input

    @property
    def output(self):
        if self._functional is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined output yet.")
        return self._functional.output

    @property
    def input_shape(self):
        return self._functional.inputs[0].shape if self._functional else None

    @property
    def output_shape(self):
        return self._functional.outputs[0].shape if self._functional else None

    @property
    def output_names(self):
        return [self.layers[-1].name] if self.layers else []

    def compute_output_spec(self, *args, **kwargs):
        if self._functional is not None:
            return self._functional.compute_output_spec(*args, **kwargs)
        return super().compute_output_spec(*args, **kwargs)

    def get_config(self):
        layer_configs = [serialization.serialize_keras_object(l) for l in self._seq_layers]
        config = Layer.get_config(self)
        config["layers"] = layer_configs
        if self._build_shapes is not None and self._functional is not None:
            config["build_input_shape"] = list(self._build_shapes)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer_configs = config.pop("layers")
        build_input_shape = config.pop("build_input_shape", None)
        config.pop("dtype", None) if isinstance(config.get("dtype"), dict) else None
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in layer_configs:
            layer = serialization.deserialize_keras_object(layer_config, custom_objects=custom_objects)
            model.add(layer, rebuild=False)
        model._maybe_rebuild()
        if not model.built and build_input_shape is not None:
            model.build(tuple(build_input_shape))
        return model


serialization.register_public_class(Sequential, "keras")
