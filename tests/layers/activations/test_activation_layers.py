"""Activation layers vs real Keras 3."""

import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.layers import activations as act
from layer_test_utils import run_layer_test

CASES = [
    ("Activation", dict(activation="relu"), (2, 5), 0),
    ("Activation", dict(activation="gelu"), (2, 3, 4), 0),
    ("Activation", dict(activation="softmax"), (2, 5), 0),
    ("ReLU", {}, (2, 6), 0),
    ("ReLU", dict(max_value=0.8), (2, 6), 0),
    ("ReLU", dict(negative_slope=0.1, threshold=0.3), (2, 3, 6), 0),
    ("ReLU", dict(max_value=6.0, negative_slope=0.2, threshold=0.5), (2, 6), 0),
    ("LeakyReLU", {}, (2, 6), 0),
    ("LeakyReLU", dict(negative_slope=0.05), (2, 3, 6), 0),
    ("PReLU", {}, (2, 6), 1),
    ("PReLU", dict(alpha_initializer="ones", shared_axes=[1, 2]), (2, 3, 4, 2), 1),
    ("PReLU", dict(shared_axes=1, alpha_regularizer="l2", alpha_constraint="non_neg"),
     (2, 3, 4), 1),
    ("ELU", {}, (2, 6), 0),
    ("ELU", dict(alpha=0.5), (2, 3, 6), 0),
    ("Softmax", {}, (2, 6), 0),
    ("Softmax", dict(axis=1), (2, 3, 4), 0),
    ("Softmax", dict(axis=(1, 2)), (2, 3, 4), 0),
    ("Softmax", dict(axis=[-1]), (2, 3, 4), 0),
]


@pytest.mark.parametrize("name,kwargs,shape,n_weights", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_activation_layers_match_keras(name, kwargs, shape, n_weights):
    run_layer_test(getattr(act, name), kwargs, input_shape=shape, expected_output_shape=shape,
                   expected_num_trainable_weights=n_weights,
                   expected_num_non_trainable_weights=0)


def test_configs_match_keras():
    import keras

    for name, kwargs, *_ in CASES:
        assert getattr(act, name)(name="a", **kwargs).get_config() == getattr(
            keras.layers, name)(name="a", **kwargs).get_config(), name


def test_prelu_weight_shape_and_name():
    layer = act.PReLU(shared_axes=[1, 2])
    layer(np.zeros((2, 3, 4, 5), "float32"))
    assert [w.name for w in layer.weights] == ["alpha"]
    assert tuple(layer.alpha.shape) == (1, 1, 5)
    x = np.array([[-2.0, 3.0]], "float32")
    layer = act.PReLU(alpha_initializer="ones")
    layer.build((None, 2))
    layer.alpha.assign(np.array([0.25, 0.5], "float32"))
    np.testing.assert_allclose(np.asarray(layer(x)), [[-0.5, 3.0]])


def test_leaky_relu_accepts_keras2_alpha():
    with pytest.warns(UserWarning, match="alpha"):
        layer = act.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1
    np.testing.assert_allclose(np.asarray(layer(np.array([-1.0, 2.0], "float32"))), [-0.1, 2.0],
                               rtol=1e-6)


@pytest.mark.parametrize("mask_dtype", ["bool", "float32"])
def test_softmax_mask(mask_dtype):
    import keras

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1]]).astype(mask_dtype)[:, None, :]
    ours = act.Softmax()(x, mask=mask)
    theirs = keras.layers.Softmax()(x, mask=mask)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), atol=1e-6)
    assert np.all(np.asarray(ours)[0, :, 2] == 0)
    with pytest.raises(ValueError, match="broadcastable"):
        act.Softmax()(x, mask=np.ones((2, 3, 5), bool))


def test_symbolic_and_errors():
    x = kj.Input(shape=(None, 4))
    assert tuple(act.PReLU(shared_axes=1)(x).shape) == (None, None, 4)
    assert tuple(act.Softmax()(x).shape) == (None, None, 4)
    with pytest.raises(ValueError, match="max_value"):
        act.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope"):
        act.LeakyReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match="activation"):
        act.Activation("no_such_activation")
