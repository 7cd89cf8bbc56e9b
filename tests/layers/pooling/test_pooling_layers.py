"""Pooling layers vs real Keras 3."""

import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.layers import pooling
from layer_test_utils import run_layer_test

CASES = [
    ("MaxPooling1D", {}, (2, 6, 3), (2, 3, 3)),
    ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same",
                          data_format="channels_first"), (2, 3, 7), (2, 3, 4)),
    ("MaxPooling2D", {}, (2, 5, 4, 2), (2, 2, 2, 2)),
    ("MaxPooling2D", dict(pool_size=(3, 2), strides=(1, 2), padding="same"), (2, 5, 5, 2),
     (2, 5, 3, 2)),
    ("MaxPooling3D", dict(pool_size=2, data_format="channels_first"), (1, 2, 4, 4, 5),
     (1, 2, 2, 2, 2)),
    ("AveragePooling1D", dict(pool_size=2), (2, 6, 3), (2, 3, 3)),
    ("AveragePooling1D", dict(pool_size=3, strides=2, padding="same"), (2, 8, 3), (2, 4, 3)),
    ("AveragePooling2D", dict(pool_size=2, strides=1), (2, 4, 4, 2), (2, 3, 3, 2)),
    ("AveragePooling2D", dict(pool_size=3, strides=2, padding="same",
                              data_format="channels_first"), (2, 2, 5, 6), (2, 2, 3, 3)),
    ("AveragePooling3D", dict(pool_size=(2, 3, 2), padding="same"), (1, 3, 4, 5, 2),
     (1, 2, 2, 3, 2)),
    ("GlobalMaxPooling1D", {}, (2, 5, 3), (2, 3)),
    ("GlobalMaxPooling1D", dict(keepdims=True, data_format="channels_first"), (2, 5, 3),
     (2, 5, 1)),
    ("GlobalMaxPooling2D", {}, (2, 4, 3, 2), (2, 2)),
    ("GlobalMaxPooling3D", dict(keepdims=True), (1, 2, 3, 4, 2), (1, 1, 1, 1, 2)),
    ("GlobalAveragePooling1D", {}, (2, 5, 3), (2, 3)),
    ("GlobalAveragePooling2D", dict(data_format="channels_first"), (2, 4, 3, 2), (2, 4)),
    ("GlobalAveragePooling2D", dict(keepdims=True), (2, 4, 3, 2), (2, 1, 1, 2)),
    ("GlobalAveragePooling3D", dict(data_format="channels_first", keepdims=True),
     (1, 2, 3, 4, 2), (1, 2, 1, 1, 1)),
]


@pytest.mark.parametrize("name,kwargs,input_shape,expected", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_pooling_matches_keras(name, kwargs, input_shape, expected):
    run_layer_test(getattr(pooling, name), kwargs, input_shape=input_shape,
                   expected_output_shape=expected, expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0)


def test_configs_match_keras():
    import keras

    for name, kwargs, *_ in CASES:
        assert getattr(pooling, name)(name="p", **kwargs).get_config() == getattr(
            keras.layers, name)(name="p", **kwargs).get_config(), name


def test_same_average_excludes_padding():
    x = np.arange(1, 4, dtype="float32").reshape(1, 3, 1)
    out = pooling.AveragePooling1D(pool_size=2, strides=2, padding="same")(x)
    np.testing.assert_allclose(np.asarray(out)[0, :, 0], [1.5, 3.0])


def test_global_average_pooling1d_mask():
    import keras

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool)
    ours = pooling.GlobalAveragePooling1D()(x, mask=mask)
    theirs = keras.layers.GlobalAveragePooling1D()(x, mask=mask)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), atol=1e-6)
    np.testing.assert_allclose(np.asarray(ours)[0], x[0, :2].mean(0), atol=1e-6)
    ours = pooling.GlobalAveragePooling1D(data_format="channels_first", keepdims=True)(
        x.transpose(0, 2, 1), mask=mask)
    np.testing.assert_allclose(np.asarray(ours)[:, :, 0], np.asarray(theirs), atol=1e-6)


def test_aliases():
    assert pooling.MaxPool2D is pooling.MaxPooling2D
    assert pooling.AvgPool3D is pooling.AveragePooling3D
    assert pooling.GlobalAvgPool1D is pooling.GlobalAveragePooling1D
    assert pooling.GlobalMaxPool3D is pooling.GlobalMaxPooling3D


def test_errors():
    with pytest.raises(ValueError, match="padding"):
        pooling.MaxPooling2D(padding="causal")
    with pytest.raises(TypeError):
        pooling.AveragePooling2D()
    with pytest.raises(ValueError, match="ndim"):
        pooling.MaxPooling2D()(np.zeros((2, 4, 4), "float32"))
    x = kj.Input(shape=(1, 1, 3))
    with pytest.raises(ValueError, match="zero or negative"):
        pooling.MaxPooling2D()(x)
