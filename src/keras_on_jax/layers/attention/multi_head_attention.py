"""`MultiHeadAttention` (Vaswani et al.) with EinsumDense projections."""

from __future__ import annotations

import math
import string

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax import constraints, initializers, regularizers
from keras_on_jax.backend import scopes
from keras_on_jax.layers.core.einsum_dense import EinsumDense
from keras_on_jax.layers.layer import Layer, get_keras_mask, set_keras_mask
from keras_on_jax.layers.regularization.dropout import Dropout
from keras_on_jax.backend.keras_tensor import KerasTensor


def masked_softmax(scores, mask, axes):
    """`keras.layers.Softmax(axis=axes)(scores, mask=mask)`."""
    if mask is not None:
        if mask.dtype != jnp.bool_:
            mask = mask > 0.5
        neg = -3e4 if scores.dtype == jnp.float16 else -1e9
        scores = jnp.where(mask, scores, jnp.asarray(neg, scores.dtype))
    if len(axes) > 1:
        out = jnp.exp(scores - jax.scipy.special.logsumexp(scores, axis=axes, keepdims=True))
    else:
        out = jax.nn.softmax(scores, axis=axes[0])
    if mask is not None:
        out = jnp.where(mask, out, 0.0)
    return out


def fused_attention(query, key, value, mask, scale, is_causal=False):
    """`keras.ops.dot_product_attention` on `(B, T, N, H)` inputs (the XLA path)."""
    logits = jnp.einsum("BTNH,BSNH->BNTS", query, key,
                        preferred_element_type=jnp.promote_types(query.dtype, jnp.float32))
    logits = logits * jnp.asarray(scale, logits.dtype)
    combined = None
    if mask is not None:
        combined = jnp.broadcast_to(mask.astype(bool), logits.shape)
    if is_causal:
        t, s = logits.shape[2], logits.shape[3]
        causal = jnp.tril(jnp.ones((t, s), dtype=bool))[None, None]
        combined = causal if combined is None else jnp.logical_and(combined, causal)
    if combined is not None:
        logits = jnp.where(combined, logits, jnp.asarray(-0.7 * jnp.finfo(logits.dtype).max, logits.dtype))
    probs = jax.nn.softmax(logits.astype(jnp.float32), axis=-1).astype(key.dtype)
    return jnp.einsum("BNTS,BSNH->BTNH", probs, value)


def causal_mask(q_len, v_len):
    return jnp.tril(jnp.ones((1, q_len, v_len), dtype=bool))


def sliding_window_mask(q_len, v_len, window):
    row = jnp.arange(q_len, dtype="int32").reshape(1, q_len, 1)
    col = jnp.arange(v_len, dtype="int32").reshape(1, 1, v_len)
    return jnp.abs(row - col) < window


def _letter(i):
    return string.ascii_lowercase[i]


def _build_attention_equation(rank, attn_axes):
    target = "".join(_letter(i) for i in range(rank))
    batch_dims = tuple(np.delete(range(rank), attn_axes + (rank - 1,)))
    offset = rank
    source = ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += _letter(offset)
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attn_axes]
                      + [source[i] for i in attn_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def _build_proj_equation(free_dims, bound_dims, output_dims):
    input_str = kernel_str = output_str = bias_axes = ""
    offset = 0
    for i in range(free_dims):
        char = _letter(i + offset)
        input_str += char
        output_str += char
    offset += free_dims
    for i in range(bound_dims):
        char = _letter(i + offset)
        input_str += char
        kernel_str += char
    offset += bound_dims
    for i in range(output_dims):
        char = _letter(i + offset)
        kernel_str += char
        output_str += char
        bias_axes += char
    return f"{input_str},{kernel_str}->{output_str}", bias_axes, len(output_str)


def _get_output_shape(output_rank, known_last_dims):
    return [None] * (output_rank - len(known_last_dims)) + list(known_last_dims)


class _AttentionBase(Layer):
    """Shared building machinery: build from the query/value/key shapes of the call."""

    def _maybe_build(self, args, kwargs):
        if self.built:
            return
        names = ("query", "value", "key")
        tensors = list(args[:3]) + [None] * (3 - len(args[:3]))
        for i, n in enumerate(names):
            if tensors[i] is None:
                tensors[i] = kwargs.get(n)
        shapes = [None if t is None else tuple(t.shape) for t in tensors]
        self._build_shapes = {"query_shape": shapes[0], "value_shape": shapes[1]}
        if shapes[2] is not None:
            self._build_shapes["key_shape"] = shapes[2]
        with scopes.NameScope(self.name):
            self.build(shapes[0], shapes[1], shapes[2])
        self.built = True

    def get_build_config(self):
        if self._build_shapes is None:
            return None
        return {"shapes_dict": dict(self._build_shapes)}

    def build_from_config(self, config):
        if not config or self.built:
            self.built = True
            return
        shapes = config.get("shapes_dict") or {}
        if not shapes and "input_shape" in config:
            shapes = {"query_shape": config["input_shape"], "value_shape": config["input_shape"]}
        shapes = {k: None if v is None else tuple(v) for k, v in shapes.items()}
        with scopes.NameScope(self.name):
            self.build(shapes.get("query_shape"), shapes.get("value_shape"),
                       shapes.get("key_shape"))
        self._build_shapes = shapes
        self.built = True

    def _common_sublayer_kwargs(self, kernel_initializer, bias_initializer):
        return dict(
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            activity_regularizer=getattr(self, "_sublayer_activity_regularizer",
                                         self._activity_regularizer),
            kernel_constraint=self._kernel_constraint,
            bias_constraint=self._bias_constraint,
            dtype=self.dtype_policy,
            kernel_initializer=type(kernel_initializer).from_config(kernel_initializer.get_config()),
            bias_initializer=type(bias_initializer).from_config(bias_initializer.get_config()),
        )

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask,
                        attention_mask, use_causal_mask, sliding_window):
        auto = None
        if query_mask is not None:
            auto = jnp.expand_dims(jnp.asarray(query_mask).astype(bool), -1)
        for m in (value_mask, key_mask):
            if m is not None:
                m = jnp.expand_dims(jnp.asarray(m).astype(bool), -2)
                auto = m if auto is None else auto & m
        if use_causal_mask:
            m = causal_mask(query.shape[1], value.shape[1])
            auto = m if auto is None else auto & m
        if sliding_window is not None:
            m = sliding_window_mask(query.shape[1], value.shape[1], sliding_window)
            auto = m if auto is None else auto & m
        if attention_mask is not None:
            attention_mask = jnp.asarray(attention_mask).astype(bool)
        if auto is not None:
            attention_mask = auto if attention_mask is None else attention_mask & auto
        return attention_mask


