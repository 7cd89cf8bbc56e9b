"""Convolutional LSTMs: `ConvLSTM1D`, `ConvLSTM2D`, `ConvLSTM3D` (and their cell)."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from keras_on_jax import activations
from keras_on_jax.backend import config as backend_config
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer
from keras_on_jax.layers.rnn._cell_base import (CELL_OPTIONS, add_cell_weights, common_config,
                                                init_common, layer_config)
from keras_on_jax.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from keras_on_jax.layers.rnn.lstm import forget_bias_initializer, lstm_gates
from keras_on_jax.layers.rnn.rnn import RNN, delegate_to_cell


def _tuple(value, n, name, allow_zero=False):
    if isinstance(value, int):
        value = (value,) * n
    try:
        value = tuple(int(v) for v in value)
    except TypeError:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                         f"Received {name}={value!r}") from None
    if len(value) != n or any(v < (0 if allow_zero else 1) for v in value):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} positive integers. "
                         f"Received {name}={value!r}")
    return value


def _padding(value):
    if not isinstance(value, str) or value.lower() not in ("valid", "same"):
        raise ValueError(
            f"The `padding` argument must be one of 'valid', 'same'. Received: {value!r}")
    return value.lower()


_SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


def _conv(x, w, strides, padding, data_format, dilation_rate):
    sp = _SPATIAL[len(strides)]
    lhs = "NC" + sp if data_format == "channels_first" else "N" + sp + "C"
    dn = lax.conv_dimension_numbers(x.shape, w.shape, (lhs, sp + "IO", lhs))
    return lax.conv_general_dilated(x, w, window_strides=strides, padding=padding.upper(),
                                    rhs_dilation=dilation_rate, dimension_numbers=dn)


def _conv_output_length(length, k, stride, padding, dilation):
    if length is None:
        return None
    if padding == "same":
        return (length + stride - 1) // stride
    return (length - dilation * (k - 1) - 1) // stride + 1


class ConvLSTMCell(Layer, DropoutRNNCell):
    """One step of a convolutional LSTM (input and recurrent transforms are convolutions).

    Arguments as `ConvLSTM2D` plus `rank`. Weights: `kernel (*kernel_size, in, 4*filters)`,
    `recurrent_kernel (*kernel_size, filters, 4*filters)`, `bias (4*filters,)`.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if rank > 3:
            raise ValueError(f"Rank {rank} convolutions are not currently implemented. "
                             f"Received: rank={rank}")
        init_common(self, locals())
        self.rank = rank
        self.filters = filters
        self.kernel_size = _tuple(kernel_size, rank, "kernel_size")
        self.strides = _tuple(strides, rank, "strides", allow_zero=True)
        self.padding = _padding(padding)
        self.data_format = backend_config.standardize_data_format(data_format)
        self.dilation_rate = _tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please "
                f"provide `strides=1` or `dilation_rate=1`. Received: strides={self.strides} "
                f"and dilation_rate={self.dilation_rate}"
            )
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.dropout_mask_count = 4
        self.input_spec = InputSpec(ndim=rank + 2)
        self.state_size = -1

    def build(self, inputs_shape, states_shape=None):
        if self.data_format == "channels_first":
            channel_axis = 1
            self.spatial_dims = tuple(inputs_shape[2:])
        else:
            channel_axis = -1
            self.spatial_dims = tuple(inputs_shape[1:-1])
        if None in self.spatial_dims:
            raise ValueError(
                "ConvLSTM layers only support static input shapes for the spatial dimension. "
                f"Received invalid input shape: input_shape={inputs_shape}"
            )
        if inputs_shape[channel_axis] is None:
            raise ValueError(
                "The channel dimension of the inputs (last axis) should be defined. Found "
                f"None. Full input shape received: input_shape={inputs_shape}"
            )
        self.input_spec = InputSpec(ndim=self.rank + 2)
        input_dim = inputs_shape[channel_axis]
        self.input_dim = input_dim
        self.kernel_shape = self.kernel_size + (input_dim, self.filters * 4)
        bias_init = (forget_bias_initializer(self.bias_initializer, self.filters)
                     if self.unit_forget_bias else self.bias_initializer)
        add_cell_weights(self, self.kernel_shape,
                         self.kernel_size + (self.filters, self.filters * 4),
                         (self.filters * 4,), bias_init)

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        if training and 0.0 < self.dropout < 1.0:
            dp = self.get_dropout_mask(inputs)
            xs = [inputs * dp[g] for g in range(4)]
        else:
            xs = [inputs] * 4
        if training and 0.0 < self.recurrent_dropout < 1.0:
            rdp = self.get_recurrent_dropout_mask(h_tm1)
            hs = [h_tm1 * rdp[g] for g in range(4)]
        else:
            hs = [h_tm1] * 4
        kernels = jnp.split(self.kernel.value, 4, axis=self.rank + 1)
        rkernels = jnp.split(self.recurrent_kernel.value, 4, axis=self.rank + 1)
        biases = jnp.split(self.bias.value, 4) if self.use_bias else [None] * 4
        if self.data_format == "channels_last":
            bias_shape = (1,) * (self.rank + 1) + (self.filters,)
        else:
            bias_shape = (1, self.filters) + (1,) * self.rank
        pre = []
        for g in range(4):
            x = _conv(xs[g], kernels[g], self.strides, self.padding, self.data_format,
                      self.dilation_rate)
            if biases[g] is not None:
                x = x + jnp.reshape(biases[g], bias_shape)
            h = _conv(hs[g], rkernels[g], (1,) * self.rank, "same", self.data_format,
                      (1,) * self.rank)
            pre.append(x + h)
        h, c = lstm_gates(*pre, c_tm1, self.activation, self.recurrent_activation)
        return h, [h, c]

    def compute_output_shape(self, inputs_shape, states_shape=None):
        if self.data_format == "channels_last":
            spatial = inputs_shape[1:-1]
        else:
            spatial = inputs_shape[2:]
        out = tuple(_conv_output_length(n, k, s, self.padding, d) for n, k, s, d in
                    zip(spatial, self.kernel_size, self.strides, self.dilation_rate))
        if self.data_format == "channels_last":
            shape = (inputs_shape[0],) + out + (self.filters,)
        else:
            shape = (inputs_shape[0], self.filters) + out
        return shape, [shape, shape]

    def get_initial_state(self, batch_size=None):
        if self.data_format == "channels_last":
            input_shape = (batch_size,) + self.spatial_dims + (self.input_dim,)
        else:
            input_shape = (batch_size, self.input_dim) + self.spatial_dims
        state_shape = self.compute_output_shape(input_shape)[0]
        return [jnp.zeros(state_shape, dtype=self.compute_dtype),
                jnp.zeros(state_shape, dtype=self.compute_dtype)]

    def _arguments_config(self, **layer_entries):
        return {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
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


_CONV_PROPS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
               "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
               *CELL_OPTIONS, "dropout", "recurrent_dropout")


