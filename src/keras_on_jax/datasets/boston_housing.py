"""Boston housing price regression (506 samples, 13 features)."""

from __future__ import annotations


from keras_on_jax.datasets import _npz_utils
from keras_on_jax.utils.file_utils import get_file

FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Load the Boston housing data, shuffled with `seed` and split with `test_split`:
    `(x_train, y_train), (x_test, y_test)`."""
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between "
                         "0 and 1 (exclusive of 1).")
    path = get_file(path, origin=f"{_npz_utils.ORIGIN_FOLDER}boston_housing.npz",
                    file_hash=FILE_HASH)
    arrays = _npz_utils.load_npz(path)
    x, y = arrays["x"], arrays["y"]
    return _npz_utils.shuffle_split(x, y, test_split, seed)
