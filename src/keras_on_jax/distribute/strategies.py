"""`tf.distribute`-style strategies on `jax.sharding` (and `jax.distributed` across hosts).

A strategy is a data-parallel `Distribution` over a 1-D mesh named `"batch"`: the state is
replicated on every device and each global batch is split across the replicas; XLA's
collectives average the gradients. `with strategy.scope():` makes it the active
distribution for the models built, compiled and trained inside.
"""

from __future__ import annotations

import jax
import numpy as np

from keras_on_jax.distribute import cluster_resolver as cluster_resolver_lib
from keras_on_jax.distribute import context
from keras_on_jax.distribute.distribution_lib import (
    DEFAULT_BATCH_DIM_NAME,
    Distribution,
    DeviceMesh,
    start_jax_distributed,
)

_CLUSTER = [None]  # the TFConfigClusterResolver of this process, once a worker joined


def _sorted_devices(devices):
    return sorted(devices, key=lambda d: (d.process_index, d.id))


class InputContext:
    def __init__(self, num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=1):
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size):
        if global_batch_size % self.num_replicas_in_sync:
            raise ValueError(
                f"The `global_batch_size` {global_batch_size} is not divisible by "
                f"`num_replicas_in_sync` {self.num_replicas_in_sync}"
            )
        return global_batch_size // self.num_replicas_in_sync


class StrategyExtended:
    def __init__(self, strategy):
        self._strategy = strategy

    @property
    def worker_devices(self):
        return tuple(str(d) for d in self._strategy.mesh.devices.flatten()
                     if d.process_index == jax.process_index())

    @property
    def parameter_devices(self):
        return self.worker_devices

    @property
    def should_checkpoint(self):
        return self._strategy.is_chief

    @property
    def should_save_summary(self):
        return self._strategy.is_chief

    @property
    def experimental_between_graph(self):
        return self._strategy.num_processes > 1


class Strategy(Distribution):
    """Base of the strategies: replicated variables, batches split on `"batch"`."""

    def __init__(self, devices):
        devices = list(devices)
        if not devices:
            raise ValueError(f"{type(self).__name__} needs at least one device. Received: []")
        mesh = DeviceMesh((len(devices),), (DEFAULT_BATCH_DIM_NAME,), devices=_object_array(devices))
        super().__init__(mesh, DEFAULT_BATCH_DIM_NAME)
        self._extended = StrategyExtended(self)

    @property
    def num_replicas_in_sync(self):
        return int(self.mesh.devices.size)

    @property
    def extended(self):
        return self._extended

    @property
    def is_chief(self):
        return True

    @property
    def cluster_resolver(self):
        return None

    def experimental_distribute_dataset(self, dataset, options=None):
        """Batches are split across replicas when they reach the compiled step."""
        return dataset

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        return dataset_fn(InputContext(1, 0, self.num_replicas_in_sync))

    experimental_distribute_datasets_from_function = distribute_datasets_from_function


def _object_array(devices):
    arr = np.empty(len(devices), dtype=object)
    arr[:] = list(devices)
    return arr


def _resolve_devices(devices, who):
    from keras_on_jax.distribute.device import get_device

    if devices is None:
        return _sorted_devices(jax.local_devices())
    if isinstance(devices, (str, jax.Device)):
        devices = [devices]
    out = [get_device(d) for d in devices]
    if len({d.id for d in out}) != len(out):
        raise ValueError(f"`devices` of {who} must be distinct. Received: {list(devices)}")
    return out


class MirroredStrategy(Strategy):
    """Synchronous data parallelism on the devices of this machine.

    Args:
        devices: device names (`"/gpu:0"`, `"cpu:1"`) or `jax.Device`s; default all local
            devices of the default backend.
        cross_device_ops: accepted for compatibility; XLA chooses the all-reduce.
    """

    def __init__(self, devices=None, cross_device_ops=None):
        super().__init__(_resolve_devices(devices, "MirroredStrategy"))


class MultiWorkerMirroredStrategy(Strategy):
    """Synchronous data parallelism across processes (hosts), configured by `TF_CONFIG`.

    Every worker runs the same script on the same data; each feeds its own rows of each
    global batch. The coordinator of `jax.distributed` is the chief (or worker 0); process
    ids are the chief first, then the workers in order. A worker that cannot reach the
    coordinator within `initialization_timeout` seconds (default: env
    `KERAS_DISTRIBUTION_TIMEOUT`, else 300) raises a `RuntimeError`.
    """

    def __init__(self, cluster_resolver=None, communication_options=None,
                 initialization_timeout=None):
        resolver = cluster_resolver or cluster_resolver_lib.TFConfigClusterResolver()
        if resolver.num_processes > 1:
            start_jax_distributed(resolver.coordinator_address, resolver.num_processes,
                                  resolver.process_id, timeout=initialization_timeout)
            if jax.process_count() != resolver.num_processes:
                raise RuntimeError(
                    f"jax.distributed has {jax.process_count()} processes but TF_CONFIG "
                    f"describes {resolver.num_processes}: {resolver.cluster_spec().as_dict()}"
                )
        _CLUSTER[0] = resolver
        self._resolver = resolver
        super().__init__(_sorted_devices(jax.devices()))

    @property
    def cluster_resolver(self):
        return self._resolver

    @property
    def is_chief(self):
        return self._resolver.is_chief