class ConvLSTM(RNN):
    """Abstract N-D convolutional LSTM (base of `ConvLSTM1D/2D/3D`)."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 **kwargs):
        cell = ConvLSTMCell(
            rank=rank, filters=filters, kernel_size=kernel_size, strides=strides,
            padding=padding, data_format=data_format, dilation_rate=dilation_rate,
            activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, name="conv_lstm_cell",
            dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, **kwargs)
        self.input_spec = InputSpec(ndim=rank + 3)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch_size, steps = sequences_shape[0], sequences_shape[1]
        step_shape = (batch_size,) + tuple(sequences_shape[2:])
        state_shape = self.cell.compute_output_shape(step_shape)[0][1:]
        if self.return_sequences:
            output_shape = (batch_size, steps) + state_shape
        else:
            output_shape = (batch_size,) + state_shape
        if self.return_state:
            batched = (batch_size,) + state_shape
            return output_shape, batched, batched
        return output_shape

    def compute_mask(self, _, mask):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask, None, None]
        return output_mask

    def get_config(self):
        return layer_config(self, super().get_config())

    @classmethod
    def from_config(cls, config):
        return cls(**config)


delegate_to_cell(ConvLSTM, _CONV_PROPS)


def _make(rank, name):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        ConvLSTM.__init__(
            self, rank=rank, filters=filters, kernel_size=kernel_size, strides=strides,
            padding=padding, data_format=data_format, dilation_rate=dilation_rate,
            activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, **kwargs)

    doc = (f"{rank}D convolutional LSTM.\n\n    Input `(batch, time, {'spatial..., ' }channels)` "
           "(channels_last) or `(batch, time, channels, spatial...)` (channels_first). "
           "Arguments as Keras's; recurrence is one `lax.scan`.\n")
    return type(name, (ConvLSTM,), {"__init__": __init__, "__doc__": doc,
                                    "__module__": __name__})


ConvLSTM1D = _make(1, "ConvLSTM1D")
ConvLSTM2D = _make(2, "ConvLSTM2D")
ConvLSTM3D = _make(3, "ConvLSTM3D")
