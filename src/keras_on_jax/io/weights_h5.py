"""Keras 3 `.weights.h5` (also `model.weights.h5` inside `.keras`) and sharded sets.

Weights are keyed by object path (spec 2.4.2): the walk starts at the model (root
`/vars`), visits `layers` first for Sequential/Functional models, then the attributes
holding sublayers (`_tracked_attrs`, plus `layers` / `optimizer` for models) sorted by
name with private names last; containers name their items by snake-cased class name
with a per-container counter. Each object writes its own variables as datasets
`"0"`, `"1"`, ... under `<path>/vars`.
"""

from __future__ import annotations

import io
import json
import mmap
import os
import re
import warnings

import h5py
import numpy as np

from keras_on_jax.backend import limits
from keras_on_jax.backend.variables import Variable, assign_values
from keras_on_jax.io import files, guard

KERAS_VERSION = "3.15.1"


# ---------------------------------------------------------------------------------------
# Per-object variables: a layer reads and writes its own store (`Layer.save_own_variables`
# / `load_own_variables`, overridable as in Keras 3); optimizers are stored here, with
# the count and shapes checked and Keras 2.13's optimizer layout accepted.
# ---------------------------------------------------------------------------------------
def _is_layer(obj):
    from keras_on_jax.layers.layer import Layer

    return isinstance(obj, Layer)


def _is_optimizer(obj):
    try:
        from keras_on_jax.optimizers.base_optimizer import Optimizer
    except Exception:  # pragma: no cover
        return False
    return isinstance(obj, Optimizer)


def is_saveable(obj):
    return _is_layer(obj) or _is_optimizer(obj)


def save_own_variables(obj, store):
    if _is_optimizer(obj):
        _save_optimizer_variables(obj, store)
    else:
        obj.save_own_variables(store)


def load_own_variables(obj, store):
    if _is_optimizer(obj):
        _load_optimizer_variables(obj, store)
    else:
        obj.load_own_variables(store)


def _save_optimizer_variables(opt, store):
    for i, v in enumerate(opt.variables):
        store[str(i)] = np.asarray(v.numpy())


def _load_optimizer_variables(opt, store):
    variables = list(opt.variables)
    if len(store.keys()) != len(variables):
        _load_optimizer_mismatch(opt, store, variables)
        return
    assign_values(variables, [store[str(i)] for i in range(len(variables))])


def _load_optimizer_mismatch(opt, store, variables):
    """Keras 2.13+ v3 files: int64 iteration and no learning-rate variable."""
    n = len(store.keys())
    lr = getattr(opt, "_learning_rate", None)
    if isinstance(lr, Variable) and n == len(variables) - 1 and len(variables) >= 2:
        values = [store[str(i)] for i in range(n)]
        mapping = [variables[0]] + variables[2:]
        if all(tuple(np.shape(a)) == tuple(v.shape) for a, v in zip(values, mapping)):
            for v, a in zip(mapping, values):
                v.assign(np.asarray(a).astype(v.dtype))
            return
    warnings.warn(
        f"Skipping variable loading for optimizer '{opt.name}', because it has "
        f"{len(variables)} variables whereas the saved optimizer has {n} variables.",
        stacklevel=3,
    )


# ---------------------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------------------
def snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _attr_candidates(obj):
    from keras_on_jax.models.functional import Functional
    from keras_on_jax.models.model import Model
    from keras_on_jax.models.sequential import Sequential

    names = set()
    if _is_layer(obj):
        names.update(a for a in obj.__dict__.get("_tracked_attrs", ()))
        if isinstance(obj, Model):
            names.add("layers")
            if getattr(obj, "optimizer", None) is not None:
                names.add("optimizer")
    elif _is_optimizer(obj):
        inner = getattr(obj, "inner_optimizer", None)
        if inner is not None:
            names.add("inner_optimizer")
    skip = {"_self_unconditional_dependency_names", "_functional_layers", "_seq_layers"}
    if isinstance(obj, Sequential):
        skip.add("_functional")
    if isinstance(obj, Functional):
        skip.update({"operations", "_operations"})
    names = [n for n in names if not n.startswith("__") and n not in skip]
    return sorted(names, key=lambda n: (n.startswith("_"), n))


