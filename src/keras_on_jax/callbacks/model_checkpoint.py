"""`keras.callbacks.ModelCheckpoint`: saves the model or its weights during training.

The callback leaves the file format to the model: it calls `model.save_weights(path)` or
`model.save(path)`, which choose the format from the path (`.keras`, `.h5`,
`.weights.h5`, or a directory checkpoint for other paths). Unlike Keras 3 it therefore
accepts paths without a `.keras`/`.h5` extension (e.g. the FAQ's
`"ckpt-loss={loss:.2f}"`) and `.h5` paths with `save_weights_only=True`.
"""

import os
import re
import warnings

from keras_on_jax.callbacks.callback import pythonify_logs
from keras_on_jax.callbacks.monitor_callback import MonitorCallback
from keras_on_jax.utils.progbar import print_msg


class ModelCheckpoint(MonitorCallback):
    """Callback to save the Keras model or model weights at some frequency.

    Args:
        filepath: string or `PathLike`, path to save the model file. It can contain
            named formatting options filled with the value of `epoch` (1-based),
            `batch` (1-based, when saving per batch) and keys in `logs`, e.g.
            `"{epoch:02d}-{val_loss:.2f}.keras"`.
        monitor: The metric name to monitor (e.g. `"val_loss"`, `"loss"`).
        verbose: Verbosity mode, 0 or 1.
        save_best_only: if `True`, only saves when the model is considered the
            "best" according to the monitored quantity.
        save_weights_only: if `True`, `model.save_weights(filepath)` is called,
            else `model.save(filepath)`.
        mode: one of {`"auto"`, `"min"`, `"max"`}.
        save_freq: `"epoch"` or integer (save after this many batches).
        initial_value_threshold: Floating point initial "best" value of the
            monitored metric (only with `save_best_only=True`).
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0

        if self.save_freq != "epoch" and not (
            isinstance(self.save_freq, int) and not isinstance(self.save_freq, bool)
        ):
            raise ValueError(
                f"Unrecognized save_freq: {self.save_freq}. "
                "Expected save_freq are 'epoch' or integer values"
            )

    def _observes_batches(self, kind):
        """Whether the batch hooks do anything (the trainer fuses steps otherwise)."""
        return kind == "train" and self.save_freq not in ("epoch", False)

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            # Delay setup until the model's metrics are all built.
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch):
        """Batch-level saving logic (supports `steps_per_execution` batch jumps)."""
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            add_batches = batch + 1  # New epoch; batches are zero-indexed.
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch, batch, logs, filepath):
        logs = logs or {}
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(
                    f"Can save best model only with {self.monitor} available.",
                    stacklevel=2,
                )
                return True
            if hasattr(current, "shape") and len(current.shape) > 0:
                warnings.warn(
                    "Can save best model only when `monitor` is "
                    f"a scalar value. Received: {current}. "
                    "Falling back to `save_best_only=False`.",
                    stacklevel=2,
                )
                return True
            if self.monitor_op is None:
                self._set_monitor_op()
            best_str = "None" if self.best is None else f"{self.best:.5f}"
            if self._is_improvement(current, self.best):
                if self.verbose > 0:
                    print_msg(
                        f"\nEpoch {epoch + 1}: {self.monitor} "
                        f"improved from {best_str} to {current:.5f}, "
                        f"saving model to {filepath}"
                    )
                self.best = current
                return True
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
            return False
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        return True

    def _save_model(self, epoch, batch, logs):
        from keras_on_jax.distribute import is_chief

        if not is_chief():
            return  # multi-worker training: only the chief writes checkpoints
        # Batch logs may hold device arrays: fetch them now that they are needed.
        logs = pythonify_logs(logs)
        filepath = self._get_file_path(epoch, batch, logs)
        try:
            if self._should_save_model(epoch, batch, logs, filepath):
                dirname = os.path.dirname(filepath)
                if dirname and not os.path.exists(dirname):
                    os.makedirs(dirname, exist_ok=True)
                if self.save_weights_only:
                    self.model.save_weights(filepath, overwrite=True)
                else:
                    self.model.save(filepath, overwrite=True)
                if self.verbose > 0:
                    print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")
        except IsADirectoryError:
            raise OSError(
                "Please specify a non-directory filepath for "
                "ModelCheckpoint. Filepath used is an existing "
                f"directory: {filepath}"
            ) from None

    def _get_file_path(self, epoch, batch, logs):
        """Returns the file path for the checkpoint, with placeholders filled in."""
        logs = logs or {}
        try:
            if batch is None or "batch" in logs:
                file_path = self.filepath.format(epoch=epoch + 1, **logs)
            else:
                file_path = self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}'
            ) from e
        return file_path

    def _checkpoint_exists(self, filepath):
        """Returns whether the checkpoint `filepath` refers to exists."""
        return os.path.exists(filepath)

    def _get_most_recently_modified_file_matching_pattern(self, pattern):
        """Returns the most recently modified file path matching `pattern` (a filepath
        with optional placeholders); ties are broken by the largest file name."""
        dir_name = os.path.dirname(pattern)
        base_name = os.path.basename(pattern)
        base_name_regex = f"^{re.sub(r'{.*}', r'.*', base_name)}$"

        latest_mod_time = 0
        file_path_with_latest_mod_time = None
        n_file_with_latest_mod_time = 0
        file_path_with_largest_file_name = None
        if os.path.exists(dir_name or "."):
            for file_name in os.listdir(dir_name or "."):
                if re.match(base_name_regex, file_name):
                    file_path = os.path.join(dir_name, file_name)
                    mod_time = os.path.getmtime(file_path)
                    if (
                        file_path_with_largest_file_name is None
                        or file_path > file_path_with_largest_file_name
                    ):
                        file_path_with_largest_file_name = file_path
                    if mod_time > latest_mod_time:
                        latest_mod_time = mod_time
                        file_path_with_latest_mod_time = file_path
                        n_file_with_latest_mod_time = 1
                    elif mod_time == latest_mod_time:
                        n_file_with_latest_mod_time += 1
        if n_file_with_latest_mod_time == 1:
            return file_path_with_latest_mod_time
        return file_path_with_largest_file_name
