"""MNIST handwritten digits: 60,000 training and 10,000 test 28x28 grayscale images."""

from __future__ import annotations


from keras_on_jax.datasets import _npz_utils
from keras_on_jax.utils.file_utils import get_file

FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz"):
    """Load MNIST: `(x_train, y_train), (x_test, y_test)`, `uint8` images `(N, 28, 28)`
    and `uint8` labels `(N,)`. `path`: the file name in the cache (`~/.keras/datasets`)."""
    path = get_file(fname=path, origin=f"{_npz_utils.ORIGIN_FOLDER}mnist.npz",
                    file_hash=FILE_HASH)
    f = _npz_utils.load_npz(path)
    return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
