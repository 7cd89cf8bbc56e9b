"""String layers leading a model: they run on the host before the compiled step.

The target is Keras 3 on the TensorFlow backend, where `keras.Input(dtype="string")` ->
`TextVectorization` / `StringLookup` -> `Embedding` -> ... trains with `fit` on raw string
arrays (TensorFlow is not installed here, and Keras's own JAX backend cannot run these
layers inside a model). Expected values are computed by running the numeric rest of the
model on the layer's own output, and by hand.
"""

import os

import numpy as np
import pytest

import keras_on_jax as keras
from keras_on_jax.models.functional import HostPreprocessed

POS = ["good", "great", "fun", "superb", "lovely", "nice"]
NEG = ["bad", "awful", "boring", "dull", "poor", "ugly"]
FILLER = ["the", "movie", "film", "was", "plot", "a"]


def _texts(n, seed=0):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = list(rng.choice(FILLER, size=3)) + list(rng.choice(POS if label else NEG, size=2))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return np.asarray(texts, dtype=object), np.asarray(labels, dtype="float32")


def _text_classifier(texts, seed=1):
    keras.utils.set_random_seed(seed)
    tv = keras.layers.TextVectorization(max_tokens=40, output_sequence_length=6, name="tv")
    tv.adapt(texts)
    inp = keras.Input(shape=(1,), dtype="string", name="text")
    ids = tv(inp)
    emb = keras.layers.Embedding(40, 8, name="emb")
    pool = keras.layers.GlobalAveragePooling1D(name="pool")
    dense = keras.layers.Dense(1, activation="sigmoid", name="out")
    model = keras.Model(inp, dense(pool(emb(ids))))
    return model, tv, (emb, pool, dense)


def _rest(layers, ids):
    x = ids
    for layer in layers:
        x = layer(x)
    return np.asarray(x)


def test_text_classifier_fit_predict_evaluate_on_raw_strings():
    texts, y = _texts(64)
    val_texts, val_y = _texts(16, seed=5)
    model, tv, rest = _text_classifier(texts)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(texts[:, None], y, batch_size=16, epochs=6, verbose=0,
                        validation_data=(val_texts[:, None], val_y))
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert "val_loss" in history.history and history.history["val_accuracy"][-1] == 1.0

    # predict on raw strings == the numeric rest of the model on the vectorized ids.
    ids = tv(val_texts[:, None])
    assert ids.shape == (16, 6) and ids.dtype == np.int64
    expected = _rest(rest, ids)
    np.testing.assert_allclose(model.predict(val_texts[:, None], verbose=0), expected,
                               rtol=1e-5, atol=1e-6)
    # Rank-1 string arrays are adjusted to the input's (None, 1) as numeric ones are.
    np.testing.assert_allclose(model.predict(val_texts, batch_size=5, verbose=0), expected,
                               rtol=1e-5, atol=1e-6)
    # Eager call on strings still runs every layer.
    np.testing.assert_allclose(np.asarray(model(val_texts[:, None])), expected, rtol=1e-5,
                               atol=1e-6)

    # evaluate == binary cross-entropy computed by hand on the predictions.
    p = np.clip(expected[:, 0].astype("float64"), 1e-7, 1 - 1e-7)
    bce = -np.mean(val_y * np.log(p) + (1 - val_y) * np.log(1 - p))
    loss, acc = model.evaluate(val_texts[:, None], val_y, verbose=0)
    np.testing.assert_allclose(loss, bce, rtol=1e-4)
    assert acc == np.mean((p > 0.5) == val_y)


def test_on_batch_methods_take_strings():
    texts, y = _texts(16)
    model, tv, rest = _text_classifier(texts)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    before = _rest(rest, tv(texts[:, None]))
    loss0 = model.test_on_batch(texts[:, None], y)
    p = np.clip(before[:, 0].astype("float64"), 1e-7, 1 - 1e-7)
    np.testing.assert_allclose(loss0, -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)),
                               rtol=1e-4)
    first = model.train_on_batch(texts[:, None], y)
    np.testing.assert_allclose(first, loss0, rtol=1e-5)  # loss before the update
    for _ in range(5):
        model.train_on_batch(texts[:, None], y)
    assert model.test_on_batch(texts[:, None], y) < loss0
    np.testing.assert_allclose(model.predict_on_batch(texts[:, None]),
                               _rest(rest, tv(texts[:, None])), rtol=1e-5, atol=1e-6)


def test_validation_split_with_strings():
    texts, y = _texts(40)
    model, _, _ = _text_classifier(texts)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(texts[:, None], y, batch_size=8, epochs=2, validation_split=0.25,
                        verbose=0)
    assert len(history.history["val_loss"]) == 2


