"""OrbaxCheckpoint under MultiWorkerMirroredStrategy: two worker processes (jax.distributed
on loopback) train together; the chief writes the checkpoint, which holds the final state."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np

import keras_on_jax as kj

WORKER = textwrap.dedent("""
    import json, os, sys
    import numpy as np
    import keras_on_jax as keras
    from keras_on_jax import distribute

    prefix, directory = sys.argv[1], sys.argv[2]
    strategy = distribute.MultiWorkerMirroredStrategy()
    import jax

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.normal(size=(64, 2)).astype("float32")
    with strategy.scope():
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"),
                                  keras.layers.Dense(2)], name="seq")
        model.compile(keras.optimizers.Adam(0.01), "mse")
        init = np.random.default_rng(1)  # the same initial weights on every worker
        model.set_weights([init.normal(size=w.shape).astype("float32") * 0.5
                           for w in model.get_weights()])
        cb = keras.callbacks.OrbaxCheckpoint(directory, save_freq=4, max_to_keep=1)
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[cb])
    me = jax.process_index()
    np.savez(f"{prefix}{me}.npz", *model.get_weights())
    with open(f"{prefix}{me}.json", "w") as f:
        json.dump({"chief": distribute.is_chief(), "primary": cb.is_primary_host(),
                   "multihost": cb.is_multihost_enabled()}, f)
""")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_chief_writes_the_final_state(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    cluster = {"worker": [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]}
    prefix, directory = str(tmp_path / "out"), str(tmp_path / "ck")
    procs = []
    for i in range(2):
        env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
                   JAX_PLATFORMS="cpu", KERAS_DISTRIBUTION_TIMEOUT="60",
                   TF_CONFIG=json.dumps({"cluster": cluster,
                                         "task": {"type": "worker", "index": i}}))
        procs.append(subprocess.Popen([sys.executable, str(script), prefix, directory],
                                      env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    try:
        for p in procs:
            _, err = p.communicate(timeout=150)
            assert p.returncode == 0, err[-3000:]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    for i in range(2):
        with open(f"{prefix}{i}.json") as f:
            assert json.load(f) == {"chief": i == 0, "primary": i == 0, "multihost": True}
    # 4 steps per epoch, save_freq=4, max_to_keep=1: the last save is the final state.
    assert sorted(os.listdir(directory)) == ["8"]
    # Orbax's coordinated save: the non-chief worker only leaves its index entry.
    written_by_1 = [os.path.relpath(os.path.join(d, n), directory)
                    for d, _, names in os.walk(directory) for n in names if "process_1" in d + n]
    assert written_by_1 == [os.path.join("8", "pytree", "array_metadatas", "process_1")]
    restored = kj.saving.load_model(directory)
    assert int(restored.optimizer.iterations.numpy()) == 8
    with np.load(f"{prefix}0.npz") as f:
        final = [f[k] for k in sorted(f.files, key=lambda s: int(s.split("_")[1]))]
    for a, b in zip(restored.get_weights(), final, strict=True):
        np.testing.assert_array_equal(a, b)
