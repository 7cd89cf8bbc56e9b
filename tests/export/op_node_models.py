"""Functional models whose graphs hold `keras.ops` op nodes (operators, slices, casts,
reductions, masks), for the export tests: `(model, batch of a given size)` builders."""

import keras_on_jax as keras
from keras_on_jax import ops


def text_encoder(rng):
    """Gemma-style embedding scaling, a `!= 0` mask, slicing, reductions and
    `ops.concatenate`; three outputs (float, int, bool)."""
    tokens = keras.Input((12,), dtype="int32", name="token_ids")
    mask = ops.not_equal(tokens, 0)
    e = keras.layers.Embedding(40, 8)(tokens)
    e = e * ops.cast(ops.sqrt(8.0), e.dtype)
    first = e[:, 0, :]
    mean = ops.mean(e, axis=1) + 1.0
    weights = ops.cast(mask, e.dtype)[..., None]
    pooled = ops.sum(e * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
    h = ops.concatenate([first, mean, pooled, ops.reshape(e[..., 1:3], (-1, 24))], axis=-1)
    logits = keras.layers.Dense(3)(h)
    model = keras.Model(tokens, [ops.softmax(logits), ops.argmax(logits, axis=-1),
                                 ops.any(mask, axis=1)])

    def batch(n):
        x = rng.integers(1, 40, (n, 12)).astype("int32")
        x[:, 7:] = 0  # padding
        x[0] = 0  # a row that is all padding
        return x

    return model, batch


def two_inputs(rng):
    """Matrix products, `where`, stacking, reversed slices, `einsum`, norms, `take`,
    `cumsum`, unary minus, `x[:, None]`, dict inputs and outputs."""
    a = keras.Input((6, 4), name="a")
    b = keras.Input((4,), name="b")
    gram = ops.transpose(a, (0, 2, 1)) @ a
    leaky = ops.where(a > 0, a, -a * 0.5)
    stacked = ops.stack([ops.max(leaky, axis=1), ops.min(leaky, axis=1), b[:, ::-1]], axis=1)
    y = ops.einsum("bij,bj->bi", gram, b) + ops.norm(stacked, axis=(1, 2))[:, None]
    picked = ops.take(a, ops.convert_to_tensor([0, 2]), axis=1)
    model = keras.Model({"a": a, "b": b}, {"y": keras.layers.Dense(2)(ops.tanh(y) ** 2),
                                           "z": ops.cumsum(picked, axis=-1),
                                           "n": -ops.abs(stacked[:, None])})

    def batch(n):
        return {"a": rng.standard_normal((n, 6, 4)).astype("float32"),
                "b": rng.standard_normal((n, 4)).astype("float32")}

    return model, batch


BUILDERS = {"text_encoder": text_encoder, "two_inputs": two_inputs}
