"""Streaming adapters: `keras.utils.PyDataset` with workers, and device prefetching.

`PyDatasetAdapter` has the interface of `data_adapters.IterableDataAdapter`
(`num_batches`, `iter_epoch()` yielding `(x, y, sample_weight)`, `on_epoch_end()`). With
`workers > 1` or `use_multiprocessing=True`, batches are prepared ahead of use in a thread
pool (or a pool of forked processes) holding at most `max_queue_size` pending batches,
and handed out in index order. With `shuffle=True` the batch order of each epoch is
shuffled (Python's `random`, as Keras 3).

`prefetch_to_device(iterator)` moves the next batch to the device in a background thread
while the current step runs (double buffering); `PrefetchingAdapter` wraps any adapter
with it. `get_data_adapter` wraps streamed sources (generators, PyDatasets, iterables)
with it on accelerator backends (`maybe_prefetch`); arrays in memory never need it (the
trainer moves them to the device once).
"""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
import queue
import random
import threading

import jax
import numpy as np

from keras_on_jax.training import data_adapters

# The dataset a forked worker process reads batches from (set before the fork).
_WORKER_DATASET = None


def _worker_get(index):
    return _WORKER_DATASET[index]


def _set_worker_dataset(dataset):
    global _WORKER_DATASET
    _WORKER_DATASET = dataset


def _standardize_batch(batch):
    if isinstance(batch, dict):
        return batch
    if isinstance(batch, np.ndarray) or isinstance(batch, jax.Array):
        return (batch,)
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple) or len(batch) not in (1, 2, 3):
        raise ValueError(
            "PyDataset.__getitem__() must return a tuple or a dict. If a tuple, it must be "
            "ordered either (input,) or (inputs, targets) or (inputs, targets, "
            f"sample_weights). Received: {str(batch)[:100]}... of type {type(batch)}"
        )
    return batch


class PyDatasetAdapter:
    """Batches from a `keras.utils.PyDataset`, optionally prepared ahead by workers."""

    def __init__(self, dataset, shuffle=False, steps=None, class_weight=None):
        self.data = dataset
        self.shuffle = bool(shuffle)
        self.steps = steps
        self.class_weight = class_weight
        self.workers = int(getattr(dataset, "workers", 1) or 1)
        self.use_multiprocessing = bool(getattr(dataset, "use_multiprocessing", False))
        self.max_queue_size = max(1, int(getattr(dataset, "max_queue_size", 10) or 10))
        self._position = 0  # for infinite datasets read across epochs with `steps`

    def _dataset_len(self):
        try:
            n = self.data.num_batches
        except (NotImplementedError, TypeError, AttributeError):
            return None
        return None if n is None else int(n)

    @property
    def num_batches(self):
        if self.steps is not None:
            return self.steps
        return self._dataset_len()

    def _indices(self):
        """The batch indices of one epoch (an endless iterator for infinite datasets)."""
        n = self._dataset_len()
        if n is None:
            def endless():
                produced = 0
                while self.steps is None or produced < self.steps:
                    yield self._position
                    self._position += 1
                    produced += 1

            return endless()
        order = list(range(n))
        if self.shuffle:
            random.shuffle(order)
        if self.steps is None:
            return iter(order)
        return iter([order[i % n] for i in range(self.steps)]) if n else iter([])

    def _finish(self, batch):
        batch = _standardize_batch(data_adapters._to_numpy_batch(batch))
        if self.class_weight is not None and isinstance(batch, tuple):
            if len(batch) == 3:
                raise ValueError(
                    "You cannot specify `class_weight` and `sample_weight` at the same time."
                )
            if len(batch) == 2:
                sw = data_adapters.apply_class_weight(batch[1], self.class_weight, None)
                batch = (*batch, sw)
        return data_adapters.unpack_x_y_sample_weight(batch)

    def iter_epoch(self):
        """One epoch of batches, between the dataset's `on_epoch_begin()` and
        `on_epoch_end()` (as Keras 3's `EpochIterator`: the end hook runs when the epoch is
        read to its end, not when the consumer stops early)."""
        on_begin = getattr(self.data, "on_epoch_begin", None)
        if on_begin is not None:
            on_begin()
        yield from self._epoch_batches()
        self.on_epoch_end()

    def _epoch_batches(self):
        indices = self._indices()
        if self.workers <= 1 and not self.use_multiprocessing:
            for i in indices:
                try:
                    batch = self.data[i]
                except (IndexError, StopIteration):
                    if self._dataset_len() is None:
                        return
                    raise
                if batch is None:
                    return
                yield self._finish(batch)
            return
        yield from self._iter_with_pool(indices)

    def _make_pool(self):
        workers = max(1, self.workers)
        if self.use_multiprocessing:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            return concurrent.futures.ProcessPoolExecutor(
                max_workers=workers, mp_context=context,
                initializer=_set_worker_dataset, initargs=(self.data,),
            ), _worker_get
        return concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="keras_on_jax_pydataset"
        ), self.data.__getitem__

    def _iter_with_pool(self, indices):
        pool, get = self._make_pool()
        pending = collections.deque()
        ahead = max(self.max_queue_size, self.workers)
        infinite = self._dataset_len() is None
        try:
            for i in indices:
                pending.append(pool.submit(get, i))
                if len(pending) >= ahead:
                    break
            while pending:
                future = pending.popleft()
                try:
                    batch = future.result()
                except (IndexError, StopIteration):
                    if infinite:
                        return
                    raise
                if batch is None and infinite:
                    return
                for i in indices:
                    pending.append(pool.submit(get, i))
                    break
                yield self._finish(batch)
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    def on_epoch_end(self):
        on_end = getattr(self.data, "on_epoch_end", None)
        if on_end is not None:
            on_end()


