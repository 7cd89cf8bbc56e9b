"""`LSTMCell` and `LSTM` (Hochreiter 1997), Keras gate order `i, f, c, o`."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax import activations, initializers
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer
from keras_on_jax.layers.rnn._cell_base import (CELL_OPTIONS, add_cell_weights, check_units,
                                                check_use_cudnn, common_config, gate_matmul,
                                                init_common, layer_config)
from keras_on_jax.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from keras_on_jax.layers.rnn.rnn import RNN, delegate_to_cell


def forget_bias_initializer(base, n):
    """Bias initializer `[base(n), ones(n), base(2n)]` (`unit_forget_bias=True`)."""

    def init(shape, dtype=None, **kwargs):
        ones = initializers.get("ones")
        return jnp.concatenate([
            jnp.asarray(base((n,), dtype=dtype)),
            jnp.asarray(ones((n,), dtype=dtype)),
            jnp.asarray(base((n * 2,), dtype=dtype)),
        ])

    return init


def lstm_gates(z_i, z_f, z_c, z_o, c_tm1, activation, recurrent_activation):
    """One LSTM step from the gates' pre-activations: returns `(h, c)`."""
    i = recurrent_activation(z_i)
    f = recurrent_activation(z_f)
    c = f * c_tm1 + i * activation(z_c)
    o = recurrent_activation(z_o)
    h = o * activation(c)
    return h, c


class LSTMCell(Layer, DropoutRNNCell):
    """Cell class for the LSTM layer (one step).

    Args:
        units: positive int, the output size.
        activation (`"tanh"`), recurrent_activation (`"sigmoid"`), use_bias,
        kernel_initializer, recurrent_initializer, bias_initializer,
        unit_forget_bias (add 1 to the forget-gate bias at initialization),
        *_regularizer, *_constraint, dropout, recurrent_dropout, seed.
        implementation: accepted for compatibility (Keras's 1 or 2); with
            `recurrent_dropout` (or `implementation=1`) each gate gets its own dropout mask.

    Weights: `kernel (input_dim, 4*units)`, `recurrent_kernel (units, 4*units)`,
    `bias (4*units,)`, gates in the order input, forget, cell, output.
    States: `[h, c]`.
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        check_units(units, type(self).__name__)
        implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        self.implementation = implementation
        self.units = units
        init_common(self, locals())
        self.recurrent_activation = activations.get(recurrent_activation)
        if self.recurrent_dropout != 0.0:
            self.implementation = 1
        if self.implementation == 1:
            self.dropout_mask_count = 4
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def build(self, input_shape):
        bias_init = (forget_bias_initializer(self.bias_initializer, self.units)
                     if self.unit_forget_bias else self.bias_initializer)
        add_cell_weights(self, (input_shape[-1], self.units * 4), (self.units, self.units * 4),
                         (self.units * 4,), bias_init)

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        dp = self.get_dropout_mask(inputs) if training and 0.0 < self.dropout < 1.0 else None
        rdp = (self.get_recurrent_dropout_mask(h_tm1)
               if training and 0.0 < self.recurrent_dropout < 1.0 else None)
        z = gate_matmul(inputs, self.kernel.value, dp, 4)
        z = z + gate_matmul(h_tm1, self.recurrent_kernel.value, rdp, 4)
        if self.use_bias:
            z = z + self.bias.value
        h, c = lstm_gates(*jnp.split(z, 4, axis=-1), c_tm1, self.activation,
                          self.recurrent_activation)
        return h, [h, c]

    def get_initial_state(self, batch_size=None):
        return [jnp.zeros((batch_size, d), dtype=self.compute_dtype) for d in self.state_size]

    def _arguments_config(self, **layer_entries):
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "unit_forget_bias": self.unit_forget_bias,
            **common_config(self),
            **layer_entries,
            "seed": self.seed,
        }

    def get_config(self):
        return {**super().get_config(), **self._arguments_config()}


_LSTM_PROPS = ("units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
               *CELL_OPTIONS, "dropout", "recurrent_dropout", "implementation")


class LSTM(RNN):
    """Long Short-Term Memory layer.

    Takes `LSTMCell`'s arguments plus RNN's (`return_sequences`, `return_state`,
    `go_backwards`, `stateful`, `unroll`); `use_cudnn` is accepted (the recurrence always
    runs as one `lax.scan`, which XLA compiles for the device).

    Weights (paths like `lstm/lstm_cell/kernel`): the cell's `kernel`,
    `recurrent_kernel`, `bias`.
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):
        kwargs.pop("time_major", None)
        cell = LSTMCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            unit_forget_bias=unit_forget_bias, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True), name="lstm_cell", seed=seed,
            implementation=kwargs.pop("implementation", 2))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)
        check_use_cudnn(use_cudnn)
        self.use_cudnn = use_cudnn

    def get_config(self):
        return layer_config(self, super().get_config())

    @classmethod
    def from_config(cls, config):
        return cls(**config)


delegate_to_cell(LSTM, _LSTM_PROPS)
