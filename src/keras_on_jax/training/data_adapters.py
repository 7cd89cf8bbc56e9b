"""Turn whatever `fit`/`evaluate`/`predict` receive into batches of NumPy/JAX arrays.

Arrays (NumPy, JAX, lists, dicts of them, h5py datasets) are sliced on the host;
iterables (generators, `PyDataset`, torch `DataLoader`, `tf.data.Dataset`, Grain loaders)
are streamed. Optional integrations are detected by module name, never by importing
TensorFlow or torch.
"""

from __future__ import annotations

import math
import warnings

import jax
import numpy as np

from keras_on_jax.backend import config as backend_config


def _is_array(x):
    return isinstance(x, (np.ndarray, jax.Array)) or (
        hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "__getitem__")
        and not _module_is(x, "tensorflow")
    )


def _module_is(x, prefix):
    return type(x).__module__.split(".")[0] == prefix


def densify_sparse(x):
    """A SciPy sparse matrix or a JAX `BCOO` array as a dense array, as Keras 3 densifies
    sparse data fed to a dense input (sparse tensors are not implemented here); anything
    else unchanged."""
    module = type(x).__module__
    if module.startswith("scipy.sparse"):
        return x.toarray()
    if module.startswith("jax.experimental.sparse"):
        return x.todense()
    return x


def _to_array(x, name):
    x = densify_sparse(x)
    if x is None or _is_array(x):
        return x
    if isinstance(x, (list, tuple)) and (not x or not (_is_array(x[0]) or isinstance(x[0], dict))):
        arr = np.asarray(x)
        if arr.dtype == object:
            raise ValueError(
                f"Failed to convert `{name}` to an array: it holds objects of mixed types or "
                f"ragged shapes. Received: {type(x).__name__} of length {len(x)}"
            )
        return arr
    if _module_is(x, "pandas"):
        return np.asarray(x)
    return x


