"""RandomElasticTransform and ContrastLimitedAdaptiveHistogramEqualization
(image_augmentation_extra.py) vs Keras 3.

RandomElasticTransform: given Keras's own draw (`get_random_transformation`, whose "seed"
entry Keras's jax backend turns into the displacement field's key), our `transform_images`
computes Keras's images. CLAHE is deterministic: whole calls are compared.
"""

import json

import jax
import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.layers import preprocessing as P


def _keras():
    import keras

    return keras


def _images(shape, seed=0, low=0.0, high=255.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype("float32")


def _cf(x):
    return np.ascontiguousarray(np.moveaxis(x, -1, -3))


def _json(config):
    return json.loads(json.dumps(config))


def _replay(t, apply):
    """Keras's draw with a chosen `apply_transform`, as plain numpy (and the int seed)."""
    return {"apply_transform": np.asarray(apply), "seed": t["seed"],
            "distortion_factor": np.asarray(t["distortion_factor"])}


CONFIG_CASES = [
    ("RandomElasticTransform", {}),
    ("RandomElasticTransform", {"factor": (0.2, 0.7), "scale": 0.4, "interpolation": "nearest",
                                "fill_mode": "constant", "fill_value": 3.0,
                                "value_range": (0, 1), "seed": 7,
                                "data_format": "channels_first"}),
    ("ContrastLimitedAdaptiveHistogramEqualization", {}),
    ("ContrastLimitedAdaptiveHistogramEqualization", {"value_range": (0, 1), "clip_limit": 2.5,
                                                      "tile_grid_size": (3, 5),
                                                      "data_format": "channels_first"}),
]


@pytest.mark.parametrize("name,kwargs", CONFIG_CASES)
def test_config_matches_keras_and_round_trips(name, kwargs):
    theirs = getattr(_keras().layers, name)(**kwargs)
    ours = getattr(kj.layers, name)(**kwargs)
    config = ours.get_config()
    assert config == theirs.get_config() | {"name": ours.name}
    assert type(ours).from_config(config).get_config() == config
    # Through JSON (lists for tuples) both ways.
    as_json = json.loads(json.dumps(config))
    assert json.loads(json.dumps(type(ours).from_config(as_json).get_config())) == as_json
    assert json.loads(json.dumps(type(theirs).from_config(as_json).get_config())) == as_json


ELASTIC_CASES = [
    {},
    {"scale": (0.5, 1.0), "fill_mode": "constant", "fill_value": 9.0,
     "interpolation": "nearest"},
    {"factor": (0.5, 1.0), "scale": 0.8, "fill_mode": "wrap", "value_range": (0, 1)},
    {"fill_mode": "mirror", "data_format": "channels_first"},
    {"scale": (0.6, 1.0), "fill_mode": "nearest", "data_format": "channels_first"},
]


@pytest.mark.parametrize("kwargs", ELASTIC_CASES)
def test_elastic_transform_matches_keras_for_keras_draws(kwargs):
    keras = _keras()
    high = 1.0 if kwargs.get("value_range") == (0, 1) else 255.0
    x = _images((3, 26, 22, 3), high=high)  # sigma up to 1.1: kernels of up to 7 taps
    if kwargs.get("data_format") == "channels_first":
        x = _cf(x)
    theirs = keras.layers.RandomElasticTransform(**kwargs)
    ours = P.RandomElasticTransform(**kwargs)
    for seed in (3, 11):
        t = _replay(theirs.get_random_transformation(x, training=True, seed=seed),
                    [True, False, True])
        expected = np.asarray(theirs.transform_images(x, t))
        got = np.asarray(ours.transform_images(x, t))
        assert not np.allclose(expected[0], x[0], atol=high / 255)  # a real deformation
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-6)
        np.testing.assert_array_equal(got[1], x[1])  # not applied there
        # One image (Keras transforms it as a batch of one) and segmentation masks.
        one = _replay(t, [True])
        np.testing.assert_allclose(np.asarray(ours.transform_images(x[0], one)),
                                   np.asarray(theirs.transform_single_image(x[0], one)),
                                   atol=1e-4, rtol=1e-6)
        masks = np.floor(x / high * 3).astype("float32")
        np.testing.assert_allclose(np.asarray(ours.transform_segmentation_masks(masks, t)),
                                   np.asarray(theirs.transform_segmentation_masks(masks, t)),
                                   atol=1e-5)
    # Inference is the identity (cast to the compute dtype), as in Keras.
    for data in (x, x[0], x.astype("int32")):
        out = ours(data, training=False)
        assert out.dtype == theirs(data, training=False).dtype == np.float32
        np.testing.assert_array_equal(np.asarray(out), np.asarray(theirs(data, training=False)))


