"""One worker of the two-process test (run by test_multiworker.py, not collected by pytest).

argv: output prefix. TF_CONFIG and XLA_FLAGS come from the environment.
"""

import json
import os
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras_on_jax as keras  # noqa: E402
from keras_on_jax import distribute  # noqa: E402


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.normal(size=(64, 2)).astype("float32")
    return x, y


def build():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"),
                              keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae"])
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(size=w.shape).astype("float32") * 0.5
                       for w in model.get_weights()])
    return model


def main(prefix):
    strategy = distribute.MultiWorkerMirroredStrategy()
    import jax

    x, y = data()
    with strategy.scope():
        model = build()
        hist = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    r = strategy.cluster_resolver
    out = f"{prefix}_{r.task_type}{r.task_id}"
    np.savez(out + ".npz", *model.get_weights())
    if distribute.is_chief():
        model.save_weights(prefix + "_chief.weights.h5")
    with open(out + ".json", "w") as f:
        json.dump({"history": hist.history, "is_chief": distribute.is_chief(),
                   "process_count": jax.process_count(), "replicas": strategy.num_replicas_in_sync,
                   "should_checkpoint": strategy.extended.should_checkpoint}, f)


class _Interrupt(keras.callbacks.Callback):
    """Stops the first run at the start of epoch `at` (after that epoch's backup)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise RuntimeError("interrupted")


def main_backup(prefix, backup_dir, phase):
    """`phase` "1": fit 3 epochs with BackupAndRestore, interrupted at epoch 2;
    "2": the same fit again, which resumes from the chief's backup."""
    import orbax.checkpoint as ocp

    strategy = distribute.MultiWorkerMirroredStrategy()
    saves = []
    save = ocp.StandardCheckpointer.save

    def counting_save(self, path, *args, **kwargs):
        saves.append(str(path))
        return save(self, path, *args, **kwargs)

    ocp.StandardCheckpointer.save = counting_save
    x, y = data()
    with strategy.scope():
        model = build()
    callbacks = [keras.callbacks.BackupAndRestore(backup_dir)]
    if phase == "1":
        callbacks.append(_Interrupt(2))
    epochs_run = []
    callbacks.append(keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epochs_run.append(epoch)))
    interrupted = False
    try:
        model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=callbacks)
    except RuntimeError as e:
        interrupted = "interrupted" in str(e)
        if not interrupted:
            raise
    r = strategy.cluster_resolver
    out = f"{prefix}_{phase}_{r.task_type}{r.task_id}"
    np.savez(out + ".npz", *model.get_weights())
    with open(out + ".json", "w") as f:
        json.dump({"saves": saves, "interrupted": interrupted, "epochs_run": epochs_run,
                   "backups_after": sorted(os.listdir(backup_dir))
                   if os.path.isdir(backup_dir) else None}, f)


if __name__ == "__main__":
    if len(sys.argv) > 2:
        main_backup(*sys.argv[1:4])
    else:
        main(sys.argv[1])
