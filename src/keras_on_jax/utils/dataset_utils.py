"""Datasets without TensorFlow: a re-iterable dataset of NumPy batches, directory
indexing (the file order, labels and validation split of Keras 3), and `split_dataset`.

Keras 3 returns `tf.data.Dataset` (or Grain) objects from its `*_dataset_from_*`
utilities. Here they return a `NumpyDataset`: iterating it yields NumPy batches
(`x`, or `(x, y)`), `len()` is the number of batches, and `model.fit` / `evaluate` /
`predict` consume it directly (it is re-iterable: each `iter()` is one new epoch,
reshuffled when the dataset shuffles). Files are read lazily, batch by batch.
"""

from __future__ import annotations

import math
import os
import random
from multiprocessing.pool import ThreadPool

import numpy as np


# --------------------------------------------------------------------------------------
# The dataset object
# --------------------------------------------------------------------------------------


def _map_structure(fn, structure):
    if isinstance(structure, tuple):
        return tuple(_map_structure(fn, s) for s in structure)
    if isinstance(structure, list):
        return [_map_structure(fn, s) for s in structure]
    if isinstance(structure, dict):
        return {k: _map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def _stack(items):
    first = items[0]
    if isinstance(first, tuple):
        return tuple(_stack([it[i] for it in items]) for i in range(len(first)))
    if isinstance(first, list):
        return [_stack([it[i] for it in items]) for i in range(len(first))]
    if isinstance(first, dict):
        return {k: _stack([it[k] for it in items]) for k in first}
    if isinstance(first, (str, bytes)):
        out = np.empty((len(items),), dtype=object)
        out[:] = list(items)
        return out
    return np.stack([np.asarray(it) for it in items])


def _first_dim(structure):
    if isinstance(structure, (tuple, list)):
        return _first_dim(structure[0])
    if isinstance(structure, dict):
        return _first_dim(next(iter(structure.values())))
    return len(structure)


class NumpyDataset:
    """A re-iterable dataset of NumPy batches (the stand-in for `tf.data.Dataset`).

    Built by `image_dataset_from_directory`, `text_dataset_from_directory`,
    `timeseries_dataset_from_array` and `split_dataset`, or from arrays with
    `NumpyDataset.from_tensor_slices(arrays)`. Each `iter(dataset)` is a new pass over
    the data; when built with `shuffle=True` the order is drawn anew for each pass
    from a generator seeded with `seed` (so runs are reproducible).

    Attributes:
        class_names: the class names (directory datasets), else `None`.
        file_paths: the files behind the samples, in index order (directory datasets).
        batch_size: the batch size, or `None` when the dataset yields single samples.
    """

    def __init__(self, num_samples, load_fn, batch_size=None, shuffle=False, seed=None,
                 drop_remainder=False):
        """`load_fn(indices)` returns the batch (a structure of arrays) of those samples."""
        self._num_samples = int(num_samples)
        self._load_fn = load_fn
        self.batch_size = None if batch_size is None else int(batch_size)
        if self.batch_size is not None and self.batch_size <= 0:
            raise ValueError(f"`batch_size` must be a positive integer or None. "
                             f"Received: batch_size={batch_size}")
        self._shuffle = bool(shuffle)
        self._seed = seed
        self._rng = np.random.RandomState(seed if seed is not None else np.random.randint(1e6))
        self._drop_remainder = drop_remainder
        self._ops = []  # stream operations applied after batching: ("map"|"take"|"skip", arg)
        self._length = self._base_length()
        self.class_names = None
        self.file_paths = None

    # -- construction ---------------------------------------------------------------

    @classmethod
    def from_tensor_slices(cls, tensors):
        """A dataset yielding one sample at a time from arrays (or a tuple/dict of them)."""
        tensors = _map_structure(np.asarray, tensors)
        n = _first_dim(tensors)
        return cls(n, lambda idx: _map_structure(lambda a: a[idx], tensors))

    def _base_length(self):
        if self.batch_size is None:
            return self._num_samples
        if self._drop_remainder:
            return self._num_samples // self.batch_size
        return math.ceil(self._num_samples / self.batch_size)

    def _copy(self):
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._ops = list(self._ops)
        return new

    # -- iteration --------------------------------------------------------------------

    def _base_iter(self):
        order = (self._rng.permutation(self._num_samples) if self._shuffle
                 else np.arange(self._num_samples))
        if self.batch_size is None:
            for i in order:
                batch = self._load_fn(np.asarray([i]))
                yield _map_structure(lambda a: a[0], batch)
            return
        for b in range(self._base_length()):
            yield self._load_fn(order[b * self.batch_size:(b + 1) * self.batch_size])

    def __iter__(self):
        stream = self._base_iter()
        for op, arg in self._ops:
            stream = _apply_op(stream, op, arg)
        return iter(stream)

    def as_numpy_iterator(self):
        return iter(self)

    def __len__(self):
        if self._length is None:
            raise TypeError("The length of this dataset is unknown (it was unbatched).")
        return self._length

    def cardinality(self):
        return -2 if self._length is None else self._length

    def __repr__(self):
        return (f"<NumpyDataset samples={self._num_samples} batch_size={self.batch_size} "
                f"batches={self._length} shuffle={self._shuffle}>")

    # -- tf.data-like transformations (each returns a new dataset) ----------------------

    def take(self, count):
        """The first `count` elements (batches, when batched); `-1` means all."""
        new = self._copy()
        count = int(count)
        if count >= 0:
            new._ops.append(("take", count))
            if new._length is not None:
                new._length = min(new._length, count)
        return new

    def skip(self, count):
        new = self._copy()
        count = int(count)
        new._ops.append(("skip", count))
        if new._length is not None:
            new._length = max(0, new._length - count)
        return new

    def map(self, map_func):
        """Apply `map_func` to each element; tuples are unpacked as positional arguments."""
        new = self._copy()
        new._ops.append(("map", map_func))
        return new

    def batch(self, batch_size, drop_remainder=False):
        """Group consecutive elements into batches of `batch_size`."""
        if not self._ops and self.batch_size is None:
            new = self._copy()
            new.batch_size = int(batch_size)
            new._drop_remainder = drop_remainder
            new._length = new._base_length()
            return new
        new = self._copy()
        new._ops.append(("batch", (int(batch_size), drop_remainder)))
        if new._length is not None:
            new._length = (new._length // batch_size if drop_remainder
                           else math.ceil(new._length / batch_size))
        return new

    def unbatch(self):
        """Split each batch back into single samples."""
        if not self._ops and self.batch_size is not None:
            new = self._copy()
            new.batch_size = None
            new._length = new._base_length()
            return new
        new = self._copy()
        new._ops.append(("unbatch", None))
        new._length = None
        return new

    def prefetch(self, buffer_size=None):
        return self

    def cache(self, filename=""):
        return self


def _apply_op(stream, op, arg):
    if op == "map":
        for element in stream:
            yield arg(*element) if isinstance(element, tuple) else arg(element)
    elif op == "take":
        for i, element in enumerate(stream):
            if i >= arg:
                return
            yield element
    elif op == "skip":
        for i, element in enumerate(stream):
            if i >= arg:
                yield element
    elif op == "batch":
        size, drop = arg
        buffer = []
        for element in stream:
            buffer.append(element)
            if len(buffer) == size:
                yield _stack(buffer)
                buffer = []
        if buffer and not drop:
            yield _stack(buffer)
    elif op == "unbatch":
        for batch in stream:
            for i in range(_first_dim(batch)):
                yield _map_structure(lambda a, i=i: a[i], batch)


# --------------------------------------------------------------------------------------
# Directory indexing (mirrors keras.src.utils.dataset_utils)
# --------------------------------------------------------------------------------------


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True):
    """List the files of `directory` (and their labels) in Keras's order.

    Returns `(file_paths, labels, class_names)`.
    """
    if labels == "inferred":
        subdirs = []
        for subdir in sorted(os.listdir(directory)):
            if os.path.isdir(os.path.join(directory, subdir)) and not subdir.startswith("."):
                subdirs.append(subdir.rstrip("/"))
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories "
                    f"of the target directory. Expected: {subdirs} (or a subset of it), but "
                    f"received: class_names={class_names}"
                )
            subdirs = list(class_names)
    else:
        subdirs = [""]
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` "
                                 "cannot be specified.")
            raise ValueError(
                "When argument `labels` is specified, argument `class_names` cannot be "
                "specified (the `class_names` will be the sorted list of labels)."
            )
    class_names = subdirs
    class_indices = dict(zip(class_names, range(len(class_names))))

    with ThreadPool() as pool:
        results = [
            pool.apply_async(index_subdirectory,
                             (os.path.join(directory, subdir), class_indices, follow_links,
                              formats))
            for subdir in subdirs
        ]
        filenames, labels_list = [], []
        for res in results:
            partial_filenames, partial_labels = res.get()
            labels_list.append(partial_labels)
            filenames += partial_filenames

    if labels == "inferred":
        labels = np.zeros((len(filenames),), dtype="int32")
        i = 0
        for partial_labels in labels_list:
            labels[i:i + len(partial_labels)] = partial_labels
            i += len(partial_labels)
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(filenames)} "
                f"files in directory {directory}."
            )
        class_names = [str(label) for label in sorted(set(labels))]
        labels = list(labels)
    if verbose:
        if labels is None:
            print(f"Found {len(filenames)} files.")
        else:
            print(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    file_paths = [os.path.join(directory, fname) for fname in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def iter_valid_files(directory, follow_links, formats):
    walk = os.walk(directory, followlinks=follow_links)
    for root, _, files in sorted(walk, key=lambda x: x[0]):
        for fname in sorted(files):
            if fname.lower().endswith(formats):
                yield root, fname


def index_subdirectory(directory, class_indices, follow_links, formats):
    """The files under `directory` (relative to its parent) and their class index."""
    dirname = os.path.basename(directory)
    labels, filenames = [], []
    for root, fname in iter_valid_files(directory, follow_links, formats):
        labels.append(class_indices[dirname])
        absolute_path = os.path.join(root, fname)
        filenames.append(os.path.join(dirname, os.path.relpath(absolute_path, directory)))
    return filenames, labels


def get_training_or_validation_split(samples, labels, validation_split, subset):
    """Keep the first `1 - validation_split` (training) or the last part (validation)."""
    if not validation_split:
        return samples, labels
    num_val_samples = int(validation_split * len(samples))
    if subset == "training":
        print(f"Using {len(samples) - num_val_samples} files for training.")
        samples = samples[:-num_val_samples]
        if labels is not None:
            labels = labels[:-num_val_samples]
    elif subset == "validation":
        print(f"Using {num_val_samples} files for validation.")
        samples = samples[-num_val_samples:]
        if labels is not None:
            labels = labels[-num_val_samples:]
    else:
        raise ValueError(f'`subset` must be either "training" or "validation", '
                         f"received: {subset}")
    return samples, labels


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` "
            "argument, to make sure that there is no overlap between the training and "
            "validation subset."
        )


