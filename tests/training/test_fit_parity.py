"""fit/evaluate/predict give the same numbers as real Keras 3 from the same weights."""

import numpy as np
import pytest

import keras_on_jax as kj


def _keras():
    import keras

    return keras


def _data(n=96, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    y = rng.integers(0, classes, size=(n,)).astype("int32")
    return x, y


def _sequential(lib):
    return lib.Sequential([
        lib.Input(shape=(6,)),
        lib.layers.Dense(8, activation="relu"),
        lib.layers.Dense(3, activation="softmax"),
    ])


def _functional(lib):
    a = lib.Input(shape=(6,), name="a")
    b = lib.Input(shape=(6,), name="b")
    shared = lib.layers.Dense(5, activation="tanh")
    h = lib.layers.Concatenate()([shared(a), shared(b)]) if hasattr(lib.layers, "Concatenate") else None
    out = lib.layers.Dense(3, activation="softmax")(h)
    return lib.Model([a, b], out)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_sequential_fit_matches_keras(optimizer):
    keras = _keras()
    x, y = _data()
    ours, theirs = _sequential(kj), _sequential(keras)
    theirs.set_weights(ours.get_weights())
    for m in (ours, theirs):
        m.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h1 = ours.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, validation_split=0.25)
    h2 = theirs.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, validation_split=0.25)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(h1.history[key], h2.history[key], atol=1e-5, rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), atol=1e-5)
    np.testing.assert_allclose(ours.predict(x[:7], verbose=0), theirs.predict(x[:7], verbose=0), atol=1e-6)


def test_functional_shared_layer_fit_matches_keras():
    keras = _keras()
    if not hasattr(kj.layers, "Concatenate"):
        pytest.skip("Concatenate not wired yet")
    x, y = _data()
    x2, _ = _data(seed=1)
    ours, theirs = _functional(kj), _functional(keras)
    assert len(ours.weights) == len(theirs.weights) == 4
    theirs.set_weights(ours.get_weights())
    for m in (ours, theirs):
        m.compile(optimizer=kj.optimizers.SGD(0.1) if m is ours else keras.optimizers.SGD(0.1),
                  loss="sparse_categorical_crossentropy")
    h1 = ours.fit([x, x2], y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    h2 = theirs.fit([x, x2], y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_multi_output_losses_weights_and_metrics_match_keras():
    keras = _keras()
    x, y = _data()
    yr = np.random.default_rng(3).standard_normal((len(x), 1)).astype("float32")

    def build(lib):
        inp = lib.Input(shape=(6,), name="inp")
        h = lib.layers.Dense(8, activation="relu", name="trunk")(inp)
        cls = lib.layers.Dense(3, activation="softmax", name="cls")(h)
        reg = lib.layers.Dense(1, name="reg")(h)
        return lib.Model(inp, [cls, reg])

    ours, theirs = build(kj), build(keras)
    theirs.set_weights(ours.get_weights())
    for lib, m in ((kj, ours), (keras, theirs)):
        m.compile(optimizer=lib.optimizers.SGD(0.05),
                  loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5},
                  metrics={"cls": ["accuracy"], "reg": ["mae"]})
    h1 = ours.fit(x, {"cls": y, "reg": yr}, batch_size=32, epochs=2, shuffle=False, verbose=0)
    h2 = theirs.fit(x, {"cls": y, "reg": yr}, batch_size=32, epochs=2, shuffle=False, verbose=0)
    assert set(h1.history) == set(h2.history), (sorted(h1.history), sorted(h2.history))
    for key in h2.history:
        np.testing.assert_allclose(h1.history[key], h2.history[key], atol=1e-5, err_msg=key)


def test_sample_weight_and_class_weight_match_keras():
    keras = _keras()
    x, y = _data()
    sw = np.random.default_rng(5).uniform(0.1, 2.0, size=len(x)).astype("float32")
    for kwargs in ({"sample_weight": sw}, {"class_weight": {0: 1.0, 1: 2.0, 2: 0.5}}):
        ours, theirs = _sequential(kj), _sequential(keras)
        theirs.set_weights(ours.get_weights())
        for lib, m in ((kj, ours), (keras, theirs)):
            m.compile(optimizer=lib.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                      weighted_metrics=["accuracy"])
        h1 = ours.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0, **kwargs)
        h2 = theirs.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0, **kwargs)
        for key in h2.history:
            np.testing.assert_allclose(h1.history[key], h2.history[key], atol=1e-5, err_msg=key)


def test_steps_per_execution_gives_same_weights_as_one_step():
    x, y = _data()
    a, b = _sequential(kj), _sequential(kj)
    b.set_weights(a.get_weights())
    a.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    b.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", steps_per_execution=4)
    a.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
    b.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
    for w1, w2 in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(w1, w2, atol=1e-6)


def test_experimental_steps_per_execution_spelling():
    m = _sequential(kj)
    m.compile(optimizer="sgd", loss="mse", experimental_steps_per_execution=3)
    assert m.steps_per_execution == 3


def test_train_test_predict_on_batch_match_keras():
    keras = _keras()
    x, y = _data(n=16)
    ours, theirs = _sequential(kj), _sequential(keras)
    theirs.set_weights(ours.get_weights())
    for lib, m in ((kj, ours), (keras, theirs)):
        m.compile(optimizer=lib.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    for _ in range(2):
        r1 = ours.train_on_batch(x, y)
        r2 = theirs.train_on_batch(x, y)
        np.testing.assert_allclose(r1, r2, atol=1e-5)
    np.testing.assert_allclose(ours.test_on_batch(x, y), theirs.test_on_batch(x, y), atol=1e-5)
    np.testing.assert_allclose(ours.predict_on_batch(x), theirs.predict_on_batch(x), atol=1e-6)
    assert ours.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "accuracy"}


def test_predict_any_length_and_generator_input():
    m = _sequential(kj)
    x, _ = _data(n=37)
    out = m.predict(x, batch_size=8, verbose=0)
    assert out.shape == (37, 3)

    def gen():
        for i in range(0, 37, 10):
            yield (x[i:i + 10],)

    np.testing.assert_allclose(m.predict(gen(), verbose=0), out, atol=1e-6)
