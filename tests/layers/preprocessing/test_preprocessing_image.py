"""Rescaling, Resizing, CenterCrop, RandomCrop and the random augmentation layers vs Keras 3."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.layers import preprocessing as P
from layer_test_utils import run_layer_test


def _keras():
    import keras

    return keras


def _images(shape=(2, 7, 6, 3), seed=0, low=0.0, high=255.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype("float32")


# ---- Rescaling -----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"scale": 1.0 / 255}, {"scale": 1.0 / 127.5, "offset": -1.0}, {"scale": [0.5, 1.0, 2.0]},
])
def test_rescaling_matches_keras(kwargs):
    run_layer_test(P.Rescaling, kwargs, input_shape=(2, 4, 4, 3), expected_output_shape=(2, 4, 4, 3),
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)


def test_rescaling_int_inputs_and_config():
    layer = P.Rescaling(1.0 / 255)
    x = np.arange(12, dtype="uint8").reshape(1, 2, 2, 3)
    out = layer(x)
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(out), x.astype("float32") / 255, rtol=1e-6)
    k = _keras().layers.Rescaling(1.0 / 255)
    assert layer.get_config() == k.get_config() | {"name": layer.name}
    np.testing.assert_allclose(np.asarray(out), np.asarray(k(x)), rtol=1e-6)


def test_rescaling_in_model_fit():
    inputs = kj.Input((4,))
    x = P.Rescaling(0.5, offset=1.0)(inputs)
    outputs = kj.layers.Dense(1)(x) if hasattr(kj, "layers") and hasattr(kj.layers, "Dense") else x
    model = kj.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    data = np.ones((8, 4), "float32")
    model.fit(data, np.zeros((8, 1), "float32"), epochs=1, verbose=0)
    assert model.predict(data, verbose=0).shape == (8, 1)


# ---- Resizing / cropping -------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"height": 4, "width": 5},
    {"height": 9, "width": 4, "interpolation": "bicubic"},
    {"height": 3, "width": 3, "interpolation": "nearest"},
    {"height": 3, "width": 3, "crop_to_aspect_ratio": True},
    {"height": 3, "width": 5, "pad_to_aspect_ratio": True, "fill_value": 2.0},
    {"height": 4, "width": 3, "antialias": True, "data_format": "channels_first"},
    {"height": 5, "width": 3, "crop_to_aspect_ratio": True, "data_format": "channels_first"},
])
def test_resizing_matches_keras(kwargs):
    shape = (2, 7, 6, 3)
    df = kwargs.get("data_format", "channels_last")
    out = (2, kwargs["height"], kwargs["width"], 3) if df == "channels_last" else (2, 7, kwargs["height"], kwargs["width"])
    run_layer_test(P.Resizing, kwargs, input_data=_images(shape), expected_output_shape=out,
                   expected_num_trainable_weights=0)


def test_resizing_integer_images_keep_dtype():
    x = _images((2, 7, 6, 3)).astype("uint8")
    ours = P.Resizing(3, 4)(x)
    theirs = _keras().layers.Resizing(3, 4)(x)
    assert ours.dtype == jnp.uint8
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_resizing_single_image_and_errors():
    x = _images((7, 6, 3))
    np.testing.assert_allclose(np.asarray(P.Resizing(3, 4)(x)),
                               np.asarray(_keras().layers.Resizing(3, 4)(x)), atol=1e-5)
    with pytest.raises(ValueError, match="interpolation"):
        P.Resizing(3, 3, interpolation="cubic")
    with pytest.raises(ValueError, match="pad_to_aspect_ratio"):
        P.Resizing(3, 3, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="rank 3"):
        P.Resizing(3, 3)(np.zeros((2, 2), "float32"))


@pytest.mark.parametrize("hw,data_format", [
    ((3, 4), "channels_last"), ((7, 6), "channels_first"), ((9, 9), "channels_last"),
    ((5, 8), "channels_first"),
])
def test_center_crop_matches_keras(hw, data_format):
    h, w = hw
    shape = (2, 7, 6, 3) if data_format == "channels_last" else (2, 3, 7, 6)
    out = (2, h, w, 3) if data_format == "channels_last" else (2, 3, h, w)
    run_layer_test(P.CenterCrop, {"height": h, "width": w, "data_format": data_format},
                   input_data=_images(shape), expected_output_shape=out)


def test_random_crop_transform_matches_keras_and_inference_center_crop():
    x = _images()
    k = _keras().layers.RandomCrop(3, 4, seed=3)
    ours = P.RandomCrop(3, 4, seed=3)
    for _ in range(3):
        t = k.get_random_transformation(x, training=True)
        np.testing.assert_array_equal(np.asarray(k.transform_images(x, t)),
                                      np.asarray(ours.transform_images(x, t)))
    assert ours(x).shape == (2, 3, 4, 3)
    # Inference: largest central window with the target aspect ratio, resized.
    expected = P.Resizing(3, 4, crop_to_aspect_ratio=True)(x)
    np.testing.assert_allclose(np.asarray(ours(x, training=False)), np.asarray(expected), atol=1e-5)
    run_layer_test(P.RandomCrop, {"height": 3, "width": 4, "seed": 1}, input_data=x,
                   expected_output_shape=(2, 3, 4, 3), compare_with_keras=False)


def test_random_crop_random_location_in_training():
    x = np.arange(2 * 10 * 10 * 1, dtype="float32").reshape(2, 10, 10, 1)
    layer = P.RandomCrop(4, 4, seed=0)
    outs = [np.asarray(layer(x, training=True)) for _ in range(6)]
    starts = {float(o[0, 0, 0, 0]) for o in outs}
    assert len(starts) > 1
    for o in outs:  # every output is a contiguous 4x4 window of the input
        h0, w0 = divmod(int(o[0, 0, 0, 0]), 10)
        np.testing.assert_array_equal(o, x[:, h0:h0 + 4, w0:w0 + 4])


# ---- random augmentation layers ---------------------------------------------------------------
AUGMENT_CASES = [
    ("RandomFlip", {}),
    ("RandomFlip", {"mode": "horizontal"}),
    ("RandomFlip", {"mode": "vertical", "data_format": "channels_first"}),
    ("RandomRotation", {"factor": 0.2}),
    ("RandomRotation", {"factor": (-0.3, 0.1), "fill_mode": "constant", "fill_value": 1.0}),
    ("RandomRotation", {"factor": 0.2, "interpolation": "nearest", "fill_mode": "wrap",
                        "data_format": "channels_first"}),
    ("RandomZoom", {"height_factor": 0.3}),
    ("RandomZoom", {"height_factor": (-0.3, -0.1), "width_factor": (0.1, 0.4), "fill_mode": "nearest"}),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.3}),
    ("RandomTranslation", {"height_factor": (-0.2, 0.1), "width_factor": 0.3, "fill_mode": "constant",
                           "interpolation": "nearest", "data_format": "channels_first"}),
    ("RandomContrast", {"factor": 0.5}),
    ("RandomContrast", {"factor": (0.1, 0.9), "value_range": (0, 1)}),
    ("RandomBrightness", {"factor": 0.3}),
    ("RandomBrightness", {"factor": (-0.2, 0.5), "value_range": (0, 1)}),
]


@pytest.mark.parametrize("name,kwargs", AUGMENT_CASES)
def test_augmentation_transform_matches_keras(name, kwargs):
    """Given Keras's own random draw, our transform computes Keras's images exactly."""
    high = 1.0 if kwargs.get("value_range") == (0, 1) else 255.0
    k = getattr(_keras().layers, name)(**kwargs)
    ours = getattr(P, name)(**kwargs)
    assert ours.get_config() == k.get_config() | {"name": ours.name}
    for shape in [(2, 7, 6, 3), (7, 6, 3)] if not kwargs else [(2, 7, 6, 3)]:
        x = _images(shape, high=high)
        t = k.get_random_transformation(x, training=True)
        np.testing.assert_allclose(np.asarray(ours.transform_images(x, t)),
                                   np.asarray(k.transform_images(x, t)), atol=1e-4)


@pytest.mark.parametrize("name,kwargs", [c for i, c in enumerate(AUGMENT_CASES)
                                         if c[0] not in [d[0] for d in AUGMENT_CASES[:i]]])
def test_augmentation_training_semantics(name, kwargs):
    high = 1.0 if kwargs.get("value_range") == (0, 1) else 255.0
    x = _images(high=high)
    layer = getattr(P, name)(seed=1, **kwargs)
    # Identity at inference.
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    # Augments in training, with fresh randomness per call (seed generator advances).
    outs = [np.asarray(layer(x, training=True)) for _ in range(4)]
    assert all(o.shape == x.shape for o in outs)
    assert any(not np.allclose(o, x) for o in outs)
    assert any(not np.allclose(outs[0], o) for o in outs[1:])
    # Same seed, same draws.
    again = getattr(P, name)(seed=1, **kwargs)
    np.testing.assert_allclose(np.asarray(again(x, training=True)), outs[0], atol=1e-6)
    # Config round trip + jit == eager at inference.
    run_layer_test(getattr(P, name), dict(kwargs, seed=1), input_data=x,
                   expected_output_shape=x.shape, compare_with_keras=False)


def test_augmentation_in_model_uses_training_flag():
    inputs = kj.Input((6, 6, 1))
    outputs = P.RandomFlip(seed=0)(inputs)
    model = kj.Model(inputs, outputs)
    x = _images((3, 6, 6, 1))
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    assert model(x, training=True).shape == x.shape


def test_augmentation_advances_seed_under_jit():
    layer = P.RandomRotation(0.3, seed=5)
    x = jnp.asarray(_images((1, 6, 6, 1)))
    layer(x)  # build
    ntv = [v.value for v in layer.non_trainable_variables]

    @jax.jit
    def step(ntv, x):
        return layer.stateless_call([], ntv, x, training=True)

    out1, ntv = step(ntv, x)
    out2, ntv = step(ntv, x)
    assert not np.allclose(np.asarray(out1), np.asarray(out2))


def test_factor_validation_errors():
    with pytest.raises(ValueError, match="factor"):
        P.RandomRotation(2.0)
    with pytest.raises(ValueError, match="factor"):
        P.RandomContrast(-0.5)
    with pytest.raises(ValueError, match="height_factor"):
        P.RandomZoom(-1.0)
    with pytest.raises(NotImplementedError, match="fill_mode"):
        P.RandomTranslation(0.1, 0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="mode"):
        P.RandomFlip(mode="diagonal")
