"""Cluster resolvers: `TF_CONFIG` (multi-worker) and TPU discovery, as TensorFlow names them."""

from __future__ import annotations

import json
import os

import jax


class ClusterSpec:
    """The jobs of a cluster: `{"worker": ["host:port", ...], "chief": [...]}`."""

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            cluster = cluster.as_dict()
        self._cluster = {str(k): list(v) for k, v in dict(cluster or {}).items()}

    def as_dict(self):
        return {k: list(v) for k, v in self._cluster.items()}

    @property
    def jobs(self):
        return list(self._cluster)

    def num_tasks(self, job_name):
        return len(self._cluster.get(job_name, []))

    def job_tasks(self, job_name):
        return list(self._cluster.get(job_name, []))

    def task_address(self, job_name, task_index):
        return self._cluster[job_name][task_index]

    def __bool__(self):
        return bool(self._cluster)

    def __eq__(self, other):
        return isinstance(other, ClusterSpec) and self.as_dict() == other.as_dict()

    def __repr__(self):
        return f"ClusterSpec({self._cluster})"


class ClusterResolver:
    task_type = None
    task_id = None
    rpc_layer = None

    def cluster_spec(self):
        raise NotImplementedError  # pragma: no cover

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        return ""

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        counts = {}
        for d in jax.local_devices():
            if d.platform != "cpu":
                counts[d.platform.upper()] = counts.get(d.platform.upper(), 0) + 1
        return counts


class TFConfigClusterResolver(ClusterResolver):
    """Reads the `TF_CONFIG` environment variable (JSON: `cluster`, `task`)."""

    def __init__(self, task_type=None, task_id=None, rpc_layer=None, environment=None):
        raw = os.environ.get("TF_CONFIG", "")
        try:
            config = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as e:
            raise ValueError(f"TF_CONFIG is not valid JSON ({e}). Received: {raw!r}") from e
        if not isinstance(config, dict):
            raise ValueError(f"TF_CONFIG must be a JSON object. Received: {raw!r}")
        self._config = config
        self._cluster_spec = ClusterSpec(config.get("cluster", {}))
        task = config.get("task", {}) or {}
        self.task_type = task_type if task_type is not None else task.get("type")
        self.task_id = int(task_id if task_id is not None else task.get("index", 0) or 0)
        self.rpc_layer = rpc_layer if rpc_layer is not None else config.get("rpc_layer")
        self.environment = environment if environment is not None else config.get("environment", "")
        for job in ("chief", "worker"):
            for addr in self._cluster_spec.job_tasks(job):
                if not isinstance(addr, str) or ":" not in addr:
                    raise ValueError(
                        f"TF_CONFIG cluster.{job} entries must be 'host:port' strings. "
                        f"Received: {addr!r}"
                    )
        if self._cluster_spec and self.task_type is not None:
            n = self._cluster_spec.num_tasks(self.task_type)
            if not 0 <= self.task_id < n:
                raise ValueError(
                    f"TF_CONFIG task {{'type': {self.task_type!r}, 'index': {self.task_id}}} is "
                    f"not in the cluster {self._cluster_spec.as_dict()}."
                )

    def cluster_spec(self):
        return self._cluster_spec

    # The process layout used for jax.distributed: chief first, then workers.
    def _processes(self):
        spec = self._cluster_spec
        return [("chief", i) for i in range(spec.num_tasks("chief"))] + [
            ("worker", i) for i in range(spec.num_tasks("worker"))
        ]

    @property
    def num_processes(self):
        return max(1, len(self._processes()))

    @property
    def process_id(self):
        procs = self._processes()
        if not procs:
            return 0
        key = (self.task_type, self.task_id)
        if key not in procs:
            raise ValueError(
                f"TF_CONFIG task type {self.task_type!r} cannot train: only 'chief' and "
                f"'worker' tasks join a MultiWorkerMirroredStrategy."
            )
        return procs.index(key)

    @property
    def coordinator_address(self):
        spec = self._cluster_spec
        if spec.num_tasks("chief"):
            return spec.task_address("chief", 0)
        if spec.num_tasks("worker"):
            return spec.task_address("worker", 0)
        return None

    @property
    def is_chief(self):
        if not self._processes():
            return True
        return self.process_id == 0

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        task_type = self.task_type if task_type is None else task_type
        task_id = self.task_id if task_id is None else task_id
        if task_type is None or not self._cluster_spec.num_tasks(task_type):
            return ""
        addr = self._cluster_spec.task_address(task_type, task_id)
        layer = rpc_layer or self.rpc_layer
        return f"{layer}://{addr}" if layer else addr


