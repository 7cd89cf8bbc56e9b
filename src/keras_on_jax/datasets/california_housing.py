"""California housing price regression (20,640 samples, 8 features)."""

from __future__ import annotations


from keras_on_jax.datasets import _npz_utils
from keras_on_jax.utils.file_utils import get_file

FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """Load the California housing data (`version="small"`: the first 600 samples),
    shuffled with `seed` and split with `test_split`."""
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between "
                         "0 and 1 (exclusive of 1).")
    path = get_file(path, origin=f"{_npz_utils.ORIGIN_FOLDER}california_housing.npz",
                    file_hash=FILE_HASH)
    arrays = _npz_utils.load_npz(path)
    x, y = arrays["x"], arrays["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    elif version != "large":
        raise ValueError(f"Argument `version` must be one of 'small', 'large'. "
                         f"Received: version={version}")
    return _npz_utils.shuffle_split(x, y, test_split, seed)
