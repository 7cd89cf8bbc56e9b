"""Directory/array datasets without TensorFlow, checked against real Keras 3.

Real Keras's `image_dataset_from_directory` needs TensorFlow (or Grain), neither
installed, so the oracle is Keras's own building blocks, which run without them:
`dataset_utils.index_directory` (file order, labels, class names),
`get_training_or_validation_split`, and `image_dataset_utils._load_image_grain` (the
TF-free image loading + JAX-backend resize). `pad_sequences` is compared with
`keras.utils.pad_sequences`; `timeseries_dataset_from_array` with its docstring examples.
"""

import io
import os
import random

import numpy as np
import pytest
from PIL import Image

import keras
from keras.src.utils import dataset_utils as k_dataset_utils
from keras.src.utils import image_dataset_utils as k_image_dataset_utils

import keras_on_jax as kj
from keras_on_jax.utils import dataset_utils
from keras_on_jax.utils.dataset_utils import NumpyDataset, split_dataset
from keras_on_jax.utils.image_dataset_utils import image_dataset_from_directory
from keras_on_jax.utils.sequence_utils import pad_sequences
from keras_on_jax.utils.text_dataset_utils import text_dataset_from_directory
from keras_on_jax.utils.timeseries_dataset_utils import timeseries_dataset_from_array

FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def _keras_load_image(path, *args, **kwargs):
    """Real Keras's TF-free image loading (read from bytes: it leaves files open)."""
    with open(path, "rb") as f:
        data = io.BytesIO(f.read())
    return k_image_dataset_utils._load_image_grain(data, *args, **kwargs)

# (relative path, (height, width), mode)
_IMAGES = [
    ("cat/c2.png", (10, 12), "RGB"),
    ("cat/c1.png", (7, 9), "RGB"),
    ("cat/C0.jpg", (8, 8), "RGB"),
    ("dog/d0.png", (12, 12), "RGBA"),
    ("dog/sub/d1.png", (5, 8), "L"),
    ("dog/d2.bmp", (9, 4), "RGB"),
    ("dog/notes.txt", None, None),
    ("bird/b0.gif", (6, 6), "P"),
    ("bird/b1.png", (11, 5), "RGB"),
    (".hidden/h.png", (4, 4), "RGB"),
]


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for rel, size, mode in _IMAGES:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if size is None:
            path.write_text("not an image")
            continue
        if mode == "L":
            img = Image.fromarray(rng.integers(0, 256, size=size, dtype=np.uint8), "L")
        elif mode == "P":
            img = Image.fromarray(rng.integers(0, 256, size=size + (3,), dtype=np.uint8)).convert("P")
        else:
            channels = 4 if mode == "RGBA" else 3
            img = Image.fromarray(rng.integers(0, 256, size=size + (channels,), dtype=np.uint8), mode)
        img.save(path)
    return str(root)


@pytest.fixture(scope="module")
def flat_image_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("flat")
    rng = np.random.default_rng(1)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)).save(root / f"im{i}.png")
    return str(root)


# ---------------------------------------------------------------------------------------
# index_directory: the order, labels and class names of real Keras
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shuffle,seed", [(False, None), (True, 7), (True, 1234)])
@pytest.mark.parametrize("labels,class_names", [
    ("inferred", None), ("inferred", ["dog", "cat"]), (None, None),
])
def test_index_directory_matches_keras(image_dir, labels, class_names, shuffle, seed, capsys):
    ours = dataset_utils.index_directory(image_dir, labels, FORMATS, class_names=class_names,
                                         shuffle=shuffle, seed=seed)
    out = capsys.readouterr().out
    theirs = k_dataset_utils.index_directory(image_dir, labels, FORMATS, class_names=class_names,
                                             shuffle=shuffle, seed=seed)
    assert out == capsys.readouterr().out
    assert ours[0] == theirs[0]
    assert ours[2] == theirs[2]
    if labels is None:
        assert ours[1] is None and theirs[1] is None
    else:
        np.testing.assert_array_equal(ours[1], theirs[1])
        assert np.asarray(ours[1]).dtype == np.int32


