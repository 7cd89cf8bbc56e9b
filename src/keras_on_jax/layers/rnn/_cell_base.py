"""Shared argument handling of the built-in recurrent cells (not public)."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax import activations, constraints, initializers, regularizers
from keras_on_jax.backend.random import SeedGenerator


def check_units(units, cls_name):
    if not isinstance(units, (int,)) or isinstance(units, bool) or units <= 0:
        raise ValueError(
            f"Received an invalid value for argument `units` of {cls_name}, expected a "
            f"positive integer, got {units!r}."
        )


def init_common(cell, units, activation, use_bias, kernel_initializer, recurrent_initializer,
                bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                recurrent_dropout, seed):
    cell.units = units
    cell.activation = activations.get(activation)
    cell.use_bias = use_bias
    cell.kernel_initializer = initializers.get(kernel_initializer)
    cell.recurrent_initializer = initializers.get(recurrent_initializer)
    cell.bias_initializer = initializers.get(bias_initializer)
    cell.kernel_regularizer = regularizers.get(kernel_regularizer)
    cell.recurrent_regularizer = regularizers.get(recurrent_regularizer)
    cell.bias_regularizer = regularizers.get(bias_regularizer)
    cell.kernel_constraint = constraints.get(kernel_constraint)
    cell.recurrent_constraint = constraints.get(recurrent_constraint)
    cell.bias_constraint = constraints.get(bias_constraint)
    cell.dropout = min(1.0, max(0.0, dropout))
    cell.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
    cell.seed = seed
    cell.seed_generator = SeedGenerator(seed=seed)


def common_config(cell):
    return {
        "kernel_initializer": initializers.serialize(cell.kernel_initializer),
        "recurrent_initializer": initializers.serialize(cell.recurrent_initializer),
        "bias_initializer": initializers.serialize(cell.bias_initializer),
        "kernel_regularizer": regularizers.serialize(cell.kernel_regularizer),
        "recurrent_regularizer": regularizers.serialize(cell.recurrent_regularizer),
        "bias_regularizer": regularizers.serialize(cell.bias_regularizer),
        "kernel_constraint": constraints.serialize(cell.kernel_constraint),
        "recurrent_constraint": constraints.serialize(cell.recurrent_constraint),
        "bias_constraint": constraints.serialize(cell.bias_constraint),
        "dropout": cell.dropout,
        "recurrent_dropout": cell.recurrent_dropout,
    }


def gate_matmul(x, kernel, masks, n):
    """`x @ kernel`, with one dropout mask per gate when `masks` is a list of `n`."""
    if masks is None:
        return jnp.matmul(x, kernel)
    if not isinstance(masks, (list, tuple)):
        return jnp.matmul(x * masks, kernel)
    parts = jnp.split(kernel, n, axis=-1)
    return jnp.concatenate([jnp.matmul(x * m, k) for m, k in zip(masks, parts)], axis=-1)


