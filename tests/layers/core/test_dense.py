"""Tests of the existing `Dense` and `InputLayer` against real Keras 3."""

import numpy as np
import pytest
from layer_test_utils import run_layer_test

import keras_on_jax as kj
from keras_on_jax.layers.core import Dense, Input, InputLayer


@pytest.mark.parametrize("kwargs,shape,out", [
    ({"units": 3}, (2, 4), (2, 3)),
    ({"units": 2, "activation": "relu", "use_bias": False}, (2, 3, 4), (2, 3, 2)),
    ({"units": 5, "kernel_regularizer": "l2", "bias_initializer": "ones"}, (3, 2), (3, 5)),
])
def test_dense(kwargs, shape, out):
    n_weights = 1 if kwargs.get("use_bias") is False else 2
    run_layer_test(Dense, kwargs, input_shape=shape, expected_output_shape=out,
                   expected_num_trainable_weights=n_weights,
                   expected_num_non_trainable_weights=0)


def test_dense_config_keys_match_keras():
    import keras

    ours = set(Dense(3).get_config())
    theirs = set(keras.layers.Dense(3).get_config())
    # Keras 3.15 also writes `quantization_config` (None): see the report.
    assert ours <= theirs
    assert theirs - ours <= {"quantization_config"}


def test_dense_errors():
    with pytest.raises(ValueError, match="units"):
        Dense(0)
    layer = Dense(2)
    layer(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match="dense"):
        layer(np.ones((1, 4), "float32"))


def test_dense_weight_paths():
    layer = Dense(2, name="d")
    layer(np.ones((1, 3), "float32"))
    assert [w.path for w in layer.weights] == ["d/kernel", "d/bias"]


def test_input_layer():
    x = Input(shape=(3,), batch_size=2, dtype="float32", name="inp")
    assert tuple(x.shape) == (2, 3)
    layer = InputLayer(shape=(4, 5))
    assert layer.batch_shape == (None, 4, 5)
    config = layer.get_config()
    assert config["batch_shape"] == [None, 4, 5]
    assert InputLayer.from_config(config).batch_shape == (None, 4, 5)
    with pytest.raises(ValueError):
        InputLayer(shape=(3,), batch_shape=(None, 3))
    assert kj.Input is not None
