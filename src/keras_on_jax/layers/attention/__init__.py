"""Attention layers."""

from keras_on_jax.layers.attention.attention import AdditiveAttention, Attention
from keras_on_jax.layers.attention.grouped_query_attention import (
    GroupedQueryAttention,
    GroupQueryAttention,
)
from keras_on_jax.layers.attention.multi_head_attention import MultiHeadAttention

__all__ = ["AdditiveAttention", "Attention", "GroupQueryAttention", "GroupedQueryAttention",
           "MultiHeadAttention"]