class TPUClusterResolver(ClusterResolver):
    """Finds the TPU devices JAX sees (Colab / Cloud TPU VMs).

    Raises a `ValueError` naming what was looked for when there is none.
    """

    def __init__(self, tpu=None, zone=None, project=None, job_name="worker",
                 coordinator_name=None, coordinator_address=None, credentials="default",
                 service=None, discovery_url=None):
        self._tpu = tpu
        self.task_type = job_name
        self.task_id = 0
        self._job_name = job_name
        try:
            devices = jax.devices("tpu")
        except RuntimeError:
            devices = []
        if not devices:
            name = tpu if tpu else os.environ.get("TPU_NAME", "")
            raise ValueError(
                "TPUClusterResolver found no TPU: jax.devices('tpu') returned none"
                + (f" (TPU name {name!r})" if name else "")
                + f". The devices JAX sees are: {[str(d) for d in jax.devices()]}. On Colab, "
                "select a TPU runtime; on a Cloud TPU VM, install jax[tpu]."
            )
        self._devices = devices

    @property
    def devices(self):
        return list(self._devices)

    def cluster_spec(self):
        """One `host:8470` entry per TPU host (process), as TensorFlow prints them."""
        processes = sorted({d.process_index for d in self._devices})
        addresses = os.environ.get("TPU_WORKER_HOSTNAMES", "")
        if addresses:
            workers = [f"{h}:8470" for h in addresses.split(",") if h]
        elif len(processes) == 1:
            workers = ["localhost:8470"]
        else:
            workers = [f"process{p}:8470" for p in processes]
        return ClusterSpec({self._job_name: workers})

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        return self._tpu or ""

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        return {"TPU": len([d for d in self._devices if d.process_index == jax.process_index()])}


def experimental_connect_to_cluster(cluster_spec_or_resolver, job_name="localhost",
                                    task_index=0, protocol=None, make_master_device_default=True,
                                    cluster_device_filters=None):
    """TensorFlow's `tf.config.experimental_connect_to_cluster`: validates and returns.

    JAX's runtime is already connected to the devices of this host; a multi-host cluster is
    joined by `MultiWorkerMirroredStrategy` / `keras.distribution.initialize`.
    """
    if isinstance(cluster_spec_or_resolver, ClusterResolver):
        return cluster_spec_or_resolver
    if isinstance(cluster_spec_or_resolver, (ClusterSpec, dict)):
        return ClusterSpec(cluster_spec_or_resolver)
    raise ValueError(
        "`experimental_connect_to_cluster` expects a ClusterResolver, ClusterSpec or dict. "
        f"Received: {cluster_spec_or_resolver!r}"
    )


def initialize_tpu_system(cluster_resolver=None):
    """TensorFlow's `tf.tpu.experimental.initialize_tpu_system`: checks the TPU and returns
    its topology-like summary (JAX initializes the TPU itself)."""
    if cluster_resolver is None:
        cluster_resolver = TPUClusterResolver()
    if not isinstance(cluster_resolver, TPUClusterResolver):
        raise ValueError(
            "`initialize_tpu_system` expects a TPUClusterResolver. "
            f"Received: {cluster_resolver!r}"
        )
    return TPUTopology(cluster_resolver.devices)


class TPUTopology:
    def __init__(self, devices):
        self.devices = list(devices)
        self.num_tasks = len({d.process_index for d in self.devices})
        self.num_tpus_per_task = len(self.devices) // max(1, self.num_tasks)

    def __repr__(self):
        return f"TPUTopology(num_tasks={self.num_tasks}, num_tpus_per_task={self.num_tpus_per_task})"
