"""`keras.callbacks.Callback`: the base class with every Keras 3 hook.

Batch-level hooks may receive logs whose values are JAX device arrays (the trainer does
not wait for the device on every batch). A callback that needs a number converts what it
reads (see `to_float`); epoch-level hooks called through `CallbackList` receive Python
floats.
"""

import numpy as np


def default(method):
    """Marks a hook as the do-nothing default, so callers can tell if it is overridden."""
    method._is_default = True
    return method


def is_default(method):
    """Whether `method` is a hook left at its `Callback` default."""
    return getattr(method, "_is_default", False)


def to_float(value):
    """Converts a scalar log value (Python, NumPy, JAX array, Variable) to a Python float.

    Values that cannot be converted (strings, non-scalar arrays) are returned unchanged.
    """
    if isinstance(value, float):
        return value
    if isinstance(value, (str, bytes)) or value is None:
        return value
    try:
        arr = np.asarray(value)
    except Exception:
        return value
    if arr.ndim != 0 or arr.dtype.kind not in "biuf":
        return value
    return float(arr)


def flatten_logs(logs):
    """Flattens nested log dicts and sorts the keys, leaving the values untouched."""
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(flatten_logs(value))
        else:
            result[key] = value
    return result


def pythonify_logs(logs):
    """Flattens, sorts and converts log values to Python floats where possible."""
    return {k: to_float(v) for k, v in flatten_logs(logs).items()}


class Callback:
    """Base class used to build new callbacks.

    Callbacks can be passed to `fit()`, `evaluate()` and `predict()` to hook into the
    stages of training, evaluation and inference. Subclass it and override the methods
    for the stages of interest.

    Attributes:
        params: Dict. Training parameters (eg. verbosity, number of epochs, steps).
        model: Instance of `Model`, the model being trained.
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        # As in Keras 3 on JAX: a trainer holding state outside the model's variables
        # writes it back before a callback looks at the model.
        if hasattr(self._model, "jax_state_sync"):
            self._model.jax_state_sync()
        return self._model

    @default
    def on_batch_begin(self, batch, logs=None):
        """A backwards compatibility alias for `on_train_batch_begin`."""

    @default
    def on_batch_end(self, batch, logs=None):
        """A backwards compatibility alias for `on_train_batch_end`."""

    @default
    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch (training only)."""

    @default
    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch with the epoch's metric results
        (validation results prefixed with `val_`)."""

    @default
    def on_train_batch_begin(self, batch, logs=None):
        """Called at the beginning of a training batch in `fit`."""
        self.on_batch_begin(batch, logs=logs)

    @default
    def on_train_batch_end(self, batch, logs=None):
        """Called at the end of a training batch in `fit` with the aggregated metric
        results up until this batch."""
        self.on_batch_end(batch, logs=logs)

    @default
    def on_test_batch_begin(self, batch, logs=None):
        """Called at the beginning of a batch in `evaluate` (and validation in `fit`)."""

    @default
    def on_test_batch_end(self, batch, logs=None):
        """Called at the end of a batch in `evaluate` (and validation in `fit`)."""

    @default
    def on_predict_batch_begin(self, batch, logs=None):
        """Called at the beginning of a batch in `predict`."""

    @default
    def on_predict_batch_end(self, batch, logs=None):
        """Called at the end of a batch in `predict`."""

    @default
    def on_train_begin(self, logs=None):
        """Called at the beginning of training."""

    @default
    def on_train_end(self, logs=None):
        """Called at the end of training."""

    @default
    def on_test_begin(self, logs=None):
        """Called at the beginning of evaluation or validation."""

    @default
    def on_test_end(self, logs=None):
        """Called at the end of evaluation or validation."""

    @default
    def on_predict_begin(self, logs=None):
        """Called at the beginning of prediction."""

    @default
    def on_predict_end(self, logs=None):
        """Called at the end of prediction."""
