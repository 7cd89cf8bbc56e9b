"""`Lambda`: calls, shapes, masks and Keras-3-compatible (safe) serialization."""

import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.layers.core import Lambda


def double(x):
    return x * 2.0


def add_arg(x, offset=0.0):
    return x + offset


def test_lambda_call_and_shapes():
    layer = Lambda(lambda x: x[:, :2] + 1.0)
    out = layer(np.zeros((3, 4), "float32"))
    np.testing.assert_allclose(out, np.ones((3, 2)))
    assert layer.compute_output_shape((None, 4)) == (None, 2)
    sym = Lambda(double)(kj.Input((4,)))
    assert sym.shape == (None, 4)
    assert Lambda(double, output_shape=(7,)).compute_output_shape((5, 4)) == (5, 7)
    assert Lambda(double, output_shape=lambda s: s[:1]).compute_output_shape((5, 4)) == (5,)


def test_lambda_arguments_mask_training():
    layer = Lambda(add_arg, arguments={"offset": 3.0})
    np.testing.assert_allclose(layer(np.zeros((1, 2), "float32")), 3.0)
    seen = {}

    def fn(x, mask=None, training=None):
        seen["training"] = training
        return x

    Lambda(fn)(np.zeros((1, 2), "float32"), training=True)
    assert seen["training"] is True
    masked = Lambda(double, mask=lambda inputs, mask: inputs[..., 0] > 0)
    assert masked.supports_masking
    np.testing.assert_array_equal(masked.compute_mask(np.array([[1.0, 0.0], [-1.0, 0.0]]), None),
                                  [True, False])


def test_lambda_config_matches_keras_format():
    import keras

    ours = Lambda(lambda x: x + 1, name="l").get_config()
    theirs = keras.layers.Lambda(lambda x: x + 1, name="l").get_config()
    assert set(ours) == set(theirs)
    assert ours["function"]["class_name"] == "__lambda__"
    assert set(ours["function"]["config"]) == {"code", "defaults", "closure"}
    named = Lambda(double, output_shape=(3,), name="n").get_config()
    k_named = keras.layers.Lambda(double, output_shape=(3,), name="n").get_config()
    assert named == k_named
    assert named["function"] == {"module": "builtins", "class_name": "function",
                                 "config": "double", "registered_name": "function"}


def test_lambda_bytecode_refused_without_safe_mode_false():
    config = Lambda(lambda x: x * 3.0).get_config()
    with pytest.raises(ValueError, match="safe_mode=False"):
        Lambda.from_config(config)
    with pytest.raises(ValueError, match="safe_mode=False"):
        Lambda.from_config(config, safe_mode=True)
    out_shape_config = Lambda(double, output_shape=lambda s: s).get_config()
    with pytest.raises(ValueError, match="safe_mode=False"):
        Lambda.from_config(out_shape_config, custom_objects={"double": double})
    loaded = Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(loaded(np.ones((1, 2), "float32")), 3.0)


def test_lambda_loads_keras_written_config_and_named_functions():
    import keras

    k_config = keras.layers.Lambda(lambda x, y=2.0: x * y).get_config()
    loaded = Lambda.from_config(k_config, safe_mode=False)
    np.testing.assert_allclose(loaded(np.ones((1, 2), "float32")), 2.0)
    named = Lambda.from_config(Lambda(double).get_config(), custom_objects={"double": double})
    assert named.function is double
    with pytest.raises(TypeError, match="double"):
        Lambda.from_config(Lambda(double).get_config())


def test_lambda_rejects_non_callable():
    with pytest.raises(ValueError, match="callable"):
        Lambda(3)