def walk(model, visit_fn, objects_to_skip=()):
    """Call `visit_fn(obj, path)` for each saveable reached from `model`, K3 paths."""
    from keras_on_jax.models.functional import Functional
    from keras_on_jax.models.sequential import Sequential

    visited = {id(o) for o in objects_to_skip}

    def visit(obj, path):
        if id(obj) in visited:
            return
        visited.add(id(obj))
        visit_fn(obj, path)
        if isinstance(obj, (Sequential, Functional)):
            container(obj.layers if isinstance(obj, Functional) else obj.layers, _join(path, "layers"))
        for attr in _attr_candidates(obj):
            try:
                value = getattr(obj, attr)
            except Exception:
                continue
            if is_saveable(value):
                visit(value, _join(path, attr))
            elif isinstance(value, (list, tuple, dict)):
                container(value, _join(path, attr))

    def container(items, path):
        if isinstance(items, dict):
            items = list(items.values())
        counts = {}
        for item in items:
            if is_saveable(item):
                base = snake_case(type(item).__name__)
            elif isinstance(item, (list, tuple, dict)):
                base = "container"
            else:
                continue
            n = counts.get(base, 0)
            counts[base] = n + 1
            name = base if n == 0 else f"{base}_{n}"
            if is_saveable(item):
                visit(item, _join(path, name))
            else:
                container(item, _join(path, name))

    visit(model, "")


def _join(a, b):
    return f"{a}/{b}" if a else b


# ---------------------------------------------------------------------------------------
# HDF5 stores
# ---------------------------------------------------------------------------------------
def _write_dataset(group, key, value):
    value = np.asarray(value)
    if value.dtype.name == "bfloat16":
        ds = group.create_dataset(key, data=value.view("V2"))
        ds.attrs["dtype"] = "bfloat16"
        return
    group.create_dataset(key, data=value)


def _read_dataset(ds, check_strings=None):
    """The dataset's array: numbers (bfloat16 stored as 2-byte opaque) or strings (lookup
    layers' vocabularies), no more than memory holds (the shape is the file's word, so it
    is checked before the read allocates it). `check_strings()` runs before variable-length
    strings are read (see `check_global_heaps`); None: the file was checked when opened."""
    if not isinstance(ds, h5py.Dataset):
        raise ValueError(f"HDF5 object {ds.name!r} should be a dataset of weights, found a "
                         f"{type(ds).__name__}.")
    kind = ds.dtype.kind
    vlen_strings = kind == "O" and h5py.check_string_dtype(ds.dtype) is not None
    if not (kind in "biufcS" or (kind == "V" and ds.dtype.itemsize == 2) or vlen_strings):
        raise ValueError(f"HDF5 dataset {ds.name!r} should hold numbers or strings, found "
                         f"dtype {ds.dtype}.")
    if ds.is_virtual or ds.external:
        raise RefusedFile(f"Refusing to read HDF5 dataset {ds.name!r}: it is an external or "
                          "virtual dataset (its data would come from other files).")
    limits.check_array_size(ds.shape or (), ds.dtype.itemsize, f"HDF5 dataset {ds.name!r}")
    if vlen_strings and check_strings is not None:
        check_strings()
    value = ds[()]
    # bfloat16 is the one 2-byte opaque type Keras writes (with a "dtype" string attribute,
    # not read: strings live in the global heap, see `check_global_heaps`).
    if kind == "V":
        import ml_dtypes

        value = np.asarray(value).view(ml_dtypes.bfloat16)
    return np.asarray(value)


