"""`BackupAndRestore`: resume an interrupted `fit` exactly where it stopped.

A backup holds everything the rest of the run depends on: every model variable (weights,
BatchNormalization statistics, dropout seed states), the optimizer and metric state, the
epoch and batch position, and NumPy's random state as of the start of the epoch (so the
epoch's shuffle order is drawn again identically). Each backup is an Orbax checkpoint
written atomically into a new `ckpt-N` folder; older ones are removed only after it is
complete, so a process killed at any moment leaves a valid backup behind. On CPU the
resumed run's final weights are bit-identical to a run that was never interrupted.

Across workers (`MultiWorkerMirroredStrategy`), every worker runs the callback on the same
`backup_dir` (a folder they share): only the chief writes and deletes backups, and every
worker restores from the chief's latest one, so all resume at the same step.
"""

from __future__ import annotations

import os
import re
import shutil

import numpy as np

from keras_on_jax.callbacks.callback import Callback

_CKPT = re.compile(r"^ckpt-(\d+)$")


class BackupAndRestore(Callback):
    """Back up the training state to `backup_dir` and restore it when `fit` restarts.

    Args:
        backup_dir: folder for the backups (created if missing).
        save_freq: `"epoch"`, an integer number of batches, or `False` (never back up).
        double_checkpoint: accepted for Keras compatibility; every backup is already kept
            until the next one is complete.
        delete_checkpoint: delete the backups when training finishes.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and save_freq is not False and (
            not isinstance(save_freq, int) or save_freq <= 0
        ):
            raise ValueError(
                "Invalid value for argument `save_freq`. Expected 'epoch', False, or a "
                f"positive integer. Received: save_freq={save_freq!r}"
            )
        self.backup_dir = backup_dir
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._epoch_rng_state = None
        self._current_epoch = 0
        self._batches_seen = 0
        self._pending_metrics = None
        self._counter = 0

    # ---- what is saved -----------------------------------------------------------------
    def _state_lists(self):
        model = self.model
        optimizer = getattr(model, "optimizer", None)
        return (list(model.variables),
                list(optimizer.variables) if optimizer is not None else [],
                list(getattr(model, "metrics_variables", [])))

    def _latest(self):
        if not os.path.isdir(self.backup_dir):
            return None
        found = [(int(m.group(1)), name) for name in os.listdir(self.backup_dir)
                 if (m := _CKPT.match(name)) and os.path.isdir(os.path.join(self.backup_dir, name))]
        if not found:
            return None
        return max(found)

    def _save(self, epoch, batch):
        model_vars, opt_vars, metric_vars = self._state_lists()
        keys, pos, has_gauss, cached = self._epoch_rng_state
        tree = {
            "model": [np.asarray(v.numpy()) for v in model_vars],
            "optimizer": [np.asarray(v.numpy()) for v in opt_vars],
            "metrics": [np.asarray(v.numpy()) for v in metric_vars],
            "position": np.array([epoch, batch], dtype="int64"),
            "rng_keys": np.asarray(keys, dtype="uint32"),
            "rng_rest": np.array([pos, has_gauss], dtype="int64"),
            "rng_gauss": np.array([cached], dtype="float64"),
        }
        if not _is_chief():
            return  # the chief writes the backup every worker resumes from
        os.makedirs(self.backup_dir, exist_ok=True)
        latest = self._latest()
        self._counter = (latest[0] + 1) if latest else 1
        path = os.path.join(os.path.abspath(self.backup_dir), f"ckpt-{self._counter}")
        checkpointer = _checkpointer()
        checkpointer.save(path, tree, force=True)
        checkpointer.wait_until_finished()
        for name in os.listdir(self.backup_dir):
            m = _CKPT.match(name)
            if m and int(m.group(1)) < self._counter:
                shutil.rmtree(os.path.join(self.backup_dir, name), ignore_errors=True)

    # ---- hooks ------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        latest = self._latest()
        if latest is None:
            return
        path = os.path.join(os.path.abspath(self.backup_dir), latest[1])
        try:
            tree = _checkpointer().restore(path)
        except Exception as e:
            raise ValueError(
                f"BackupAndRestore: the backup at {path} could not be read ({e}). Delete it "
                "to start training from scratch."
            ) from e
        model_vars, opt_vars, _ = self._state_lists()
        if len(tree["model"]) != len(model_vars):
            raise ValueError(
                f"BackupAndRestore: the backup at {path} holds {len(tree['model'])} model "
                f"variables, but the model has {len(model_vars)}: it was made by a different "
                "model."
            )
        optimizer = getattr(self.model, "optimizer", None)
        if tree["optimizer"] and optimizer is not None and not getattr(optimizer, "built", True):
            optimizer.build(self.model._trainable_for_step())
            opt_vars = list(optimizer.variables)
        for v, value in zip(model_vars, tree["model"]):
            v.assign(value)
        for v, value in zip(opt_vars, tree["optimizer"]):
            v.assign(value)
        epoch, batch = (int(x) for x in tree["position"])
        pos, has_gauss = (int(x) for x in tree["rng_rest"])
        np.random.set_state(("MT19937", np.asarray(tree["rng_keys"], dtype="uint32"), pos,
                             has_gauss, float(tree["rng_gauss"][0])))
        self._pending_metrics = list(tree["metrics"]) if batch > 0 else None
        self.model._resume_position = (epoch, batch)
        self._batches_seen = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch
        self._epoch_rng_state = np.random.get_state()[1:]
        if self._pending_metrics is not None:
            for v, value in zip(self._state_lists()[2], self._pending_metrics):
                v.assign(value)
            self._pending_metrics = None

    def _observes_batches(self, kind):
        """Whether the batch hooks do anything (the trainer fuses steps otherwise)."""
        return kind == "train" and self.save_freq not in ("epoch", False)

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch" or self.save_freq is False:
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._current_epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq is not False:
            # The next epoch starts from NumPy's current state (its shuffle is drawn then).
            self._epoch_rng_state = np.random.get_state()[1:]
            self._save(epoch + 1, 0)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and _is_chief() and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir, ignore_errors=True)


def _is_chief():
    from keras_on_jax.distribute.strategies import is_chief

    return is_chief()


def _checkpointer():
    """An Orbax checkpointer local to this process: backups hold host arrays only, so no
    worker waits at a cross-process barrier for the others (only the chief saves)."""
    import jax
    import orbax.checkpoint as ocp

    me = jax.process_index()
    return ocp.StandardCheckpointer(
        multiprocessing_options=ocp.options.MultiprocessingOptions(
            primary_host=me, active_processes={me}))
