"""The image augmentation layers of image_augmentation.py compiled: inside `fit`, and
under `jax.jit` (the seed generator advances per step; the same state gives the same
draws; inference is the identity)."""

import jax
import jax.numpy as jnp
import numpy as np

import keras_on_jax as kj
from keras_on_jax.layers import preprocessing as P


def _images(shape, seed=0, low=0.0, high=255.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype("float32")


def test_augmentation_in_compiled_fit_and_seed_advances():
    inputs = kj.Input((8, 8, 3))
    x = P.Pipeline([P.RandomShear(0.2, 0.2, seed=0), P.RandomHue(0.3, seed=1)])(inputs)
    x = P.RandomPerspective(scale=0.3, seed=2)(x)
    x = P.CutMix(seed=5)(x)
    x = kj.layers.Rescaling(1 / 255.0)(x)
    x = kj.layers.GlobalAveragePooling2D()(x)
    outputs = kj.layers.Dense(2)(x)
    model = kj.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    data = _images((8, 8, 8, 3))
    seeds = [np.asarray(v.value) for v in model.non_trainable_variables]
    assert len(seeds) >= 4
    history = model.fit(data, np.zeros((8, 2), "float32"), epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    after = [np.asarray(v.value) for v in model.non_trainable_variables]
    assert any(not np.array_equal(a, b) for a, b in zip(seeds, after, strict=True))
    # predict is inference: the augmentations are the identity there.
    kernel, bias = model.layers[-1].get_weights()
    expected = (data / 255.0).mean(axis=(1, 2)) @ kernel + bias
    np.testing.assert_allclose(model.predict(data, verbose=0), expected, atol=1e-5)


def test_mixup_and_erasing_compiled_seeded_and_advancing():
    model = kj.Sequential([P.MixUp(seed=4), P.RandomErasing(seed=3)])
    x = jnp.asarray(_images((4, 8, 8, 3)))
    model.build(x.shape)
    ntv0 = [v.value for v in model.non_trainable_variables]
    step = jax.jit(lambda ntv, x: model.stateless_call([], ntv, x, training=True))
    out1, ntv1 = step(ntv0, x)
    out2, _ = step(ntv1, x)
    again, _ = step(ntv0, x)
    assert out1.shape == x.shape and not np.allclose(np.asarray(out1), np.asarray(x))
    assert not np.allclose(np.asarray(out1), np.asarray(out2))
    np.testing.assert_array_equal(np.asarray(again), np.asarray(out1))
    inference, _ = jax.jit(lambda ntv, x: model.stateless_call([], ntv, x, training=False))(ntv0, x)
    np.testing.assert_array_equal(np.asarray(inference), np.asarray(x))


def test_randaugment_compiled_seeded_and_advancing():
    layer = P.RandAugment(seed=5)
    layer.build((4, 8, 8, 3))
    x = jnp.asarray(_images((4, 8, 8, 3)))
    ntv0 = [v.value for v in layer.non_trainable_variables]
    step = jax.jit(lambda ntv, x: layer.stateless_call([], ntv, x, training=True))
    out1, ntv1 = step(ntv0, x)
    out2, _ = step(ntv1, x)
    again, _ = step(ntv0, x)
    assert out1.shape == x.shape and np.isfinite(np.asarray(out1)).all()
    assert not np.allclose(np.asarray(out1), np.asarray(out2))  # the seed advances
    np.testing.assert_array_equal(np.asarray(again), np.asarray(out1))  # same state, same draw
    assert any(not np.allclose(np.asarray(o), np.asarray(x), atol=1e-3) for o in (out1, out2))
    config = layer.get_config()
    assert P.RandAugment.from_config(config).get_config() == config
    assert tuple(layer(kj.Input((8, 8, 3))).shape) == (None, 8, 8, 3)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), np.asarray(x))
