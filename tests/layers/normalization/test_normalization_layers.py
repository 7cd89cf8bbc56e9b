"""Normalization layers against real Keras 3 (outputs, gradients, statistics updates)."""

import jax
import numpy as np
import pytest
from layer_test_utils import run_layer_test

from keras_on_jax.initializers import GlorotUniform
from keras_on_jax.layers.core import Dense, Embedding
from keras_on_jax.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    SpectralNormalization,
    UnitNormalization,
)


@pytest.mark.parametrize("kwargs,shape", [
    ({}, (4, 3)),
    ({"axis": 1, "center": False, "momentum": 0.9}, (3, 2, 4)),
    ({"scale": False, "epsilon": 1e-2, "gamma_regularizer": "l2"}, (2, 3, 3, 2)),
])
def test_batch_normalization(kwargs, shape):
    trainable = 2 - (kwargs.get("center") is False) - (kwargs.get("scale") is False)
    run_layer_test(BatchNormalization, kwargs, input_shape=shape, expected_output_shape=shape,
                   expected_num_trainable_weights=trainable,
                   expected_num_non_trainable_weights=2)


def _keras_bn(x, **kwargs):
    import keras

    k = keras.layers.BatchNormalization(**kwargs)
    k.build(x.shape)
    return k


def test_batch_normalization_training_matches_keras():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 3)).astype("float32") * 2 + 1
    ours = BatchNormalization(momentum=0.8)
    out = ours(x, training=True)
    k = _keras_bn(x, momentum=0.8)
    kout = k(x, training=True)
    np.testing.assert_allclose(out, kout, atol=1e-5)
    np.testing.assert_allclose(ours.moving_mean.numpy(), k.moving_mean.numpy(), atol=1e-6)
    np.testing.assert_allclose(ours.moving_variance.numpy(), k.moving_variance.numpy(), atol=1e-6)
    expected_mean = 0.8 * 0 + 0.2 * x.mean(0)
    np.testing.assert_allclose(ours.moving_mean.numpy(), expected_mean, atol=1e-6)
    # Inference uses the moving statistics.
    np.testing.assert_allclose(ours(x, training=False), k(x, training=False), atol=1e-5)


def test_batch_normalization_masked_moments_match_keras():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, True], [True, False, False, True]])
    ours = BatchNormalization()
    out = ours(x, training=True, mask=mask)
    k = _keras_bn(x)
    kout = k(x, training=True, mask=mask)
    np.testing.assert_allclose(out, kout, atol=1e-5)
    np.testing.assert_allclose(ours.moving_variance.numpy(), k.moving_variance.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="mask"):
        ours(x, training=True, mask=mask[0])


def test_frozen_batch_normalization_runs_in_inference_mode():
    x = np.random.default_rng(3).standard_normal((5, 2)).astype("float32")
    layer = BatchNormalization()
    layer.build(x.shape)
    layer.trainable = False
    out = layer(x, training=True)
    np.testing.assert_allclose(out, x / np.sqrt(1 + 1e-3), atol=1e-6)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.0)


def test_batch_normalization_updates_in_stateless_jit():
    x = np.random.default_rng(4).standard_normal((8, 3)).astype("float32")
    layer = BatchNormalization()
    layer.build(x.shape)
    tv = [v.value for v in layer.trainable_variables]
    ntv = [v.value for v in layer.non_trainable_variables]

    @jax.jit
    def step(tv, ntv, x):
        return layer.stateless_call(tv, ntv, x, training=True)

    _, new_ntv = step(tv, ntv, x)
    np.testing.assert_allclose(new_ntv[0], 0.01 * x.mean(0), atol=1e-6)
    np.testing.assert_allclose(new_ntv[1], 0.99 + 0.01 * x.var(0), atol=1e-6)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.0)  # unchanged outside


