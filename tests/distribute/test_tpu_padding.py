"""TPUStrategy's padded last batch: left out of losses, metrics, epoch averages and
BatchNormalization statistics (compared with an unpadded single-device run)."""

import numpy as np

import keras_on_jax as keras
from keras_on_jax import distribute

from distribute_test_helpers import layer_class


def _bn_model():
    BatchNormalization = layer_class("BatchNormalization")
    return keras.Sequential([
        keras.Input((5,)), keras.layers.Dense(8), BatchNormalization(momentum=0.5),
        keras.layers.Dense(3),
    ])


def _compile(m, weighted=False):
    m.compile(
        keras.optimizers.SGD(0.1),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["sparse_categorical_accuracy",
                 keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2"),
                 keras.metrics.SparseCategoricalCrossentropy(from_logits=True, name="xent")],
        weighted_metrics=["sparse_categorical_accuracy"] if weighted else None,
    )


def _data(n=20):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 5)).astype("float32") * 2.0 + 1.0
    y = rng.integers(0, 3, size=(n,))
    sw = rng.uniform(0.2, 2.0, size=(n,)).astype("float32")
    return x, y, sw


def _strategy():
    return distribute.TPUStrategy(devices=[f"cpu:{i}" for i in range(4)])


def _moving(m):
    bn = [layer for layer in m.layers if "batch_normalization" in layer.name][0]
    return [np.asarray(bn.moving_mean.value), np.asarray(bn.moving_variance.value)]


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def _check_fit(weighted, sample_weight):
    x, y, sw = _data()
    sw = sw if sample_weight else None
    ref = _bn_model()
    _compile(ref, weighted)
    w = ref.get_weights()
    with _strategy().scope():
        m = _bn_model()
        _compile(m, weighted)
        m.set_weights(w)
    # 8 + 8 + 4 rows: the last batch is padded to 8 under the strategy.
    h = m.fit(x, y, sample_weight=sw, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert m._functions[("train", "step")][0]._cache_size() == 1
    h_ref = ref.fit(x, y, sample_weight=sw, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert sorted(h.history) == sorted(h_ref.history)
    for key in h_ref.history:
        _close(h.history[key], h_ref.history[key])
    for a, b in zip(_moving(m), _moving(ref)):
        _close(a, b)
    for a, b in zip(m.get_weights(), ref.get_weights()):
        _close(a, b)
    # evaluate: epoch averages over 8 + 8 + 4 rows.
    got = m.evaluate(x, y, sample_weight=sw, batch_size=8, verbose=0, return_dict=True)
    want = ref.evaluate(x, y, sample_weight=sw, batch_size=8, verbose=0, return_dict=True)
    for key in want:
        _close(got[key], want[key])


def test_padded_batch_left_out_of_bn_statistics_and_epoch_logs():
    _check_fit(weighted=False, sample_weight=False)


def test_padded_batch_with_user_sample_weights_and_weighted_metrics():
    _check_fit(weighted=True, sample_weight=True)


def test_bn_padding_mask_combines_with_user_mask():
    BatchNormalization = layer_class("BatchNormalization")
    rng = np.random.default_rng(2)
    tokens = rng.integers(1, 6, size=(11, 4))
    tokens[:, -1] = 0  # a masked timestep in every row
    tokens[8:, 1] = 0
    y = rng.normal(size=(11, 1)).astype("float32")

    def model():
        inp = keras.Input((4,), dtype="int32")
        h = keras.layers.Embedding(6, 3, mask_zero=True)(inp)
        h = BatchNormalization(momentum=0.0)(h)
        out = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling1D()(h))
        return keras.Model(inp, out)

    ref = model()
    ref.compile("sgd", "mse")
    w = ref.get_weights()
    with _strategy().scope():
        m = model()
        m.compile("sgd", "mse")
        m.set_weights(w)
    # 8 + 3 rows (the 3 padded to 8 with rows 0, 1, 2, 0, 1): momentum 0 keeps the
    # statistics of the last batch, over its unmasked timesteps of its real rows only.
    m.fit(tokens, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    ref.fit(tokens[:8], y[:8], batch_size=8, epochs=1, shuffle=False, verbose=0)
    emb = np.asarray(ref.layers[1].embeddings.value)[tokens[8:]]  # (3, 4, 3)
    keep = tokens[8:] != 0
    ref.fit(tokens[8:], y[8:], batch_size=8, epochs=1, shuffle=False, verbose=0)
    mean, var = _moving(m)
    _close(mean, emb[keep].mean(0))
    _close(var, emb[keep].var(0))
    for a, b in zip(_moving(m), _moving(ref)):
        _close(a, b)


def test_padded_rows_do_not_change_bn_moving_statistics_directly():
    BatchNormalization = layer_class("BatchNormalization")
    x = np.random.default_rng(3).normal(size=(3, 2)).astype("float32") * 3 + 5
    with _strategy().scope():
        m = keras.Sequential([keras.Input((2,)), BatchNormalization(momentum=0.0)])
        m.compile("sgd", "mse")
    m.fit(np.concatenate([x, x, x[:2]]), np.zeros((8, 2)), batch_size=8, verbose=0)
    # Second call: 3 real rows padded to 8 by repeating them (rows 0, 1, 2, 0, 1, ...).
    m.fit(x, np.zeros((3, 2)), batch_size=8, verbose=0)
    bn = m.layers[0]
    _close(np.asarray(bn.moving_mean.value), x.mean(0))
    _close(np.asarray(bn.moving_variance.value), x.var(0))


def test_padded_evaluate_exact_for_every_loss_reduction():
    x, y, sw = _data(11)
    yb = (y == 1).astype("float32")[:, None]
    for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight"):
        def model(reduction=reduction):
            m = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1)])
            m.compile("sgd", keras.losses.BinaryCrossentropy(from_logits=True,
                                                             reduction=reduction),
                      metrics=[keras.metrics.BinaryAccuracy(threshold=0.0),
                               keras.metrics.Precision(thresholds=0.0, name="p")],
                      weighted_metrics=[keras.metrics.Recall(thresholds=0.0, name="r")])
            return m

        ref = model()
        with _strategy().scope():
            m = model()
            m.set_weights(ref.get_weights())
        for kwargs in ({}, {"sample_weight": sw}):
            got = m.evaluate(x, yb, batch_size=8, verbose=0, return_dict=True, **kwargs)
            want = ref.evaluate(x, yb, batch_size=8, verbose=0, return_dict=True, **kwargs)
            assert sorted(got) == sorted(want)
            for key in want:
                _close(got[key], want[key])
