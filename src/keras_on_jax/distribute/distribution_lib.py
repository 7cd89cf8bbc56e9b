"""`keras.distribution` on `jax.sharding`: meshes, layouts, DataParallel, ModelParallel.

A distribution is what `context.current()` returns. The trainer hands it the step's state
(`distribute_state`) and each batch (`distribute_batch`) before every compiled call; it
places them with `NamedSharding`s over one `jax.sharding.Mesh`, and the sharding
propagation of `jax.jit` does the rest (replicated state + batch sharded on its first axis
= gradients averaged over the global batch).
"""

from __future__ import annotations

import collections.abc
import contextlib
import math
import os
import re
import socket
import sys
import threading
import time

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from keras_on_jax.distribute import context

DEFAULT_BATCH_DIM_NAME = "batch"


# ---- devices ---------------------------------------------------------------------------------
def _device_name(device):
    return f"{device.platform}:{device.id}"


def list_devices(device_type=None):
    """The names (`"cpu:0"`, `"gpu:1"`, ...) of all devices of `device_type` (default: the
    default backend's), across all processes."""
    device_type = device_type.lower() if device_type else None
    try:
        devices = jax.devices(device_type)
    except RuntimeError:
        return []
    return [_device_name(d) for d in devices]


def get_device_count(device_type=None):
    return len(list_devices(device_type))