def test_index_directory_explicit_labels_matches_keras(image_dir):
    paths, _, _ = k_dataset_utils.index_directory(image_dir, None, FORMATS, shuffle=False,
                                                  verbose=False)
    labels = [i % 3 for i in range(len(paths))]
    ours = dataset_utils.index_directory(image_dir, labels, FORMATS, shuffle=True, seed=3,
                                         verbose=False)
    theirs = k_dataset_utils.index_directory(image_dir, list(labels), FORMATS, shuffle=True,
                                             seed=3, verbose=False)
    assert ours[0] == theirs[0]
    assert list(ours[1]) == list(theirs[1])
    assert ours[2] == theirs[2] == ["0", "1", "2"]


@pytest.mark.parametrize("subset", ["training", "validation"])
@pytest.mark.parametrize("split", [0.2, 0.5, 0.34])
def test_validation_split_matches_keras(subset, split, capsys):
    samples = [f"f{i}" for i in range(11)]
    labels = np.arange(11, dtype="int32")
    ours = dataset_utils.get_training_or_validation_split(samples, labels, split, subset)
    theirs = k_dataset_utils.get_training_or_validation_split(samples, labels, split, subset)
    assert ours[0] == theirs[0]
    np.testing.assert_array_equal(ours[1], theirs[1])


# ---------------------------------------------------------------------------------------
# image_dataset_from_directory
# ---------------------------------------------------------------------------------------


def test_image_dataset_basic(image_dir, capsys):
    ds = image_dataset_from_directory(image_dir, image_size=(6, 7), batch_size=3,
                                      shuffle=False)
    assert capsys.readouterr().out == "Found 8 files belonging to 3 classes.\n"
    assert ds.class_names == ["bird", "cat", "dog"]
    expected_paths, expected_labels, _ = k_dataset_utils.index_directory(
        image_dir, "inferred", FORMATS, shuffle=False, verbose=False)
    assert ds.file_paths == expected_paths
    assert len(ds) == 3
    batches = list(ds)
    assert [b[0].shape for b in batches] == [(3, 6, 7, 3), (3, 6, 7, 3), (2, 6, 7, 3)]
    assert all(b[0].dtype == np.float32 and b[1].dtype == np.int32 for b in batches)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), expected_labels)
    images = np.concatenate([b[0] for b in batches])
    for path, image in list(zip(expected_paths, images))[:2]:
        ref = _keras_load_image(path, (6, 7), 3, "bilinear", "channels_last")
        np.testing.assert_allclose(image, np.asarray(ref), rtol=1e-5, atol=1e-3)
    # Re-iterable: a second pass yields the same (unshuffled) data.
    again = np.concatenate([b[0] for b in ds])
    np.testing.assert_array_equal(images, again)


@pytest.fixture(scope="module")
def pixel_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("pixels")
    rng = np.random.default_rng(2)
    Image.fromarray(rng.integers(0, 256, size=(7, 9, 3), dtype=np.uint8)).save(root / "a.png")
    Image.fromarray(rng.integers(0, 256, size=(10, 4, 4), dtype=np.uint8), "RGBA").save(
        root / "b.png")
    return str(root)


