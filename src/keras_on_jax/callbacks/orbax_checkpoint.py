"""`OrbaxCheckpoint`: save the training state as Orbax checkpoints, in Keras 3's layout.

Each save is one step folder of an `orbax.checkpoint.v1.training.Checkpointer` at
`directory` (the step is the epoch index with `save_freq="epoch"`, the global batch count
otherwise), holding the checkpointables Keras 3.15 writes:

- `pytree`: `{"trainable_variables", "non_trainable_variables", "optimizer_variables",
  "metrics_variables"}`, nested dicts keyed by the parts of each `variable.path` (Keras's
  `model.get_state_tree()`); only the first two with `save_weights_only=True`;
- `model_config`: `{"config": <the model's config.json>}` (not with `save_weights_only`);
- `assets`: the model's assets as nested uint8 arrays, when it has any.

So `keras.saving.load_model(directory)` / `model.load_weights(directory)` of either
library read the other's checkpoints. Orbax writes each step under a temporary name and
renames it when complete (a crash leaves the previous steps intact), and keeps the
`max_to_keep` newest. Under multi-worker training only the chief writes.
"""

from __future__ import annotations

import warnings

from keras_on_jax.callbacks.callback import pythonify_logs
from keras_on_jax.callbacks.monitor_callback import MonitorCallback


def _is_chief():
    from keras_on_jax.distribute import strategies

    return strategies.is_chief()


class OrbaxCheckpoint(MonitorCallback):
    """Save the model's state (weights, optimizer and metric variables, config) with Orbax.

    Args:
        directory: path to the directory where to save the checkpoints.
        monitor: the metric name to monitor (e.g. `"val_loss"`).
        verbose: verbosity mode, 0 or 1 (accepted; as in Keras 3, nothing is printed).
        save_best_only: only save when the model is the best so far by `monitor`.
        mode: one of `{"auto", "min", "max"}`, used with `save_best_only`.
        save_freq: `"epoch"` or an integer number of batches between saves.
        initial_value_threshold: initial "best" value of `monitor` for
            `save_best_only`.
        max_to_keep: number of most recent checkpoints to keep (`None`: all). Defaults
            to 1.
        save_on_background: write asynchronously while training continues. Defaults to
            True.
        save_weights_only: save only the trainable and non-trainable variables.
    """

    def __init__(self, directory, monitor="val_loss", verbose=0, save_best_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None, max_to_keep=1,
                 save_on_background=True, save_weights_only=False):
        super().__init__(monitor, mode, initial_value_threshold)
        self.directory = directory
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_freq = save_freq
        self.max_to_keep = max_to_keep
        self.save_on_background = save_on_background
        self.save_weights_only = save_weights_only
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._total_batches_seen = 0
        self._async_futures = []
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or integer values")
        if max_to_keep is not None and (not isinstance(max_to_keep, int) or max_to_keep < 1):
            raise ValueError("`max_to_keep` must be a positive integer or None. "
                             f"Received: max_to_keep={max_to_keep!r}")
        self._checkpointer = None

    # -- the Orbax checkpointer (created on the chief, on first use) --------------------
    @property
    def checkpointer(self):
        if self._checkpointer is None:
            import jax
            import orbax.checkpoint as ocp

            v1 = ocp.v1
            preservation = None
            if self.max_to_keep is not None:
                preservation = v1.training.preservation_policies.LatestN(self.max_to_keep)
            context = None
            if jax.process_count() > 1:
                # The variables are replicated: the copy on process 0 (the chief) is the
                # one written, instead of each process writing a slice of every array.
                context = v1.Context(array_options=v1.options.ArrayOptions(
                    saving=v1.options.ArrayOptions.Saving(use_replica_parallel=False)))
            self._checkpointer = v1.training.Checkpointer(
                directory=self.directory,
                context=context,
                preservation_policy=preservation,
                save_decision_policy=v1.training.save_decision_policies.FixedIntervalPolicy(1),
            )
        return self._checkpointer

    def set_model(self, model):
        super().set_model(model)
        opt = getattr(model, "optimizer", None)
        if opt is not None and hasattr(opt, "iterations"):
            # A reloaded model continues the global batch count (the step numbers).
            self._total_batches_seen = int(opt.iterations.numpy())

    def is_multihost_enabled(self):
        """Whether training runs over several processes (`jax.distributed`)."""
        import jax

        return jax.process_count() > 1

    def is_primary_host(self):
        """Whether this process writes the checkpoints (the chief)."""
        return _is_chief()

    # -- when to save --------------------------------------------------------------------
    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            add = batch + 1  # a new epoch
        else:
            add = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add
        self._last_batch_seen = batch
        self._total_batches_seen += add
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _best_allows(self, logs, where):
        if not self.save_best_only:
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        current = pythonify_logs(logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available, "
                          f"skipping save at {where}.", stacklevel=3)
            return False
        if not self._is_improvement(current, self.best):
            return False
        self.best = current
        return True

    def _observes_batches(self, kind):
        """Whether the batch hooks do anything (the trainer fuses steps otherwise)."""
        return kind == "train" and self.save_freq not in ("epoch", False)

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch) and self._best_allows(logs, f"batch {batch}"):
            self._save_checkpoint(self._total_batches_seen, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch" and self._best_allows(logs, f"epoch {epoch}"):
            self._save_checkpoint(epoch, logs)

    # -- saving --------------------------------------------------------------------------
    def _payload(self):
        from keras_on_jax.io import keras_archive, orbax_dir

        tree = orbax_dir.keras_state_tree(self.model)
        if self.save_weights_only:
            return {"pytree": {"trainable_variables": tree["trainable_variables"],
                               "non_trainable_variables": tree["non_trainable_variables"]}}
        payload = {"pytree": tree,
                   "model_config": {"config": keras_archive.model_config_json(self.model)}}
        assets = orbax_dir.assets_to_dict(self.model)
        if assets is not None:
            payload["assets"] = assets
        return payload

    def _save_checkpoint(self, step, logs=None):
        import jax

        if jax.process_count() == 1 and not _is_chief():
            return  # a non-chief worker of a cluster that is not one jax.distributed run
        # Across the processes of one `jax.distributed` run (MultiWorkerMirroredStrategy),
        # every worker takes part in Orbax's coordinated save (its barriers and per-process
        # index files), and process 0, the chief, writes the checkpoint: its metadata,
        # config and the data of every (replicated) array.
        payload = self._payload()
        if self.save_on_background:
            future = self.checkpointer.save_checkpointables_async(step, payload)
            if future is not None:
                self._async_futures.append(future)
        else:
            self.checkpointer.save_checkpointables(step, payload)

    def wait_until_finished(self):
        """Block until every checkpoint being written in the background is complete."""
        futures, self._async_futures = self._async_futures, []
        for future in futures:
            future.result()
        if self._checkpointer is not None:
            self._checkpointer.wait()

    def on_train_end(self, logs=None):
        # Finish the background writes and release the checkpointer (a later `fit` makes
        # a new one): the checkpoints are complete on disk when `fit` returns.
        if self._checkpointer is not None:
            try:
                self.wait_until_finished()
            finally:
                self._checkpointer.close()
                self._checkpointer = None

