"""MultiWorkerMirroredStrategy: two worker processes on loopback through jax.distributed."""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import multiworker_script

HERE = os.path.dirname(os.path.abspath(__file__))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(cluster, task_type, index, timeout):
    env = dict(os.environ)
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})
    env["KERAS_DISTRIBUTION_TIMEOUT"] = str(timeout)
    env["JAX_PLATFORMS"] = "cpu"
    return env


def _start(cluster, task_type, index, prefix, timeout=60, extra=()):
    return subprocess.Popen(
        [sys.executable, os.path.join(HERE, "multiworker_script.py"), prefix, *extra],
        env=_env(cluster, task_type, index, timeout), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


def test_two_workers_equal_single_process(tmp_path):
    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    prefix = str(tmp_path / "run")
    procs = [_start(cluster, "worker", i, prefix) for i in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=150)
        assert p.returncode == 0, err[-3000:]

    # The single-process run over the same global batches.
    x, y = multiworker_script.data()
    ref = multiworker_script.build()
    ref_hist = ref.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history

    weights = []
    for i in range(2):
        with np.load(f"{prefix}_worker{i}.npz") as f:
            weights.append([f[k] for k in sorted(f.files, key=lambda s: int(s.split("_")[1]))])
        with open(f"{prefix}_worker{i}.json") as f:
            info = json.load(f)
        assert info["process_count"] == 2 and info["replicas"] == 4
        assert info["is_chief"] == (i == 0) == info["should_checkpoint"]
        for k in ref_hist:
            np.testing.assert_allclose(info["history"][k], ref_hist[k], rtol=1e-5, atol=1e-6)
    for a, b, r in zip(weights[0], weights[1], ref.get_weights()):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, r, rtol=1e-5, atol=1e-6)
    assert os.path.exists(prefix + "_chief.weights.h5")


def test_unreachable_coordinator_fails_clearly_within_timeout(tmp_path):
    cluster = {"worker": [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]}
    start = time.monotonic()
    p = _start(cluster, "worker", 1, str(tmp_path / "lonely"), timeout=2)
    out, err = p.communicate(timeout=90)
    assert p.returncode != 0
    assert time.monotonic() - start < 60
    assert "could not reach the coordinator at '127.0.0.1:" in err, err[-3000:]


def _run_workers(cluster, prefix, extra):
    procs = [_start(cluster, "worker", i, prefix, extra=extra) for i in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=150)
        assert p.returncode == 0, err[-3000:]
    infos, weights = [], []
    for i in range(2):
        with open(f"{prefix}_{extra[1]}_worker{i}.json") as f:
            infos.append(json.load(f))
        with np.load(f"{prefix}_{extra[1]}_worker{i}.npz") as f:
            weights.append([f[k] for k in sorted(f.files, key=lambda s: int(s.split("_")[1]))])
    return infos, weights


def test_backup_and_restore_across_workers_resumes_from_chief(tmp_path):
    cluster = {"worker": [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]}
    prefix = str(tmp_path / "run")
    backup_dir = str(tmp_path / "backup")
    # Run 1: interrupted at the start of epoch 2; only the chief (worker 0) wrote backups.
    infos, _ = _run_workers(cluster, prefix, (backup_dir, "1"))
    assert [i["interrupted"] for i in infos] == [True, True]
    assert [i["epochs_run"] for i in infos] == [[0, 1], [0, 1]]
    assert len(infos[0]["saves"]) == 2 and infos[1]["saves"] == []
    assert infos[0]["backups_after"] == ["ckpt-2"]
    # Run 2 (a new cluster): both workers resume at epoch 2 from the chief's backup.
    cluster = {"worker": [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]}
    infos, weights = _run_workers(cluster, prefix, (backup_dir, "2"))
    assert [i["epochs_run"] for i in infos] == [[2], [2]]
    assert infos[1]["saves"] == [] and len(infos[0]["saves"]) == 1
    assert not os.path.exists(backup_dir)  # deleted by the chief when training ended
    # Equal to one uninterrupted single-process run of 3 epochs.
    x, y = multiworker_script.data()
    ref = multiworker_script.build()
    ref.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    for a, b, r in zip(weights[0], weights[1], ref.get_weights()):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, r, rtol=1e-5, atol=1e-6)