class _ReadStore:
    def __init__(self, group, check_strings=None):
        self.group = group
        self.check_strings = check_strings

    def keys(self):
        return list(self.group.keys()) if self.group is not None else []

    def __len__(self):
        return len(self.keys())

    def __getitem__(self, key):
        if self.group is None or key not in self.group:
            raise KeyError(key)
        return _read_dataset(self.group[key], self.check_strings)

    def __contains__(self, key):
        return self.group is not None and key in self.group


class _DictStore(dict):
    pass


class RefusedFile(ValueError):
    """The file must not be read at all (it points at other files): never skipped, even
    with `skip_mismatch`."""


def _check_no_links(h5file, filepath):
    """Refuse soft and external links (Keras 3 does too): reading must neither open other
    files nor follow names the file points elsewhere. (External and virtual datasets are
    refused when read, by `_read_dataset`.)"""
    bad = []

    def check(name, info):
        if info.type != h5py.h5l.TYPE_HARD:
            bad.append(name.decode(errors="replace"))

    try:
        # h5py's low-level walk: twenty times faster than `visititems_links` on a large file.
        h5file.id.links.visit(check, info=True)
    except (RuntimeError, OSError, KeyError, ValueError) as e:  # a damaged structure
        raise ValueError(f"Weights file {filepath!r} is corrupted or truncated: its structure "
                         f"cannot be read ({e}).") from None
    if bad:
        raise RefusedFile(f"Refusing to load weights file {filepath!r}: it contains soft or "
                          f"external links at {bad[:5]}.")


def write_weights(model, h5file, objects_to_skip=()):
    """Write every saveable's variables into an open h5py File/Group (K3 layout)."""
    def fn(obj, path):
        group = h5file.require_group(_join(path, "vars"))
        name = getattr(obj, "name", None)
        if isinstance(name, str):
            group.attrs["name"] = name
        store = _DictStore()
        save_own_variables(obj, store)
        for key, value in store.items():
            _write_dataset(group, key, value)

    walk(model, fn, objects_to_skip)


def collect_weights(model, objects_to_skip=()):
    """{path: {"name": name, "vars": {"0": array, ...}}} in walk order."""
    out = {}

    def fn(obj, path):
        store = _DictStore()
        save_own_variables(obj, store)
        out[path] = {"name": getattr(obj, "name", None), "vars": dict(store)}

    walk(model, fn, objects_to_skip)
    return out


def read_weights(model, lookup, filepath, skip_mismatch=False, objects_to_skip=()):
    """Load variables: `lookup(path)` returns a store (mapping "0".. -> arrays) or None."""
    failures = []

    def fn(obj, path):
        store = lookup(path)
        if store is None:
            store = _DictStore()
        try:
            load_own_variables(obj, store)
        except RefusedFile:
            raise
        except Exception as e:  # collected per object, as Keras 3 does
            failures.append((obj, path, e))

    walk(model, fn, objects_to_skip)
    if failures:
        lines = "\n".join(
            f"  - {type(o).__name__} '{getattr(o, 'name', '?')}' at '{p or '/'}': {e}"
            for o, p, e in failures
        )
        msg = (f"A total of {len(failures)} objects could not be loaded from {filepath!r} "
               f"(the file's weights do not match this model's architecture):\n{lines}")
        if skip_mismatch:
            warnings.warn(msg, stacklevel=3)
        else:
            raise ValueError(msg)


def strings_checker(source, filepath):
    """A function checking the global heaps of `source` (a path, or the file's bytes) the
    first time it is called: before the first variable-length strings are read."""
    done = []

    def check():
        if done:
            return
        if isinstance(source, (bytes, bytearray)):
            check_global_heaps(source, filepath)
        elif hasattr(source, "read"):  # a file object: its bytes, position kept
            position = source.tell()
            source.seek(0)
            check_global_heaps(source.read(), filepath)
            source.seek(position)
        else:
            _check_global_heaps_of(source)
        done.append(True)

    return check