def _to_jax_device(device):
    if isinstance(device, jax.Device):
        return device
    from keras_on_jax.distribute.device import get_device

    return get_device(device)


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Start `jax.distributed` for a multi-process run (Keras 3's signature).

    Arguments default to the environment variables `KERAS_DISTRIBUTION_JOB_ADDRESSES`
    (comma-separated `host:port`, the first is the coordinator),
    `KERAS_DISTRIBUTION_NUM_PROCESSES` and `KERAS_DISTRIBUTION_PROCESS_ID`.
    """
    if job_addresses is None and "KERAS_DISTRIBUTION_JOB_ADDRESSES" in os.environ:
        job_addresses = os.environ["KERAS_DISTRIBUTION_JOB_ADDRESSES"]
    if num_processes is None and "KERAS_DISTRIBUTION_NUM_PROCESSES" in os.environ:
        num_processes = int(os.environ["KERAS_DISTRIBUTION_NUM_PROCESSES"])
    if process_id is None and "KERAS_DISTRIBUTION_PROCESS_ID" in os.environ:
        process_id = int(os.environ["KERAS_DISTRIBUTION_PROCESS_ID"])
    coordinator = job_addresses.split(",")[0] if job_addresses else None
    start_jax_distributed(coordinator, num_processes, process_id)


def start_jax_distributed(coordinator_address, num_processes, process_id, timeout=None):
    """`jax.distributed.initialize` with CPU collectives and a clear error on timeout."""
    from jax._src import distributed as _jd

    if _jd.global_state.client is not None:
        return  # already initialized (by the user or an earlier strategy)
    if timeout is None:
        timeout = int(os.environ.get("KERAS_DISTRIBUTION_TIMEOUT", "300"))
    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except Exception:  # pragma: no cover - option missing in some jax builds
        pass
    message = (
        f"Could not join the distributed cluster: process {process_id} of {num_processes} "
        f"could not reach the coordinator at {coordinator_address!r} (or the other workers) "
        f"within {timeout} s. Check that every worker is started with the same cluster "
        "addresses and that the coordinator (the chief, or worker 0) is running and reachable."
    )
    if process_id and coordinator_address:
        # XLA aborts the process when the coordinator is unreachable: check first, in Python.
        if not _wait_for_port(coordinator_address, timeout):
            raise RuntimeError(message)
    # The coordinator waits for the others inside XLA, which aborts on timeout: say why first.
    watchdog = threading.Timer(max(float(timeout) - 0.5, 0.1), _report, args=(message,))
    watchdog.daemon = True
    watchdog.start()
    try:
        jax.distributed.initialize(
            coordinator_address=coordinator_address,
            num_processes=num_processes,
            process_id=process_id,
            initialization_timeout=int(timeout),
        )
    except Exception as e:  # jax raises XlaRuntimeError / RuntimeError
        raise RuntimeError(f"{message} ({type(e).__name__}: {e})") from e
    finally:
        watchdog.cancel()


def _report(message):
    sys.stderr.write(f"ERROR: {message}\n")
    sys.stderr.flush()


def _wait_for_port(address, timeout):
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + float(timeout)
    while True:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
                return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


# ---- meshes and layouts ------------------------------------------------------------------------
class DeviceMesh:
    """A cluster of devices with named axes (a `jax.sharding.Mesh`).

    Args:
        shape: the mesh shape, e.g. `(8,)` or `(2, 4)`.
        axis_names: one name per mesh axis.
        devices: device names or `jax.Device`s (default: `list_devices()`).
    """

    def __init__(self, shape, axis_names, devices=None):
        if not shape or not axis_names:
            raise ValueError(
                "Shape and axis_names cannot be empty. Received: "
                f"shape={shape}, axis_names={axis_names}"
            )
        if len(shape) != len(axis_names):
            raise ValueError(
                "Shape and axis_names should have same size. "
                f"Received: shape={shape}, axis_names={axis_names}"
            )
        if devices is None:
            devices = list_devices()
        devices = np.array(devices, dtype=object)
        if math.prod(shape) != devices.size:
            raise ValueError(
                "Shape does not match the number of devices. "
                f"Received: shape={shape}; devices.shape={devices.shape}"
            )
        self._shape = tuple(shape)
        self._axis_names = tuple(axis_names)
        self._devices = np.reshape(devices, shape)

    @property
    def shape(self):
        return self._shape

    @property
    def axis_names(self):
        return self._axis_names

    @property
    def devices(self):
        return self._devices

    @property
    def backend_mesh(self):
        if not hasattr(self, "_backend_mesh"):
            flat = [_to_jax_device(d) for d in self._devices.flatten()]
            arr = np.empty(len(flat), dtype=object)
            arr[:] = flat
            self._backend_mesh = Mesh(arr.reshape(self._shape), self._axis_names)
        return self._backend_mesh

    def __repr__(self):
        return f"<DeviceMesh shape={self.shape}, axis_names={self.axis_names}>"

    __str__ = __repr__


class TensorLayout:
    """A layout for one tensor: a mesh axis name (or None) per tensor dimension."""

    def __init__(self, axes, device_mesh=None):
        self._axes = tuple(axes)
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def axes(self):
        return self._axes

    @property
    def device_mesh(self):
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh):
        if self._device_mesh is not None:
            raise ValueError(
                f"Cannot override device mesh value. Existing value is {self._device_mesh}"
            )
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def backend_layout(self):
        if self._device_mesh is None:
            raise ValueError(
                f"Cannot create a sharding for {self}: the layout has no `device_mesh`."
            )
        return NamedSharding(self._device_mesh.backend_mesh, PartitionSpec(*self._axes))

    def _validate_axes(self):
        if self._device_mesh is not None:
            valid = set(self._device_mesh.axis_names)
            names = set()
            for a in self._axes:
                if a is None:
                    continue
                names.update(a if isinstance(a, tuple) else (a,))
            if names - valid:
                raise ValueError(
                    f"Invalid axis names for Layout. Valid axis names: {valid}, Got {names}"
                )

    def __repr__(self):
        return f"<TensorLayout axes={self.axes}, device_mesh={self.device_mesh}>"

    __str__ = __repr__


class LayoutMap(collections.abc.MutableMapping):
    """Maps variable paths to `TensorLayout`s; keys are regexes (`re.fullmatch`)."""

    def __init__(self, device_mesh):
        self._layout_map = collections.OrderedDict()
        self._device_mesh = device_mesh

    def matching_keys(self, key):
        if key in self._layout_map:
            return [key]
        return [p for p in self._layout_map if re.fullmatch(p, key)]

    def __getitem__(self, key):
        keys = self.matching_keys(key)
        if len(keys) > 1:
            raise ValueError(
                f"Path '{key}' matches multiple layout specification keys: {keys}. Please "
                "make sure each tensor/variable path only matches at most one layout "
                "specification key in the LayoutMap."
            )
        if keys:
            return self._layout_map[keys[0]]
        return None

    def __setitem__(self, key, layout):
        if key in self._layout_map:
            raise ValueError(
                f"{key} already exist in the LayoutMap with value {self._layout_map[key]}. "
                "Please make sure to not use duplicated keys."
            )
        if isinstance(layout, (tuple, list)):
            layout = TensorLayout(axes=tuple(layout), device_mesh=None)
        if not isinstance(layout, TensorLayout):
            raise ValueError(f"{layout} should be a TensorLayout type, got {type(layout)}")
        if layout.device_mesh is None and self._device_mesh is not None:
            layout.device_mesh = self._device_mesh
        self._layout_map[key] = layout

    def __delitem__(self, key):
        return self._layout_map.pop(key)

    def __len__(self):
        return len(self._layout_map)

    def __iter__(self):
        return iter(self._layout_map)

    @property
    def device_mesh(self):
        return self._device_mesh


# ---- distributions -----------------------------------------------------------------------------
def _is_tracer(x):
    return isinstance(x, jax.core.Tracer)


class Distribution:
    """Base class: places state and batches on `device_mesh` (what the trainer calls)."""

    def __init__(self, device_mesh, batch_dim_name=None, auto_shard_dataset=True):
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name
        self._auto_shard_dataset = auto_shard_dataset
        self._num_processes = jax.process_count()
        self._process_id = jax.process_index()
        self._is_multi_process = self._num_processes > 1
        self._sharding_cache = {}

    # Keras 3 properties
    @property
    def num_processes(self):
        return self._num_processes

    @property
    def data_shard_id(self):
        return self._process_id

    @property
    def device_mesh(self):
        return self._device_mesh

    @property
    def batch_dim_name(self):
        return self._batch_dim_name

    @property
    def auto_shard_dataset(self):
        return self._auto_shard_dataset

    @auto_shard_dataset.setter
    def auto_shard_dataset(self, value):
        self._auto_shard_dataset = value

    @property
    def mesh(self):
        """The `jax.sharding.Mesh`."""
        return self._device_mesh.backend_mesh

    @contextlib.contextmanager
    def scope(self):
        context.push(self)
        try:
            yield self
        finally:
            context.pop()

    def distribute_dataset(self, dataset):
        return dataset

    def get_data_layout(self, data_shape):
        spec = [None] * len(data_shape)
        spec[0] = self.batch_dim_name
        return TensorLayout(spec, self.device_mesh)

    def get_variable_layout(self, variable):
        layout = getattr(variable, "_layout", None)
        if layout is not None:
            return layout
        return TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path):
        return None

    # ---- what the trainer calls ---------------------------------------------------------------
    def _variable_sharding(self, path, shape):
        return NamedSharding(self.mesh, PartitionSpec())

    def _validate_variables(self, flat_vars):
        """Hook: raise before anything is placed when the layout rules do not fit."""

    def distribute_variable(self, value, path):
        """Place a new variable's initial value (called when a Variable is created)."""
        if _is_tracer(value):
            return value
        return self._place(value, self._variable_sharding(path, tuple(value.shape)))

    def _place(self, array, sharding):
        if getattr(array, "sharding", None) == sharding:
            return array
        if self._is_multi_process:
            host = np.asarray(array)
            return jax.make_array_from_callback(host.shape, sharding, lambda idx: host[idx])
        return jax.device_put(array, sharding)

    def distribute_state(self, flat_vars, state):
        key = tuple(id(v) for v in flat_vars)
        shardings = self._sharding_cache.get(key)
        if shardings is None or any(
            s.shape != tuple(getattr(x, "shape", ())) for s, x in zip(shardings, state)
        ):
            self._validate_variables(flat_vars)
            shardings = [
                _Placement(tuple(np.shape(x)), self._variable_sharding(v.path, tuple(np.shape(x))))
                for v, x in zip(flat_vars, state)
            ]
            self._sharding_cache[key] = shardings
        return [self._place(x, s.sharding) for x, s in zip(state, shardings)]

    def _batch_spec(self, ndim, stacked):
        spec = [None] * ndim
        if ndim > (1 if stacked else 0):
            spec[1 if stacked else 0] = self.batch_dim_name
        return PartitionSpec(*spec)

    def _batch_shards(self):
        return self.mesh.shape[self.batch_dim_name]

    def _place_batch_leaf(self, leaf, stacked):
        arr = leaf if isinstance(leaf, jax.Array) else np.asarray(leaf)
        axis = 1 if stacked else 0
        if arr.ndim > axis and arr.shape[axis] % self._batch_shards() == 0:
            sharding = NamedSharding(self.mesh, self._batch_spec(arr.ndim, stacked))
        else:
            # A batch the replicas cannot split evenly runs replicated: same result.
            sharding = NamedSharding(self.mesh, PartitionSpec())
        if getattr(arr, "sharding", None) == sharding:
            return arr
        if self._is_multi_process:
            return _process_local_array(np.asarray(arr), sharding)
        return jax.device_put(arr, sharding)

    def distribute_batch(self, batch, stacked=False):
        return jax.tree.map(lambda a: self._place_batch_leaf(a, stacked), batch)

    def __repr__(self):
        return f"<{type(self).__name__} device_mesh={self.device_mesh}>"

    __str__ = __repr__


class _Placement:
    __slots__ = ("shape", "sharding")

    def __init__(self, shape, sharding):
        self.shape = shape
        self.sharding = sharding


def _process_local_array(global_data, sharding):
    """Every process holds the global batch; feed this process's rows only."""
    shape = global_data.shape
    indices = sharding.addressable_devices_indices_map(shape)
    rows = [idx[0] if idx else slice(None) for idx in indices.values()]
    starts = [r.start or 0 for r in rows]
    stops = [shape[0] if r.stop is None else r.stop for r in rows]
    if len(shape) and rows and all(isinstance(r, slice) for r in rows):
        lo, hi = min(starts), max(stops)
        spans = sorted(set(zip(starts, stops)))
        contiguous = all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
        if contiguous and not sharding.is_fully_replicated:
            return jax.make_array_from_process_local_data(sharding, global_data[lo:hi], shape)
    return jax.make_array_from_callback(shape, sharding, lambda idx: global_data[idx])


class DataParallel(Distribution):
    """Replicate the variables, split each batch over a 1-D mesh (Keras 3's signature)."""

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh is not None:
            if not isinstance(device_mesh, DeviceMesh):
                raise ValueError(
                    "Expect `mesh` to be an instance of `DeviceMesh`. "
                    f"Received: mesh={device_mesh} (of type {type(device_mesh)})"
                )
            batch_dim = device_mesh.axis_names[0]
        else:
            devices = np.array(devices if devices else list_devices(), dtype=object)
            device_mesh = DeviceMesh(shape=devices.shape, axis_names=[DEFAULT_BATCH_DIM_NAME],
                                     devices=devices)
            batch_dim = DEFAULT_BATCH_DIM_NAME
        super().__init__(device_mesh, batch_dim, auto_shard_dataset)

    @property
    def num_model_replicas(self):
        return self.device_mesh.devices.size


class ModelParallel(Distribution):
    """Shard variables by `layout_map` rules, split batches on `batch_dim_name`.

    Rules are validated against the model's variables before any state is placed: a rule
    that matches no variable, a variable matched by two rules, a layout whose rank differs
    from the variable's, or a dimension the mesh axis does not divide raise a `ValueError`
    naming the rule and the variable.
    """

    def __init__(self, *, layout_map=None, batch_dim_name=None, auto_shard_dataset=True,
                 **kwargs):
        kwargs.pop("device_mesh", None)
        if kwargs:
            raise ValueError(f"Invalid keyword argument(s) in `ModelParallel`: {sorted(kwargs)}")
        if layout_map is None:
            raise ValueError("You must specify a layout_map argument.")
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(
                "Argument `layout_map` must be a `LayoutMap` instance. "
                f"Received: layout_map={layout_map}"
            )
        device_mesh = layout_map.device_mesh
        batch_dim_name = batch_dim_name or device_mesh.axis_names[0]
        if batch_dim_name not in device_mesh.axis_names:
            raise ValueError(
                f"`batch_dim_name` must be one of the mesh axes {device_mesh.axis_names}. "
                f"Received: batch_dim_name={batch_dim_name!r}"
            )
        super().__init__(device_mesh, batch_dim_name, auto_shard_dataset)
        self._layout_map = layout_map

    @property
    def num_model_replicas(self):
        return self.device_mesh.shape[self.device_mesh.axis_names.index(self.batch_dim_name)]

    def get_variable_layout(self, variable):
        layout = getattr(variable, "_layout", None)
        if layout is not None:
            return layout
        layout = self._layout_map[variable.path]
        if layout is not None:
            return layout
        return TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path):
        return self._layout_map[path]

    def _rule_for(self, path, shape):
        keys = self._layout_map.matching_keys(path)
        if len(keys) > 1:
            raise ValueError(
                f"Variable '{path}' matches multiple LayoutMap rules: {keys}. Each "
                "variable path may match at most one rule."
            )
        if not keys:
            return None, None
        layout = self._layout_map[keys[0]]
        if len(layout.axes) != len(shape):
            raise ValueError(
                f"LayoutMap rule {keys[0]!r} gives layout axes {layout.axes} (rank "
                f"{len(layout.axes)}) to variable '{path}' of shape {shape} (rank {len(shape)})."
            )
        mesh_shape = dict(zip(self.device_mesh.axis_names, self.device_mesh.shape))
        for dim, axis in zip(shape, layout.axes):
            if axis is None:
                continue
            n = math.prod(mesh_shape[a] for a in (axis if isinstance(axis, tuple) else (axis,)))
            if dim % n:
                raise ValueError(
                    f"LayoutMap rule {keys[0]!r}: variable '{path}' of shape {shape} cannot be "
                    f"split over mesh axis {axis!r} of size {n} ({dim} is not divisible by {n})."
                )
        return keys[0], layout

    def _variable_sharding(self, path, shape):
        _, layout = self._rule_for(path, shape)
        if layout is None:
            layout = self._slot_layout(path, shape)
        if layout is None:
            return NamedSharding(self.mesh, PartitionSpec())
        return layout.backend_layout

    def _slot_layout(self, path, shape):
        """Optimizer slots (`adam/sequential_dense_kernel_momentum`) follow their variable."""
        for rule_path, (rule_shape, layout) in getattr(self, "_known", {}).items():
            if rule_shape == shape and rule_path.replace("/", "_") in path:
                return layout
        return None

    def _validate_variables(self, flat_vars):
        used = set()
        known = {}
        for v in flat_vars:
            key, layout = self._rule_for(v.path, tuple(v.shape))
            if key is not None:
                used.add(key)
                known[v.path] = (tuple(v.shape), layout)
        unused = [k for k in self._layout_map if k not in used]
        # Rules only have to match something in the model: optimizer/metric variables
        # are checked too but not required.
        if unused:
            raise ValueError(
                f"LayoutMap rule(s) {unused} match no variable. Variable paths are: "
                f"{[v.path for v in flat_vars]}"
            )
        self._known = known


# ---- global setting ------------------------------------------------------------------------------
def distribute_tensor(tensor, layout):
    """Give `tensor` the `layout` (a `TensorLayout` or a `jax.sharding.Sharding`)."""
    from keras_on_jax.backend.keras_tensor import KerasTensor

    if isinstance(tensor, KerasTensor):
        return tensor
    sharding = layout.backend_layout if isinstance(layout, TensorLayout) else layout
    if _is_tracer(tensor):
        return jax.lax.with_sharding_constraint(tensor, sharding)
    if getattr(tensor, "sharding", None) == sharding:
        return tensor
    return jax.device_put(tensor, sharding)


def distribution():
    """The global distribution (`set_distribution`), or None."""
    return context.get_global()


def set_distribution(value):
    """Make `value` (a `Distribution`, or None) the global distribution."""
    if value is not None and not isinstance(value, Distribution):
        raise ValueError(
            f"`set_distribution` expects a `keras.distribution.Distribution` or None. "
            f"Received: {value!r}"
        )
    context.set_global(value)
