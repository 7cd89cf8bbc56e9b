"""`keras.callbacks.LearningRateScheduler`."""

import numpy as np

from keras_on_jax.callbacks.callback import Callback
from keras_on_jax.utils.progbar import print_msg


class LearningRateScheduler(Callback):
    """Learning rate scheduler.

    At the beginning of every epoch, this callback gets the updated learning
    rate value from `schedule` function provided at `__init__`, with the current
    epoch and current learning rate, and applies the updated learning rate on
    the optimizer.

    Args:
        schedule: A function that takes an epoch index (integer, indexed from 0)
            and current learning rate (float) as inputs and returns a new
            learning rate as output (float).
        verbose: Integer. 0: quiet, 1: log update messages.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def _update_optimizer_lr(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError(
                'LearningRateScheduler: the optimizer must have a "learning_rate" '
                f"attribute. Received optimizer: {optimizer!r}"
            )
        try:  # new API: schedule(epoch, lr)
            learning_rate = float(np.asarray(optimizer.learning_rate))
            learning_rate = self.schedule(epoch, learning_rate)
        except TypeError:  # old API: schedule(epoch)
            learning_rate = self.schedule(epoch)

        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            # A scalar JAX array (e.g. `lr * ops.exp(-0.1)`) is accepted and converted.
            arr = np.asarray(learning_rate) if hasattr(learning_rate, "__array__") else None
            if arr is not None and arr.ndim == 0 and arr.dtype.kind == "f":
                learning_rate = float(arr)
            else:
                raise ValueError(
                    f"The output of the `schedule` function should be a float. Got: {learning_rate}"
                )
        optimizer.learning_rate = learning_rate
        return learning_rate

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if hasattr(optimizer, "optimizers"):
            for opt in optimizer.optimizers:
                learning_rate = self._update_optimizer_lr(opt, epoch)
                if self.verbose > 0:
                    print_msg(
                        f"\nEpoch {epoch + 1}: LearningRateScheduler setting "
                        f"{opt.name} learning rate to {learning_rate}."
                    )
        else:
            learning_rate = self._update_optimizer_lr(optimizer, epoch)
            if self.verbose > 0:
                print_msg(
                    f"\nEpoch {epoch + 1}: LearningRateScheduler setting "
                    f"learning rate to {learning_rate}."
                )

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        optimizer = self.model.optimizer
        if hasattr(optimizer, "optimizers"):
            for opt in optimizer.optimizers:
                logs[f"learning_rate_{opt.name}"] = float(np.asarray(opt.learning_rate))
        else:
            logs["learning_rate"] = float(np.asarray(optimizer.learning_rate))
