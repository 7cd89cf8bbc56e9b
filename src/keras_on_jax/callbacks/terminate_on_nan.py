"""`keras.callbacks.TerminateOnNaN`."""

import numpy as np

from keras_on_jax.callbacks.callback import Callback, to_float
from keras_on_jax.utils.progbar import print_msg


class TerminateOnNaN(Callback):
    """Callback that terminates training when a NaN or Inf loss is encountered.

    Args:
        raise_error: Boolean, default False. If False, training stops gracefully
            by setting `model.stop_training = True` (so `on_train_end()` still runs).
            If True, a `RuntimeError` is raised immediately.
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        """Checks the batch loss (this fetches it from the device)."""
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None:
            loss = to_float(loss)
            if np.isnan(loss) or np.isinf(loss):
                if self.raise_error:
                    raise RuntimeError(
                        f"NaN or Inf loss encountered at batch {batch}. "
                        f"Loss value: {loss}. Terminating training immediately."
                    )
                print_msg(f"Batch {batch}: Invalid loss, terminating training")
                self.model.stop_training = True
