"""`SimpleRNNCell` and `SimpleRNN`: `h_t = activation(x_t W + h_{t-1} U + b)`."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax import activations
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer
from keras_on_jax.layers.rnn._cell_base import (CELL_OPTIONS, add_cell_weights, check_units,
                                                common_config, init_common, layer_config)
from keras_on_jax.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from keras_on_jax.layers.rnn.rnn import RNN, delegate_to_cell, is_nested


class SimpleRNNCell(Layer, DropoutRNNCell):
    """Cell class for `SimpleRNN` (one step of a fully-connected RNN).

    Args:
        units: positive int, the output (and state) size.
        activation: default `"tanh"`.
        use_bias, kernel_initializer (`"glorot_uniform"`), recurrent_initializer
        (`"orthogonal"`), bias_initializer (`"zeros"`), *_regularizer, *_constraint.
        dropout, recurrent_dropout: fractions of the inputs / states dropped in training.
        seed: seed of the dropout masks.

    Weights: `kernel (input_dim, units)`, `recurrent_kernel (units, units)`, `bias (units,)`.
    """

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        check_units(units, type(self).__name__)
        super().__init__(**kwargs)
        self.units = units
        init_common(self, locals())
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        add_cell_weights(self, (input_shape[-1], self.units), (self.units, self.units),
                         (self.units,), self.bias_initializer)

    def call(self, sequence, states, training=False):
        prev_output = states[0] if is_nested(states) else states
        if training and 0.0 < self.dropout < 1.0:
            sequence = sequence * self.get_dropout_mask(sequence)
        h = jnp.matmul(sequence, self.kernel.value)
        if self.bias is not None:
            h = h + self.bias.value
        if training and 0.0 < self.recurrent_dropout < 1.0:
            prev_output = prev_output * self.get_recurrent_dropout_mask(prev_output)
        output = h + jnp.matmul(prev_output, self.recurrent_kernel.value)
        if self.activation is not None:
            output = self.activation(output)
        new_state = [output] if is_nested(states) else output
        return output, new_state

    def get_initial_state(self, batch_size=None):
        return [jnp.zeros((batch_size, self.state_size), dtype=self.compute_dtype)]

    def _arguments_config(self, **layer_entries):
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **common_config(self),
            **layer_entries,
            "seed": self.seed,
        }

    def get_config(self):
        return {**super().get_config(), **self._arguments_config()}


_SIMPLE_PROPS = ("units", "activation", "use_bias", *CELL_OPTIONS, "dropout",
                 "recurrent_dropout")


class SimpleRNN(RNN):
    """Fully-connected RNN where the output is fed back as the new input.

    Takes `SimpleRNNCell`'s arguments plus RNN's (`return_sequences`, `return_state`,
    `go_backwards`, `stateful`, `unroll`). Input `(batch, timesteps, features)`.
    """

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None, **kwargs):
        cell = SimpleRNNCell(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True), name="simple_rnn_cell")
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def get_config(self):
        config = layer_config(self, super().get_config())
        del config["seed"]  # Keras's SimpleRNN layer writes none (its cell does)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


delegate_to_cell(SimpleRNN, _SIMPLE_PROPS)