def check_label_args(labels, label_mode, class_names, what):
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size "
                f"as the number of {what} files in the target directory. If you wish to infer "
                "the labels from the subdirectory names in the target directory, pass "
                '`labels="inferred"`. If you wish to get a dataset that only contains '
                f"{what} samples (no labels), pass `labels=None`. Received: labels={labels}"
            )
        if class_names:
            raise ValueError(
                'You can only pass `class_names` if `labels="inferred"`. '
                f"Received: labels={labels}, and class_names={class_names}"
            )
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')


def encode_labels(labels, label_mode, num_classes):
    """Integer labels → the batch encoding of `label_mode` (int32 / one-hot / binary)."""
    labels = np.asarray(labels)
    if label_mode == "binary":
        return labels.astype("float32")[:, None]
    if label_mode == "categorical":
        out = np.zeros((labels.shape[0], num_classes), dtype="float32")
        out[np.arange(labels.shape[0]), labels.astype("int64")] = 1.0
        return out
    return labels.astype("int32")


def make_directory_datasets(paths, labels, label_mode, class_names, validation_split, subset,
                            load_one, batch_size, shuffle, seed, what, directory,
                            stack_fn=None):
    """Build the dataset(s) of files → (x, y) batches for the `*_dataset_from_directory`
    functions. `load_one(path)` reads one sample; `stack_fn(samples)` makes the batch
    (default: `np.stack`)."""
    stack_fn = stack_fn or _stack
    num_classes = len(class_names) if class_names else 0

    def build(split_paths, split_labels, split_shuffle):
        split_paths = list(split_paths)
        encoded = (encode_labels(split_labels, label_mode, num_classes)
                   if label_mode is not None else None)

        def load(indices):
            xs = stack_fn([load_one(split_paths[int(i)]) for i in indices])
            if encoded is None:
                return xs
            return xs, encoded[np.asarray(indices, dtype="int64")]

        ds = NumpyDataset(len(split_paths), load, batch_size=batch_size, shuffle=split_shuffle,
                          seed=seed)
        ds.class_names = class_names
        ds.file_paths = split_paths
        return ds

    if subset == "both":
        train_paths, train_labels = get_training_or_validation_split(
            paths, labels, validation_split, "training")
        val_paths, val_labels = get_training_or_validation_split(
            paths, labels, validation_split, "validation")
        if not train_paths:
            raise ValueError(f"No training {what} found in directory {directory}.")
        if not val_paths:
            raise ValueError(f"No validation {what} found in directory {directory}.")
        return [build(train_paths, train_labels, shuffle), build(val_paths, val_labels, False)]
    paths, labels = get_training_or_validation_split(paths, labels, validation_split, subset)
    if not paths:
        raise ValueError(f"No {what} found in directory {directory}.")
    return build(paths, labels, shuffle)