def is_py_dataset(x):
    """True for `keras.utils.PyDataset` (and `Sequence`) instances, without importing Keras."""
    from keras_on_jax.utils.py_dataset import PyDataset

    if isinstance(x, PyDataset):
        return True
    return any(c.__name__ in ("PyDataset", "Sequence") for c in type(x).__mro__[1:]) and (
        hasattr(x, "__getitem__") and hasattr(x, "__len__")
    )


# ---- device prefetching ---------------------------------------------------------------------


def _to_device(batch):
    def put(a):
        if isinstance(a, np.ndarray) and a.dtype.kind in "biufc":
            return jax.device_put(a)
        return a

    return jax.tree.map(put, batch)


_DONE = object()


def prefetch_to_device(iterator, buffer_size=2):
    """Yield the items of `iterator`, each already moved to the device.

    A background thread pulls the next items and starts their host-to-device transfer
    while the consumer works on the current one; at most `buffer_size` items wait.
    Exceptions raised by `iterator` are re-raised in the consumer. Closing the generator
    (the consumer stops early) stops the thread.
    """
    q = queue.Queue(maxsize=max(1, buffer_size))
    stop = threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in iterator:
                if not put((True, _to_device(item))):
                    return
            put((True, _DONE))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put((False, e))

    thread = threading.Thread(target=produce, name="keras_on_jax_prefetch", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while True:
            try:
                q.get_nowait()
            except queue.Empty:
                break
        thread.join()
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def device_prefetch_enabled():
    """Whether streamed batches go through `prefetch_to_device` (see `maybe_prefetch`).

    Only where batches cross to an accelerator: on the CPU backend a "transfer" costs
    nothing to hide and the extra thread costs about 20% (benchmarks/bench_data.py). Not
    under an active distribution either, which places each batch on its own devices.
    """
    if jax.default_backend() == "cpu":
        return False
    from keras_on_jax.distribute import context

    return context.current() is None


def maybe_prefetch(adapter, buffer_size=2):
    """`adapter` wrapped in a `PrefetchingAdapter` where `device_prefetch_enabled()`."""
    if device_prefetch_enabled():
        return PrefetchingAdapter(adapter, buffer_size=buffer_size)
    return adapter


class PrefetchingAdapter:
    """Wraps an adapter so its batches reach the device one step ahead of use."""

    def __init__(self, adapter, buffer_size=2):
        self.adapter = adapter
        self.buffer_size = buffer_size

    @property
    def num_batches(self):
        return self.adapter.num_batches

    def iter_epoch(self):
        return prefetch_to_device(self.adapter.iter_epoch(), self.buffer_size)

    def on_epoch_end(self):
        on_end = getattr(self.adapter, "on_epoch_end", None)
        if on_end is not None:
            on_end()

    def __getattr__(self, name):
        return getattr(self.__dict__["adapter"], name)