def h5_lookup(h5root, check_strings=None):
    has_k213 = "_layer_checkpoint_dependencies" in h5root

    def lookup(path):
        key = _join(path, "vars")
        if key in h5root:
            return _ReadStore(h5root[key], check_strings)
        if has_k213 and "layers" in path:
            alt = key.replace("layers", "_layer_checkpoint_dependencies")
            if alt in h5root:
                return _ReadStore(h5root[alt], check_strings)
        return None

    return lookup


# ---------------------------------------------------------------------------------------
# HDF5 keeps variable-length strings (`layer_names`, `weight_names`, string attributes) in
# "global heap collections": "GCOL", version 1, 3 reserved bytes, the collection's size
# (8 bytes), then objects (index 2 bytes, references 2, reserved 4, size 8, data padded to
# 8 bytes); the object of index 0 is the free space, up to the collection's end. HDF5 loops
# forever on a collection whose size field is damaged, so the collections are checked
# (a byte search over the file, then a few fields each) before strings are read: when a
# legacy file is opened (its layer and weight names are strings), and before the first
# variable-length string dataset of a Keras 3 file (lookup vocabularies; its other strings,
# such as the bfloat16 marker, are not read).
# ---------------------------------------------------------------------------------------
_GCOL = b"GCOL\x01\x00\x00\x00"
_GCOL_MIN_SIZE = 4096


def check_global_heaps(data, filepath):
    """Raise a ValueError if a global heap collection in `data` (bytes or mmap of an HDF5
    file) does not parse."""
    p = data.find(_GCOL)
    while p >= 0:
        end = p + int.from_bytes(data[p + 8:p + 16], "little")
        ok = p + _GCOL_MIN_SIZE <= end <= len(data)
        q = p + 16
        while ok and q + 16 <= end:
            index = int.from_bytes(data[q:q + 2], "little")
            size = int.from_bytes(data[q + 8:q + 16], "little")
            if index == 0:  # the free space runs to the end
                ok = q + size == end
                break
            q += 16 + (size + 7) // 8 * 8
            ok = q <= end
        if not ok:
            raise ValueError(f"HDF5 file {os.fspath(filepath)!r} is corrupted: the global heap "
                             f"(variable-length strings) at byte {p} is damaged.")
        p = data.find(_GCOL, p + 8)


def _check_global_heaps_of(path):
    try:
        with open(path, "rb") as f:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # empty or unreadable: h5py's own open reports it
        return
    with data:
        check_global_heaps(data, path)


def open_h5(filepath_or_file, what="weights file", strings=False):
    """An h5py File; with `strings` (the caller reads string attributes: legacy files) its
    global heaps are checked first."""
    name = getattr(filepath_or_file, "name", filepath_or_file)
    if strings and isinstance(filepath_or_file, (str, os.PathLike)):
        _check_global_heaps_of(filepath_or_file)
    try:
        return h5py.File(filepath_or_file, "r")
    except OSError as e:
        raise ValueError(
            f"Cannot read {what} {name!r}: it is not a valid HDF5 file or it is truncated/"
            f"corrupted ({e})."
        ) from None


def save_weights_h5(model, filepath, max_shard_size=None):
    filepath = os.fspath(filepath)
    if max_shard_size is not None:
        return save_sharded(model, filepath, max_shard_size)
    with files.atomic_path(filepath) as tmp:
        with h5py.File(tmp, "w") as f:
            write_weights(model, f)


def write_weights_to_bytes(model):
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        write_weights(model, f)
    return buf.getvalue()


def load_weights_h5(model, filepath, skip_mismatch=False, objects_to_skip=()):
    filepath = os.fspath(filepath) if not hasattr(filepath, "read") else filepath
    f = open_h5(filepath)
    try:
        _check_no_links(f, filepath)
        try:
            read_weights(model, h5_lookup(f, strings_checker(filepath, filepath)), filepath,
                         skip_mismatch, objects_to_skip)
        except (OSError, KeyError, RuntimeError) as e:
            raise ValueError(f"Weights file {filepath!r} is corrupted or truncated: {e}") from None
    finally:
        f.close()


