"""`keras.callbacks.History`: records the epoch logs; returned by `fit()`."""

from keras_on_jax.callbacks.callback import Callback, to_float


class History(Callback):
    """Callback that records events into a `History` object.

    This callback is automatically applied to every Keras model. The `History`
    object gets returned by the `fit()` method of models: `history.history` maps
    each metric name to its list of per-epoch values (Python floats), and
    `history.epoch` lists the epoch indices.
    """

    def __init__(self):
        super().__init__()
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(to_float(v))
        # Set the attribute after each epoch so the model holds the latest state.
        self.model.history = self
