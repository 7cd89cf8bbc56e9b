"""`Attention` (Luong dot-product) and `AdditiveAttention` (Bahdanau)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from keras_on_jax.backend.random import SeedGenerator
from keras_on_jax.layers.layer import Layer
from keras_on_jax.layers.regularization.dropout import dropout as _dropout
from keras_on_jax.backend.keras_tensor import KerasTensor


class Attention(Layer):
    """Dot-product attention: `softmax(query @ key^T) @ value`.

    Call with `[query, value]` or `[query, value, key]` (shapes `(batch, Tq, dim)`,
    `(batch, Tv, dim)`).

    Args:
        use_scale: learn a scalar `scale` multiplying the scores.
        score_mode: `"dot"` or `"concat"` (`sum(tanh(query + key))`).
        dropout: dropout rate on the attention weights.
        seed: integer seed of the dropout.

    Call arguments: `inputs`, `mask=[query_mask, value_mask]`, `training`,
    `return_attention_scores`, `use_causal_mask`.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        if self.dropout > 0:
            self.seed_generator = SeedGenerator(seed=seed)
        if self.score_mode not in ["dot", "concat"]:
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )
        self.scale = None
        self.concat_score_weight = None

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones",
                                         trainable=True)
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                name="concat_score_weight", shape=(), initializer="ones", trainable=True)
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = jnp.matmul(query, jnp.swapaxes(key, -2, -1))
            if self.scale is not None:
                scores = scores * self.scale.value
            return scores
        q = jnp.expand_dims(query, -2)
        k = jnp.expand_dims(key, -3)
        if self.scale is not None:
            return self.concat_score_weight.value * jnp.sum(jnp.tanh(self.scale.value * (q + k)), axis=-1)
        return self.concat_score_weight.value * jnp.sum(jnp.tanh(q + k), axis=-1)

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        if scores_mask is not None:
            padding_mask = jnp.logical_not(scores_mask)
            max_value = 65504.0 if scores.dtype == jnp.float16 else 1.0e9
            if padding_mask.ndim == 2:
                padding_mask = jnp.expand_dims(padding_mask, -2)
            scores = jnp.where(padding_mask, scores - max_value, scores)
        weights = jax.nn.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            weights = _dropout(weights, self.dropout, None, self.seed_generator)
        return jnp.matmul(weights, value), weights

    def _calculate_score_mask(self, scores, v_mask, use_causal_mask):
        if use_causal_mask:
            tq, tv = scores.shape[-2], scores.shape[-1]
            causal = jnp.tril(jnp.ones((1, tq, tv), dtype=bool))
            if v_mask is not None:
                return jnp.logical_and(jnp.expand_dims(v_mask, -2), causal)
            return causal
        return v_mask

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        scores = self._calculate_scores(q, k)
        scores_mask = self._calculate_score_mask(scores, v_mask, use_causal_mask)
        output, attention_scores = self._apply_scores(scores, v, scores_mask, training)
        if q_mask is not None:
            output = jnp.where(jnp.expand_dims(q_mask, -1), output, 0)
        if return_attention_scores:
            return output, attention_scores
        return output

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return mask[0] if isinstance(mask[0], KerasTensor) else jnp.asarray(mask[0])

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0][:-1]), input_shape[1][-1])

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False,
                            training=None, use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        out = KerasTensor(self.compute_output_shape([query.shape, value.shape, key.shape]),
                          dtype=self.compute_dtype)
        if return_attention_scores:
            return out, KerasTensor((*query.shape[:-1], key.shape[-2]), dtype=self.compute_dtype)
        return out

    def _validate_inputs(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, list):
            raise ValueError(
                f"{name} layer must be called on a list of inputs, namely [query, value] "
                f"or [query, value, key]. Received: inputs={inputs}."
            )
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(
                f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] "
                f"or [query, value, key]. Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, list):
                raise ValueError(
                    f"{name} layer mask must be a list, namely [query_mask, value_mask]. "
                    f"Received: mask={mask}."
                )
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(
                    f"{name} layer accepts mask list of length 2 or 3. Received: "
                    f"inputs={inputs}, mask={mask}."
                )

    def get_config(self):
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode,
                       "dropout": self.dropout, "seed": self.seed})
        return config


class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention: scores `sum(scale * tanh(query + key))`.

    Args:
        use_scale: learn a per-dimension `scale` vector (default True).
        dropout: dropout rate on the attention weights.
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        dim = input_shape[0][-1]
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=[dim],
                                         initializer="glorot_uniform", trainable=True)
        self.built = True

    def _calculate_scores(self, query, key):
        q = jnp.expand_dims(query, -2)
        k = jnp.expand_dims(key, -3)
        scale = self.scale.value if self.use_scale else 1.0
        return jnp.sum(scale * jnp.tanh(q + k), axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
