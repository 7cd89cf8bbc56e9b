"""`Bidirectional`: run an RNN forwards and backwards and merge the two outputs."""

from __future__ import annotations

import copy
import inspect

import jax.numpy as jnp

from keras_on_jax import serialization
from keras_on_jax.backend import scopes
from keras_on_jax.layers.layer import Layer


def _clone(layer, **overrides):
    config = layer.get_config()
    config.update(overrides)
    return type(layer).from_config(config)


def _removeprefix(s, prefix):
    return s[len(prefix):] if s.startswith(prefix) else s


class Bidirectional(Layer):
    """Bidirectional wrapper for RNNs.

    Args:
        layer: an RNN layer instance (`LSTM`, `GRU`, `SimpleRNN`, `RNN`, ...); a copy of it
            (named `forward_<name>`) runs forwards.
        merge_mode: `"concat"` (default), `"sum"`, `"mul"`, `"ave"` or `None` (a list of
            the two outputs).
        backward_layer: optional layer run backwards; by default a copy of `layer` with
            `go_backwards=True`, named `backward_<name>`.

    Call arguments: `sequences`, `initial_state` (forward states then backward states),
    `mask`, `training`. `reset_states(states=None)` resets (or sets) both directions of a
    stateful layer.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a `keras.layers.Layer` "
                f"instance. Received: {layer}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(
                "`backward_layer` need to be a `keras.layers.Layer` instance. "
                f"Received: {backward_layer}"
            )
        if merge_mode not in ["sum", "mul", "ave", "concat", None]:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        self.forward_layer = _clone(
            layer, name=f"forward_{_removeprefix(layer.name, 'forward_')}")
        if backward_layer is None:
            self.backward_layer = _clone(
                layer, go_backwards=True,
                name=f"backward_{_removeprefix(layer.name, 'backward_')}")
        else:
            self.backward_layer = backward_layer
        if hasattr(layer, "use_cudnn"):
            self.forward_layer.use_cudnn = layer.use_cudnn
            self.backward_layer.use_cudnn = layer.use_cudnn
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self._initial_weights = weights
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _verify_layer_config(self):
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` "
                f"value. Received: forward_layer.go_backwards "
                f"{self.forward_layer.go_backwards}, backward_layer.go_backwards="
                f"{self.backward_layer.go_backwards}"
            )
        for a in ("stateful", "return_sequences", "return_state"):
            fv, bv = getattr(self.forward_layer, a), getattr(self.backward_layer, a)
            if fv != bv:
                raise ValueError(
                    "Forward layer and backward layer are expected to have the same value "
                    f'for attribute "{a}", got "{fv}" for forward layer and "{bv}" for '
                    "backward layer"
                )

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        output_shape = self.forward_layer.compute_output_shape(sequences_shape)
        if self.return_state:
            output_shape, state_shape = output_shape[0], tuple(output_shape[1:])
        if self.merge_mode == "concat":
            output_shape = list(output_shape)
            output_shape[-1] *= 2
            output_shape = tuple(output_shape)
        elif self.merge_mode is None:
            output_shape = [tuple(output_shape), tuple(output_shape)]
        if self.return_state:
            if self.merge_mode is None:
                return tuple(output_shape) + state_shape + state_shape
            return (output_shape,) + state_shape + state_shape
        return tuple(output_shape) if self.merge_mode is not None else tuple(output_shape)

    def build(self, sequences_shape, initial_state_shape=None):
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                with scopes.NameScope(sub.name):
                    sub.build(sequences_shape)
                sub._build_shapes = sequences_shape
                sub.built = True
        if self._initial_weights:
            self.set_weights(self._initial_weights)
            self._initial_weights = None
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=None):
        params = inspect.signature(self.forward_layer.call).parameters
        kwargs = {}
        if "training" in params:
            kwargs["training"] = training
        if "mask" in params:
            kwargs["mask"] = mask
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        else:
            forward_state = backward_state = None
        y = self.forward_layer(sequences, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, **kwargs)
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        y = y.astype(self.compute_dtype)
        y_rev = y_rev.astype(self.compute_dtype)
        if self.return_sequences:
            y_rev = jnp.flip(y_rev, axis=1)
        if self.merge_mode == "concat":
            output = jnp.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = (y, y_rev)
        if self.return_state:
            if self.merge_mode is None:
                return output + states
            return (output,) + states
        return output

    def reset_states(self, states=None):
        """Reset both directions' states (or set them: forward states, then backward)."""
        self.reset_state(states)

    def reset_state(self, states=None):
        if states is None:
            if not self.stateful:
                return
            self.forward_layer.reset_state()
            self.backward_layer.reset_state()
            return
        if not self.stateful:
            raise AttributeError(
                f"Layer '{self.name}' must be stateful to set its states; received states.")
        states = list(states)
        half = len(states) // 2
        self.forward_layer.reset_state(states[:half])
        self.backward_layer.reset_state(states[half:])

    @property
    def states(self):
        fs = getattr(self.forward_layer, "states", None)
        bs = getattr(self.backward_layer, "states", None)
        if fs and bs:
            return tuple(list(fs) + list(bs))
        return None

    def compute_mask(self, _, mask):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self.return_sequences:
            output_mask = (mask, mask) if not self.merge_mode else mask
        else:
            output_mask = (None, None) if not self.merge_mode else None
        if self.return_state:
            n_states = len(self.forward_layer.state_size) if hasattr(
                self.forward_layer, "state_size") else 1
            state_mask = [None] * (2 * n_states)
            if isinstance(output_mask, tuple):
                return list(output_mask) + state_mask
            return [output_mask] + state_mask
        return output_mask

    def get_config(self):
        config = {"merge_mode": self.merge_mode}
        config["layer"] = serialization.serialize_keras_object(self.forward_layer)
        config["backward_layer"] = serialization.serialize_keras_object(self.backward_layer)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        config["layer"] = serialization.deserialize_keras_object(
            config["layer"], custom_objects=custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = serialization.deserialize_keras_object(
                backward, custom_objects=custom_objects)
        return cls(**config)