def test_batch_normalization_renorm_matches_keras():
    x = np.random.default_rng(5).standard_normal((6, 3)).astype("float32")
    kwargs = {"renorm": True, "renorm_clipping": {"rmax": 2.0, "rmin": 0.5, "dmax": 1.0}}
    ours = BatchNormalization(**kwargs)
    out = ours(x, training=True)
    k = _keras_bn(x, **kwargs)
    np.testing.assert_allclose(out, k(x, training=True), atol=1e-5)
    assert [w.path.split("/")[-1] for w in ours.weights] == [w.path.split("/")[-1] for w in k.weights]
    for a, b in zip(ours.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("kwargs,shape", [
    ({}, (2, 5)),
    ({"axis": [1, 2], "center": False}, (2, 3, 4)),
    ({"axis": 1, "epsilon": 1e-5}, (2, 3, 4)),
    ({"rms_scaling": True}, (2, 4)),
])
def test_layer_normalization(kwargs, shape):
    if kwargs.get("rms_scaling"):
        with pytest.warns(UserWarning, match="rms_scaling"):
            run_layer_test(LayerNormalization, kwargs, input_shape=shape,
                           expected_output_shape=shape, expected_num_trainable_weights=1)
        return
    nw = 1 if kwargs.get("center") is False else 2
    run_layer_test(LayerNormalization, kwargs, input_shape=shape, expected_output_shape=shape,
                   expected_num_trainable_weights=nw)


@pytest.mark.parametrize("kwargs,shape", [
    ({"groups": 2}, (2, 3, 4)),
    ({"groups": -1, "center": False}, (2, 3, 4)),
    ({"groups": 2, "axis": 1}, (2, 4, 3)),
])
def test_group_normalization(kwargs, shape):
    nw = 1 if kwargs.get("center") is False else 2
    run_layer_test(GroupNormalization, kwargs, input_shape=shape, expected_output_shape=shape,
                   expected_num_trainable_weights=nw)


def test_group_normalization_errors():
    with pytest.raises(ValueError, match="groups"):
        GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="multiple"):
        GroupNormalization(groups=3)(np.ones((1, 4), "float32"))
    with pytest.raises(ValueError, match="more than"):
        GroupNormalization(groups=8)(np.ones((1, 4), "float32"))


@pytest.mark.parametrize("axis", [-1, [1, 2]])
def test_unit_normalization(axis):
    run_layer_test(UnitNormalization, {"axis": axis}, input_shape=(2, 3, 4),
                   expected_output_shape=(2, 3, 4), expected_num_trainable_weights=0)
    with pytest.raises(TypeError):
        UnitNormalization(axis="x")


def _spectral(**kwargs):
    return SpectralNormalization(Dense(3), **kwargs)


def test_spectral_normalization_inference_and_weight_order():
    import keras

    x = np.random.default_rng(6).standard_normal((2, 4)).astype("float32")
    ours = _spectral()
    out = ours(x)
    k = keras.layers.SpectralNormalization(keras.layers.Dense(3))
    k(x)
    assert [(w.path.split("/")[-1], w.shape) for w in ours.weights] == \
        [(w.path.split("/")[-1], tuple(w.shape)) for w in k.weights]
    assert len(ours.trainable_weights) == 2 and len(ours.non_trainable_weights) == 1
    k.set_weights(ours.get_weights())
    np.testing.assert_allclose(out, k(x), atol=1e-5)
    config = ours.get_config()
    assert set(config) == set(k.get_config())
    assert config["layer"]["class_name"] == "Dense"
    clone = SpectralNormalization.from_config(config)
    assert clone.power_iterations == 1


@pytest.mark.parametrize("iters", [1, 3])
def test_spectral_normalization_training_matches_keras(iters):
    import keras

    x = np.random.default_rng(7).standard_normal((2, 5)).astype("float32")
    # A seeded kernel: how fast one power iteration per call converges depends on the gap between
    # the kernel's two largest singular values, so an unseeded draw made the check below flaky.
    ours = SpectralNormalization(Dense(4, kernel_initializer=GlorotUniform(seed=3)),
                                 power_iterations=iters)
    ours(x)
    k = keras.layers.SpectralNormalization(keras.layers.Dense(4), power_iterations=iters)
    k(x)
    k.set_weights(ours.get_weights())
    out = ours(x, training=True)
    kout = k(x, training=True)
    np.testing.assert_allclose(out, kout, atol=1e-5)
    for a, b in zip(ours.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # Each training call divides the kernel by its estimated spectral norm: once the power
    # iteration has converged (a few calls), the kernel's spectral norm is 1.
    for _ in range(10):
        ours(x, training=True)
    assert abs(np.linalg.svd(ours.layer.kernel.numpy(), compute_uv=False)[0] - 1.0) < 0.02


def test_spectral_normalization_stateless_updates_vector_u():
    x = np.random.default_rng(8).standard_normal((2, 4)).astype("float32")
    layer = _spectral()
    layer(x)
    tv = [v.value for v in layer.trainable_variables]
    ntv = [v.value for v in layer.non_trainable_variables]
    _, new_ntv = jax.jit(lambda tv, ntv, x: layer.stateless_call(tv, ntv, x, training=True))(tv, ntv, x)
    assert not np.allclose(new_ntv[0], ntv[0])


def test_spectral_normalization_embeddings_and_errors():
    layer = SpectralNormalization(Embedding(5, 3))
    assert layer(np.array([[1, 2]], "int32"), training=True).shape == (1, 2, 3)
    with pytest.raises(ValueError, match="power_iterations"):
        SpectralNormalization(Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="kernel"):
        SpectralNormalization(UnitNormalization())(np.ones((1, 2), "float32"))