def _map(fn, structure):
    if isinstance(structure, dict):
        return {k: _map(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map(fn, v) for v in structure)
    if structure is None:
        return None
    return fn(structure)


def _flat(structure):
    if isinstance(structure, dict):
        return [a for v in structure.values() for a in _flat(v)]
    if isinstance(structure, (list, tuple)):
        return [a for v in structure for a in _flat(v)]
    return [] if structure is None else [structure]


def is_array_data(x):
    flat = _flat(x)
    return bool(flat) and all(_is_array(a) for a in flat)


def standardize_arrays(x, name):
    x = _map(lambda a: _to_array(a, name), x) if isinstance(x, (dict, tuple)) else _to_array(x, name)
    if isinstance(x, list):
        x = [_to_array(a, name) for a in x]
    for a in _flat(x):
        dtype = getattr(a, "dtype", None)
        if dtype is not None and np.dtype(dtype).kind in "OSU" and name != "x":
            raise ValueError(
                f"`{name}` must be numeric; received an array of dtype {dtype}."
            )
    return x


def num_samples(x):
    flat = _flat(x)
    return int(flat[0].shape[0]) if flat else 0


def check_lengths(x, y, sample_weight):
    sizes = {}
    for name, s in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for a in _flat(s):
            sizes.setdefault(name, set()).add(int(a.shape[0]))
    all_sizes = set().union(*sizes.values()) if sizes else set()
    if len(all_sizes) > 1:
        detail = ", ".join(f"{k} sizes: {sorted(v)}" for k, v in sizes.items())
        raise ValueError(
            f"Data cardinality is ambiguous. Make sure all arrays contain the same number "
            f"of samples. {detail}"
        )


def _in_memory(a):
    return isinstance(a, (np.ndarray, jax.Array)) or _module_is(a, "pandas") or _module_is(a, "torch")


def _take_rows(a, index):
    """`a[index]` for a slice or an index array. Array-likes that read from storage (h5py,
    ...) are read at increasing indices (h5py requires it) and reordered after."""
    if not isinstance(index, (slice, int, np.integer)) and not _in_memory(a):
        index = np.asarray(index)
        order = np.argsort(index)
        out = a[index[order]]
        inv = np.empty_like(order)
        inv[order] = np.arange(len(order))
        return out[inv]
    return a[index]


def slice_arrays(structure, index):
    return _map(lambda a: _take_rows(a, index), structure)


class RowRange:
    """Rows `[start, stop)` of an array-like (an h5py dataset, ...), read only when indexed.

    `validation_split` cuts out-of-core arrays with this instead of `a[start:stop]`, which
    would read the whole range into memory; batches then read just their own rows.
    """

    def __init__(self, base, start, stop):
        self.base, self.start, self.stop = base, int(start), int(stop)

    @property
    def shape(self):
        return (self.stop - self.start,) + tuple(self.base.shape[1:])

    @property
    def dtype(self):
        return self.base.dtype

    @property
    def ndim(self):
        return len(self.shape)

    def __len__(self):
        return self.stop - self.start

    def _rows(self, index):
        n = len(self)
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step == 1:
                return slice(self.start + start, self.start + max(start, stop))
            return np.arange(start, stop, step) + self.start
        if isinstance(index, (int, np.integer)):
            if not -n <= index < n:
                raise IndexError(f"Row index {index} is out of range for {n} rows.")
            return self.start + (int(index) % n)
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        if index.size and (index.min() < -n or index.max() >= n):
            raise IndexError(f"Row indices out of range for {n} rows.")
        return np.where(index < 0, index + n, index) + self.start

    def __getitem__(self, index):
        if isinstance(index, tuple):
            rows = self._rows(index[0])
            return _take_rows(self.base, rows)[(slice(None),) * (not isinstance(rows, int))
                                                + index[1:]]
        return _take_rows(self.base, self._rows(index))

    def __array__(self, dtype=None, copy=None):
        out = np.asarray(self.base[self.start:self.stop])
        return out if dtype is None else out.astype(dtype, copy=False)

    def __repr__(self):
        return f"RowRange({self.base!r}, {self.start}, {self.stop})"


def _split_rows(a, start, stop):
    """Rows `[start, stop)`: a slice of in-memory arrays, a lazy `RowRange` otherwise
    (h5py datasets and other array-likes that read from storage when indexed)."""
    if _in_memory(a):
        return a[start:stop]
    if isinstance(a, RowRange):
        return RowRange(a.base, a.start + start, a.start + stop)
    return RowRange(a, start, stop)


class ArrayDataAdapter:
    """Batches from in-memory arrays (and sliceable array-likes such as h5py datasets)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False,
                 steps=None, seed_rng=None):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.n = num_samples(x)
        self.batch_size = batch_size or 32
        self.shuffle = shuffle
        self.steps = steps
        self.rng = seed_rng if seed_rng is not None else np.random
        self._num_batches = max(1, math.ceil(self.n / self.batch_size)) if self.n else 0

    @property
    def num_batches(self):
        if self.steps is not None:
            return self.steps
        return self._num_batches

    def epoch_batches(self):
        """The batches of one epoch, in order: a list of slices or index arrays.

        `shuffle=True` permutes all rows (one draw from NumPy's global generator, as
        Keras); `shuffle="batch"` keeps each batch's rows contiguous (h5py-friendly) and
        permutes the batch order.
        """
        bounds = [(b * self.batch_size, min((b + 1) * self.batch_size, self.n))
                  for b in range(self._num_batches)] if self.n else []
        if self.shuffle is True:
            order = self.rng.permutation(self.n)
            return [order[start:stop] for start, stop in bounds]
        if self.shuffle == "batch":
            batch_order = np.arange(len(bounds))
            self.rng.shuffle(batch_order)
            return [slice(*bounds[b]) for b in batch_order]
        return [slice(start, stop) for start, stop in bounds]

    def epoch_plan(self):
        """`epoch_batches()` extended or cut to `steps` batches (new draws per pass)."""
        batches = self.epoch_batches()
        if self.steps is None:
            return batches
        out = []
        while len(out) < self.steps and batches:
            out.extend(batches[: self.steps - len(out)])
            if len(out) < self.steps:
                batches = self.epoch_batches()
        return out

    def iter_epoch(self):
        for index in self.epoch_plan():
            yield (slice_arrays(self.x, index), slice_arrays(self.y, index),
                   slice_arrays(self.sample_weight, index))


def unpack_x_y_sample_weight(data):
    """`(x,)`, `(x, y)` or `(x, y, sample_weight)` → `(x, y, sample_weight)`."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found: {data}"
    )


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """`x`, `(x, y)` or `(x, y, sample_weight)`, leaving out what is None; as in Keras 3,
    `x` alone is returned as is unless it is a tuple or list (then `(x,)`, which unpacks
    to `x`)."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _to_numpy_batch(batch):
    def conv(a):
        if _module_is(a, "tensorflow"):
            return a.numpy()
        if _module_is(a, "torch"):
            return a.detach().cpu().numpy()
        return a

    return _map(conv, batch)


class IterableDataAdapter:
    """Batches streamed from an iterable: a generator, PyDataset, DataLoader, tf.data, ..."""

    def __init__(self, data, steps=None, shuffle=False):
        self.data = data
        self.steps = steps
        self.shuffle = shuffle
        self._iterator = None
        self._is_pydataset = hasattr(data, "__getitem__") and hasattr(data, "__len__") and hasattr(data, "on_epoch_end")
        self._reiterable = self._is_pydataset or (
            hasattr(data, "__iter__") and not hasattr(data, "__next__")
        )

    @property
    def num_batches(self):
        if self.steps is not None:
            return self.steps
        if self._is_pydataset:
            n = getattr(self.data, "num_batches", None)
            return n if n is not None else len(self.data)
        if hasattr(self.data, "__len__") and not hasattr(self.data, "__next__"):
            try:
                return len(self.data)
            except TypeError:
                return None
        return None

    def iter_epoch(self):
        if self._is_pydataset:
            # Between the dataset's epoch hooks, as Keras 3's EpochIterator.
            on_begin = getattr(self.data, "on_epoch_begin", None)
            if on_begin is not None:
                on_begin()
            n = self.num_batches
            order = np.arange(len(self.data))
            if self.shuffle:
                np.random.shuffle(order)
            for i in range(n):
                yield unpack_x_y_sample_weight(_to_numpy_batch(self.data[int(order[i % len(order)])]))
            self.on_epoch_end()
            return
        if self._reiterable and self.steps is None:
            iterator = iter(self.data)
        else:
            if self._iterator is None:
                self._iterator = iter(self.data)
            iterator = self._iterator
        produced = 0
        while self.steps is None or produced < self.steps:
            try:
                batch = next(iterator)
            except StopIteration:
                if self._reiterable and self.steps is not None:
                    self._iterator = iter(self.data)
                    iterator = self._iterator
                    if produced == 0:
                        return
                    continue
                return
            yield unpack_x_y_sample_weight(_to_numpy_batch(batch))
            produced += 1

    def on_epoch_end(self):
        if self._is_pydataset:
            self.data.on_epoch_end()


def _capped_steps(steps):
    """`steps`, capped by `keras.config.set_max_steps_per_epoch` (Keras's debugging cap)."""
    from keras_on_jax import config

    cap = config.max_steps_per_epoch()
    if cap and (not steps or cap < steps):
        warnings.warn(f"Limiting steps_per_epoch to {cap}", stacklevel=3)
        return cap
    return steps


def get_data_adapter(x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False,
                     class_weight=None):
    steps = _capped_steps(steps)
    if is_array_data(x) or isinstance(x, (list, tuple)) and x and not hasattr(x, "__next__") and _looks_like_arrays(x):
        x = standardize_arrays(x, "x")
        y = standardize_arrays(y, "y") if y is not None else None
        sample_weight = standardize_arrays(sample_weight, "sample_weight") if sample_weight is not None else None
        check_lengths(x, y, sample_weight)
        if class_weight is not None and y is not None:
            sample_weight = apply_class_weight(y, class_weight, sample_weight)
        return ArrayDataAdapter(x, y, sample_weight, batch_size=batch_size or 32, shuffle=shuffle,
                                steps=steps)
    from keras_on_jax.training import py_dataset_adapter

    if is_grain_dataset(x):
        _reject_targets_in_dataset(y, sample_weight, "grain.Dataset and grain.DataLoader")
        if class_weight is not None:
            raise ValueError(
                "Argument `class_weight` is not supported for grain.Dataset and "
                "grain.DataLoader inputs. You can modify your `__getitem__ ` method to return "
                f"input tensor, label and class_weight. Received: class_weight={class_weight}"
            )
        return py_dataset_adapter.maybe_prefetch(GrainDataAdapter(x, steps=steps))
    if py_dataset_adapter.is_py_dataset(x) and y is None and sample_weight is None:
        return py_dataset_adapter.maybe_prefetch(py_dataset_adapter.PyDatasetAdapter(
            x, shuffle=shuffle, steps=steps, class_weight=class_weight))
    if y is not None:
        raise ValueError(
            "`y` argument is not supported when using a generator, dataset or PyDataset as "
            f"input. Received: x={type(x).__name__}, y={type(y).__name__}"
        )
    if sample_weight is not None:
        raise ValueError(
            "`sample_weight` argument is not supported when using a generator, dataset or "
            "PyDataset as input."
        )
    if not (hasattr(x, "__iter__") or hasattr(x, "__getitem__")):
        raise ValueError(
            f"Unrecognized data type: x={x!r} (of type {type(x)}). Expected NumPy/JAX arrays, "
            "a list or dict of arrays, a generator, or a PyDataset."
        )
    return py_dataset_adapter.maybe_prefetch(IterableDataAdapter(x, steps=steps, shuffle=shuffle))


def is_grain_dataset(x):
    """A `grain.MapDataset`, `grain.IterDataset` or `grain.DataLoader` (or a subclass),
    recognised by class name and module, as Keras 3 does, without importing Grain."""
    return any(cls.__name__ in ("MapDataset", "IterDataset", "DataLoader")
               and cls.__module__.split(".")[0] == "grain" for cls in type(x).__mro__)


class GrainDataAdapter(IterableDataAdapter):
    """Batches from a Grain dataset or loader: each epoch iterates it afresh (with `steps`,
    one iterator runs on across epochs). Its length is unknown until iterated, as in Keras 3
    (a `MapDataset`'s `len` counts the elements a `filter` drops)."""

    @property
    def num_batches(self):
        return self.steps


def _reject_targets_in_dataset(y, sample_weight, input_type):
    for arg, value, what in (("y", y, "the targets"),
                             ("sample_weights", sample_weight, "the sample weights")):
        if value is not None:
            raise ValueError(
                f"When providing `x` as a {input_type}, `{arg}` should not be passed. "
                f"Instead, {what} should be included as part of the {input_type}."
            )


def _looks_like_arrays(x):
    try:
        arr = np.asarray(x)
        return arr.dtype != object
    except Exception:
        return False


def class_weight_to_sample_weights(y, class_weight):
    """Per-sample weights `class_weight.get(class, 1.0)` for labels `y` (class indices,
    `(n, 1)` columns or one-hot rows), as Keras 3's function of that name."""
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    classes = np.round(y).astype("int64")
    return np.asarray([class_weight.get(int(c), 1.0) for c in classes], dtype=backend_config.floatx())


def apply_class_weight(y, class_weight, sample_weight):
    if isinstance(y, (list, tuple, dict)) and len(_flat(y)) > 1:
        raise ValueError("`class_weight` is only supported for models with a single output.")
    weights = class_weight_to_sample_weights(_flat(y)[0], class_weight)
    if sample_weight is not None:
        weights = weights * np.asarray(sample_weight, dtype="float32")
    return weights


def train_validation_split(arrays, validation_split):
    """Split off the last `validation_split` fraction (before any shuffling), as Keras."""
    if not 0 <= validation_split < 1:
        raise ValueError(
            "`validation_split` must be in the range [0, 1). "
            f"Received: validation_split={validation_split}"
        )
    flat = [a for a in _flat(arrays)]
    n = int(flat[0].shape[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a "
            f"validation and training set as specified by `validation_split={validation_split}`."
        )
    train = _map(lambda a: _split_rows(a, 0, split_at), arrays)
    val = _map(lambda a: _split_rows(a, split_at, n), arrays)
    return train, val
