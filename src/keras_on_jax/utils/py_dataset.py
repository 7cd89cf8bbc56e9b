"""`keras.utils.PyDataset` (and its Keras 2 name `Sequence`): indexable batches."""

from __future__ import annotations


class PyDataset:
    """Base class for datasets made of indexable batches.

    Subclasses implement `__len__` (number of batches) and `__getitem__(index)` returning
    a batch `(x,)`, `(x, y)` or `(x, y, sample_weight)`; `on_epoch_end` runs after each
    epoch.

    Args:
        workers: number of threads/processes loading batches ahead.
        use_multiprocessing: use processes instead of threads.
        max_queue_size: how many batches to prepare ahead.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self):
        return getattr(self, "_workers", 1)

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        return getattr(self, "_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        return getattr(self, "_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


Sequence = PyDataset
