"""keras.preprocessing names and the image file helpers, against real Keras 3."""

import io

import numpy as np
import pytest
from PIL import Image

import keras

from keras_on_jax import preprocessing
from keras_on_jax.preprocessing import image as kj_image
from keras_on_jax.preprocessing import sequence as kj_sequence
from keras_on_jax.utils import image_utils
from keras_on_jax.utils.audio_dataset_utils import audio_dataset_from_directory
from keras_on_jax.utils.dataset_utils import split_dataset


def test_public_names_match_keras():
    for name in ("image_dataset_from_directory", "text_dataset_from_directory",
                 "timeseries_dataset_from_array", "image", "sequence"):
        assert hasattr(keras.preprocessing, name)
        assert hasattr(preprocessing, name)
    for name in ("load_img", "img_to_array", "array_to_img", "save_img", "smart_resize"):
        assert hasattr(keras.preprocessing.image, name)
        assert getattr(kj_image, name) is getattr(image_utils, name)
    assert kj_sequence.pad_sequences(
        [[1], [2, 3]]).tolist() == keras.preprocessing.sequence.pad_sequences([[1], [2, 3]]).tolist()


def test_signatures_match_keras():
    import inspect

    pairs = [
        (preprocessing.image_dataset_from_directory, keras.utils.image_dataset_from_directory),
        (preprocessing.text_dataset_from_directory, keras.utils.text_dataset_from_directory),
        (preprocessing.timeseries_dataset_from_array, keras.utils.timeseries_dataset_from_array),
        (kj_sequence.pad_sequences, keras.utils.pad_sequences),
        (kj_image.load_img, keras.utils.load_img),
        (kj_image.img_to_array, keras.utils.img_to_array),
        (kj_image.array_to_img, keras.utils.array_to_img),
        (kj_image.save_img, keras.utils.save_img),
        (kj_image.smart_resize, keras.preprocessing.image.smart_resize),
        (audio_dataset_from_directory, keras.utils.audio_dataset_from_directory),
        (split_dataset, keras.utils.split_dataset),
    ]
    for ours, theirs in pairs:
        assert list(inspect.signature(ours).parameters.items()) == list(
            inspect.signature(theirs).parameters.items()), ours.__name__


@pytest.fixture
def png_path(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "img.png"
    Image.fromarray(rng.integers(0, 256, size=(10, 14, 3), dtype=np.uint8)).save(path)
    return path


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale", "rgba"])
@pytest.mark.parametrize("target_size,interpolation,keep", [
    (None, "nearest", False), ((6, 8), "nearest", False), ((6, 8), "bilinear", False),
    ((6, 6), "bicubic", True), ((5, 9), "lanczos", True), ((7, 3), "box", False),
])
def test_load_img_matches_keras(png_path, color_mode, target_size, interpolation, keep):
    ours = kj_image.load_img(png_path, color_mode=color_mode, target_size=target_size,
                             interpolation=interpolation, keep_aspect_ratio=keep)
    theirs = keras.utils.load_img(png_path, color_mode=color_mode, target_size=target_size,
                                  interpolation=interpolation, keep_aspect_ratio=keep)
    assert ours.mode == theirs.mode and ours.size == theirs.size
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    theirs.close()


def test_load_img_from_bytes_and_errors(png_path):
    data = io.BytesIO(png_path.read_bytes())
    assert kj_image.load_img(data).size == (14, 10)
    with pytest.raises(TypeError, match="path should be path-like"):
        kj_image.load_img(123)
    with pytest.raises(ValueError, match="color_mode"):
        kj_image.load_img(png_path, color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid interpolation"):
        kj_image.load_img(png_path, target_size=(3, 3), interpolation="cubicle")


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_img_to_array_and_back_match_keras(data_format, channels):
    rng = np.random.default_rng(1)
    shape = (5, 6, channels) if data_format == "channels_last" else (channels, 5, 6)
    x = rng.uniform(-1, 3, size=shape).astype("float32")
    ours = kj_image.array_to_img(x, data_format=data_format)
    theirs = keras.utils.array_to_img(x, data_format=data_format)
    assert ours.mode == theirs.mode
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    back = kj_image.img_to_array(ours, data_format=data_format)
    ref = keras.utils.img_to_array(theirs, data_format=data_format)
    assert back.dtype == ref.dtype == np.float32
    np.testing.assert_array_equal(back, ref)
    unscaled = kj_image.array_to_img(np.full((2, 2, 1), 1000.0), scale=False)
    assert unscaled.mode == "I"
    with pytest.raises(ValueError, match="rank 3"):
        kj_image.array_to_img(np.zeros((2, 2)))


@pytest.mark.parametrize("ext", ["png", "jpg", "bmp"])
def test_save_img_matches_keras(tmp_path, ext):
    x = np.random.default_rng(2).uniform(0, 255, size=(6, 7, 3)).astype("float32")
    kj_image.save_img(str(tmp_path / f"ours.{ext}"), x)
    keras.utils.save_img(str(tmp_path / f"theirs.{ext}"), x)
    with Image.open(tmp_path / f"ours.{ext}") as a, Image.open(tmp_path / f"theirs.{ext}") as b:
        assert a.format == b.format
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    rgba = np.zeros((3, 3, 4), "float32")
    with pytest.warns(UserWarning, match="RGBA"):
        kj_image.save_img(str(tmp_path / "rgba.jpg"), rgba)


@pytest.mark.parametrize("size", [(4, 4), (6, 3), (3, 8)])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
def test_smart_resize_matches_keras(size, interpolation):
    x = np.random.default_rng(3).uniform(0, 255, size=(2, 9, 7, 3)).astype("float32")
    ours = kj_image.smart_resize(x, size, interpolation=interpolation)
    theirs = keras.preprocessing.image.smart_resize(x, size, interpolation=interpolation)
    assert isinstance(ours, np.ndarray) and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-3)
    single = kj_image.smart_resize(x[0], size, interpolation=interpolation)
    np.testing.assert_allclose(single, ours[0], rtol=1e-6, atol=1e-4)


def test_smart_resize_errors():
    with pytest.raises(ValueError, match="incorrect rank"):
        kj_image.smart_resize(np.zeros((3, 3)), (2, 2))
    with pytest.raises(ValueError, match="tuple of 2 integers"):
        kj_image.smart_resize(np.zeros((3, 3, 1)), (2, 2, 2))
    with pytest.raises(TypeError, match="unexpected keyword"):
        kj_image.smart_resize(np.zeros((3, 3, 1)), (2, 2), foo=1)
