"""BackupAndRestore: a run killed with SIGKILL resumes to bit-identical final weights."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np

SCRIPT = textwrap.dedent("""
    import os, sys, signal
    import numpy as np
    import keras_on_jax as keras
    keras.utils.set_random_seed(7)
    out, backup, kill_at, save_freq = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    save_freq = "epoch" if save_freq == "epoch" else int(save_freq)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((80, 6)).astype("float32")
    y = rng.integers(0, 3, 80).astype("int32")
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(0.3, seed=3), keras.layers.Dense(3)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    class Killer(keras.callbacks.Callback):
        seen = 0
        def on_train_batch_end(self, batch, logs=None):
            Killer.seen += 1
            if Killer.seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    callbacks = [keras.callbacks.BackupAndRestore(backup, save_freq=save_freq)]
    if kill_at > 0:
        callbacks.append(Killer())
    model.fit(x, y, batch_size=16, epochs=4, shuffle=True, verbose=0, callbacks=callbacks)
    np.savez(out, *model.get_weights())
""")


def _run(tmp_path, backup, kill_at, save_freq, out):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    return subprocess.run([sys.executable, str(script), str(out), str(backup), str(kill_at),
                           save_freq], capture_output=True, text=True, timeout=600)


def _weights(path):
    with np.load(path, allow_pickle=False) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


def test_sigkill_at_three_batches_resumes_bit_identical(tmp_path):
    ref = _run(tmp_path, tmp_path / "ref_backup", 0, "2", tmp_path / "ref.npz")
    assert ref.returncode == 0, ref.stderr
    backup = tmp_path / "backup"
    # Each restarted run counts batches from its own start: kill again 3, 5 and 4 batches in.
    for kill_at in (3, 5, 4):
        proc = _run(tmp_path, backup, kill_at, "2", tmp_path / "out.npz")
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert os.path.isdir(backup)
    final = _run(tmp_path, backup, 0, "2", tmp_path / "out.npz")
    assert final.returncode == 0, final.stderr
    for a, b in zip(_weights(tmp_path / "ref.npz"), _weights(tmp_path / "out.npz")):
        np.testing.assert_array_equal(a, b)
    assert not os.path.exists(backup)  # delete_checkpoint=True after a finished run


def test_epoch_backups_resume_after_a_kill(tmp_path):
    ref = _run(tmp_path, tmp_path / "ref_backup", 0, "epoch", tmp_path / "ref.npz")
    assert ref.returncode == 0, ref.stderr
    backup = tmp_path / "backup"
    proc = _run(tmp_path, backup, 12, "epoch", tmp_path / "out.npz")  # killed in epoch 3
    assert proc.returncode == -signal.SIGKILL
    final = _run(tmp_path, backup, 0, "epoch", tmp_path / "out.npz")
    assert final.returncode == 0, final.stderr
    for a, b in zip(_weights(tmp_path / "ref.npz"), _weights(tmp_path / "out.npz")):
        np.testing.assert_array_equal(a, b)
