"""`MonitorCallback`: the shared "is this an improvement?" logic of EarlyStopping,
ReduceLROnPlateau and ModelCheckpoint (as in Keras 3)."""

import warnings

import numpy as np

from keras_on_jax.callbacks.callback import Callback


def _less(a, b):
    # Keras 3 compares with `ops.less`, i.e. in float32 (JAX's default float).
    return bool(np.less(np.float32(a), np.float32(b)))


def _greater(a, b):
    return bool(np.greater(np.float32(a), np.float32(b)))


def _flatten_metrics(model):
    """The model's metric objects, with compile-time metric containers expanded."""
    out = []
    for m in getattr(model, "metrics", None) or []:
        inner = getattr(m, "metrics", None)
        if isinstance(inner, (list, tuple)):
            out.extend(inner)
    return out


class MonitorCallback(Callback):
    """Base class for callbacks that monitor a quantity and evaluate improvements.

    Args:
        monitor: Quantity to be monitored. Defaults to `"val_loss"`.
        mode: One of `{"auto", "min", "max"}`; in `"auto"` mode the direction is
            inferred from the monitored name (`loss`) or the metric's direction.
        baseline: Initial "best" value; `None` uses the first monitored value.
        min_delta: Minimum change in the monitored quantity to qualify as an
            improvement.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ["auto", "min", "max"]:
            warnings.warn(
                f"{self.__class__.__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=2,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = _less
        elif self.mode == "max":
            self.monitor_op = _greater
        else:
            metric_name = self.monitor.removeprefix("val_")
            if metric_name == "loss":
                self.monitor_op = _less
            for m in _flatten_metrics(self.model):
                if getattr(m, "name", None) == metric_name and hasattr(m, "_direction"):
                    self.monitor_op = _greater if m._direction == "up" else _less
            if self.monitor_op is None:
                raise ValueError(
                    f"{self.__class__.__name__} callback received "
                    f"monitor={self.monitor}, but Keras isn't able to "
                    "automatically determine whether that metric should be "
                    "maximized or minimized. Pass `mode='max'` in order to "
                    "monitor based on the highest metric value, or pass "
                    "`mode='min'` in order to use the lowest value."
                )
        if self.monitor_op is _less:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return self.monitor_op(monitor_value - self.min_delta, reference_value)
