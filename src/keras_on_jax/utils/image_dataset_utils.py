"""`keras.utils.image_dataset_from_directory` without TensorFlow (Pillow + JAX resize)."""

from __future__ import annotations

import numpy as np

from keras_on_jax.backend import config
from keras_on_jax.utils import dataset_utils
from keras_on_jax.utils import image_utils

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")

_KERAS_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                         "gaussian", "mitchellcubic")


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, format="tf",
                                 verbose=True):
    """Generate a dataset of image batches from the files of a directory.

    With `labels="inferred"`, each subdirectory of `directory` is a class (in
    alphanumeric order unless `class_names` gives the order) and its images (`.bmp`,
    `.gif`, `.jpeg`, `.jpg`, `.png`, searched recursively) are its samples.

    Returns a `NumpyDataset` (a list `[train, validation]` with `subset="both"`) that
    yields `float32` image batches `(batch, height, width, channels)` (channels first
    with `data_format="channels_first"`), with labels when `label_mode` is set:
    `"int"` → `int32` `(batch,)`, `"categorical"` → `float32` `(batch, num_classes)`,
    `"binary"` → `float32` `(batch, 1)`. Attributes `class_names` and `file_paths`.

    Images are decoded with Pillow and resized as Keras's JAX backend does
    (`interpolation` one of `"bilinear"`, `"nearest"`, `"bicubic"`, `"lanczos3"`,
    `"lanczos5"`). `format` is accepted for signature compatibility: `"tf"` (the
    default), `"grain"` and `"numpy"` all return a `NumpyDataset` (no TensorFlow).
    """
    dataset_utils.check_label_args(labels, label_mode, class_names, "image")
    if labels is None or label_mode is None:
        labels = None
        label_mode = None
    if color_mode == "rgb":
        num_channels = 3
    elif color_mode == "rgba":
        num_channels = 4
    elif color_mode == "grayscale":
        num_channels = 1
    else:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 integers. "
                         f"Received: image_size={image_size}")
    interpolation = interpolation.lower()
    if interpolation not in _KERAS_INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {_KERAS_INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation}")
    if interpolation in ("area", "gaussian", "mitchellcubic"):
        raise ValueError(
            f"Argument `interpolation`: {interpolation!r} needs TensorFlow's image resize, "
            "which keras_on_jax does not use. Supported: 'bilinear', 'nearest', 'bicubic', "
            f"'lanczos3', 'lanczos5'. Received: interpolation={interpolation}"
        )
    if format not in ("numpy", "tf", "grain"):
        raise ValueError(f'`format` should be one of "numpy", "tf" or "grain". '
                         f"Received: format={format}")
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be "
                         "set to `True`.")
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    image_paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, formats=ALLOWLIST_FORMATS, class_names=class_names,
        shuffle=shuffle, seed=seed, follow_links=follow_links, verbose=verbose,
    )
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    data_format = config.standardize_data_format(data_format)
    size = tuple(int(s) for s in image_size)

    def load_one(path):
        return load_image(path, size, num_channels, interpolation, data_format,
                          crop_to_aspect_ratio, pad_to_aspect_ratio)

    return dataset_utils.make_directory_datasets(
        image_paths, labels, label_mode, class_names, validation_split, subset, load_one,
        batch_size, shuffle, seed, what="images", directory=directory,
    )


def load_image(path, image_size, num_channels, interpolation, data_format,
               crop_to_aspect_ratio=False, pad_to_aspect_ratio=False):
    """Read one image file as `float32` and resize it (Keras's Grain/JAX loading path)."""
    image_utils._require_pil("image_dataset_from_directory")
    with image_utils.pil_image.open(path) as img:
        if num_channels == 1:
            if img.mode not in ("L", "I;16", "I"):
                img = img.convert("L")
        elif num_channels == 4:
            if img.mode != "RGBA":
                img = img.convert("RGBA")
        elif img.mode != "RGB":
            img = img.convert("RGB")
        array = np.array(img).astype("float32")
    if array.ndim == 2:
        array = array[..., None]
    if data_format == "channels_first":
        array = array.transpose(2, 0, 1)
    return image_utils.resize_image(
        array, image_size, interpolation=interpolation,
        crop_to_aspect_ratio=crop_to_aspect_ratio, pad_to_aspect_ratio=pad_to_aspect_ratio,
        data_format=data_format,
    ).astype("float32")
