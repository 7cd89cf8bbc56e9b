"""Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale images, 10 classes."""

from __future__ import annotations

import gzip
import os

import numpy as np

from keras_on_jax.datasets import _npz_utils
from keras_on_jax.utils.file_utils import get_file

FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


def load_data():
    """Load Fashion-MNIST: `(x_train, y_train), (x_test, y_test)`, `uint8` images
    `(N, 28, 28)` and `uint8` labels `(N,)`."""
    dirname = os.path.join("datasets", "fashion-mnist")
    paths = [get_file(fname, origin=_npz_utils.ORIGIN_FOLDER + fname, cache_subdir=dirname)
             for fname in FILES]
    with gzip.open(paths[0], "rb") as f:
        y_train = np.frombuffer(f.read(), np.uint8, offset=8)
    with gzip.open(paths[1], "rb") as f:
        x_train = np.frombuffer(f.read(), np.uint8, offset=16).reshape(len(y_train), 28, 28)
    with gzip.open(paths[2], "rb") as f:
        y_test = np.frombuffer(f.read(), np.uint8, offset=8)
    with gzip.open(paths[3], "rb") as f:
        x_test = np.frombuffer(f.read(), np.uint8, offset=16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