# --------------------------------------------------------------------------------------
# split_dataset
# --------------------------------------------------------------------------------------


def _rescale_dataset_split_sizes(left_size, right_size, total_length):
    left_type, right_type = type(left_size), type(right_size)
    if (left_size is not None and left_type not in (int, float)) and (
            right_size is not None and right_type not in (int, float)):
        raise TypeError(
            "Invalid `left_size` and `right_size` Types. Expected: integer or float or None, "
            f"Received: type(left_size)={left_type} and type(right_size)={right_type}"
        )
    if left_size is not None and left_type not in (int, float):
        raise TypeError(f"Invalid `left_size` Type. Expected: int or float or None, "
                        f"Received: type(left_size)={left_type}.")
    if right_size is not None and right_type not in (int, float):
        raise TypeError(f"Invalid `right_size` Type. Expected: int or float or None, "
                        f"Received: type(right_size)={right_type}.")
    if left_size == 0 and right_size == 0:
        raise ValueError("Both `left_size` and `right_size` are zero. At least one of the "
                         "split sizes must be non-zero.")
    if (left_type is int and (left_size <= 0 or left_size >= total_length)
            or left_type is float and (left_size <= 0 or left_size >= 1)):
        raise ValueError(
            f"`left_size` should be either a positive integer smaller than {total_length}, "
            f"or a float within the range `[0, 1]`. Received: left_size={left_size}"
        )
    if (right_type is int and (right_size <= 0 or right_size >= total_length)
            or right_type is float and (right_size <= 0 or right_size >= 1)):
        raise ValueError(
            f"`right_size` should be either a positive integer and smaller than "
            f"{total_length} or a float within the range `[0, 1]`. "
            f"Received: right_size={right_size}"
        )
    if right_type is left_type is float and right_size + left_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must "
                         "be less than or equal to 1.")
    if left_type is float:
        left_size = round(left_size * total_length)
    elif left_type is int:
        left_size = float(left_size)
    if right_type is float:
        right_size = round(right_size * total_length)
    elif right_type is int:
        right_size = float(right_size)
    if left_size is None:
        left_size = total_length - right_size
    elif right_size is None:
        right_size = total_length - left_size
    if left_size + right_size > total_length:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the "
            f"{total_length}. Received: left_size + right_size = {left_size + right_size} "
            f"and total_length = {total_length}"
        )
    for split, side in ((left_size, "left"), (right_size, "right")):
        if split == 0:
            raise ValueError(
                f"With `dataset` of length={total_length}, `left_size`={left_size} and "
                f"`right_size`={right_size}. Resulting {side} side dataset split will be "
                "empty. Adjust any of the aforementioned parameters"
            )
    return int(left_size), int(right_size)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None,
                  preferred_backend=None):
    """Split a dataset into a left and a right part (e.g. train / test).

    Args:
        dataset: a NumPy array, a list/tuple of arrays of the same length, or a
            `NumpyDataset` (which is unbatched, split, and batched again).
        left_size, right_size: a float in `(0, 1)` (fraction) or an int (number of
            samples); `None` means the complement of the other.
        shuffle: shuffle the samples before splitting (Python's `random` with `seed`, as
            Keras).
        seed: the shuffling seed.
        preferred_backend: accepted for compatibility; ignored.

    Returns:
        `(left, right)`: two `NumpyDataset`s yielding single samples (batched like
        `dataset` when `dataset` was a batched `NumpyDataset`).
    """
    del preferred_backend
    batch_size = None
    if isinstance(dataset, NumpyDataset):
        batch_size = dataset.batch_size
        samples = list(dataset.unbatch() if batch_size is not None else dataset)
        if not samples:
            raise ValueError("Received an empty dataset. Argument `dataset` must be a "
                             "non-empty dataset.")
        structure = _stack(samples)
    elif isinstance(dataset, np.ndarray):
        if len(dataset) == 0:
            raise ValueError("Received an empty dataset. Argument `dataset` must be a "
                             "non-empty list/tuple of `numpy.ndarray` objects.")
        structure = dataset
    elif isinstance(dataset, (list, tuple)):
        kind = type(dataset).__name__
        if len(dataset) == 0:
            raise ValueError(f"Received an empty {kind} dataset. Please provide a non-empty "
                             f"{kind} of arrays.")
        expected = None
        for i, element in enumerate(dataset):
            if not isinstance(element, np.ndarray):
                raise ValueError(f"Expected a {kind} of `numpy.ndarray` objects, "
                                 f"Received: {type(element)} at index {i}.")
            if expected is None:
                expected = element.shape
            elif element.shape[0] != expected[0]:
                raise ValueError(
                    f"Received a {kind} of NumPy arrays with different lengths. Mismatch "
                    f"found at index {i}, Expected shape={expected} Received "
                    f"shape={element.shape}. Please provide a {kind} of NumPy arrays of the "
                    "same length."
                )
        structure = tuple(dataset)
    else:
        raise TypeError(
            "The `dataset` argument must be either a `NumpyDataset` object, a NumPy array, "
            f"or a list/tuple of arrays. Received: dataset={dataset} of type {type(dataset)}"
        )
    total_length = _first_dim(structure)
    indices = list(range(total_length))
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.Random(seed).shuffle(indices)
    left_size, right_size = _rescale_dataset_split_sizes(left_size, right_size, total_length)
    indices = np.asarray(indices, dtype="int64")
    left_idx, right_idx = indices[:left_size], indices[-right_size:]
    left = NumpyDataset.from_tensor_slices(_map_structure(lambda a: a[left_idx], structure))
    right = NumpyDataset.from_tensor_slices(_map_structure(lambda a: a[right_idx], structure))
    if batch_size is not None:
        left, right = left.batch(batch_size), right.batch(batch_size)
    return left, right