def test_elastic_transform_draws_and_no_op_settings():
    keras = _keras()
    x = _images((4, 24, 24, 3))
    layer = P.RandomElasticTransform(factor=(1.0, 1.0), scale=(0.5, 0.9), seed=5)
    out = np.asarray(layer(x))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 255
    assert not np.allclose(out, x, atol=1.0)
    assert not np.allclose(out, np.asarray(layer(x)), atol=1.0)  # the generator advances
    t = layer.get_random_transformation(x)
    assert sorted(t) == ["apply_transform", "distortion_factor", "seed"]
    assert np.asarray(t["apply_transform"]).tolist() == [True] * 4
    assert 0.5 <= float(t["distortion_factor"]) < 0.9
    # The same seed gives the same draws; a dict input moves its masks with the images.
    again = P.RandomElasticTransform(factor=(1.0, 1.0), scale=(0.5, 0.9), seed=5)
    masks = np.repeat(np.floor(x[..., :1] / 64), 1, axis=-1)
    labels = np.arange(4.0)[:, None]
    d = again({"images": x, "segmentation_masks": masks, "labels": labels})
    np.testing.assert_allclose(np.asarray(d["images"]), out, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(d["labels"]), labels)
    assert set(np.unique(np.asarray(d["segmentation_masks"]))) <= set(np.unique(masks))
    # factor=0 or scale=0: nothing is drawn and images pass through, as in Keras.
    for kwargs in ({"factor": 0.0}, {"scale": 0.0}):
        ours, theirs = P.RandomElasticTransform(**kwargs), keras.layers.RandomElasticTransform(**kwargs)
        assert ours.get_random_transformation(x) is None
        np.testing.assert_array_equal(np.asarray(ours(x)), np.asarray(theirs(x)))
        np.testing.assert_array_equal(np.asarray(ours(x)), x)


def test_elastic_transform_under_jit_with_a_traced_distortion():
    """Keras 3.15 cannot compile this (its kernel size needs a concrete sigma); here a
    traced sigma uses a zero-padded kernel of the same taps."""
    keras = _keras()
    x = _images((2, 40, 36, 3))
    theirs = keras.layers.RandomElasticTransform(scale=(0.5, 1.0))
    ours = P.RandomElasticTransform(scale=(0.5, 1.0))
    t = _replay(theirs.get_random_transformation(x, seed=2), [True, True])
    expected = np.asarray(theirs.transform_images(x, t))

    def run(images, factor):
        return ours.transform_images(images, {**t, "distortion_factor": factor})

    traced = np.asarray(jax.jit(run)(x, t["distortion_factor"]))
    static = np.asarray(jax.jit(lambda images: run(images, t["distortion_factor"]))(x))
    np.testing.assert_allclose(traced, static, atol=1e-3)
    # Compiled float32 code rounds differently from eager; the displacement amplifies it.
    np.testing.assert_allclose(traced, expected, atol=5e-3)


CLAHE_CASES = [  # one image shape throughout: Keras's eager ops compile once per shape
    {},
    {"tile_grid_size": (3, 5), "clip_limit": 2.0, "data_format": "channels_first"},
    {"value_range": (0, 1), "tile_grid_size": (3, 5), "clip_limit": 0.0},
    {"value_range": (0, 1), "clip_limit": 1.5, "data_format": "channels_first"},
]


@pytest.mark.parametrize("kwargs", CLAHE_CASES)
def test_clahe_matches_keras(kwargs):
    keras = _keras()
    high = 1.0 if kwargs.get("value_range") == (0, 1) else 255.0
    channels_first = kwargs.get("data_format") == "channels_first"
    theirs = keras.layers.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)
    ours = P.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)
    rng = np.random.default_rng(1)
    shape = (2, 19, 23, 3)  # not a multiple of the grids: symmetric padding
    low_contrast = (rng.uniform(100, 140, shape) / 255.0 * high).astype("float32")
    gradient = np.broadcast_to(np.linspace(0, high, 23, dtype="float32")[None, None, :, None],
                               shape).copy()
    inputs = [_images(shape, high=high), low_contrast, gradient]
    if high == 255.0:
        inputs.append(_images(shape, seed=3).astype("uint8"))
    for x in inputs:
        x = _cf(x) if channels_first else x
        expected = np.asarray(theirs(x))
        got = np.asarray(ours(x))
        assert got.dtype == expected.dtype == x.dtype
        np.testing.assert_allclose(got.astype("float32"), expected.astype("float32"),
                                   atol=1e-4 * high)
        assert not np.allclose(got.astype("float32"), x.astype("float32"), atol=1e-3 * high)
        # Deterministic: the same in inference.
        np.testing.assert_array_equal(np.asarray(ours(x, training=False)), got)
    if kwargs:
        return
    # A single image is a batch of one; a dict input's images are transformed.
    x = inputs[0]
    np.testing.assert_allclose(np.asarray(ours(x[0])), np.asarray(theirs(x[0])), atol=1e-4 * high)
    np.testing.assert_allclose(np.asarray(ours({"images": x})["images"]),
                               np.asarray(theirs({"images": x})["images"]), atol=1e-4 * high)
    # Labels and masks pass through (Keras raises NotImplementedError for them).
    masks, labels = np.floor(x[..., :1] / 128), np.eye(2, dtype="float32")
    d = ours({"images": x, "labels": labels, "segmentation_masks": masks})
    np.testing.assert_array_equal(np.asarray(d["images"]), np.asarray(ours(x)))
    np.testing.assert_array_equal(np.asarray(d["labels"]), labels)
    np.testing.assert_array_equal(np.asarray(d["segmentation_masks"]), masks)


