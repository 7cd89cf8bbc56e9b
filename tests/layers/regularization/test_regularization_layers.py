"""Dropout-family layers: inference identity, training statistics, seeds under jit."""

import jax
import numpy as np
import pytest
from layer_test_utils import run_layer_test

from keras_on_jax.layers.regularization import (
    ActivityRegularization,
    AlphaDropout,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)


@pytest.mark.parametrize("cls,kwargs,shape", [
    (Dropout, {"rate": 0.5, "seed": 1}, (2, 3)),
    (Dropout, {"rate": 0.3, "noise_shape": (None, 1, 3)}, (2, 4, 3)),
    (SpatialDropout1D, {"rate": 0.5}, (2, 3, 4)),
    (SpatialDropout2D, {"rate": 0.5, "data_format": "channels_first"}, (2, 3, 4, 4)),
    (SpatialDropout3D, {"rate": 0.5}, (2, 2, 2, 2, 3)),
    (GaussianDropout, {"rate": 0.4}, (2, 3)),
    (GaussianNoise, {"stddev": 0.5}, (2, 3)),
    (AlphaDropout, {"rate": 0.2}, (2, 3)),
    (ActivityRegularization, {"l1": 0.1, "l2": 0.2}, (2, 3)),
])
def test_inference_identity_and_config(cls, kwargs, shape):
    import keras

    layer, out = run_layer_test(cls, kwargs, input_shape=shape, expected_output_shape=shape,
                                expected_num_trainable_weights=0, run_training_check=False)
    kconfig = getattr(keras.layers, cls.__name__)(name=layer.name, **kwargs).get_config()
    assert layer.get_config() == kconfig


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32") + 3.0


def test_dropout_training_statistics():
    x = np.ones((200, 100), "float32")
    out = np.asarray(Dropout(0.3, seed=2)(x, training=True))
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    # MC dropout: training=True drops even outside fit.
    assert (np.asarray(Dropout(0.5)(x, training=True)) == 0).any()
    np.testing.assert_array_equal(Dropout(0.5)(x), x)


def test_dropout_noise_shape_and_spatial():
    x = np.ones((50, 6, 8), "float32")
    out = np.asarray(Dropout(0.5, noise_shape=(None, 1, 8), seed=3)(x, training=True))
    assert (out == out[:, :1, :]).all()
    out = np.asarray(SpatialDropout1D(0.5, seed=3)(x, training=True))
    assert (out == out[:, :1, :]).all() and (out == 0).any()
    x4 = np.ones((10, 3, 3, 4), "float32")
    out = np.asarray(SpatialDropout2D(0.5, seed=3)(x4, training=True))
    assert (out == out[:, :1, :1, :]).all()
    with pytest.raises(ValueError, match="ndim"):
        SpatialDropout2D(0.5)(np.ones((2, 3), "float32"))


def test_gaussian_and_alpha_statistics():
    x = np.ones((400, 250), "float32")
    out = np.asarray(GaussianDropout(0.2, seed=1)(x, training=True))
    assert abs(out.mean() - 1.0) < 0.01
    assert abs(out.std() - np.sqrt(0.2 / 0.8)) < 0.01
    out = np.asarray(GaussianNoise(0.3, seed=1)(np.zeros_like(x), training=True))
    assert abs(out.mean()) < 0.01 and abs(out.std() - 0.3) < 0.01
    selu_like = np.random.default_rng(0).standard_normal((400, 250)).astype("float32")
    out = np.asarray(AlphaDropout(0.1, seed=1)(selu_like, training=True))
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1.0) < 0.03


def test_invalid_rates():
    for cls in (Dropout, GaussianDropout, AlphaDropout, SpatialDropout1D):
        with pytest.raises(ValueError, match="rate"):
            cls(1.5)
    with pytest.raises(ValueError, match="stddev"):
        GaussianNoise(-1.0)
    with pytest.raises(ValueError, match="noise_shape"):
        Dropout(0.5, noise_shape="abc")
    with pytest.raises(ValueError, match="noise_shape"):
        Dropout(0.5, noise_shape=(0, 2))


@pytest.mark.parametrize("layer", [Dropout(0.5, seed=4), GaussianNoise(0.5, seed=4),
                                   GaussianDropout(0.5, seed=4), AlphaDropout(0.5, seed=4),
                                   SpatialDropout1D(0.5, seed=4)])
def test_seed_advances_under_jit(layer):
    x = np.ones((4, 5, 6), "float32")
    tv = [v.value for v in layer.trainable_variables]
    ntv = [v.value for v in layer.non_trainable_variables]
    assert len(ntv) == 1  # the seed generator state

    @jax.jit
    def step(ntv, x):
        return layer.stateless_call(tv, ntv, x, training=True)

    out1, ntv = step(ntv, x)
    out2, ntv = step(ntv, x)
    assert not np.array_equal(np.asarray(out1), np.asarray(out2))


def test_activity_regularization_adds_loss():
    layer = ActivityRegularization(l1=0.1, l2=0.2)
    x = np.array([[1.0, -2.0]], "float32")
    layer(x)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(layer.losses[0], 0.1 * 3 + 0.2 * 5, rtol=1e-6)
