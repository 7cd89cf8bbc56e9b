"""`keras.callbacks.CallbackList`: calls a list of callbacks together."""

from keras_on_jax.callbacks.callback import (
    Callback,
    flatten_logs,
    is_default,
    pythonify_logs,
)
from keras_on_jax.callbacks.history import History
from keras_on_jax.callbacks.progbar_logger import ProgbarLogger


def _flatten_callbacks(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    out = []
    for cb in callbacks:
        if isinstance(cb, (list, tuple)):
            out.extend(_flatten_callbacks(cb))
        elif cb is not None:
            out.append(cb)
    return out


class CallbackList(Callback):
    """Container abstracting a list of callbacks.

    Args:
        callbacks: List of `Callback` instances.
        add_history: Whether a `History` callback should be added, if one
            does not already exist in the `callbacks` list.
        add_progbar: Whether a `ProgbarLogger` callback should be added, if
            one does not already exist in the `callbacks` list.
        model: The `Model` these callbacks are used with.
        **params: If provided, parameters will be passed to each `Callback`
            via `Callback.set_params`.

    Logs handed to batch-level hooks are flattened and sorted by key but their values
    are not converted (they may be JAX arrays, fetched lazily by whoever reads them).
    Logs handed to the epoch-level and begin/end hooks are converted to Python floats.
    """

    def __init__(
        self,
        callbacks=None,
        add_history=False,
        add_progbar=False,
        model=None,
        **params,
    ):
        self.callbacks = _flatten_callbacks(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback) and not all(
                hasattr(cb, name) for name in ("set_model", "set_params", "on_epoch_end")
            ):
                raise TypeError(
                    "CallbackList: every element of `callbacks` must be a "
                    f"`keras.callbacks.Callback` instance. Received: {cb!r} "
                    f"of type {type(cb).__name__}"
                )
        self.params = None
        self._model = None
        self._in_begin_end_block_count = 0
        self._add_default_callbacks(add_history, add_progbar)
        self.set_model(model)
        self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def _add_default_callbacks(self, add_history, add_progbar):
        self._progbar = None
        self._history = None
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                self._progbar = cb
            elif isinstance(cb, History):
                self._history = cb
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)

    def set_model(self, model):
        if not model:
            return
        super().set_model(model)
        if self._history:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def overrides(self, hook_name):
        """Whether any callback overrides the hook `hook_name` (e.g.
        `"on_train_batch_end"`). A trainer may skip building batch logs when none does."""
        for cb in self.callbacks:
            method = getattr(cb, hook_name, None)
            if method is not None and not is_default(method):
                return True
            # `on_train_batch_*` forwards to the legacy `on_batch_*` alias.
            if hook_name.startswith("on_train_batch_"):
                alias = getattr(cb, hook_name.replace("on_train_batch_", "on_batch_"), None)
                if alias is not None and not is_default(alias):
                    return True
        return False

    def observes_batches(self, kind):
        """Whether a callback acts on the batch hooks of `kind` (`"train"`, `"test"`,
        `"predict"`). `fit` fuses several steps into one compiled call only when none
        does, so fusing is never observable: such a callback sees every batch and its
        logs. A hook counts when a class overrides it or when it is set on the instance
        (`LambdaCallback(on_train_batch_end=...)`); the progress bar and `History` do not
        count, nor a built-in callback whose batch hooks are idle (`_observes_batches`).
        """
        hooks = [f"on_{kind}_batch_begin", f"on_{kind}_batch_end"]
        if kind == "train":
            hooks += ["on_batch_begin", "on_batch_end"]
        for cb in self.callbacks:
            if type(cb) in (ProgbarLogger, History):
                continue
            own = getattr(cb, "__dict__", {})
            if any(callable(own.get(hook)) for hook in hooks):
                return True
            observes = getattr(cb, "_observes_batches", None)
            if observes is not None and type(cb).__module__.startswith("keras_on_jax.callbacks"):
                if observes(kind):
                    return True
                continue
            for hook in hooks:
                method = getattr(type(cb), hook, None)
                if method is not None and method is not getattr(Callback, hook, None):
                    return True
        return False

    def _on_begin(self):
        self._in_begin_end_block_count += 1

    def _on_end(self):
        self._in_begin_end_block_count -= 1
        if self._in_begin_end_block_count < 0:
            self._in_begin_end_block_count = 0
            raise ValueError(
                "CallbackList: `on_xxx_end` called without a corresponding `on_xxx_begin`."
            )

    # Batch-level hooks: values are passed through unconverted.
    def _call_batch_hook(self, hook, batch, logs):
        logs = flatten_logs(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(batch, logs=logs)

    def on_batch_begin(self, batch, logs=None):
        self._call_batch_hook("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._call_batch_hook("on_batch_end", batch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call_batch_hook("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call_batch_hook("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch_hook("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch_hook("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch_hook("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch_hook("on_predict_batch_end", batch, logs)

    # Epoch-level hooks: values are converted to Python floats once.
    def on_epoch_begin(self, epoch, logs=None):
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_train_begin(self, logs=None):
        self._on_begin()
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs=None):
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_train_end(logs)
        self._on_end()

    def on_test_begin(self, logs=None):
        self._on_begin()
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_test_begin(logs)

    def on_test_end(self, logs=None):
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_test_end(logs)
        self._on_end()

    def on_predict_begin(self, logs=None):
        self._on_begin()
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_predict_begin(logs)

    def on_predict_end(self, logs=None):
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            callback.on_predict_end(logs)
        self._on_end()
