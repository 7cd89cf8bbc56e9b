"""ReversibleEmbedding against real Keras 3: both directions, tied and untied weights."""

import jax
import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.layers.core import ReversibleEmbedding
from tests.layer_test_utils import run_layer_test


@pytest.mark.parametrize("kwargs", [
    {"input_dim": 7, "output_dim": 3},
    {"input_dim": 7, "output_dim": 3, "tie_weights": False, "mask_zero": True},
])
def test_forward_direction_layer_test(kwargs):
    run_layer_test(ReversibleEmbedding, kwargs, input_shape=(2, 4), input_dtype="int32",
                   expected_output_shape=(2, 4, 3),
                   expected_num_trainable_weights=1 if kwargs.get("tie_weights", True) else 2)


@pytest.mark.parametrize("kwargs", [
    {"input_dim": 7, "output_dim": 3},
    {"input_dim": 7, "output_dim": 3, "tie_weights": False},
    {"input_dim": 7, "output_dim": 3, "logit_soft_cap": 2.0},
])
def test_reverse_direction_matches_keras_values_and_gradients(kwargs):
    layer, out = run_layer_test(
        ReversibleEmbedding, kwargs, input_shape=(2, 4, 3), call_kwargs={"reverse": True},
        expected_output_shape=(2, 4, 7), run_training_check=False)
    hidden = np.random.default_rng(1).standard_normal((2, 4, 3)).astype("float32")
    kernel = layer.embeddings.numpy().T if kwargs.get("tie_weights", True) else \
        layer.reverse_embeddings.numpy()
    expected = hidden @ kernel
    if "logit_soft_cap" in kwargs:
        cap = kwargs["logit_soft_cap"]
        expected = np.tanh(expected / cap) * cap
    np.testing.assert_allclose(np.asarray(layer(hidden, reverse=True)), expected, atol=1e-5)


def test_language_model_trains_and_files_move_both_ways(tmp_path):
    keras = pytest.importorskip("keras")

    def build(lib):
        ids = lib.Input((5,), dtype="int32")
        emb = lib.layers.ReversibleEmbedding(11, 4, tie_weights=False, logit_soft_cap=5.0,
                                             name="emb")
        hidden = lib.layers.Dense(4, name="mix")(emb(ids))
        return lib.Model(ids, emb(hidden, reverse=True))

    model = build(kj)
    assert model.output_shape == (None, 5, 11)
    assert [w.path for w in model.weights] == [w.path for w in build(keras).weights]
    model.compile(optimizer="adam",
                  loss=kj.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 11, (32, 5)).astype("int32")
    history = model.fit(x, x, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    tied = model.get_layer("emb")
    assert not np.array_equal(tied.embeddings.numpy(), tied.reverse_embeddings.numpy().T)

    path = tmp_path / "lm.keras"
    model.save(path)
    theirs = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)),
                               model.predict(x, verbose=0), atol=1e-5)
    theirs.save(tmp_path / "back.keras")
    ours = kj.saving.load_model(tmp_path / "back.keras")
    np.testing.assert_allclose(ours.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    assert ours.get_layer("emb").get_config() == theirs.get_layer("emb").get_config()


def test_mask_only_in_the_forward_direction():
    layer = ReversibleEmbedding(5, 2, mask_zero=True)
    ids = np.array([[0, 3, 1]])
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(ids)), [[False, True, True]])
    hidden = jax.numpy.ones((1, 3, 2))
    assert layer.compute_mask(hidden) is None
    # In a graph the forward mask reaches the next layer; the reverse output has none.
    inp = kj.Input((3,), dtype="int32")
    embedded = layer(inp)
    assert embedded._keras_mask is not None and tuple(embedded._keras_mask.shape) == (None, 3)
    assert layer(embedded, reverse=True)._keras_mask is None


def test_config_matches_keras():
    keras = pytest.importorskip("keras")
    kwargs = dict(input_dim=9, output_dim=4, tie_weights=False, reverse_dtype="float32",
                  logit_soft_cap=3.0, mask_zero=True, name="r")
    assert ReversibleEmbedding(**kwargs).get_config() == \
        keras.layers.ReversibleEmbedding(**kwargs).get_config()