def test_layers_in_compiled_fit_and_keras_files_both_ways(tmp_path):
    keras = _keras()
    data = _images((8, 16, 16, 3))
    targets = np.zeros((8, 2), "float32")
    model = kj.Sequential([
        kj.Input((16, 16, 3)),
        kj.layers.RandomElasticTransform(scale=(0.3, 0.8), seed=1),
        kj.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(4, 4)),
        kj.layers.Rescaling(1 / 255.0),
        kj.layers.GlobalAveragePooling2D(),
        kj.layers.Dense(2),
    ])
    model.compile(optimizer="sgd", loss="mse")
    state = [np.asarray(v.value) for v in model.layers[0].non_trainable_variables]
    history = model.fit(data, targets, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    after = [np.asarray(v.value) for v in model.layers[0].non_trainable_variables]
    assert any(not np.array_equal(a, b) for a, b in zip(state, after, strict=True))
    expected = model.predict(data, verbose=0)
    # Inference: the elastic layer is the identity, CLAHE is applied.
    clahe = keras.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(4, 4))
    kernel, bias = model.layers[-1].get_weights()
    np.testing.assert_allclose(
        expected, (np.asarray(clahe(data)) / 255.0).mean(axis=(1, 2)) @ kernel + bias, atol=1e-5)

    path = str(tmp_path / "ours.keras")
    model.save(path)
    theirs = keras.saving.load_model(path)
    assert [type(layer).__name__ for layer in theirs.layers][:2] == [
        "RandomElasticTransform", "ContrastLimitedAdaptiveHistogramEqualization"]
    assert _json(theirs.layers[0].get_config()) == _json(model.layers[0].get_config())
    np.testing.assert_allclose(theirs.predict(data, verbose=0), expected, atol=1e-5)

    path = str(tmp_path / "theirs.keras")
    theirs.save(path)
    loaded = kj.saving.load_model(path)
    assert isinstance(loaded.layers[0], P.RandomElasticTransform)
    assert _json(loaded.layers[1].get_config()) == _json(theirs.layers[1].get_config())
    np.testing.assert_allclose(loaded.predict(data, verbose=0), expected, atol=1e-5)


def test_argument_validation_matches_keras():
    keras = _keras()
    cases = [
        ({"factor": 1.5}, ValueError, r"`factor` argument should be a number"),
        ({"factor": (0.1, 0.2, 0.3)}, ValueError, r"`factor` argument should be a number"),
        ({"scale": 2.0}, ValueError, r"`scale` argument should be a number"),
        ({"scale": "big"}, ValueError, r"`scale` argument should be a number"),
        ({"interpolation": "bicubic"}, NotImplementedError, r"(?i)unknown `interpolation` bicubic"),
        ({"fill_mode": "edge"}, NotImplementedError, r"(?i)unknown `fill_mode` edge"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            keras.layers.RandomElasticTransform(**kwargs)
        with pytest.raises(error, match=message) as info:
            P.RandomElasticTransform(**kwargs)
        assert "RandomElasticTransform" in str(info.value)
    # Keras checks no CLAHE argument and then fails inside the call; here the grid is
    # checked up front.
    with pytest.raises(ValueError, match=r"`tile_grid_size` should be a tuple of two positive "
                                         r"integers.*Received: tile_grid_size=\(0, 4\)"):
        P.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(0, 4))
    with pytest.raises(ValueError, match="bounding_boxes"):
        P.RandomElasticTransform()({"images": _images((1, 8, 8, 3)),
                                    "bounding_boxes": {"boxes": np.zeros((1, 1, 4))}})
    with pytest.raises(ValueError, match="rank 3"):
        P.ContrastLimitedAdaptiveHistogramEqualization()(np.zeros((8, 8)))
