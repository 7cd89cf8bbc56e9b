"""`CategoryEncoding`: one-hot / multi-hot / count encoding of integer features."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.layers.layer import Layer
from keras_on_jax.layers.preprocessing._encoding import encode_categorical_inputs


class CategoryEncoding(Layer):
    """Encodes integer features (`keras.layers.CategoryEncoding`). Runs in the compiled step.

    Args:
        num_tokens: the total number of tokens; inputs must be in `[0, num_tokens)`
            (values outside encode to zeros).
        output_mode: `"multi_hot"` (default; `"binary"` is an alias), `"one_hot"` or
            `"count"`.
        sparse: must be False (sparse outputs are not supported here).

    Call arguments:
        inputs: integer tensor of rank 1 or 2 (or 0).
        count_weights: same shape as `inputs`, the weight of each sample value for
            `output_mode="count"`.
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(
                "CategoryEncoding: unknown arg for output_mode; expected one of 'count', "
                f"'one_hot', 'multi_hot'. Received: output_mode={output_mode!r}")
        if num_tokens is None:
            raise ValueError(
                "CategoryEncoding: num_tokens must be set to use this layer. If the number "
                "of tokens is not known beforehand, use the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(f"CategoryEncoding: `num_tokens` must be >= 1. Received: "
                             f"num_tokens={num_tokens}.")
        if sparse:
            raise ValueError("CategoryEncoding: `sparse=True` is not supported by "
                             "keras_on_jax. Received: sparse=True")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    "CategoryEncoding: `count_weights` is not used when `output_mode` is "
                    f"not `'count'`. Received `count_weights={count_weights}`.")
            count_weights = jnp.asarray(count_weights, dtype=self.compute_dtype)
        return encode_categorical_inputs(jnp.asarray(inputs), self.output_mode,
                                         self.num_tokens, self.dtype, count_weights)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot":
            if input_shape[-1] != 1 or len(input_shape) == 1:
                return input_shape + (self.num_tokens,)
            return input_shape[:-1] + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def compute_output_spec(self, inputs, count_weights=None):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype)

    def get_config(self):
        base = super().get_config()
        base.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode})
        return base
