"""The color layers of image_augmentation.py vs Keras 3 (geometry, mixing and
composition: test_image_augmentation_mixing.py).

Random layers: given Keras's own random draw (`get_random_transformation`), our
`transform_images` computes Keras's images exactly; configurations whose draw is fixed are
compared end to end through `__call__`.
"""


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
    ("Solarization", {"addition_factor": 0.2, "threshold_factor": 0.6}),
    ("RandomInvert", {"factor": (0.2, 0.6), "value_range": (0, 1)}),
    ("RandomGrayscale", {"factor": 0.7, "data_format": "channels_first"}),
    ("RandomPosterization", {"factor": 5, "value_range": (0, 1)}),
    ("RandomColorDegeneration", {"factor": (0.2, 0.9), "data_format": "channels_first"}),
    ("RandomSaturation", {"factor": (0.1, 0.9), "value_range": (0, 1),
                          "data_format": "channels_first"}),
    ("RandomHue", {"factor": 0.6}),
    ("RandomHue", {"factor": (0.2, 0.8), "value_range": (0, 1), "data_format": "channels_first"}),
    ("RandomSharpness", {"factor": (0.1, 0.9), "data_format": "channels_first"}),
    ("RandomGaussianBlur", {"kernel_size": (3, 5), "sigma": (0.3, 0.9)}),
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


FIXED_CASES = [  # configurations whose random draw is fixed: whole calls compared
    ("AutoContrast", {}),
    ("AutoContrast", {"value_range": (0, 1)}),
    ("Equalization", {}),
    ("Equalization", {"bins": 64, "value_range": (0, 1), "data_format": "channels_first"}),
    ("RandomInvert", {"factor": (1.0, 1.0)}),
    ("RandomGrayscale", {"factor": 1.0}),
    ("RandomPosterization", {"factor": (3, 3)}),
    ("RandomColorDegeneration", {"factor": (0.6, 0.6)}),
    ("RandomSaturation", {"factor": (0.3, 0.3)}),
    ("RandomSharpness", {"factor": (0.9, 0.9)}),
    ("RandomGaussianBlur", {"factor": (1.0, 1.0), "sigma": (0.7, 0.7), "kernel_size": 5}),
    ("RandomHue", {"factor": (0.0, 0.0)}),
    ("RandomColorJitter", {"brightness_factor": (0.2, 0.2), "contrast_factor": (0.0, 0.0),
                           "saturation_factor": (0.3, 0.3), "hue_factor": (0.0, 0.0)}),
    ("RandomColorJitter", {"value_range": (0, 1), "saturation_factor": (0.8, 0.8)}),
]


@pytest.mark.parametrize("name,kwargs", FIXED_CASES)
def test_fixed_configurations_match_keras(name, kwargs):
    k = getattr(_keras().layers, name)(**kwargs)
    ours = getattr(P, name)(**kwargs)
    assert ours.get_config() == k.get_config() | {"name": ours.name}
    x = _case_input(kwargs)
    if name in ("AutoContrast", "Equalization"):  # values not spanning the whole range
        lo, hi = kwargs.get("value_range", (0, 255))
        x = (x - lo) * 0.6 + lo + 0.1 * (hi - lo)
    np.testing.assert_allclose(np.asarray(ours(x, training=True)),
                               np.asarray(k(x, training=True)), atol=1e-3, rtol=1e-5)
    single = x[0]
    np.testing.assert_allclose(np.asarray(ours(single, training=True)),
                               np.asarray(k(single, training=True)), atol=1e-3, rtol=1e-5)


def test_integer_images():
    x = _images().astype("uint8")
    for name, kwargs in [("AutoContrast", {}), ("RandomPosterization", {"factor": (4, 4)}),
                         ("RandomGrayscale", {"factor": 1.0})]:
        ours = getattr(P, name)(**kwargs)(x)
        theirs = getattr(_keras().layers, name)(**kwargs)(x)
        assert ours.dtype == theirs.dtype, name
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), atol=1e-3)


RANDOM_LAYERS = [
    ("Solarization", {"addition_factor": 0.2, "threshold_factor": 0.6}),
    ("RandomInvert", {}),
    ("RandomGrayscale", {}),
    ("RandomPosterization", {"factor": (2, 7)}),
    ("RandomHue", {"factor": 0.6}),
    ("RandomColorJitter", {"brightness_factor": 0.3, "contrast_factor": 0.4,
                           "saturation_factor": 0.5, "hue_factor": 0.4}),
    ("RandomGaussianBlur", {"factor": 0.8, "sigma": (0.2, 1.0)}),
]