class MultiHeadAttention(_AttentionBase):
    """Multi-head attention.

    Projects `query`, `key` and `value` with EinsumDense layers named `query`, `key`,
    `value` (kernels `(dim, num_heads, key_dim)`), computes scaled dot-product attention
    per head over `attention_axes`, and projects back with `attention_output`.

    Args:
        num_heads: number of heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default: key_dim).
        dropout: dropout rate on the attention probabilities.
        use_bias: whether the projections use a bias.
        output_shape: last dimensions of the output (default: the query's last dim).
        attention_axes: axes over which attention is applied (default: all but batch,
            heads and features).
        sliding_window: optional symmetric local-attention window.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: for the projections.
        use_gate: add a sigmoid gate (an EinsumDense named `gate`) on the attention output.
        seed: seed of the dropout.

    Call arguments: `query, value, key=None, query_mask=None, value_mask=None,
    key_mask=None, attention_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False`.
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        if not isinstance(num_heads, int) or num_heads <= 0:
            raise ValueError(
                "Received an invalid value for argument `num_heads`, expected a positive "
                f"integer. Received: num_heads={num_heads}"
            )
        if not isinstance(key_dim, int) or key_dim <= 0:
            raise ValueError(
                "Received an invalid value for argument `key_dim`, expected a positive "
                f"integer. Received: key_dim={key_dim}"
            )
        if value_dim is not None and (not isinstance(value_dim, int) or value_dim <= 0):
            raise ValueError(
                "Received an invalid value for argument `value_dim`, expected a positive "
                f"integer or `None`. Received: value_dim={value_dim}"
            )
        super().__init__(**kwargs)
        # Keras applies this to the projection sublayers only, not to this layer's output.
        self._sublayer_activity_regularizer = regularizers.get(activity_regularizer)
        self.supports_masking = True
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = dropout
        self._use_bias = use_bias
        self._use_gate = use_gate
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError as e:
                raise ValueError(
                    f"Invalid `output_shape`: {output_shape}. When specified, the "
                    "`output_shape` should be of type tuple, list, or int."
                ) from e
        self._output_shape = output_shape
        self._flash_attention = flash_attention
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                "`attention_axes` must be an int, list, or tuple."
                f"Received: attention_axes={attention_axes}"
            )
        self._attention_axes = attention_axes
        if sliding_window is not None and (not isinstance(sliding_window, int) or sliding_window <= 0):
            raise ValueError(
                "`sliding_window` must be `None` or a positive integer. "
                f"Received: sliding_window={sliding_window}"
            )
        self._sliding_window = sliding_window
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            "sliding_window": self._sliding_window,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self._bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._sublayer_activity_regularizer),
            "kernel_constraint": constraints.serialize(self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        })
        return config

    def _get_common_kwargs_for_sublayer(self):  # Keras's name: subclasses call it
        return self._common_sublayer_kwargs(self._kernel_initializer, self._bias_initializer)

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:
            value_shape = query_shape
        key_shape = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        query_rank, value_rank, key_rank = len(query_shape), len(value_shape), len(key_shape)

        def proj(rank, dims, name, shape, **extra):
            eq, bias_axes, out_rank = _build_proj_equation(rank - 1, bound_dims=1, output_dims=2)
            layer = EinsumDense(eq, output_shape=_get_output_shape(out_rank - 1, dims),
                                bias_axes=bias_axes if self._use_bias else None, name=name,
                                **extra, **self._get_common_kwargs_for_sublayer())
            with scopes.NameScope(name):
                layer.build(shape)
            layer.built = True
            layer._build_shapes = tuple(shape)
            return layer, out_rank

        self._query_dense, _ = proj(query_rank, [self._num_heads, self._key_dim], "query", query_shape)
        self._key_dense, _ = proj(key_rank, [self._num_heads, self._key_dim], "key", key_shape)
        if self._use_gate:
            self._gate_dense, _ = proj(query_rank, [self._num_heads, self._value_dim], "gate",
                                       query_shape, activation="sigmoid")
        self._value_dense, output_rank = proj(value_rank, [self._num_heads, self._value_dim],
                                              "value", value_shape)
        self._build_attention(output_rank)
        output_shape = self._output_shape if self._output_shape else [query_shape[-1]]
        eq, bias_axes, out_rank = _build_proj_equation(query_rank - 1, bound_dims=2,
                                                       output_dims=len(output_shape))
        self._output_dense = EinsumDense(
            eq, output_shape=_get_output_shape(out_rank - 1, output_shape),
            bias_axes=bias_axes if self._use_bias else None, name="attention_output",
            **self._get_common_kwargs_for_sublayer())
        dense_in = list(self._query_dense.compute_output_shape(query_shape))
        dense_in[-1] = self._value_dim
        with scopes.NameScope("attention_output"):
            self._output_dense.build(tuple(dense_in))
        self._output_dense.built = True
        self._output_dense._build_shapes = tuple(dense_in)
        self.built = True

    def _build_attention(self, rank):
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else (rank - 1) + a for a in self._attention_axes)
        self._dot_product_equation, self._combine_equation, scores_rank = (
            _build_attention_equation(rank, attn_axes=self._attention_axes))
        self._norm_axes = tuple(range(scores_rank - len(self._attention_axes), scores_rank))
        self._dropout_layer = Dropout(rate=self._dropout, dtype=self.dtype_policy, seed=self.seed)

    def _masked_softmax(self, scores, attention_mask=None):
        if attention_mask is not None:
            axis = -len(self._attention_axes) * 2 - 1
            for _ in range(scores.ndim - attention_mask.ndim):
                attention_mask = jnp.expand_dims(attention_mask, axis)
        return masked_softmax(scores, attention_mask, self._norm_axes)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, use_causal_mask=False):
        fast = not (self._dropout > 0.0 or return_attention_scores or query.ndim != 4)
        if fast:
            if attention_mask is not None:
                axis = -len(self._attention_axes) * 2 - 1
                for _ in range(4 - attention_mask.ndim):
                    attention_mask = jnp.expand_dims(attention_mask, axis)
            out = fused_attention(query, key, value, attention_mask,
                                  self._inverse_sqrt_key_dim, is_causal=use_causal_mask)
            return out, None
        if use_causal_mask:
            cm = causal_mask(query.shape[1], value.shape[1])
            attention_mask = cm if attention_mask is None else jnp.logical_and(attention_mask.astype(bool), cm)
        query = query * jnp.asarray(self._inverse_sqrt_key_dim, query.dtype)
        scores = jnp.einsum(self._dot_product_equation, key, query)
        scores = self._masked_softmax(scores, attention_mask)
        final = self._dropout_layer(scores, training=training) if self._dropout > 0.0 else scores
        out = jnp.einsum(self._combine_equation, final, value)
        return out, scores

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        # Keras fills `<arg>_mask` from the Keras masks of the inputs.
        if value_mask is None:
            value_mask = get_keras_mask(value)
        if key_mask is None and key is not None:
            key_mask = get_keras_mask(key)
        if key is None:
            key = value
        query_mask = get_keras_mask(query)
        causal_only = (use_causal_mask and query_mask is None and value_mask is None
                       and key_mask is None and attention_mask is None
                       and self._sliding_window is None
                       and type(self)._compute_attention is MultiHeadAttention._compute_attention)
        if causal_only:
            attention_mask = None
        else:
            attention_mask = self._attention_mask(query, value, query_mask, value_mask,
                                                  key_mask, attention_mask, use_causal_mask,
                                                  self._sliding_window)
        gate = self._gate_dense(query) if self._use_gate else None
        query = self._query_dense(query)
        key = self._key_dense(key)
        value = self._value_dense(value)
        extra = {"use_causal_mask": True} if causal_only else {}
        output, scores = self._compute_attention(query, key, value, attention_mask, training,
                                                 return_attention_scores, **extra)
        output = self._output_dense(output * gate if gate is not None else output)
        if query_mask is not None:
            set_keras_mask(output, query_mask)
        if return_attention_scores:
            return output, scores
        return output

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        if self._output_shape:
            query_shape = query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def compute_output_spec(self, query, value, key=None, query_mask=None, value_mask=None,
                            key_mask=None, attention_mask=None, return_attention_scores=False,
                            training=None, use_causal_mask=False):
        out = KerasTensor(self.compute_output_shape(query.shape, value.shape,
                                                    None if key is None else key.shape),
                          dtype=self.compute_dtype)
        if return_attention_scores:
            length = query.shape[1]
            return out, KerasTensor((query.shape[0], self.num_heads, length, length),
                                    dtype=self.compute_dtype)
        return out