class TPUStrategy(Strategy):
    """Data parallelism on TPU cores with fixed batch shapes.

    A last partial batch is padded to the global batch size (by repeating its rows) and
    the padded rows get sample weight 0, the real rows `global/real`, so the step's loss
    and gradients equal those of the unpadded batch and no new shape is compiled. The
    step also knows which rows are real (`context.padding()`): metrics, the epoch
    averages and BatchNormalization's batch statistics leave the padding rows out.

    Args:
        tpu_cluster_resolver: a `TPUClusterResolver` (default: a new one).
        devices: for tests on other hardware: device names or `jax.Device`s to use instead
            of the TPU cores.
    """

    def __init__(self, tpu_cluster_resolver=None, experimental_device_assignment=None,
                 experimental_spmd_xla_partitioning=False, devices=None, resolver=None):
        resolver = tpu_cluster_resolver or resolver
        if devices is not None:
            chosen = _resolve_devices(devices, "TPUStrategy")
        else:
            resolver = resolver or cluster_resolver_lib.TPUClusterResolver()
            chosen = _sorted_devices(resolver.devices)
        self._resolver = resolver
        self._global_batch_size = None
        super().__init__(chosen)

    @property
    def cluster_resolver(self):
        return self._resolver

    def _padded_size(self, n):
        """The fixed global batch size: the first batch's, rounded up to the replicas."""
        if self._global_batch_size is None or n > self._global_batch_size:
            replicas = self._batch_shards()
            self._global_batch_size = -(-n // replicas) * replicas
        return self._global_batch_size

    def distribute_batch(self, batch, stacked=False):
        axis = 1 if stacked else 0
        leaves = jax.tree.leaves(batch)
        if not leaves or not isinstance(batch, tuple):
            return super().distribute_batch(batch, stacked)
        n = np.shape(leaves[0])[axis]
        size = self._padded_size(n)
        if len(batch) == 1:
            # Predict: the inputs are padded by repeating real rows; the trainer keeps the
            # first `n` rows of the outputs (`padded_rows`).
            rows = np.arange(size) % n
            x = batch[0] if size == n else jax.tree.map(
                lambda a: np.take(np.asarray(a), rows, axis=axis), batch[0])
            return super().distribute_batch((x,), stacked)
        # Always (x, y, sample_weight): full and padded batches share one compiled step.
        batch = _pad_batch(batch, n, max(n, size), axis)
        return super().distribute_batch(batch, stacked)


def _pad_batch(batch, n, size, axis):
    """Pad `(x, y[, sample_weight])` to `size` rows (repeating real rows): a `PaddedBatch`."""
    rows = np.arange(size) % n

    def pad(a):
        a = np.asarray(a)
        return a if size == n else np.take(a, rows, axis=axis)

    x, y = batch[0], batch[1]
    sw = batch[2] if len(batch) > 2 else None
    lead = np.shape(jax.tree.leaves(y)[0])[:axis] if y is not None and jax.tree.leaves(y) else (
        np.shape(jax.tree.leaves(x)[0])[:axis])
    valid = np.zeros(size, dtype="float32")
    valid[:n] = 1.0
    valid = np.broadcast_to(valid.reshape([1] * axis + [size]), (*lead, size)).copy()
    scale = np.float32(size / n)
    if sw is None:
        raw_sw = valid
        new_sw = valid * scale
    else:
        def masked(w):
            w = pad(w).astype("float32")
            return w * valid.reshape(valid.shape + (1,) * (w.ndim - axis - 1))

        raw_sw = jax.tree.map(masked, sw)
        new_sw = jax.tree.map(lambda w: w * scale, raw_sw)
    data = (jax.tree.map(pad, x), jax.tree.map(pad, y), new_sw)
    return context.PaddedBatch(data, valid, raw_sw)


def is_chief():
    """Whether this process writes checkpoints and summaries (the chief, or worker 0)."""
    if _CLUSTER[0] is not None:
        return _CLUSTER[0].is_chief
    dist = context.current()
    if dist is not None and hasattr(dist, "is_chief"):
        return bool(dist.is_chief)
    return jax.process_index() == 0
