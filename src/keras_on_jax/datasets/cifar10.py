"""CIFAR-10: 50,000 training and 10,000 test 32x32 color images, 10 classes."""

from __future__ import annotations

import os

import numpy as np

from keras_on_jax.backend import config
from keras_on_jax.datasets.cifar import load_batch
from keras_on_jax.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data():
    """Load CIFAR-10: `(x_train, y_train), (x_test, y_test)`, `uint8` images
    `(N, 32, 32, 3)` (`(N, 3, 32, 32)` with `channels_first`) and `uint8` labels
    `(N, 1)`."""
    path = get_file(fname="cifar-10-batches-py-target", origin=ORIGIN, extract=True,
                    file_hash=FILE_HASH)
    path = os.path.join(path, "cifar-10-batches-py")
    xs, ys = [], []
    for i in range(1, 6):
        data, labels = load_batch(os.path.join(path, f"data_batch_{i}"))
        xs.append(np.asarray(data, dtype="uint8"))
        ys.append(np.asarray(labels, dtype="uint8"))
    x_train, y_train = np.concatenate(xs), np.concatenate(ys)
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    if config.image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    x_test = x_test.astype(x_train.dtype)
    y_test = y_test.astype(y_train.dtype)
    return (x_train, y_train), (x_test, y_test)
