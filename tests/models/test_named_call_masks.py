"""`Layer.__call__` fills `{arg}_mask` call arguments from the inputs' masks, as Keras 3.

Real Keras 3 (JAX backend) is the oracle: the same custom layers and weights in both.
"""

import keras
import numpy as np
import pytest

import keras_on_jax as kj


def _layers(mod):
    ops = mod.ops

    class PairPool(mod.layers.Layer):
        """Masked means of `query` and `value`; the last two columns say which masks came."""

        def call(self, query, value, query_mask=None, value_mask=None):
            def mean(x, m):
                if m is None:
                    return ops.mean(x, axis=1)
                w = ops.expand_dims(ops.cast(m, x.dtype), -1)
                return ops.sum(x * w, axis=1) / ops.maximum(ops.sum(w, axis=1), 1.0)

            flags = ops.stack([
                ops.ones_like(query[:, 0, 0]) * (0.0 if query_mask is None else 1.0),
                ops.ones_like(query[:, 0, 0]) * (0.0 if value_mask is None else 1.0),
            ], axis=-1)
            return ops.concatenate([mean(query, query_mask), mean(value, value_mask), flags], -1)

    class OneTensor(mod.layers.Layer):
        """One tensor argument: Keras fills only `mask`, never `inputs_mask`."""

        def call(self, inputs, inputs_mask=None, scale=2.0):
            flag = 0.0 if inputs_mask is None else 1.0
            return ops.sum(inputs, axis=1) * scale + flag

    return PairPool, OneTensor


Q = np.array([[1, 2, 0, 0], [3, 0, 0, 0], [4, 5, 6, 7]], dtype="int32")
V = np.array([[5, 0, 0], [6, 7, 0], [1, 2, 3]], dtype="int32")


def _model(mod, emb_weights, explicit_value_mask=False, which="pair"):
    PairPool, OneTensor = _layers(mod)
    q_in = mod.Input(shape=(4,), dtype="int32")
    v_in = mod.Input(shape=(3,), dtype="int32")
    q = mod.layers.Embedding(8, 3, mask_zero=True, name="eq")(q_in)
    v = mod.layers.Embedding(8, 3, mask_zero=True, name="ev")(v_in)
    if which == "one":
        return mod.Model(q_in, OneTensor()(q)), emb_weights
    if explicit_value_mask:
        m_in = mod.Input(shape=(3,), dtype="bool")
        return mod.Model([q_in, v_in, m_in], PairPool()(q, v, value_mask=m_in)), emb_weights
    else:
        out = PairPool()(q, v)
    return mod.Model([q_in, v_in], out), emb_weights


def _run(mod, **kw):
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(8, 3)).astype("float32") for _ in range(2)]
    model, _ = _model(mod, weights, **kw)
    model.get_layer("eq").set_weights([weights[0]])
    if kw.get("which") != "one":
        model.get_layer("ev").set_weights([weights[1]])
        x = [Q, V, np.ones(V.shape, bool)] if kw.get("explicit_value_mask") else [Q, V]
        return np.asarray(model.predict(x, verbose=0))
    return np.asarray(model.predict(Q, verbose=0))


@pytest.mark.parametrize("kw", [{}, {"explicit_value_mask": True}, {"which": "one"}])
def test_named_masks_match_keras(kw):
    ours = _run(kj, **kw)
    theirs = _run(keras, **kw)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_named_masks_filled_from_embedding_masks():
    out = _run(kj)
    # Both masks were filled in.
    np.testing.assert_array_equal(out[:, -2:], np.ones((3, 2)))
    rng = np.random.default_rng(0)
    wq, wv = (rng.normal(size=(8, 3)).astype("float32") for _ in range(2))
    np.testing.assert_allclose(out[0, :3], (wq[1] + wq[2]) / 2, rtol=1e-5)
    np.testing.assert_allclose(out[1, 3:6], (wv[6] + wv[7]) / 2, rtol=1e-5)
    # An explicit `value_mask` wins over the attached one.
    explicit = _run(kj, explicit_value_mask=True)
    np.testing.assert_allclose(explicit[0, 3:6], (wv[5] + 2 * wv[0]) / 3, rtol=1e-5)
    np.testing.assert_allclose(explicit[:, :3], out[:, :3], rtol=1e-6)


def test_single_tensor_argument_gets_no_named_mask():
    out = _run(kj, which="one")
    rng = np.random.default_rng(0)
    wq = rng.normal(size=(8, 3)).astype("float32")
    np.testing.assert_allclose(out, wq[Q].sum(axis=1) * 2.0, rtol=1e-5)


def test_named_masks_in_a_subclassed_model_and_under_fit():
    PairPool, _ = _layers(kj)
    seen = []

    class Probe(PairPool):
        def call(self, query, value, query_mask=None, value_mask=None):
            seen.append((query_mask is not None, value_mask is not None))
            return super().call(query, value, query_mask, value_mask)

    class Net(kj.Model):
        def __init__(self):
            super().__init__()
            self.eq = kj.layers.Embedding(8, 3, mask_zero=True)
            self.ev = kj.layers.Embedding(8, 3, mask_zero=True)
            self.pool = Probe()
            self.head = kj.layers.Dense(1)

        def call(self, inputs):
            q, v = inputs
            return self.head(self.pool(self.eq(q), self.ev(v)))

    net = Net()
    net([Q, V])
    assert seen[-1] == (True, True)
    seen.clear()
    net.compile(optimizer="sgd", loss="mse")
    net.fit([Q, V], np.zeros((3, 1), "float32"), epochs=1, verbose=0)
    assert seen and all(s == (True, True) for s in seen)  # also inside the compiled step