@pytest.mark.parametrize("name,kwargs", RANDOM_LAYERS)
def test_random_layers_seeded_and_advancing(name, kwargs):
    x = _images((4, 8, 7, 3))
    layer = getattr(P, name)(seed=3, **kwargs)
    outs = [np.asarray(layer(x, training=True)) for _ in range(3)]
    assert all(o.shape == x.shape and np.isfinite(o).all() for o in outs)
    assert any(not np.allclose(o, x, atol=1e-3) for o in outs)
    assert any(not np.allclose(outs[0], o) for o in outs[1:])  # fresh draws per call
    again = getattr(P, name)(seed=3, **kwargs)
    np.testing.assert_allclose(np.asarray(again(x, training=True)), outs[0], atol=1e-5)
    assert tuple(layer(x[0], training=True).shape) == x.shape[1:]
    # Config round trip and symbolic shape (jit: the fit and jit tests below).
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    assert tuple(layer(kj.Input((8, 7, 3))).shape) == (None, 8, 7, 3)


def test_value_ranges_and_statistics():
    x = _images((16, 8, 8, 3))
    out = np.asarray(P.RandomInvert(factor=(1.0, 1.0))(x))
    np.testing.assert_allclose(out, 255 - x, atol=1e-4)
    inverted = np.asarray(P.RandomInvert(factor=(0.5, 0.5), seed=0)(x))
    flipped = [np.allclose(inverted[i], 255 - x[i], atol=1e-3) for i in range(16)]
    assert all(f or np.array_equal(inverted[i], x[i]) for i, f in enumerate(flipped))
    assert 0 < sum(flipped) < 16
    gray = np.asarray(P.RandomGrayscale(factor=0.5, seed=1)(x))
    is_gray = [np.allclose(g[..., 0], g[..., 1]) and np.allclose(g[..., 1], g[..., 2]) for g in gray]
    assert 0 < sum(is_gray) < 16
    post = np.asarray(P.RandomPosterization(factor=(3, 3))(x))
    assert set(np.unique(post)) <= {float(v) for v in range(0, 256, 32)}
    # (Not RandomSaturation: as in Keras, it clips the HSV saturation to `value_range`.)
    for layer in (P.RandomHue(0.5, seed=0), P.RandomSharpness(0.9, seed=0), P.RandomColorDegeneration(0.9, seed=0)):
        o = np.asarray(layer(x))
        assert o.min() >= -1e-3 and o.max() <= 255 + 1e-3, layer.name


def test_dict_inputs_match_keras():
    x = _images((2, 8, 7, 3))
    masks = np.random.default_rng(1).integers(0, 3, (2, 8, 7, 1)).astype("float32")
    data = {"images": x, "labels": np.eye(2, dtype="float32"), "segmentation_masks": masks}
    for name, kwargs in [("RandomInvert", {"factor": (1.0, 1.0)}),
                         ("RandomSharpness", {"factor": (0.9, 0.9)})]:
        ours = getattr(P, name)(**kwargs)(dict(data))
        theirs = getattr(_keras().layers, name)(**kwargs)(dict(data))
        assert set(ours) == set(theirs)
        for key in ours:
            np.testing.assert_allclose(np.asarray(ours[key]), np.asarray(theirs[key]), atol=1e-4)


def test_argument_validation():
    with pytest.raises(ValueError, match="value_range"):
        P.AutoContrast(value_range=5)
    with pytest.raises(ValueError, match="addition_factor"):
        P.Solarization(addition_factor=1.5)
    with pytest.raises(ValueError, match="factor"):
        P.RandomGrayscale(factor=2)
    with pytest.raises(ValueError, match="factor"):
        P.RandomPosterization(factor=9)
    with pytest.raises(ValueError, match="kernel_size"):
        P.RandomGaussianBlur(kernel_size=4)
    with pytest.raises(ValueError, match="sigma"):
        P.RandomGaussianBlur(sigma=2.0)
    with pytest.raises(ValueError, match="rank 3"):
        P.AutoContrast()(np.zeros((4, 4), "float32"))
    with pytest.raises(ValueError, match="3 channels"):
        P.RandomColorDegeneration(0.5).compute_output_shape((2, 4, 4, 4))
