"""The composite augmentation layers RandAugment, AugMix and Pipeline
(image_augmentation.py) vs Keras 3.

Random layers: given Keras's own random draw (`get_random_transformation`), our
`transform_images` computes Keras's images exactly; configurations whose draw is fixed are
compared end to end through `__call__`.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.layers import preprocessing as P


def _keras():
    import keras

    return keras


def _images(shape=(3, 8, 7, 3), seed=0, low=0.0, high=255.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype("float32")


def _cf(x):
    return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))


REPLAY_CASES = [
    ("RandAugment", {"factor": (0.2, 0.6), "value_range": (0, 1), "interpolation": "nearest"}),
    ("AugMix", {"num_chains": 2, "chain_depth": 2}),
    ("AugMix", {"all_ops": False, "factor": (0.2, 0.5), "alpha": 0.5, "value_range": (0, 1)}),
]


def _case_input(kwargs, shape=(3, 8, 7, 3)):
    high = 1.0 if kwargs.get("value_range") == (0, 1) else 255.0
    x = _images(shape, high=high)
    return _cf(x) if kwargs.get("data_format") == "channels_first" else x


@pytest.mark.parametrize("name,kwargs", REPLAY_CASES)
def test_transform_matches_keras_for_keras_draws(name, kwargs):
    k = getattr(_keras().layers, name)(**kwargs)
    ours = getattr(P, name)(**kwargs)
    assert ours.get_config() == k.get_config() | {"name": ours.name}
    x = _case_input(kwargs)
    for _ in range(2):
        t = k.get_random_transformation(x, training=True)
        np.testing.assert_allclose(np.asarray(ours.transform_images(x, t)),
                                   np.asarray(k.transform_images(x, t)), atol=1e-4, rtol=1e-6)
    # Inference output equals Keras's (the identity, cast, or the deterministic op).
    np.testing.assert_allclose(np.asarray(ours(x, training=False)),
                               np.asarray(k(x, training=False)), atol=1e-4)


def test_augmix_seeded_compiled_and_fresh_choices():
    x = _images((2, 8, 8, 3))
    kwargs = {"num_chains": 1, "chain_depth": 1, "all_ops": False, "seed": 7}
    layer = P.AugMix(**kwargs)
    outs = [np.asarray(layer(x)) for _ in range(3)]
    assert any(not np.allclose(outs[0], o) for o in outs[1:])
    assert all(o.min() >= 0 and o.max() <= 255 for o in outs)
    np.testing.assert_allclose(np.asarray(P.AugMix(**kwargs)(x)), outs[0], atol=1e-5)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    config = layer.get_config()
    assert P.AugMix.from_config(config).get_config() == config
    # Compiled: the operations are chosen on every step (lax.switch), from the same draws
    # as eagerly.
    fresh = P.AugMix(**kwargs)
    fresh.build(x.shape)
    ntv0 = [v.value for v in fresh.non_trainable_variables]
    step = jax.jit(lambda ntv, x: fresh.stateless_call([], ntv, x, training=True))
    out1, ntv1 = step(ntv0, jnp.asarray(x))
    out2, _ = step(ntv1, jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(out1), outs[0], atol=1e-3)
    np.testing.assert_allclose(np.asarray(out2), outs[1], atol=1e-3)


def test_pipeline_config_and_calls():
    keras = _keras()
    ours = P.Pipeline([P.AutoContrast(name="ac"), P.RandomInvert(factor=(1.0, 1.0), name="inv"),
                       kj.layers.Rescaling(1 / 255.0, name="rs")], name="pipe")
    theirs = keras.layers.Pipeline([keras.layers.AutoContrast(name="ac"),
                                    keras.layers.RandomInvert(factor=(1.0, 1.0), name="inv"),
                                    keras.layers.Rescaling(1 / 255.0, name="rs")], name="pipe")
    # Same JSON (Keras's serializer keeps the layers' tuples, ours writes lists).
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
    x = _images() * 0.5 + 10
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), atol=1e-5)
    clone = P.Pipeline.from_config(ours.get_config())
    assert [type(layer).__name__ for layer in clone.layers] == [
        "AutoContrast", "RandomInvert", "Rescaling"]
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(ours(x)), atol=1e-6)
    # Keras's config loads here and ours in Keras.
    assert json.loads(json.dumps(P.Pipeline.from_config(theirs.get_config()).get_config())) == \
        json.loads(json.dumps(ours.get_config()))
    assert json.loads(json.dumps(keras.layers.Pipeline.from_config(ours.get_config()).get_config())) == \
        json.loads(json.dumps(ours.get_config()))
    # training=False passes through to the augmentation layers.
    np.testing.assert_allclose(np.asarray(ours(x, training=False)),
                               np.asarray(theirs(x, training=False)), atol=1e-5)
    with pytest.raises(ValueError, match="layers"):
        P.Pipeline.from_config({"name": "p"})


def test_model_with_augmentation_layers_saves_and_loads_in_keras(tmp_path):
    inputs = kj.Input((8, 8, 3))
    x = P.Pipeline([P.RandomShear((0.1, 0.2), seed=0), P.RandomHue(0.3, seed=1)])(inputs)
    x = P.RandAugment(seed=2)(x)
    x = P.AutoContrast()(x)
    x = kj.layers.GlobalAveragePooling2D()(x)
    model = kj.Model(inputs, kj.layers.Dense(2)(x))
    path = str(tmp_path / "aug.keras")
    model.save(path)
    data = _images((2, 8, 8, 3))
    expected = model.predict(data, verbose=0)
    np.testing.assert_allclose(kj.saving.load_model(path).predict(data, verbose=0), expected,
                               atol=1e-5)
    theirs = _keras().saving.load_model(path)
    assert [type(layer).__name__ for layer in theirs.layers][1:4] == [
        "Pipeline", "RandAugment", "AutoContrast"]
    np.testing.assert_allclose(theirs.predict(data, verbose=0), expected, atol=1e-3)