_PIXEL_CASES = (
    [(interp, "plain", "rgb", "channels_last")
     for interp in ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5")]
    + [("bilinear", mode, "rgb", "channels_last") for mode in ("crop", "pad")]
    + [("bilinear", "plain", color, "channels_last") for color in ("grayscale", "rgba")]
    + [("bilinear", "pad", "rgb", "channels_first")]
)


@pytest.mark.parametrize("interpolation,resize_mode,color_mode,data_format", _PIXEL_CASES)
def test_image_pixels_match_keras(pixel_dir, interpolation, resize_mode, color_mode,
                                  data_format):
    channels = {"rgb": 3, "grayscale": 1, "rgba": 4}[color_mode]
    ds = image_dataset_from_directory(
        pixel_dir, image_size=(9, 5), batch_size=None, shuffle=False, label_mode=None,
        color_mode=color_mode, interpolation=interpolation,
        crop_to_aspect_ratio=resize_mode == "crop", pad_to_aspect_ratio=resize_mode == "pad",
        data_format=data_format, verbose=False,
    )
    images = list(ds)
    assert len(images) == len(ds.file_paths) == 2
    # The oracle compiles per image shape: check both images only where the aspect ratio
    # matters (a is wide, b is tall).
    pairs = list(zip(ds.file_paths, images))
    if resize_mode == "plain" and color_mode != "rgba":
        pairs = pairs[:1]
    for path, image in pairs:
        ref = np.asarray(_keras_load_image(
            path, (9, 5), channels, interpolation, data_format,
            crop_to_aspect_ratio=resize_mode == "crop",
            pad_to_aspect_ratio=resize_mode == "pad"))
        assert image.shape == ref.shape and image.dtype == np.float32
        np.testing.assert_allclose(image, ref, rtol=1e-5, atol=2e-3)


def test_image_color_conversions(image_dir):
    """Palette, grayscale and RGBA files become the requested channels (Pillow's convert)."""
    for color_mode, channels in (("rgb", 3), ("grayscale", 1), ("rgba", 4)):
        ds = image_dataset_from_directory(image_dir, image_size=(4, 4), batch_size=None,
                                          shuffle=False, color_mode=color_mode, verbose=False)
        for path, (x, _) in zip(ds.file_paths, ds):
            with Image.open(path) as img:
                mode = {"rgb": "RGB", "grayscale": "L", "rgba": "RGBA"}[color_mode]
                ref = np.asarray(img.convert(mode) if img.mode != mode else img, "float32")
            assert x.shape == (4, 4, channels)
            if ref.shape[:2] == (4, 4):
                np.testing.assert_array_equal(x, ref.reshape(x.shape))


@pytest.mark.parametrize("label_mode", ["int", "categorical", "binary", None])
def test_image_label_modes(image_dir, label_mode):
    class_names = ["cat", "dog"] if label_mode == "binary" else None
    ds = image_dataset_from_directory(image_dir, image_size=(4, 4), batch_size=4,
                                      label_mode=label_mode, class_names=class_names,
                                      shuffle=True, seed=5, verbose=False)
    if label_mode is None:
        x = next(iter(ds))
        assert isinstance(x, np.ndarray) and x.shape == (4, 4, 4, 3)
        return
    paths, labels, names = k_dataset_utils.index_directory(
        image_dir, "inferred", FORMATS, class_names=class_names, shuffle=True, seed=5,
        verbose=False)
    assert ds.file_paths == paths and ds.class_names == names
    ys = np.concatenate([y for _, y in ds])
    # The epoch order is a reshuffle: compare label counts, and the first batch shape.
    x, y = next(iter(ds))
    if label_mode == "int":
        assert y.dtype == np.int32 and y.shape == (4,)
        assert sorted(ys.tolist()) == sorted(np.asarray(labels).tolist())
    elif label_mode == "categorical":
        assert y.dtype == np.float32 and y.shape == (4, 3)
        np.testing.assert_array_equal(ys.sum(0), np.bincount(labels, minlength=3))
    else:
        assert y.dtype == np.float32 and y.shape == (4, 1)
        assert ys.sum() == np.sum(labels)


def test_image_shuffled_batches_match_files(image_dir):
    """Each image is paired with its own label, whatever the epoch's order."""
    ds = image_dataset_from_directory(image_dir, image_size=(3, 3), batch_size=2, seed=11,
                                      verbose=False)
    by_pixels = {}
    plain = image_dataset_from_directory(image_dir, image_size=(3, 3), batch_size=None,
                                         shuffle=False, verbose=False)
    for x, y in plain:
        by_pixels[x.tobytes()] = int(y)
    orders = []
    for _ in range(2):
        seen = []
        for x, y in ds:
            for xi, yi in zip(x, y):
                assert by_pixels[xi.tobytes()] == int(yi)
                seen.append(xi.tobytes())
        assert sorted(seen) == sorted(by_pixels)
        orders.append(seen)
    assert orders[0] != orders[1]  # reshuffled each epoch
    # The same seed gives the same epochs.
    ds2 = image_dataset_from_directory(image_dir, image_size=(3, 3), batch_size=2, seed=11,
                                       verbose=False)
    assert [xi.tobytes() for x, _ in ds2 for xi in x] == orders[0]


def test_image_validation_split_both(image_dir, capsys):
    train, val = image_dataset_from_directory(image_dir, image_size=(4, 4), batch_size=2,
                                              validation_split=0.25, subset="both", seed=3)
    out = capsys.readouterr().out
    assert out == ("Found 8 files belonging to 3 classes.\nUsing 6 files for training.\n"
                   "Using 2 files for validation.\n")
    paths, _, _ = k_dataset_utils.index_directory(image_dir, "inferred", FORMATS, shuffle=True,
                                                  seed=3, verbose=False)
    assert train.file_paths == paths[:-2] and val.file_paths == paths[-2:]
    assert train.class_names == val.class_names == ["bird", "cat", "dog"]
    assert len(train) == 3 and len(val) == 1
    # The validation dataset is never shuffled.
    v1 = [x.tobytes() for x, _ in val]
    v2 = [x.tobytes() for x, _ in val]
    assert v1 == v2
    single = image_dataset_from_directory(image_dir, image_size=(4, 4), validation_split=0.25,
                                          subset="validation", seed=3, verbose=False)
    assert single.file_paths == val.file_paths


def test_image_labels_none_and_explicit(flat_image_dir, capsys):
    ds = image_dataset_from_directory(flat_image_dir, labels=None, image_size=(4, 5),
                                      batch_size=4, shuffle=False)
    assert capsys.readouterr().out == "Found 6 files.\n"
    assert ds.class_names is None
    batches = list(ds)
    assert [b.shape for b in batches] == [(4, 4, 5, 3), (2, 4, 5, 3)]
    first = np.asarray(Image.open(os.path.join(flat_image_dir, "im0.png")), dtype="float32")
    np.testing.assert_array_equal(batches[0][0], first)  # same size: no resampling
    ds = image_dataset_from_directory(flat_image_dir, labels=[0, 1, 0, 1, 2, 2],
                                      image_size=(4, 5), batch_size=6, shuffle=False,
                                      label_mode="categorical", verbose=False)
    assert ds.class_names == ["0", "1", "2"]
    _, y = next(iter(ds))
    np.testing.assert_array_equal(y.argmax(1), [0, 1, 0, 1, 2, 2])


def test_image_dataset_errors(image_dir, flat_image_dir, tmp_path):
    with pytest.raises(ValueError, match="`labels` argument should be a list/tuple"):
        image_dataset_from_directory(image_dir, labels="foo")
    with pytest.raises(ValueError, match="label_mode"):
        image_dataset_from_directory(image_dir, label_mode="sparse")
    with pytest.raises(ValueError, match="color_mode"):
        image_dataset_from_directory(image_dir, color_mode="cmyk")
    with pytest.raises(ValueError, match="image_size"):
        image_dataset_from_directory(image_dir, image_size=(1, 2, 3))
    with pytest.raises(ValueError, match="interpolation"):
        image_dataset_from_directory(image_dir, interpolation="cubicle")
    with pytest.raises(ValueError, match="you must provide a `seed`"):
        image_dataset_from_directory(image_dir, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="If `subset` is set"):
        image_dataset_from_directory(image_dir, validation_split=0.2, seed=1)
    with pytest.raises(ValueError, match="exactly 2"):
        image_dataset_from_directory(image_dir, label_mode="binary", verbose=False)
    with pytest.raises(ValueError, match="did not match the names of the subdirectories"):
        image_dataset_from_directory(image_dir, class_names=["cat", "fish"])
    with pytest.raises(ValueError, match="lengths of `labels`"):
        image_dataset_from_directory(flat_image_dir, labels=[0, 1])
    with pytest.raises(ValueError, match="Only one of"):
        image_dataset_from_directory(image_dir, crop_to_aspect_ratio=True,
                                     pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="No images found"):
        image_dataset_from_directory(str(tmp_path), verbose=False)


def test_follow_links(image_dir, tmp_path):
    root = tmp_path / "linked"
    (root / "a").mkdir(parents=True)
    Image.fromarray(np.zeros((3, 3, 3), np.uint8)).save(root / "a" / "x.png")
    os.symlink(os.path.join(image_dir, "cat"), root / "a" / "more")
    for follow in (False, True):
        ours = dataset_utils.index_directory(str(root), "inferred", FORMATS, shuffle=False,
                                             follow_links=follow, verbose=False)
        theirs = k_dataset_utils.index_directory(str(root), "inferred", FORMATS,
                                                 shuffle=False, follow_links=follow,
                                                 verbose=False)
        assert ours[0] == theirs[0]
        assert len(ours[0]) == (4 if follow else 1)


def test_image_dataset_trains_with_fit(image_dir):
    """End to end: PNG folder → dataset → Sequential.fit/evaluate/predict."""
    train, val = image_dataset_from_directory(image_dir, image_size=(4, 4), batch_size=3,
                                              validation_split=0.25, subset="both", seed=0,
                                              verbose=False)
    flatten = getattr(kj.layers, "Flatten", None)
    if flatten is None:
        from keras_on_jax.layers.reshaping.reshaping import Flatten as flatten
    model = kj.Sequential([kj.Input((4, 4, 3)), flatten(), kj.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.all(np.isfinite(history.history["loss"]))
    assert "val_loss" in history.history
    assert len(model.evaluate(val, verbose=0)) == 2
    assert model.predict(val, verbose=0).shape == (2, 3)


# ---------------------------------------------------------------------------------------
# text_dataset_from_directory
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def text_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("texts")
    texts = {"neg/a.txt": "bad movie", "neg/b.txt": "awful, truly", "pos/c.txt": "great film",
             "pos/d.txt": "wonderful héros", "pos/e.txt": "fine", "pos/skip.md": "x"}
    for rel, text in texts.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return str(root)


def test_text_dataset(text_dir, capsys):
    ds = text_dataset_from_directory(text_dir, batch_size=2, shuffle=False)
    assert capsys.readouterr().out == "Found 5 files belonging to 2 classes.\n"
    assert ds.class_names == ["neg", "pos"] and len(ds) == 3
    xs, ys = zip(*ds)
    assert xs[0].dtype == object and xs[0].shape == (2,)
    assert [t for x in xs for t in x] == ["bad movie", "awful, truly", "great film",
                                          "wonderful héros", "fine"]
    np.testing.assert_array_equal(np.concatenate(ys), [0, 0, 1, 1, 1])
    ds = text_dataset_from_directory(text_dir, batch_size=None, shuffle=False, max_length=4,
                                     label_mode="binary", verbose=False)
    first = next(iter(ds))
    assert first[0] == "bad " and first[1].dtype == np.float32 and first[1].shape == (1,)
    ds = text_dataset_from_directory(text_dir, label_mode=None, batch_size=8, seed=2,
                                     verbose=False)
    (batch,) = list(ds)
    assert sorted(batch) == sorted(["bad movie", "awful, truly", "great film",
                                    "wonderful héros", "fine"])
    paths, _, _ = k_dataset_utils.index_directory(text_dir, None, (".txt",), shuffle=True,
                                                  seed=2, verbose=False)
    assert ds.file_paths == paths
    train, val = text_dataset_from_directory(text_dir, validation_split=0.4, subset="both",
                                             seed=1, verbose=False)
    assert len(train.file_paths) == 3 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)


# ---------------------------------------------------------------------------------------
# timeseries_dataset_from_array
# ---------------------------------------------------------------------------------------


def test_timeseries_docstring_example_1():
    data = np.arange(99)
    ds = timeseries_dataset_from_array(data, None, sequence_length=10, sampling_rate=2,
                                       sequence_stride=3, batch_size=128)
    (batch,) = list(ds)
    assert batch.shape == (27, 10) and batch.dtype == data.dtype
    np.testing.assert_array_equal(batch[0], np.arange(0, 20, 2))
    np.testing.assert_array_equal(batch[1], np.arange(3, 23, 2))
    np.testing.assert_array_equal(batch[2], np.arange(6, 26, 2))
    np.testing.assert_array_equal(batch[-1], np.arange(78, 98, 2))


def test_timeseries_docstring_example_2_and_3():
    data = np.random.default_rng(0).normal(size=(50,)).astype("float32")
    ds = timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10, batch_size=8)
    inputs, targets = next(iter(ds))
    np.testing.assert_array_equal(inputs[0], data[:10])
    assert targets[0] == data[10]
    n = sum(len(x) for x, _ in ds)
    assert n == 31 and len(ds) == 4  # 40 - 9 windows, batches of 8
    x, y = np.arange(100), np.arange(100) * 2
    xs = timeseries_dataset_from_array(x, None, sequence_length=20, sequence_stride=20)
    ys = timeseries_dataset_from_array(y, None, sequence_length=20, sequence_stride=20)
    for inputs, targets in zip(xs, ys):
        np.testing.assert_array_equal(inputs[0], x[:20])
        np.testing.assert_array_equal(targets[1], y[20:40])


def test_timeseries_start_end_and_targets():
    data = np.arange(40).reshape(20, 2)
    targets = np.arange(100, 120)
    ds = timeseries_dataset_from_array(data, targets, sequence_length=3, sampling_rate=2,
                                       sequence_stride=2, start_index=4, end_index=17,
                                       batch_size=None)
    samples = list(ds)
    # num_seqs = 17 - 4 - (3 - 1) * 2 = 9 → offsets 0, 2, 4, 6, 8: windows start at
    # 4, 6, 8, 10, 12 (the last one is 12, 14, 16 < end_index).
    assert len(samples) == len(ds) == 5
    for k, (x, y) in enumerate(samples):
        start = 4 + 2 * k
        np.testing.assert_array_equal(x, data[[start, start + 2, start + 4]])
        assert y == targets[start]


def test_timeseries_shuffle():
    data = np.arange(30)
    ds = timeseries_dataset_from_array(data, data, sequence_length=4, batch_size=5,
                                       shuffle=True, seed=3)
    windows = [tuple(x) for xb, _ in ds for x in xb]
    assert sorted(windows) == [tuple(range(i, i + 4)) for i in range(27)]
    for xb, yb in ds:
        np.testing.assert_array_equal(xb[:, 0], yb)
    assert windows != [tuple(range(i, i + 4)) for i in range(27)]


def test_timeseries_errors():
    data = np.arange(10)
    with pytest.raises(ValueError, match="start_index"):
        timeseries_dataset_from_array(data, None, 3, start_index=10)
    with pytest.raises(ValueError, match="end_index"):
        timeseries_dataset_from_array(data, None, 3, start_index=5, end_index=4)
    with pytest.raises(ValueError, match="sampling_rate"):
        timeseries_dataset_from_array(data, None, 3, sampling_rate=0)
    with pytest.raises(ValueError, match="sequence_stride"):
        timeseries_dataset_from_array(data, None, 3, sequence_stride=10)


def test_timeseries_trains_with_fit():
    data = np.random.default_rng(0).normal(size=(60, 2)).astype("float32")
    ds = timeseries_dataset_from_array(data[:-1], data[1:, 0], sequence_length=4, batch_size=16)
    flatten = getattr(kj.layers, "Flatten", None)
    if flatten is None:
        from keras_on_jax.layers.reshaping.reshaping import Flatten as flatten
    model = kj.Sequential([kj.Input((4, 2)), flatten(), kj.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(ds, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


# ---------------------------------------------------------------------------------------
# pad_sequences (real Keras runs without TF)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 5])
@pytest.mark.parametrize("value,dtype", [(0.0, "int32"), (-1, "int32"), (0.5, "float32")])
def test_pad_sequences_matches_keras(padding, truncating, maxlen, value, dtype):
    seqs = [[1], [2, 3], [4, 5, 6], [], [7, 8, 9, 10]]
    ours = pad_sequences(seqs, maxlen=maxlen, dtype=dtype, padding=padding,
                         truncating=truncating, value=value)
    theirs = keras.utils.pad_sequences(seqs, maxlen=maxlen, dtype=dtype, padding=padding,
                                       truncating=truncating, value=value)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_samples_strings_errors():
    seqs = [np.ones((2, 3)), np.zeros((4, 3))]
    np.testing.assert_array_equal(pad_sequences(seqs, dtype="float32"),
                                  keras.utils.pad_sequences(seqs, dtype="float32"))
    words = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(
        pad_sequences(words, dtype=object, value="<pad>"),
        keras.utils.pad_sequences(words, dtype=object, value="<pad>"))
    with pytest.raises(ValueError, match="not compatible"):
        pad_sequences(words, value="<pad>")
    with pytest.raises(ValueError, match="Padding type"):
        pad_sequences([[1]], padding="mid")
    with pytest.raises(ValueError, match="non-iterable"):
        pad_sequences([1, 2])


# ---------------------------------------------------------------------------------------
# split_dataset and the dataset object
# ---------------------------------------------------------------------------------------


def test_split_dataset_arrays():
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    left, right = split_dataset((x, y), left_size=0.7)
    assert len(left) == 7 and len(right) == 3
    lx, ly = zip(*left)
    np.testing.assert_array_equal(np.stack(lx), x[:7])
    np.testing.assert_array_equal(np.array(ly), y[:7])
    left, right = split_dataset(x, right_size=2)
    np.testing.assert_array_equal(np.stack(list(right)), x[-2:])
    # shuffle: Python's random with the seed, as Keras
    left, right = split_dataset((x, y), left_size=4, right_size=3, shuffle=True, seed=5)
    order = list(range(10))
    random.Random(5).shuffle(order)
    assert [int(b) for _, b in left] == order[:4]
    assert [int(b) for _, b in right] == order[-3:]
    # batch() then fit-compatible batches
    batches = list(left.batch(3))
    assert [b[0].shape for b in batches] == [(3, 2), (1, 2)]


def test_split_dataset_of_batched_dataset(flat_image_dir):
    ds = image_dataset_from_directory(flat_image_dir, labels=[0, 1, 0, 1, 0, 1],
                                      image_size=(4, 5), batch_size=2, shuffle=False,
                                      verbose=False)
    left, right = split_dataset(ds, left_size=4)
    assert left.batch_size == 2 and len(left) == 2 and len(right) == 1
    assert [y.tolist() for _, y in left] == [[0, 1], [0, 1]]


def test_split_dataset_errors():
    with pytest.raises(ValueError, match="At least one|left_size"):
        split_dataset(np.arange(5), left_size=0, right_size=0)
    with pytest.raises(ValueError, match="`left_size` should be"):
        split_dataset(np.arange(5), left_size=5)
    with pytest.raises(TypeError, match="Invalid `left_size` Type"):
        split_dataset(np.arange(5), left_size="a")
    with pytest.raises(ValueError, match="greater than 1"):
        split_dataset(np.arange(5), left_size=0.6, right_size=0.6)
    with pytest.raises(ValueError, match="different lengths"):
        split_dataset((np.arange(5), np.arange(4)), left_size=2)
    with pytest.raises(TypeError, match="`dataset` argument"):
        split_dataset("abc", left_size=1)


def test_numpy_dataset_transformations():
    ds = NumpyDataset.from_tensor_slices((np.arange(10), np.arange(10) * 2)).batch(4)
    assert len(ds) == 3 and ds.cardinality() == 3
    assert [len(x) for x, _ in ds] == [4, 4, 2]
    assert len(ds.take(2)) == 2 and len(list(ds.take(2))) == 2
    assert len(ds.skip(1)) == 2 and list(ds.skip(1))[0][0].tolist() == [4, 5, 6, 7]
    doubled = ds.map(lambda x, y: (x * 10, y))
    assert next(iter(doubled))[0].tolist() == [0, 10, 20, 30]
    flat = ds.unbatch()
    assert flat.batch_size is None and len(list(flat)) == 10
    rebatched = ds.map(lambda x, y: (x, y)).unbatch().batch(5, drop_remainder=True)
    assert [x.tolist() for x, _ in rebatched] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    with pytest.raises(TypeError, match="unknown"):
        len(ds.map(lambda x, y: (x, y)).unbatch())
    assert ds.prefetch(2) is ds and ds.cache() is ds
    # fit treats it as a re-iterable stream, not a one-shot iterator
    assert hasattr(ds, "__iter__") and not hasattr(ds, "__next__")


# ---------------------------------------------------------------------------------------
# audio_dataset_from_directory
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory):
    import wave

    root = tmp_path_factory.mktemp("audio")
    rng = np.random.default_rng(7)
    clips = {}
    for rel, n in (("no/a.wav", 5), ("no/b.wav", 8), ("yes/c.wav", 3), ("yes/d.wav", 6)):
        samples = rng.integers(-32768, 32767, size=(n, 2), dtype=np.int16)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(root / rel), "wb") as f:
            f.setnchannels(2)
            f.setsampwidth(2)
            f.setframerate(8000)
            f.writeframes(samples.astype("<i2").tobytes())
        clips[str(root / rel)] = samples.astype("float32") / 32768.0
    return str(root), clips


def test_audio_dataset(audio_dir, capsys):
    from keras_on_jax.utils.audio_dataset_utils import audio_dataset_from_directory

    root, clips = audio_dir
    ds = audio_dataset_from_directory(root, batch_size=3, shuffle=False)
    assert capsys.readouterr().out == "Found 4 files belonging to 2 classes.\n"
    assert ds.class_names == ["no", "yes"] and len(ds) == 2
    (x0, y0), (x1, y1) = list(ds)
    assert x0.shape == (3, 8, 2) and x0.dtype == np.float32 and x1.shape == (1, 6, 2)
    paths = ds.file_paths
    for i in range(3):  # zero-padded to the longest clip of the batch
        clip = clips[paths[i]]
        np.testing.assert_array_equal(x0[i, :len(clip)], clip)
        assert not x0[i, len(clip):].any()
    np.testing.assert_array_equal(np.concatenate([y0, y1]), [0, 0, 1, 1])
    fixed = audio_dataset_from_directory(root, batch_size=4, shuffle=False,
                                         output_sequence_length=4, verbose=False)
    (x, _), = list(fixed)
    assert x.shape == (4, 4, 2)
    np.testing.assert_array_equal(x[0], clips[paths[0]][:4])
    np.testing.assert_array_equal(x[2, :3], clips[paths[2]])
    ragged = audio_dataset_from_directory(root, batch_size=4, shuffle=False, ragged=True,
                                          label_mode=None, verbose=False)
    (r,) = list(ragged)
    assert r.dtype == object and [c.shape[0] for c in r] == [5, 8, 3, 6]
    train, val = audio_dataset_from_directory(root, validation_split=0.5, subset="both",
                                              seed=1, verbose=False)
    assert len(train.file_paths) == len(val.file_paths) == 2
    with pytest.raises(ValueError, match="Cannot set both"):
        audio_dataset_from_directory(root, ragged=True, output_sequence_length=3)
    with pytest.raises(ValueError, match="sampling_rate"):
        audio_dataset_from_directory(root, sampling_rate=16000)
