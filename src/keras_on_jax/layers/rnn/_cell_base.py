"""Shared argument handling of the built-in recurrent cells and their layers (not public)."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax import activations, regularizers
from keras_on_jax.backend.random import SeedGenerator
from keras_on_jax.layers._weight_options import (option_names, set_weight_options,
                                                 weight_options_config)

# The weights of every built-in cell, whose initializer/regularizer/constraint it takes.
CELL_WEIGHTS = ("kernel", "recurrent", "bias")
CELL_OPTIONS = option_names(CELL_WEIGHTS)


def check_units(units, cls_name):
    if not isinstance(units, (int,)) or isinstance(units, bool) or units <= 0:
        raise ValueError(
            f"Received an invalid value for argument `units` of {cls_name}, expected a "
            f"positive integer, got {units!r}."
        )


def check_use_cudnn(use_cudnn):
    if use_cudnn not in ("auto", True, False):
        raise ValueError(
            "Invalid valid received for argument `use_cudnn`. Expected one of "
            f"{{'auto', True, False}}. Received: use_cudnn={use_cudnn}"
        )


def init_common(cell, arguments):
    """Set `activation`, `use_bias`, the weight options, `dropout`, `recurrent_dropout` and
    `seed` on `cell` from `arguments` (the cell constructor's `locals()`)."""
    cell.activation = activations.get(arguments["activation"])
    cell.use_bias = arguments["use_bias"]
    set_weight_options(cell, CELL_WEIGHTS, arguments)
    cell.dropout = min(1.0, max(0.0, arguments["dropout"]))
    cell.recurrent_dropout = min(1.0, max(0.0, arguments["recurrent_dropout"]))
    cell.seed = arguments["seed"]
    cell.seed_generator = SeedGenerator(seed=cell.seed)


def common_config(cell):
    return {
        **weight_options_config(cell, CELL_WEIGHTS),
        "dropout": cell.dropout,
        "recurrent_dropout": cell.recurrent_dropout,
    }


def add_cell_weights(cell, kernel_shape, recurrent_shape, bias_shape, bias_initializer):
    """The cell's `kernel`, `recurrent_kernel` and (with `use_bias`) `bias`."""
    cell.kernel = cell.add_weight(
        shape=kernel_shape, name="kernel", initializer=cell.kernel_initializer,
        regularizer=cell.kernel_regularizer, constraint=cell.kernel_constraint)
    cell.recurrent_kernel = cell.add_weight(
        shape=recurrent_shape, name="recurrent_kernel", initializer=cell.recurrent_initializer,
        regularizer=cell.recurrent_regularizer, constraint=cell.recurrent_constraint)
    if cell.use_bias:
        cell.bias = cell.add_weight(
            shape=bias_shape, name="bias", initializer=bias_initializer,
            regularizer=cell.bias_regularizer, constraint=cell.bias_constraint)
    else:
        cell.bias = None
    cell.built = True


def layer_config(layer, rnn_config):
    """The config of a layer around one built-in cell (`SimpleRNN`, `LSTM`, `GRU`,
    `ConvLSTM*`): `RNN`'s entries but `cell`, then the cell's arguments
    (`cell._arguments_config`) with the layer's `activity_regularizer` among them."""
    config = {key: value for key, value in rnn_config.items() if key != "cell"}
    activity_regularizer = regularizers.serialize(layer._activity_regularizer)
    return {**config, **layer.cell._arguments_config(activity_regularizer=activity_regularizer)}


def gate_matmul(x, kernel, masks, n):
    """`x @ kernel`, with one dropout mask per gate when `masks` is a list of `n`."""
    if masks is None:
        return jnp.matmul(x, kernel)
    if not isinstance(masks, (list, tuple)):
        return jnp.matmul(x * masks, kernel)
    parts = jnp.split(kernel, n, axis=-1)
    return jnp.concatenate([jnp.matmul(x * m, k) for m, k in zip(masks, parts)], axis=-1)
