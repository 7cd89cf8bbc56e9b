"""Safe readers for the dataset files: `.npz` archives whose ragged sequences are stored
as pickled object arrays, and CIFAR's pickled batches.

Nothing is unpickled freely: the unpickler admits only the globals that rebuild a NumPy
array (`numpy.ndarray`, `numpy.dtype`, `multiarray._reconstruct`); plain dicts, lists,
ints and bytes need no globals. Any other global (`os.system`, `builtins.eval`, ...)
is refused.
"""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

_ALLOWED_PICKLE_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that only rebuilds NumPy arrays and plain Python containers."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to deserialize `{module}.{name}` while loading a Keras dataset: only "
            "NumPy arrays, dicts, lists, numbers and bytes are allowed. The file may be "
            "corrupted or malicious."
        )


def _load_npy_member(fp):
    try:
        return np.lib.format.read_array(fp, allow_pickle=False)
    except ValueError:
        fp.seek(0)
        version = np.lib.format.read_magic(fp)
        if version[0] == 1:
            np.lib.format.read_array_header_1_0(fp)
        elif version[0] in (2, 3):
            np.lib.format.read_array_header_2_0(fp)
        else:
            raise ValueError(f"Unsupported `.npy` file version: {version}.")
        return RestrictedUnpickler(fp).load()


def load_npz(path):
    """The arrays of an `.npz` file as a dict (object arrays read with the restricted
    unpickler)."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            with archive.open(member) as raw:
                buffer = io.BytesIO(raw.read())
            arrays[member[:-len(".npy")]] = _load_npy_member(buffer)
    return arrays


def remove_long_seq(maxlen, seq, label):
    """Keep the sequences shorter than `maxlen` (and their labels)."""
    new_seq, new_label = [], []
    for x, y in zip(seq, label):
        if len(x) < maxlen:
            new_seq.append(x)
            new_label.append(y)
    return new_seq, new_label


def shuffle_split(x, y, test_split, seed):
    """Keras's regression-dataset split: shuffle with `RandomState(seed)`, then the
    first `1 - test_split` is the training set."""
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between "
                         "0 and 1 (exclusive of 1).")
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))