# ---------------------------------------------------------------------------------------
# Sharded weights: x.weights.json + x_00000.weights.h5, ...
# ---------------------------------------------------------------------------------------
def _shard_base(filepath):
    base = os.path.basename(filepath)
    for suffix in (".weights.json", ".weights.h5", ".json", ".h5"):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


def save_sharded(model, filepath, max_shard_size):
    if filepath.endswith(".h5"):
        warnings.warn(f"Sharded weights are indexed by a JSON file; writing "
                      f"{filepath[:-3]}.json instead of {filepath}.", stacklevel=3)
        filepath = filepath[:-3] + ".json"
    limit = float(max_shard_size) * (1024 ** 3)
    directory = os.path.dirname(os.path.abspath(filepath))
    base = _shard_base(filepath)
    data = collect_weights(model)
    shards = [[]]
    size = 0.0
    total = 0.0
    for path, entry in data.items():
        for key, value in entry["vars"].items():
            nbytes = float(np.asarray(value).nbytes)
            if size + nbytes > limit and shards[-1]:
                shards.append([])
                size = 0.0
            shards[-1].append((path, entry["name"], key, value))
            size += nbytes
            total += nbytes
    weight_map = {}
    names = []
    for i, shard in enumerate(shards):
        shard_name = f"{base}_{i:05d}.weights.h5"
        names.append(shard_name)
        with files.atomic_path(os.path.join(directory, shard_name)) as tmp:
            with h5py.File(tmp, "w") as f:
                for path, name, key, value in shard:
                    gpath = "/" + _join(path, "vars")
                    group = f.require_group(gpath)
                    if isinstance(name, str):
                        group.attrs["name"] = name
                    _write_dataset(group, key, value)
                    weight_map.setdefault(gpath, [])
                    if shard_name not in weight_map[gpath]:
                        weight_map[gpath].append(shard_name)
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    with files.atomic_path(filepath) as tmp:
        with open(tmp, "w") as fh:
            json.dump(index, fh)
    return filepath


def load_sharded(model, filepath, skip_mismatch=False, objects_to_skip=()):
    index = guard.read_json_file(filepath, "The sharded weights index")
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict):
        raise ValueError(f"Sharded weights index {filepath!r} should be a JSON object with a "
                         f"'weight_map' object, found {type(weight_map).__name__}.")
    directory = os.path.dirname(os.path.abspath(filepath))
    opened, checkers = {}, {}

    def get_file(name):
        if os.path.isabs(name) or ".." in name.replace("\\", "/").split("/"):
            raise ValueError(f"Sharded weights index {filepath!r} refers to a file outside its "
                             f"folder: {name!r}")
        if name not in opened:
            f = open_h5(os.path.join(directory, name))
            _check_no_links(f, name)
            opened[name] = f
            checkers[name] = strings_checker(os.path.join(directory, name), name)
        return opened[name]

    def lookup(path):
        gpath = "/" + _join(path, "vars")
        shard_names = weight_map.get(gpath)
        if shard_names is None:
            return None
        if isinstance(shard_names, str):
            shard_names = [shard_names]
        if not isinstance(shard_names, list) or not all(isinstance(n, str) for n in shard_names):
            raise ValueError(f"Sharded weights index {filepath!r}: the entry for {gpath!r} "
                             f"should be a list of file names, found {shard_names!r:.80}.")
        merged = _DictStore()
        for name in shard_names:
            f = get_file(name)
            if gpath in f:
                for key in f[gpath].keys():
                    merged[key] = _read_dataset(f[gpath][key], checkers[name])
        return merged

    try:
        read_weights(model, lookup, filepath, skip_mismatch, objects_to_skip)
    finally:
        for f in opened.values():
            f.close()
