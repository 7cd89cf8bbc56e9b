"""`model.get_state_tree()` / `set_state_tree()` against real Keras 3."""

import jax
import numpy as np
import pytest
from quant_test_utils import keras, twin_models

import keras_on_jax as kj

RNG = np.random.default_rng(2)
X = RNG.normal(size=(8, 4)).astype("float32")
Y = RNG.normal(size=(8, 2)).astype("float32")


def _build(lib):
    model = lib.Sequential([lib.Input((4,), name="x"), lib.layers.Dense(3, name="d"),
                            lib.layers.BatchNormalization(name="bn"),
                            lib.layers.Dense(2, name="out")], name="seq")
    model.compile(optimizer=lib.optimizers.Adam(name="adam"), loss="mse", metrics=["mae"])
    return model


def _trained_pair():
    k, o = twin_models(_build)
    for model in (k, o):
        model.fit(X, Y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    return k, o


def _structure(tree):
    return jax.tree.map(lambda v: np.shape(v), tree)


def test_state_tree_matches_keras():
    k, o = _trained_pair()
    for fmt, kind in (("backend_tensor", jax.Array), ("numpy_array", np.ndarray)):
        ours, theirs = o.get_state_tree(fmt), k.get_state_tree(fmt)
        assert _structure(ours) == _structure(theirs)
        for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
            assert isinstance(a, kind)
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    assert set(o.get_state_tree()["trainable_variables"]["seq"]) == {"d", "bn", "out"}


def test_set_state_tree_round_trip_with_keras():
    k, o = _trained_pair()
    fresh = _build(kj)
    fresh.fit(X[:4], Y[:4], verbose=0)  # builds the optimizer and metrics
    fresh.set_state_tree(k.get_state_tree("numpy_array"))
    for a, b in zip(jax.tree.leaves(fresh.get_state_tree()), jax.tree.leaves(k.get_state_tree())):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
    np.testing.assert_allclose(fresh.predict(X, verbose=0), k.predict(X, verbose=0), atol=1e-5)
    # and ours into Keras
    other = _build(keras())
    other.fit(X[:4], Y[:4], verbose=0)
    other.set_state_tree(o.get_state_tree("numpy_array"))
    np.testing.assert_allclose(other.predict(X, verbose=0), o.predict(X, verbose=0), atol=1e-5)


def test_state_tree_errors():
    model = _build(kj)
    model.build((None, 4))
    with pytest.raises(ValueError, match="Invalid `value_format`"):
        model.get_state_tree("list")
    with pytest.raises(ValueError, match="Unknown variable name: weights"):
        model.set_state_tree({"weights": {}})
    class Twice(kj.Model):
        def __init__(self):
            super().__init__(name="twice")
            self.a = kj.layers.Dense(2, name="same")
            self.b = kj.layers.Dense(2, name="same")

        def call(self, x):
            return self.b(self.a(x))

    twins = Twice()
    twins(np.ones((1, 2), "float32"))
    with pytest.raises(ValueError, match="path is found twice in the model: 'twice/same/kernel'"):
        twins.get_state_tree()
    # paths the model does not have are ignored, as in Keras
    model.set_state_tree({"trainable_variables": {"seq": {"nope": {"kernel": np.ones(2)}}}})
