"""`keras.callbacks.TensorBoard`, without TensorFlow.

Event files are written with the `tensorboardX` package (imported when the callback is
created) into `log_dir/train` and `log_dir/validation`, with Keras 3's tag names:
`epoch_<metric>` (incl. `epoch_learning_rate` and, when asked, `epoch_steps_per_second`),
`batch_<metric>` when `update_freq` is `"batch"` or an integer,
`evaluation_<metric>_vs_iterations` after each evaluation, and `<weight path>/histogram`
(`/image`) when `histogram_freq > 0`. Profiling (`profile_batch`) uses
`jax.profiler.start_trace` / `stop_trace` into `log_dir/train`.
"""

import json
import os
import tempfile
import time
import warnings

import numpy as np

from keras_on_jax.callbacks.callback import Callback, to_float


def _import_tensorboardx():
    try:
        import tensorboardX  # noqa: PLC0415
    except ImportError as e:
        raise ImportError(
            "keras.callbacks.TensorBoard writes event files with the `tensorboardX` "
            "package, which is not installed. Install it with `pip install tensorboardX`."
        ) from e
    return tensorboardX


class TensorBoard(Callback):
    """Enable visualizations for TensorBoard.

    Args:
        log_dir: the path of the directory where to save the log files to be
            parsed by TensorBoard. e.g. `log_dir = os.path.join(working_dir, 'logs')`.
        histogram_freq: frequency (in epochs) at which to compute weight histograms
            for the layers of the model. If set to 0, histograms won't be computed.
        write_graph: whether to write the model (its JSON config) so that the
            TensorBoard graph plugin can show the conceptual graph.
        write_images: whether to write model weights to visualize as image in
            TensorBoard (with `histogram_freq > 0`).
        write_steps_per_second: whether to log the training steps per second.
        update_freq: `"batch"` or `"epoch"` or integer. When using `"epoch"`,
            writes the losses and metrics to TensorBoard after every epoch.
            If using an integer, say `1000`, all metrics and losses are written
            every 1000 batches (as `batch_<name>`).
        profile_batch: Profile the batch(es) to sample compute characteristics.
            An integer, or a pair `(start, stop)` (or a string `"start,stop"`).
            Profiling is disabled by default (`0`).
        embeddings_freq: frequency (in epochs) at which embedding layers will be
            saved (weights checkpoint and projector config).
        embeddings_metadata: Dictionary which maps embedding layer names to the
            filename of a file in which to save metadata for the embedding layer.
            In case the same metadata file is to be used for all embedding layers,
            a single filename can be passed.
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        self._tbx = _import_tensorboardx()
        self.log_dir = str(os.fspath(log_dir))
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        if self.update_freq != "epoch" and not (
            isinstance(self.update_freq, int) and self.update_freq > 0
        ):
            raise ValueError(
                "TensorBoard: `update_freq` must be 'batch', 'epoch' or a positive "
                f"integer. Received: update_freq={update_freq!r}"
            )
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._init_profile_batch(profile_batch)
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._previous_epoch_iterations = 0
        self._train_accumulated_time = 0
        self._batch_start_time = 0
        self._epoch_start_time = 0
        # Lazily created, so that no event file exists before something is written.
        self._writers = {}
        # Step of the batch-level writer context currently active, per mode.
        self._train_step = 0
        self._test_step = 0

    # ------------------------------------------------------------------ writers
    def set_model(self, model):
        """Sets the Keras model and writes its conceptual graph if asked."""
        self._model = model
        from keras_on_jax.distribute import is_chief

        # Multi-worker training: only the chief writes into log_dir; others write to a
        # throwaway folder, as TensorFlow's Keras does.
        self._log_write_dir = self.log_dir if is_chief() else tempfile.mkdtemp(prefix="tb-worker-")
        self._train_dir = os.path.join(self._log_write_dir, "train")
        self._val_dir = os.path.join(self._log_write_dir, "validation")
        self._close_writers()
        self._writers = {}
        if self.write_graph:
            self._write_keras_model_summary()
        if self.embeddings_freq:
            self._configure_embeddings()

    def _make_writer(self, logdir):
        return self._tbx.SummaryWriter(logdir=logdir, flush_secs=30)

    @property
    def _train_writer(self):
        if "train" not in self._writers:
            self._writers["train"] = self._make_writer(self._train_dir)
        return self._writers["train"]

    @property
    def _val_writer(self):
        if "val" not in self._writers:
            self._writers["val"] = self._make_writer(self._val_dir)
        return self._writers["val"]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()

    def _flush_writers(self):
        for writer in self._writers.values():
            writer.flush()

    def _should_record(self, step):
        return self.update_freq != "epoch" and step % self.update_freq == 0

    @staticmethod
    def _scalar(writer, tag, value, step):
        value = to_float(value)
        if isinstance(value, float):
            writer.add_scalar(tag, value, global_step=int(step))

    def _write_keras_model_summary(self):
        """Writes the model's JSON config for the TensorBoard graph plugin (Keras's
        `keras_model_summary`, plugin `graph_keras_model`)."""
        model = self._model
        if model.__class__.__name__ not in ("Functional", "Sequential"):
            return
        try:
            json_string = model.to_json()
        except Exception as exc:
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {exc}", stacklevel=2)
            return
        from tensorboardX.proto import summary_pb2, tensor_pb2, tensor_shape_pb2  # noqa: PLC0415

        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(
                plugin_name="graph_keras_model", content=b"1"
            )
        )
        tensor = tensor_pb2.TensorProto(
            dtype=7,  # DT_STRING
            string_val=[json_string.encode("utf-8")],
            tensor_shape=tensor_shape_pb2.TensorShapeProto(),
        )
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag="keras", metadata=metadata, tensor=tensor)]
        )
        writer = self._train_writer
        writer._get_file_writer().add_summary(summary, global_step=0)
        writer.flush()

    def _configure_embeddings(self):
        """Writes the Projector config for the model's `Embedding` layers."""
        metadata = self.embeddings_metadata
        if metadata is not None and not isinstance(metadata, str):
            metadata = dict(metadata)
        entries = []
        for layer in getattr(self._model, "layers", []):
            if layer.__class__.__name__ != "Embedding":
                continue
            entry = ['  tensor_name: "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"']
            if metadata is not None:
                if isinstance(metadata, str):
                    entry.append(f"  metadata_path: {json.dumps(metadata)}")
                elif layer.name in metadata:
                    entry.append(f"  metadata_path: {json.dumps(metadata.pop(layer.name))}")
            entries.append("embeddings {\n" + "\n".join(entry) + "\n}\n")
        if metadata and not isinstance(metadata, str):
            raise ValueError(
                "Unrecognized `Embedding` layer names passed to "
                "`keras.callbacks.TensorBoard` `embeddings_metadata` "
                f"argument: {metadata.keys()}"
            )
        os.makedirs(self._log_write_dir, exist_ok=True)
        path = os.path.join(self._log_write_dir, "projector_config.pbtxt")
        with open(path, "w") as f:
            f.write("".join(entries))

    # ---------------------------------------------------------------- profiling
    def _init_profile_batch(self, profile_batch):
        error_message = (
            "profile_batch must be a non-negative integer or 2-tuple of positive "
            "integers. A pair of positive integers signifies a range of batches "
            f"to profile. Found: {profile_batch}"
        )
        if isinstance(profile_batch, str):
            try:
                profile_batch = [int(p) for p in profile_batch.split(",")]
            except ValueError:
                raise ValueError(error_message) from None
            if len(profile_batch) == 1:
                profile_batch = profile_batch[0]
        if isinstance(profile_batch, int) and not isinstance(profile_batch, bool):
            self._start_batch = profile_batch
            self._stop_batch = profile_batch
        elif isinstance(profile_batch, (tuple, list)) and len(profile_batch) == 2:
            self._start_batch, self._stop_batch = profile_batch
        else:
            raise ValueError(error_message)
        if self._start_batch < 0 or self._stop_batch < self._start_batch:
            raise ValueError(error_message)
        self._profiler_started = False
        self._batch_trace_context = None
        self._is_tracing = False
        self._should_trace = not (self._start_batch == 0 and self._stop_batch == 0)

    def _start_trace(self):
        if not self._profiler_started:
            import jax  # noqa: PLC0415

            try:
                jax.profiler.start_trace(self._train_dir)
                self._profiler_started = True
            except Exception as e:  # Profiler errors should not be fatal.
                warnings.warn(f"TensorBoard: failed to start the JAX profiler: {e}", stacklevel=2)
        self._is_tracing = True

    def _stop_trace(self):
        if self._batch_trace_context is not None:
            self._batch_trace_context.__exit__(None, None, None)
            self._batch_trace_context = None
        if self._profiler_started:
            import jax  # noqa: PLC0415

            try:
                jax.profiler.stop_trace()
            except Exception as e:
                warnings.warn(f"TensorBoard: failed to stop the JAX profiler: {e}", stacklevel=2)
            finally:
                self._profiler_started = False
        self._is_tracing = False

    # -------------------------------------------------------------------- hooks
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0

    def on_train_end(self, logs=None):
        if self._is_tracing:
            self._stop_trace()
        self._close_writers()
        self._writers = {}

    def on_test_begin(self, logs=None):
        self._test_step = self._global_test_batch

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "iterations") and logs:
            if self.update_freq == "epoch" or self._should_record(self._test_step):
                step = int(np.asarray(optimizer.iterations))
                writer = self._val_writer
                for name, value in logs.items():
                    self._scalar(writer, f"evaluation_{name}_vs_iterations", value, step)
                writer.flush()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()
        if not self._should_trace:
            return
        if self._global_train_batch == self._start_batch:
            self._start_trace()
        if self._profiler_started:
            import jax  # noqa: PLC0415

            self._batch_trace_context = jax.profiler.TraceAnnotation(f"Profiled batch {batch}")
            self._batch_trace_context.__enter__()

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self._should_record(step):
            writer = self._train_writer
            if self.write_steps_per_second:
                batch_run_time = time.time() - self._batch_start_time
                if batch_run_time > 0:
                    writer.add_scalar("batch_steps_per_second", 1.0 / batch_run_time, step)
            if isinstance(logs, dict):
                # Values may be device arrays: they are fetched only for recorded steps.
                for name, value in logs.items():
                    self._scalar(writer, f"batch_{name}", value, step)
        if not self._should_trace:
            return
        if self._is_tracing:
            if self._batch_trace_context is not None:
                self._batch_trace_context.__exit__(None, None, None)
                self._batch_trace_context = None
            if self._global_train_batch >= self._stop_batch:
                self._stop_trace()

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1
        self._test_step = self._global_test_batch

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._previous_epoch_iterations = float(np.asarray(self.model.optimizer.iterations))
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        """Runs metrics and histogram summaries at epoch end."""
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._log_embeddings(epoch)
        self._flush_writers()

    # ------------------------------------------------------------------ helpers
    def _collect_learning_rate(self, logs):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return logs
        if hasattr(optimizer, "inner_optimizer"):  # LossScaleOptimizer
            optimizer = optimizer.inner_optimizer
        if hasattr(optimizer, "optimizers"):
            for opt in optimizer.optimizers:
                logs[f"learning_rate_{opt.name}"] = float(np.asarray(opt.learning_rate))
        elif hasattr(optimizer, "learning_rate"):
            logs["learning_rate"] = float(np.asarray(optimizer.learning_rate))
        return logs

    def _compute_steps_per_second(self):
        current_iteration = float(np.asarray(self.model.optimizer.iterations))
        time_since_epoch_begin = time.time() - self._epoch_start_time
        return float(
            np.float32(current_iteration - self._previous_epoch_iterations)
            / np.float32(time_since_epoch_begin)
        )

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k: v for k, v in logs.items() if k.startswith("val_")}
        train_logs = self._collect_learning_rate(train_logs)
        if self.write_steps_per_second:
            train_logs["steps_per_second"] = self._compute_steps_per_second()
        if train_logs:
            writer = self._train_writer
            for name, value in train_logs.items():
                self._scalar(writer, f"epoch_{name}", value, epoch)
        if val_logs:
            writer = self._val_writer
            for name, value in val_logs.items():
                self._scalar(writer, f"epoch_{name[4:]}", value, epoch)

    def _log_weights(self, epoch):
        """Logs the weights of the model's layers as histograms (and images)."""
        writer = self._train_writer
        for layer in getattr(self.model, "layers", []):
            for weight in layer.weights:
                weight_name = weight.path.replace(":", "_")
                values = np.asarray(weight)
                writer.add_histogram(f"{weight_name}/histogram", values, global_step=epoch)
                if self.write_images:
                    self._log_weight_as_image(values, f"{weight_name}/image", epoch)
        writer.flush()

    def _log_weight_as_image(self, weight, weight_name, epoch):
        """Logs a weight as an image, shaped as Keras does (NHWC)."""
        w_img = np.squeeze(np.asarray(weight, dtype=np.float32))
        shape = w_img.shape
        if len(shape) == 1:  # Bias case
            w_img = np.reshape(w_img, [1, shape[0], 1, 1])
        elif len(shape) == 2:  # Dense layer kernel case
            if shape[0] > shape[1]:
                w_img = np.transpose(w_img)
                shape = w_img.shape
            w_img = np.reshape(w_img, [1, shape[0], shape[1], 1])
        elif len(shape) == 3:  # ConvNet case
            from keras_on_jax.backend import config  # noqa: PLC0415

            if config.image_data_format() == "channels_last":
                # Switch to channels_first to display every kernel as a separate image.
                w_img = np.transpose(w_img, [2, 0, 1])
                shape = w_img.shape
            w_img = np.reshape(w_img, [shape[0], shape[1], shape[2], 1])
        shape = w_img.shape
        # Not possible to handle 3D convnets etc.
        if len(shape) == 4 and shape[-1] in [1, 3, 4]:
            self._train_writer.add_images(weight_name, w_img, global_step=epoch, dataformats="NHWC")

    def _log_embeddings(self, epoch):
        embeddings_ckpt = os.path.join(
            self._log_write_dir, "train", f"keras_embedding.ckpt-{epoch}.weights.h5"
        )
        self.model.save_weights(embeddings_ckpt)
