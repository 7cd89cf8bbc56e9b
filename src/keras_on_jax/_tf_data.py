"""`tf.data` for the drop-in runner when TensorFlow is not installed.

The keras-io JAX guides load data with `tf.data.Dataset.from_tensor_slices(...)`,
`.shuffle(...)`, `.batch(...)` and read batches with `.numpy()`. This module gives that
much on NumPy: `Dataset` extends `utils.dataset_utils.NumpyDataset` with `shuffle`,
`repeat` and elements that answer `.numpy()` (an `ndarray` subclass), and is what
`import tensorflow as tf; tf.data` resolves to under `python -m keras_on_jax` (see
`_aliases`). `fit()` / `evaluate()` / `predict()` accept it like any re-iterable dataset.
"""

from __future__ import annotations

import itertools

import numpy as np

from keras_on_jax.utils.dataset_utils import NumpyDataset, _apply_op, _map_structure

AUTOTUNE = -1


class EagerTensor(np.ndarray):
    """A NumPy array that also answers TensorFlow's `.numpy()`."""

    def numpy(self):
        return np.asarray(self)


def _as_tensor(x):
    if isinstance(x, (np.ndarray, np.generic, int, float, bool)):
        return np.asarray(x).view(EagerTensor)
    return x


class Dataset(NumpyDataset):
    """The subset of `tf.data.Dataset` the Keras guides use, on NumPy arrays."""

    @classmethod
    def from_tensors(cls, tensors):
        """A dataset of one element: `tensors`."""
        tensors = _map_structure(np.asarray, tensors)
        return cls(1, lambda idx: _map_structure(lambda a: a[None], tensors))

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
        """Shuffle the elements (a new order each pass, as `reshuffle_each_iteration=True`).

        Before `batch()` the samples themselves are permuted (a buffer as large as the
        data); later in the pipeline elements are shuffled through a `buffer_size` buffer.
        """
        new = self._copy()
        rng_seed = seed if seed is not None else np.random.randint(1e6)
        if not self._ops and self.batch_size is None:
            new._shuffle = True
            new._rng = np.random.RandomState(rng_seed)
        else:
            new._ops.append(("shuffle", (max(int(buffer_size), 1), np.random.RandomState(rng_seed))))
        return new

    def repeat(self, count=None):
        """Repeat the dataset `count` times (forever when `None` or -1)."""
        new = self._copy()
        count = None if count is None or int(count) < 0 else int(count)
        new._ops.append(("repeat", (self._copy(), count)))
        if count is None:
            new._length = None
        elif new._length is not None:
            new._length = new._length * count
        return new

    def __len__(self):
        if self._length is None:
            raise TypeError("The length of this dataset is unknown or infinite.")
        return self._length

    def cardinality(self):
        if self._length is not None:
            return self._length
        if any(op == "repeat" and arg[1] is None for op, arg in self._ops):
            return -1  # tf.data.INFINITE_CARDINALITY
        return -2  # tf.data.UNKNOWN_CARDINALITY

    def _stream(self):
        stream = self._base_iter()
        for op, arg in self._ops:
            if op == "shuffle":
                stream = _buffer_shuffle(stream, *arg)
            elif op == "repeat":
                prefix, count = arg
                counter = itertools.count() if count is None else range(count)
                stream = itertools.chain.from_iterable(prefix._stream() for _ in counter)
            else:
                stream = _apply_op(stream, op, arg)
        return stream

    def __iter__(self):
        return (_map_structure(_as_tensor, element) for element in self._stream())

    def as_numpy_iterator(self):
        return iter(self._stream())

    def __repr__(self):
        return (f"<keras_on_jax tf.data.Dataset stand-in: batch_size={self.batch_size} "
                f"elements={self._length}>")


def _buffer_shuffle(stream, buffer_size, rng):
    buffer = []
    for element in stream:
        buffer.append(element)
        if len(buffer) >= buffer_size:
            yield buffer.pop(rng.randint(len(buffer)))
    while buffer:
        yield buffer.pop(rng.randint(len(buffer)))
