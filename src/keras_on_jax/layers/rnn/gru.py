"""`GRUCell` and `GRU` (Cho et al. 2014), gates `z, r, h`; `reset_after` both ways."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax import activations
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer
from keras_on_jax.layers.rnn._cell_base import (CELL_OPTIONS, add_cell_weights, check_units,
                                                check_use_cudnn, common_config, init_common,
                                                layer_config)
from keras_on_jax.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from keras_on_jax.layers.rnn.rnn import RNN, delegate_to_cell, is_nested


def _apply(x, masks, g):
    if masks is None:
        return x
    if isinstance(masks, (list, tuple)):
        return x * masks[g]
    return x * masks


class GRUCell(Layer, DropoutRNNCell):
    """Cell class for the GRU layer (one step).

    Args:
        units: positive int, the output size.
        activation (`"tanh"`), recurrent_activation (`"sigmoid"`), use_bias, initializers,
        regularizers, constraints, dropout, recurrent_dropout, seed.
        reset_after: apply the reset gate after the recurrent matrix multiplication
            (`True`, the cuDNN-compatible default) or before.

    Weights: `kernel (input_dim, 3*units)`, `recurrent_kernel (units, 3*units)`, `bias`
    of shape `(2, 3*units)` (input and recurrent biases) with `reset_after`, else
    `(3*units,)`.
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):
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
            self.dropout_mask_count = 3
        self.reset_after = reset_after
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        bias_shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        add_cell_weights(self, (input_shape[-1], self.units * 3), (self.units, self.units * 3),
                         bias_shape, self.bias_initializer)

    def call(self, inputs, states, training=False):
        h_tm1 = states[0] if is_nested(states) else states
        u = self.units
        kernel = self.kernel.value
        rk = self.recurrent_kernel.value
        input_bias = recurrent_bias = None
        if self.use_bias:
            bias = self.bias.value
            if self.reset_after:
                input_bias, recurrent_bias = bias[0], bias[1]
            else:
                input_bias = bias
        dp = self.get_dropout_mask(inputs) if training and 0.0 < self.dropout < 1.0 else None
        rdp = (self.get_recurrent_dropout_mask(h_tm1)
               if training and 0.0 < self.recurrent_dropout < 1.0 else None)

        if isinstance(dp, (list, tuple)):
            matrix_x = jnp.concatenate(
                [jnp.matmul(_apply(inputs, dp, g), kernel[:, g * u:(g + 1) * u]) for g in range(3)],
                axis=-1)
        else:
            matrix_x = jnp.matmul(_apply(inputs, dp, 0), kernel)
        if input_bias is not None:
            matrix_x = matrix_x + input_bias
        x_z, x_r, x_h = matrix_x[:, :u], matrix_x[:, u:2 * u], matrix_x[:, 2 * u:]

        h_z, h_r, h_h = _apply(h_tm1, rdp, 0), _apply(h_tm1, rdp, 1), _apply(h_tm1, rdp, 2)
        if rdp is None:
            if self.reset_after:
                inner = jnp.matmul(h_tm1, rk)
                if recurrent_bias is not None:
                    inner = inner + recurrent_bias
            else:
                inner = jnp.matmul(h_tm1, rk[:, :2 * u])
            rec_z, rec_r = inner[:, :u], inner[:, u:2 * u]
            rec_h = inner[:, 2 * u:] if self.reset_after else None
        else:
            rec_z = jnp.matmul(h_z, rk[:, :u])
            rec_r = jnp.matmul(h_r, rk[:, u:2 * u])
            if self.reset_after and recurrent_bias is not None:
                rec_z = rec_z + recurrent_bias[:u]
                rec_r = rec_r + recurrent_bias[u:2 * u]
            rec_h = None
            if self.reset_after:
                rec_h = jnp.matmul(h_h, rk[:, 2 * u:])
                if recurrent_bias is not None:
                    rec_h = rec_h + recurrent_bias[2 * u:]
        z = self.recurrent_activation(x_z + rec_z)
        r = self.recurrent_activation(x_r + rec_r)
        if self.reset_after:
            rec_h = r * rec_h
        else:
            rec_h = jnp.matmul(r * h_h, rk[:, 2 * u:])
        hh = self.activation(x_h + rec_h)
        h = z * h_tm1 + (1 - z) * hh
        new_state = [h] if is_nested(states) else h
        return h, new_state

    def get_initial_state(self, batch_size=None):
        return [jnp.zeros((batch_size, self.state_size), dtype=self.compute_dtype)]

    def _arguments_config(self, **layer_entries):
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            **common_config(self),
            **layer_entries,
            "reset_after": self.reset_after,
            "seed": self.seed,
        }

    def get_config(self):
        return {**super().get_config(), **self._arguments_config()}


_GRU_PROPS = ("units", "activation", "recurrent_activation", "use_bias", *CELL_OPTIONS,
              "dropout", "recurrent_dropout", "reset_after", "implementation")


class GRU(RNN):
    """Gated Recurrent Unit layer.

    Takes `GRUCell`'s arguments (including `reset_after`) plus RNN's
    (`return_sequences`, `return_state`, `go_backwards`, `stateful`, `unroll`);
    `use_cudnn` is accepted.
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", **kwargs):
        kwargs.pop("time_major", None)
        cell = GRUCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, reset_after=reset_after,
            dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
            name="gru_cell", seed=seed, implementation=kwargs.pop("implementation", 2))
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


delegate_to_cell(GRU, _GRU_PROPS)
