"""`H5IOStore`: Keras 3's variable store over an HDF5 file, for code that writes its own
files with it (KerasHub's `Backbone.save_lora_weights` / `load_lora_weights`).

The store is a cursor: `make(path)` (write mode) or `get(path)` (read mode) points it at
the group `<path>/vars` (`vars` at the root for `""`) and returns the store itself, whose
`store[key] = value` / `store[key]` then write / read datasets of that group, as in Keras 3
(the group is created on the first write, so an unused `make` leaves no empty group).
"""

from __future__ import annotations

import io
import os
import pathlib

import h5py
import numpy as np

from keras_on_jax.io import weights_h5


class H5IOStore:
    """Numerical variable store backed by HDF5.

    Args:
        path_or_io: `str`, `pathlib.Path` or `io.BytesIO`: the HDF5 file.
        archive: optional `zipfile.ZipFile`; the HDF5 file is then the member
            `path_or_io` of that archive.
        mode: `"r"` or `"w"` (default `"r"`).
    """

    def __init__(self, path_or_io, archive=None, mode="r"):
        if mode not in ("w", "r"):
            raise ValueError(f"`mode` should be either 'w' or 'r'. Received: {mode}")
        if isinstance(path_or_io, (str, os.PathLike)):
            path_or_io = pathlib.Path(path_or_io)
        elif not isinstance(path_or_io, io.BytesIO):
            raise TypeError(
                "`path_or_io` should be a `str`, `pathlib.Path` or `io.BytesIO` object. "
                f"Received: path_or_io={path_or_io} of type {type(path_or_io)}."
            )
        elif archive is not None:
            raise ValueError(
                "When `path_or_io` is an `io.BytesIO` object, `archive` should be `None`."
            )
        self.path_or_io, self.archive, self.mode = path_or_io, archive, mode
        self.io_file = None
        if archive is not None:
            self.io_file = io.BytesIO() if mode == "w" else archive.open(str(path_or_io), "r")
            self.h5_file = h5py.File(self.io_file, mode=mode)
        elif mode == "r":
            self.h5_file = weights_h5.open_h5(path_or_io, what="variable store")
        else:
            self.h5_file = h5py.File(path_or_io, mode="w")
        if mode == "r":
            try:
                weights_h5._check_no_links(self.h5_file, path_or_io)
            except ValueError:
                self.close()
                raise
        self._entry_path = None
        self._group = None

    def __bool__(self):
        return bool(self.h5_file)

    def make(self, path, metadata=None):
        """Point the store at the (new) group `<path>/vars`; write mode only."""
        if self.mode != "w":
            raise ValueError("`make` is only allowed in write mode.")
        if not isinstance(metadata, (dict, type(None))):
            raise ValueError(f"`metadata` should be a dict or `None`. Received: {metadata}")
        self._entry_path, self._group = path, None
        if metadata:
            self._create_group()
            for key, value in metadata.items():
                self._group.attrs[key] = value
        return self

    def get(self, path):
        """Point the store at the existing group `<path>/vars` (empty if absent); read mode
        only. Keras 2.13 files' `_layer_checkpoint_dependencies` paths are found too."""
        if self.mode != "r":
            raise ValueError("`get` is only allowed in read mode.")
        self._entry_path = path
        found = weights_h5.h5_lookup(self.h5_file)(path)
        self._group = None if found is None else found.group
        return self

    def has_path(self, path):
        """Whether a group exists at `path` in the file."""
        return path in self.h5_file

    def close(self):
        self.h5_file.close()
        if self.mode == "w" and self.archive is not None:
            self.archive.writestr(str(self.path_or_io), self.io_file.getvalue())
        if self.io_file is not None:
            self.io_file.close()

    def _create_group(self):
        parent = self.h5_file.create_group(self._entry_path) if self._entry_path else self.h5_file
        self._group = parent.create_group("vars")

    # The entry the store points at, as a dict of arrays.
    def __len__(self):
        return 0 if self._group is None else len(self._group)

    def keys(self):
        return [] if self._group is None else list(self._group.keys())

    def __contains__(self, key):
        return self._group is not None and key in self._group

    def __getitem__(self, key):
        if key not in self:
            raise KeyError(f"No variable {key!r} in group {self._entry_path!r} of the store "
                           f"{self.path_or_io}. Present: {self.keys()}")
        return weights_h5._read_dataset(self._group[key])

    def __setitem__(self, key, value):
        if self.mode != "w":
            raise ValueError("Setting a value is only allowed in write mode.")
        if self._group is None:
            self._create_group()
        weights_h5._write_dataset(self._group, key, np.asarray(value))

    def __delitem__(self, key):
        if self.mode != "w":
            raise ValueError("Deleting a value is only allowed in write mode.")
        del self._group[key]
