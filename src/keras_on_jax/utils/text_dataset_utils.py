"""`keras.utils.text_dataset_from_directory` without TensorFlow."""

from __future__ import annotations

import numpy as np

from keras_on_jax.utils import dataset_utils


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None, shuffle=True,
                                seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """Generate a dataset of text batches from the `.txt` files of a directory.

    With `labels="inferred"`, each subdirectory of `directory` is a class. Returns a
    `NumpyDataset` (a list `[train, validation]` with `subset="both"`) yielding texts as
    NumPy `object` arrays of Python `str` of shape `(batch,)` (each file read as UTF-8,
    cut to its first `max_length` characters), with labels when `label_mode` is set:
    `"int"` → `int32` `(batch,)`, `"categorical"` → `float32` `(batch, num_classes)`,
    `"binary"` → `float32` `(batch, 1)`. `format` (`"tf"`, `"grain"`, `"numpy"`) is
    accepted for signature compatibility; all return a `NumpyDataset`.
    """
    dataset_utils.check_label_args(labels, label_mode, class_names, "text")
    if format not in ("numpy", "tf", "grain"):
        raise ValueError(f'`format` should be one of "numpy", "tf" or "grain". '
                         f"Received: format={format}")
    if labels is None or label_mode is None:
        labels = None
        label_mode = None
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    file_paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, formats=(".txt",), class_names=class_names, shuffle=shuffle,
        seed=seed, follow_links=follow_links, verbose=verbose,
    )
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")

    def load_one(path):
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
        return text if max_length is None else text[:max_length]

    return dataset_utils.make_directory_datasets(
        file_paths, labels, label_mode, class_names, validation_split, subset, load_one,
        batch_size, shuffle, seed, what="text files", directory=directory,
    )