def test_save_and_load_keras_keeps_adapted_vocabulary(tmp_path):
    texts, y = _texts(32)
    model, tv, _ = _text_classifier(texts)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(texts[:, None], y, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "text.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    new_tv = loaded.get_layer("tv")
    assert new_tv.get_vocabulary() == tv.get_vocabulary()
    assert len(tv.get_vocabulary()) > 10
    np.testing.assert_allclose(loaded.predict(texts[:, None], verbose=0),
                               model.predict(texts[:, None], verbose=0), rtol=1e-6)
    # The loaded model trains on strings too.
    loaded.fit(texts[:, None], y, epochs=1, verbose=0)


def test_sequential_led_by_string_lookup():
    vocab = ["red", "green", "blue"]
    colors = np.asarray(["red", "blue", "green", "pink", "blue", "red", "green", "pink"] * 4)
    y = np.asarray([c in ("red", "pink") for c in colors], dtype="float32")
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input(shape=(1,), dtype="string"),
        keras.layers.StringLookup(vocabulary=vocab, name="lookup"),
        keras.layers.Embedding(4, 4, name="emb"),
        keras.layers.Flatten(),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="binary_crossentropy")
    history = model.fit(colors[:, None], y, batch_size=8, epochs=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    ids = model.get_layer("lookup")(colors[:, None])
    np.testing.assert_array_equal(ids[:4, 0], [1, 3, 2, 0])  # "pink" is OOV -> 0
    np.testing.assert_allclose(model.predict(colors[:, None], verbose=0),
                               _rest(model.layers[1:], ids), rtol=1e-5, atol=1e-6)


def test_sequential_without_input_builds_from_string_batch(tmp_path):
    vocab = ["a", "b", "c"]
    data = np.asarray([["a"], ["b"], ["c"], ["z"]] * 4)
    y = np.asarray([0, 1, 2, 3] * 4)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.layers.StringLookup(vocabulary=vocab, name="lookup"),
        keras.layers.Embedding(4, 6),
        keras.layers.Flatten(),
        keras.layers.Dense(4, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.1),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(data, y, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    assert model.inputs[0].dtype == "string"
    path = os.path.join(tmp_path, "seq.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0),
                               rtol=1e-6)


def test_hashing_on_strings_with_a_numeric_input():
    keras.utils.set_random_seed(0)
    words = keras.Input(shape=(1,), dtype="string", name="word")
    num = keras.Input(shape=(2,), name="num")
    hashed = keras.layers.Hashing(num_bins=8, name="hash")(words)
    emb = keras.layers.Flatten()(keras.layers.Embedding(8, 3, name="emb")(hashed))
    out = keras.layers.Dense(1, name="out")(keras.layers.Concatenate()([emb, num]))
    model = keras.Model({"word": words, "num": num}, out)
    rng = np.random.default_rng(0)
    x = {"word": np.asarray([["cat"], ["dog"], ["emu"], ["yak"]] * 8),
         "num": rng.normal(size=(32, 2)).astype("float32")}
    y = rng.normal(size=(32, 1)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    h = model.get_layer("hash")(x["word"])
    emb_out = np.asarray(model.get_layer("emb")(h)).reshape(32, -1)
    dense = model.get_layer("out")
    expected = np.concatenate([emb_out, x["num"]], axis=1) @ np.asarray(dense.kernel) + np.asarray(dense.bias)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
    batch = model._host_preprocess(x)
    assert isinstance(batch, HostPreprocessed) and len(batch) == 2


def test_integer_lookup_leading_model_on_numeric_data():
    # Numeric inputs of a host layer: the batches stream from the host (no fused gather).
    keras.utils.set_random_seed(0)
    inp = keras.Input(shape=(1,), dtype="int64")
    ids = keras.layers.IntegerLookup(vocabulary=[10, 20, 30], name="lookup")(inp)
    out = keras.layers.Dense(4, activation="softmax")(
        keras.layers.Flatten()(keras.layers.Embedding(4, 4)(ids)))
    model = keras.Model(inp, out)
    x = np.asarray([[10], [20], [30], [99]] * 8)
    y = np.asarray([0, 1, 2, 3] * 8)
    model.compile(optimizer=keras.optimizers.Adam(0.1),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    np.testing.assert_array_equal(model.predict(x[:4], verbose=0).argmax(-1), [0, 1, 2, 3])


def test_nested_preprocessing_model_runs_on_the_host():
    texts, y = _texts(32)
    tv = keras.layers.TextVectorization(max_tokens=40, output_sequence_length=6)
    tv.adapt(texts)
    raw = keras.Input(shape=(1,), dtype="string")
    prep = keras.Model(raw, tv(raw), name="prep")
    assert prep._runs_on_host
    inp = keras.Input(shape=(1,), dtype="string")
    x = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(40, 4)(prep(inp)))
    model = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(texts[:, None], y, epochs=1, verbose=0)
    assert model.predict(texts[:, None], verbose=0).shape == (32, 1)
    # The preprocessing model alone predicts the ids (no compiled layers at all).
    np.testing.assert_array_equal(prep.predict(texts[:, None], verbose=0), tv(texts[:, None]))


def test_string_input_read_inside_the_compiled_step_is_an_error():
    texts, _ = _texts(4)
    tv = keras.layers.TextVectorization(max_tokens=40, output_sequence_length=6)
    tv.adapt(texts)
    inp = keras.Input(shape=(1,), dtype="string", name="raw_text")
    model = keras.Model(inp, [tv(inp), inp])
    with pytest.raises(ValueError, match="input 'raw_text' has dtype string"):
        model.predict(texts[:, None], verbose=0)


def test_models_without_host_layers_are_unchanged():
    inp = keras.Input(shape=(3,))
    model = keras.Model(inp, keras.layers.Dense(2)(inp))
    x = np.ones((4, 3), "float32")
    assert model._host_preprocess(x) is x
    assert model._host_plan() is None


def test_generator_batches_and_steps_per_execution():
    texts, y = _texts(48)
    model, tv, rest = _text_classifier(texts)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  steps_per_execution=2)

    def batches():
        while True:
            for i in range(0, 48, 12):
                yield texts[i:i + 12, None], y[i:i + 12]

    history = model.fit(batches(), steps_per_epoch=4, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss = model.evaluate(batches(), steps=4, verbose=0)
    p = np.clip(_rest(rest, tv(texts[:, None]))[:, 0].astype("float64"), 1e-7, 1 - 1e-7)
    np.testing.assert_allclose(loss, -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)),
                               rtol=1e-4)
