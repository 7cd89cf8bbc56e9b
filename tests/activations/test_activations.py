"""keras_on_jax.activations against real keras.activations."""

import keras
import numpy as np
import pytest

from keras_on_jax import activations

X = np.random.default_rng(1).normal(size=(3, 6)).astype("float32") * 3


def test_names_match_keras():
    names = {n for n in dir(keras.activations) if not n.startswith("_")}
    assert names == set(activations.__all__)


# sparsemax: Keras 3.15 mis-computes tau when the support has >1 element (see
# tests/ops/test_ops.py::test_sparsemax_other_axis); checked separately below.
@pytest.mark.parametrize("name", sorted(n for n in activations.ALL_OBJECTS_DICT if n != "sparsemax"))
def test_numerics(name):
    x = X if name != "exponential" else X / 3
    if name == "threshold":
        args = (0.5, -1.0)
    else:
        args = ()
    expected = getattr(keras.activations, name)(x, *args)
    np.testing.assert_allclose(getattr(activations, name)(x, *args), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"negative_slope": 0.1},
        {"max_value": 6.0},
        {"max_value": 2.0},
        {"threshold": 0.5},
        {"negative_slope": 0.2, "max_value": 3.0, "threshold": 0.5},
        {"negative_slope": 0.3, "threshold": -0.5},
    ],
)
def test_relu_options(kwargs):
    np.testing.assert_allclose(
        activations.relu(X, **kwargs), keras.activations.relu(X, **kwargs), rtol=1e-5, atol=1e-6
    )


def test_options():
    np.testing.assert_allclose(activations.gelu(X, approximate=True), keras.activations.gelu(X, approximate=True), atol=1e-6)
    np.testing.assert_allclose(activations.softmax(X, axis=0), keras.activations.softmax(X, axis=0), atol=1e-6)
    np.testing.assert_allclose(activations.elu(X, alpha=0.3), keras.activations.elu(X, alpha=0.3), atol=1e-6)
    np.testing.assert_allclose(activations.squareplus(X, b=2), keras.activations.squareplus(X, b=2), atol=1e-6)


def test_get_serialize_deserialize():
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu
    fn = lambda x: x * 2  # noqa: E731
    assert activations.get(fn) is fn
    assert activations.get({"class_name": "function", "config": "gelu", "module": "keras.activations", "registered_name": None}) is activations.gelu
    for name in ("relu", "swish", "gelu", "softmax", "linear"):
        assert activations.serialize(activations.get(name)) == keras.activations.serialize(keras.activations.get(name))
    assert activations.deserialize("tanh") is activations.tanh
    assert activations.deserialize("mine", custom_objects={"mine": fn}) is fn


def test_unknown_names_raise_listing_valid_names():
    with pytest.raises(ValueError, match="Could not interpret activation function identifier: foo.*relu"):
        activations.get("foo")
    with pytest.raises(ValueError, match="Could not interpret"):
        activations.get(3)


def test_sparsemax_projects_onto_simplex():
    out = np.asarray(activations.sparsemax(X))
    np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-6)
    assert (out >= 0).all()
    small = np.array([[0.1, 0.2, 5.0]], "float32")
    np.testing.assert_allclose(activations.sparsemax(small), keras.activations.sparsemax(small), atol=1e-6)
