"""`keras.Model`: a Layer with training (`compile`/`fit`/...) and saving.

`Model(inputs, outputs)` returns a Functional model; subclassing `Model` and writing
`call` gives a subclassed model. Both share the trainer in `training/trainer.py`.
"""

from __future__ import annotations

from keras_on_jax import serialization
from keras_on_jax.layers.layer import Layer
from keras_on_jax.training.trainer import Trainer


def _is_functional_call(args, kwargs):
    return ("inputs" in kwargs and "outputs" in kwargs) or (
        len(args) == 2 and "outputs" not in kwargs
    ) or (len(args) == 1 and "outputs" in kwargs)


class Model(Trainer, Layer):
    """A model: groups layers with training and inference features."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and _is_functional_call(args, kwargs):
            from keras_on_jax.models.functional import Functional

            return object.__new__(Functional)
        # A subclass is itself: what its `__init__` hands to `Model.__init__` decides (a
        # `GAN(generator, discriminator)` calling `super().__init__()` is no graph).
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        if _is_functional_call(args, kwargs):
            from keras_on_jax.models.functional import Functional

            # `MyModel(inputs, outputs)` of a subclass (the FAQ's pattern: it overrides
            # `train_step`), or its `__init__` calling `super().__init__(inputs, outputs)`:
            # a Functional graph with the subclass's methods, as Keras 3 injects it.
            if not isinstance(self, Functional):
                self.__class__ = _functional_subclass(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        trainable = kwargs.pop("trainable", True)
        name = kwargs.pop("name", None)
        dtype = kwargs.pop("dtype", None)
        Layer.__init__(self, trainable=trainable, name=name, dtype=dtype, **kwargs)
        Trainer.__init__(self)

    @property
    def layers(self):
        return [layer for layer in self._layers if not _is_input_layer(layer)]

    def build_from_config(self, config):
        """As Keras 3: a subclassed model without its own `build()` is built by running
        `call` on symbolic inputs of the saved `input_shape` (creating its sublayers' state)."""
        shape = config.get("input_shape") if config else None
        if shape is None or self.built or type(self).build is not Layer.build:
            return Layer.build_from_config(self, config)
        import warnings

        from keras_on_jax.layers.layer import _restore_shape
        from keras_on_jax.backend.keras_tensor import KerasTensor

        shape = _restore_shape(shape)
        if isinstance(shape, dict):
            inputs = {k: KerasTensor(v) for k, v in shape.items()}
        elif isinstance(shape, list):
            inputs = [KerasTensor(s) for s in shape]
        else:
            inputs = KerasTensor(shape)
        try:
            self(inputs)
        except Exception:  # as Keras: warn, leave the model to the user
            warnings.warn(
                f"Model '{self.name}' had a build config, but the model cannot be built "
                "automatically in `build_from_config(config)`. You should implement "
                "`def build_from_config(self, config)`, and you might also want to implement "
                "the method that generates the config at saving time, "
                "`def get_build_config(self)`. The method `build_from_config()` is meant to "
                "create the state of the model (i.e. its variables) upon deserialization.",
                stacklevel=2,
            )
            return
        self._build_shapes = shape
        self.built = True

    # ---- quantization and state trees (Keras 3 API; implemented beside) -------------------
    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Quantize the weights of every layer that supports it (Dense, EinsumDense,
        Embedding, ReversibleEmbedding).

        Args:
            mode: `"int8"`, `"int4"` or `"float8"` (optional when `config` gives it).
            config: a `keras.quantizers.QuantizationConfig`.
            filters: a regex (or list of regexes) matched against layer names, or a
                callable `layer -> bool`: only the selected layers are quantized.
        """
        from keras_on_jax.models.quantization import quantize_model

        quantize_model(self, mode, config, filters, **kwargs)

    def get_quantization_layer_structure(self, mode=None):
        """The block structure calibrated quantization modes need (None: not provided)."""
        return None

    def get_state_tree(self, value_format="backend_tensor"):
        """The model's variables as nested dicts keyed by path, in four groups:
        `trainable_variables`, `non_trainable_variables`, `optimizer_variables`,
        `metrics_variables`. `value_format` is `"backend_tensor"` or `"numpy_array"`."""
        from keras_on_jax.models import state_tree

        return state_tree.get_state_tree(self, value_format)

    def set_state_tree(self, state_tree):
        """Assign variables from a tree shaped like `get_state_tree()`'s (by path)."""
        from keras_on_jax.models import state_tree as lib

        lib.set_state_tree(self, state_tree)

    def _host_preprocess(self, x):
        """Apply the model's leading host-only layers to a batch of inputs `x`.

        The trainer calls this on each batch before the compiled step (which cannot carry
        strings). Functional and Sequential models run their leading string layers here;
        a subclassed model has none and gets `x` back unchanged.
        """
        return x

    def get_layer(self, name=None, index=None):
        """Retrieve a layer by its unique name or its index in `model.layers`."""
        if index is not None and name is not None:
            raise ValueError(
                "Provide only a layer name or a layer index. Received: "
                f"index={index}, name={name}."
            )
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        from keras_on_jax.models.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable)

    def get_config(self):
        # Subclassed models: the constructor arguments are unknown; Keras 3 returns the base.
        return {"name": self.name, "trainable": self.trainable,
                "dtype": Layer.get_config(self)["dtype"]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from keras_on_jax.models.functional import Functional

        if "layers" in config and "input_layers" in config:
            return Functional.from_config(config, custom_objects=custom_objects)
        return cls(**config)

    # Saving entry points live in io/; these forward to them.
    def save(self, filepath, overwrite=True, save_format=None, **kwargs):
        from keras_on_jax.io import saving_api

        return saving_api.save_model(self, filepath, overwrite=overwrite,
                                     save_format=save_format, **kwargs)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        from keras_on_jax.io import saving_api

        return saving_api.save_weights(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False, **kwargs):
        from keras_on_jax.io import saving_api

        return saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch,
                                       by_name=by_name, **kwargs)

    def to_json(self, **kwargs):
        from keras_on_jax.io import saving_api

        return saving_api.model_to_json(self, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None,
               **kwargs):
        """Export the model's inference function (`call`, `training=False`) as an artifact
        that serves without the model's code.

        Args:
            filepath: `str` or `pathlib.Path`: the file (ONNX) or directory to write.
            format: `"tf_saved_model"` (needs TensorFlow), `"onnx"` (through jax2onnx) or
                `"jax"` (a `jax.export` program with the weights beside it, loaded by
                `keras_on_jax.export.load` or plain JAX).
            verbose: print a message when done (default `True`).
            input_signature: the inputs' shapes and dtypes (`keras.InputSpec`s,
                KerasTensors or arrays, one per positional argument); by default the
                model's inputs with an unknown batch size.
            **kwargs: `opset_version` (ONNX), `platforms` (`"jax"`: default CPU, CUDA
                and TPU), `is_static` and `jax2tf_kwargs` (`"tf_saved_model"`).
        """
        from keras_on_jax.export import export_model

        export_model(self, filepath, format=format, verbose=verbose,
                     input_signature=input_signature, **kwargs)


_FUNCTIONAL_SUBCLASSES = {}


def _functional_subclass(cls):
    from keras_on_jax.models.functional import Functional

    if cls not in _FUNCTIONAL_SUBCLASSES:
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__})
    return _FUNCTIONAL_SUBCLASSES[cls]


def _is_input_layer(layer):
    from keras_on_jax.layers.core.input_layer import InputLayer

    return isinstance(layer, InputLayer)


serialization.register_public_class(Model, "keras")
