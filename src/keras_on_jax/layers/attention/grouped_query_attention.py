"""`GroupQueryAttention`: attention where groups of query heads share key/value heads."""

from __future__ import annotations

import math

import jax.numpy as jnp

from keras_on_jax import constraints, initializers, regularizers
from keras_on_jax.backend import scopes
from keras_on_jax.layers.attention.multi_head_attention import (
    _AttentionBase,
    causal_mask,
    fused_attention,
    masked_softmax,
)
from keras_on_jax.layers.core.einsum_dense import EinsumDense
from keras_on_jax.layers.regularization.dropout import Dropout
from keras_on_jax.backend.keras_tensor import KerasTensor


class GroupedQueryAttention(_AttentionBase):
    """Grouped-query attention (Ainslie et al., 2023).

    `num_query_heads` query heads share `num_key_value_heads` key/value heads (which
    must divide them). Sublayers: EinsumDense `query` (`bqm,muh->bquh`), `key`, `value`
    (`bkm,mvh->bkvh`), optional `gate`, and `attention_output` (`bquh,uhm->bqm`).

    Args:
        head_dim: size of each attention head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key and value heads.
        dropout, use_bias, sliding_window, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
        bias_constraint, use_gate, seed: as `MultiHeadAttention`.
    """

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0,
                 use_bias=True, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError(
                "`num_query_heads` must be divisible by `num_key_value_heads`. Received: "
                f"num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}"
            )
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = dropout
        self.use_bias = use_bias
        self.use_gate = use_gate
        if sliding_window is not None and (not isinstance(sliding_window, int) or sliding_window <= 0):
            raise ValueError(
                "`sliding_window` must be `None` or a positive integer. "
                f"Received: sliding_window={sliding_window}"
            )
        self.sliding_window = sliding_window
        self._flash_attention = flash_attention
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(self.head_dim))

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:
            value_shape = query_shape
        key_shape = value_shape if key_shape is None else key_shape
        self.feature_dim = query_shape[-1]

        def make(eq, out, bias_axes, name, shape, **extra):
            layer = EinsumDense(eq, output_shape=out,
                                bias_axes=bias_axes if self.use_bias else None, name=name,
                                **extra, **self._common_sublayer_kwargs(
                                    self.kernel_initializer, self.bias_initializer))
            with scopes.NameScope(name):
                layer.build(shape)
            layer.built = True
            layer._build_shapes = tuple(shape)
            return layer

        q_out = (None, self.num_query_heads, self.head_dim)
        kv_out = (None, self.num_key_value_heads, self.head_dim)
        self._query_dense = make("bqm,muh->bquh", q_out, "uh", "query", query_shape)
        self._key_dense = make("bkm,mvh->bkvh", kv_out, "vh", "key", key_shape)
        if self.use_gate:
            self._gate_dense = make("bqm,muh->bquh", q_out, "uh", "gate", query_shape,
                                    activation="sigmoid")
        self._value_dense = make("bkm,mvh->bkvh", kv_out, "vh", "value", value_shape)
        self._dropout_layer = Dropout(rate=self.dropout, dtype=self.dtype_policy, seed=self.seed)
        self._dot_product_equation = "bquh,bkuh->buqk"
        self._combine_equation = "buqk,bkuh->bquh"
        self._output_dense = make("bquh,uhm->bqm", (None, self.feature_dim), "m",
                                  "attention_output",
                                  (None, None, self.num_query_heads, self.head_dim))
        self.built = True

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        from keras_on_jax.layers.layer import get_keras_mask

        if query_mask is None:
            query_mask = get_keras_mask(query)
        if value_mask is None:
            value_mask = get_keras_mask(value)
        if key_mask is None and key is not None:
            key_mask = get_keras_mask(key)
        if key is None:
            key = value
        causal_only = (use_causal_mask and query_mask is None and value_mask is None
                       and key_mask is None and attention_mask is None
                       and self.sliding_window is None
                       and type(self)._compute_attention is GroupedQueryAttention._compute_attention)
        if causal_only:
            attention_mask = None
        else:
            attention_mask = self._attention_mask(query, value, query_mask, value_mask,
                                                  key_mask, attention_mask, use_causal_mask,
                                                  self.sliding_window)
        gate = self._gate_dense(query) if self.use_gate else None
        query = self._query_dense(query)
        key = jnp.repeat(self._key_dense(key), self.num_repeats, axis=2)
        value = jnp.repeat(self._value_dense(value), self.num_repeats, axis=2)
        extra = {"use_causal_mask": True} if causal_only else {}
        output, scores = self._compute_attention(query, key, value, attention_mask, training,
                                                 return_attention_scores, **extra)
        output = self._output_dense(output * gate if gate is not None else output)
        if return_attention_scores:
            return output, scores
        return output

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, use_causal_mask=False):
        fast = not (self.dropout > 0.0 or return_attention_scores or query.ndim != 4)
        if fast:
            if attention_mask is not None:
                for _ in range(4 - attention_mask.ndim):
                    attention_mask = jnp.expand_dims(attention_mask, -3)
            out = fused_attention(query, key, value, attention_mask,
                                  self._inverse_sqrt_head_dim, is_causal=use_causal_mask)
            return out, None
        if use_causal_mask:
            cm = causal_mask(query.shape[1], value.shape[1])
            attention_mask = cm if attention_mask is None else jnp.logical_and(attention_mask.astype(bool), cm)
        query = query * jnp.asarray(self._inverse_sqrt_head_dim, query.dtype)
        scores = jnp.einsum(self._dot_product_equation, query, key)
        if attention_mask is not None:
            for _ in range(scores.ndim - attention_mask.ndim):
                attention_mask = jnp.expand_dims(attention_mask, -3)
        scores = masked_softmax(scores, attention_mask, (-1,))
        final = self._dropout_layer(scores, training=training) if self.dropout > 0.0 else scores
        return jnp.einsum(self._combine_equation, final, value), scores

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(
                "The last dimension of `query_shape` and `value_shape` must be equal, but "
                f"are {query_shape[-1]}, {value_shape[-1]}. Received: "
                f"query_shape={query_shape}, value_shape={value_shape}"
            )
        key_shape = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        return tuple(query_shape)

    def compute_output_spec(self, query, value, key=None, query_mask=None, value_mask=None,
                            key_mask=None, attention_mask=None, return_attention_scores=False,
                            training=None, use_causal_mask=False):
        out = KerasTensor(self.compute_output_shape(query.shape, value.shape,
                                                    None if key is None else key.shape),
                          dtype=self.compute_dtype)
        if return_attention_scores:
            scores = (query.shape[0], self.num_query_heads, query.shape[1], value.shape[1])
            return out, KerasTensor(scores, dtype=self.compute_dtype)
        return out

    def get_config(self):
        config = super().get_config()
        config.update({
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "sliding_window": self.sliding_window,
            "dropout": self.dropout,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self._bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "kernel_constraint": constraints.serialize(self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        })
        return config


GroupQueryAttention = GroupedQueryAttention
