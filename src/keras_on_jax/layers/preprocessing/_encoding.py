"""`encode_categorical_inputs`: Keras's shared int / one_hot / multi_hot / count encoder."""

from __future__ import annotations

import jax
import jax.numpy as jnp

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def encode_categorical_inputs(inputs, output_mode, depth, dtype, count_weights=None):
    """Encode integer indices as Keras does (indices outside `[0, depth)` encode to zeros).

    `multi_hot` and `count` reduce axis 1 of rank >= 2 inputs (axis 0 of rank-1 inputs);
    `one_hot` drops a trailing axis of size 1 first.
    """
    inputs = jnp.asarray(inputs)
    if output_mode == "int":
        return inputs.astype(dtype)
    if inputs.ndim == 0:
        inputs = inputs[None]
    if output_mode == "multi_hot":
        axis = 1 if inputs.ndim > 1 else 0
        return jnp.max(jax.nn.one_hot(inputs.astype("int32"), depth, dtype=dtype), axis=axis)
    if output_mode == "one_hot":
        if inputs.ndim > 1 and inputs.shape[-1] == 1:
            inputs = jnp.reshape(inputs, inputs.shape[:-1])
        return jax.nn.one_hot(inputs, depth, dtype=dtype)
    if output_mode == "count":
        axis = 1 if inputs.ndim > 1 else 0
        if count_weights is not None:
            dtype = count_weights.dtype
        encoded = jax.nn.one_hot(inputs, depth, dtype=dtype)
        if count_weights is not None:
            encoded = encoded * jnp.expand_dims(count_weights, -1)
        return jnp.sum(encoded, axis=axis)
    raise ValueError(f"Unknown `output_mode`: expected one of {OUTPUT_MODES}. "
                     f"Received: output_mode={output_mode!r}")


def encoded_shape(input_shape, output_mode, depth):
    """Output shape of `encode_categorical_inputs` (Keras's rules)."""
    input_shape = tuple(input_shape)
    if output_mode == "int":
        return input_shape
    if not input_shape:
        return (depth,)
    if output_mode == "one_hot":
        if input_shape[-1] == 1 and len(input_shape) > 1:
            return input_shape[:-1] + (depth,)
        return input_shape + (depth,)
    if len(input_shape) >= 2:
        return (input_shape[0],) + input_shape[2:] + (depth,)
    return (depth,)
