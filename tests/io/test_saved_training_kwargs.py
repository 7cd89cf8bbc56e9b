"""A node's recorded `training`: Keras 3 records each layer's default in the files it
saves (Dropout -> False, RandomFlip -> True); those must not pin the layer's mode here,
while a `training=` the user wrote (the FAQ's `Dropout(...)(x, training=True)`,
`base_model(x, training=False)`) holds."""

import keras
import numpy as np

import keras_on_jax as kj


def _zeros(a):
    return int((np.asarray(a) == 0).sum())


def test_keras_saved_dropout_drops_in_training_only(tmp_path):
    i = keras.Input((200,))
    keras.Model(i, keras.layers.Dropout(0.5)(i)).save(tmp_path / "d.keras")
    model = kj.saving.load_model(tmp_path / "d.keras")
    ones = np.ones((1, 200), "float32")
    assert 50 < _zeros(model(ones, training=True)) < 150
    assert _zeros(model.predict(ones, verbose=0)) == 0


def test_keras_saved_random_flip_is_identity_at_inference(tmp_path):
    i = keras.Input((4, 4, 1))
    keras.Model(i, keras.layers.RandomFlip(seed=1)(i)).save(tmp_path / "f.keras")
    model = kj.saving.load_model(tmp_path / "f.keras")
    x = np.arange(32, dtype="float32").reshape(2, 4, 4, 1)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_training_written_by_the_user_holds(tmp_path):
    i = kj.Input((200,))
    always = kj.Model(i, kj.layers.Dropout(0.5)(i, training=True))
    ones = np.ones((1, 200), "float32")
    assert _zeros(always.predict(ones, verbose=0)) > 50  # the FAQ: drops at inference too

    inner_in = kj.Input((3,))
    base = kj.Model(inner_in, kj.layers.BatchNormalization()(inner_in))
    j = kj.Input((3,))
    outer = kj.Model(j, base(j, training=False))
    x = np.random.default_rng(0).normal(5.0, 2.0, (16, 3)).astype("float32")
    # training=False inside: moving statistics (0 and 1) are used even in a training call.
    np.testing.assert_allclose(outer(x, training=True), x / np.sqrt(1 + 1e-3), rtol=1e-5)
    outer.save(tmp_path / "o.keras")
    reloaded = kj.saving.load_model(tmp_path / "o.keras")
    np.testing.assert_allclose(reloaded(x, training=True), x / np.sqrt(1 + 1e-3), rtol=1e-5)
