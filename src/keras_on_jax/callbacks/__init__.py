"""`keras.callbacks`: hooks into `fit()`, `evaluate()` and `predict()`."""

from keras_on_jax.callbacks.backup_and_restore import BackupAndRestore
from keras_on_jax.callbacks.callback import Callback
from keras_on_jax.callbacks.callback_list import CallbackList
from keras_on_jax.callbacks.csv_logger import CSVLogger
from keras_on_jax.callbacks.early_stopping import EarlyStopping
from keras_on_jax.callbacks.history import History
from keras_on_jax.callbacks.lambda_callback import LambdaCallback
from keras_on_jax.callbacks.learning_rate_scheduler import LearningRateScheduler
from keras_on_jax.callbacks.model_checkpoint import ModelCheckpoint
from keras_on_jax.callbacks.monitor_callback import MonitorCallback  # noqa: F401
from keras_on_jax.callbacks.orbax_checkpoint import OrbaxCheckpoint
from keras_on_jax.callbacks.progbar_logger import ProgbarLogger
from keras_on_jax.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from keras_on_jax.callbacks.remote_monitor import RemoteMonitor
from keras_on_jax.callbacks.swap_ema_weights import SwapEMAWeights
from keras_on_jax.callbacks.tensorboard import TensorBoard
from keras_on_jax.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "Callback",
    "CallbackList",
    "CSVLogger",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "OrbaxCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
]
