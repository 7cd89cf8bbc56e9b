"""`StackedRNNCells`: a stack of RNN cells behaving as one cell."""

from __future__ import annotations

import inspect

import jax.numpy as jnp

from keras_on_jax import serialization
from keras_on_jax.backend import scopes
from keras_on_jax.layers.layer import Layer
from keras_on_jax.layers.rnn.rnn import is_nested


def _call_has_training(cell):
    try:
        return "training" in inspect.signature(cell.call).parameters
    except (TypeError, ValueError):
        return False


class StackedRNNCells(Layer):
    """Wrapper allowing a stack of RNN cells to behave as a single cell.

    Args:
        cells: list of RNN cell instances; the output of each is the input of the next.
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if "call" not in dir(cell):
                raise ValueError(
                    f"All cells must have a `call` method. Received cell without a `call` "
                    f"method: {cell}"
                )
            if "state_size" not in dir(cell):
                raise ValueError(
                    "All cells must have a `state_size` attribute. Received cell without a "
                    f"`state_size`: {cell}"
                )
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        if isinstance(last.state_size, (list, tuple)):
            return last.state_size[0]
        return last.state_size

    def get_initial_state(self, batch_size=None):
        initial_states = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn:
                initial_states.append(fn(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                initial_states.append(
                    jnp.zeros((batch_size, cell.state_size), dtype=self.compute_dtype))
            else:
                initial_states.append(
                    [jnp.zeros((batch_size, d), dtype=self.compute_dtype) for d in cell.state_size])
        return initial_states

    def call(self, inputs, states, training=False, **kwargs):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            state_is_list = is_nested(cell_states)
            cell_states = list(cell_states) if state_is_list else [cell_states]
            if isinstance(cell, Layer) and _call_has_training(cell):
                kwargs["training"] = training
            else:
                kwargs.pop("training", None)
            fn = cell if isinstance(cell, Layer) else (cell.__call__ if callable(cell) else cell.call)
            inputs, cell_states = fn(inputs, cell_states, **kwargs)
            if not is_nested(cell_states):
                cell_states = [cell_states]
            if len(cell_states) == 1 and not state_is_list:
                cell_states = cell_states[0]
            new_states.append(cell_states)
        if len(new_states) == 1:
            new_states = new_states[0]
        return inputs, new_states

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                with scopes.NameScope(cell.name):
                    cell.build(input_shape)
                cell.built = True
                cell._build_shapes = input_shape
            if getattr(cell, "output_size", None) is not None:
                output_dim = cell.output_size
            elif isinstance(cell.state_size, (list, tuple)):
                output_dim = cell.state_size[0]
            else:
                output_dim = cell.state_size
            input_shape = (input_shape[0], output_dim)
        self.built = True

    def get_config(self):
        config = {"cells": [serialization.serialize_keras_object(c) for c in self.cells]}
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [serialization.deserialize_keras_object(c, custom_objects=custom_objects)
                 for c in config.pop("cells")]
        return cls(cells, **config)
