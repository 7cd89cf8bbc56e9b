"""`keras.utils.Progbar`: a text progress bar with Keras 3's exact output format.

Values passed to `update()` may be JAX device arrays. They are kept as they are and
converted to Python floats only when the bar actually renders (at most every `interval`
seconds with `verbose=1`, and on the final update), so a training loop that updates the
bar on every batch never waits for the device on batches that are not displayed.
"""

import math
import os
import sys
import time

import numpy as np


def print_msg(message, line_break=True):
    """Prints `message` to stdout (or through `keras_on_jax.utils.io_utils` when present).

    When the package's `io_utils` module provides `print_msg` (interactive logging can
    then be switched to absl logging), it is used; otherwise the message goes to stdout.
    """
    try:  # pragma: no cover - depends on a module owned by another part of the package
        from keras_on_jax.utils import io_utils  # noqa: PLC0415

        fn = getattr(io_utils, "print_msg", None)
    except Exception:
        fn = None
    if fn is not None:
        fn(message, line_break=line_break)
        return
    message = str(message)
    message = f"{message}\n" if line_break else message
    try:
        sys.stdout.write(message)
    except UnicodeEncodeError:
        encoding = sys.stdout.encoding or "utf-8"
        message = message.replace("━", "=").encode(encoding, errors="ignore").decode(encoding)
        sys.stdout.write(message)
    sys.stdout.flush()


def _to_number(value):
    """Converts a log value (Python number, NumPy or JAX array) to a host value."""
    if isinstance(value, (int, float)):
        return value
    arr = np.asarray(value)
    if arr.ndim == 0:
        return arr.item() if arr.dtype.kind in "biuf" else arr
    return float(np.mean(arr))


class Progbar:
    """Displays a progress bar.

    If neither of `stateful_metrics` and `stateless_metrics` is provided, all
    metrics are assumed to be stateless (averaged by the progress bar before
    display).

    Args:
        target: Total number of steps expected, None if unknown.
        width: Progress bar width on screen.
        verbose: Verbosity mode, 0 (silent), 1 (verbose), 2 (semi-verbose)
        stateful_metrics: Iterable of string names of metrics that should *not*
            be averaged over time. Metrics in this list will be displayed as-is.
            If provided, do not provide `stateless_metrics`.
        stateless_metrics: Iterable of string names of metrics that *should* be
            averaged over time. If provided, do not provide `stateful_metrics`.
        interval: Minimum visual progress update interval (in seconds).
        unit_name: Display name for step counts (usually "step" or "sample").
    """

    def __init__(
        self,
        target,
        width=20,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        stateless_metrics=None,
        unit_name="step",
    ):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Progbar: only one of `stateful_metrics` or `stateless_metrics` can be "
                f"provided. Received: stateful_metrics={stateful_metrics}, "
                f"stateless_metrics={stateless_metrics}"
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        if stateful_metrics is not None:
            self.stateful_metrics = set(stateful_metrics)
            self.stateless_metrics = None
        elif stateless_metrics is not None:
            self.stateful_metrics = None
            self.stateless_metrics = set(stateless_metrics)
        else:
            self.stateful_metrics = set()
            self.stateless_metrics = None

        self._dynamic_display = (
            (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
            or "ipykernel" in sys.modules
            or "posix" in sys.modules
            or "PYCHARM_HOSTED" in os.environ
        )
        self._seen_so_far = 0
        # name -> [sum, count] of host values already folded in.
        self._values = {}
        # name -> list of (raw value, weight) not yet converted to host values.
        self._pending = {}
        self._values_order = []
        self._start = time.time()
        self._last_update = 0
        self._time_at_epoch_start = self._start
        self._time_after_first_step = None
        self._prev_total_width = 0

    def _is_stateless(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _record(self, current, values, finalize):
        """Records the raw values of one update without converting them."""
        for k, v in values:
            if k not in self._values_order:
                self._values_order.append(k)
            if self._is_stateless(k) and not finalize:
                weight = max(current - self._seen_so_far, 1)
                self._pending.setdefault(k, []).append((v, weight))
            else:
                # Displayed as-is (stateful), or the final value replaces the average.
                self._pending[k] = [(v, None)]
                self._values.pop(k, None)

    def _materialize(self):
        """Converts pending raw values to host numbers (the only device sync)."""
        for k, items in self._pending.items():
            for v, weight in items:
                v = _to_number(v)
                if weight is None:
                    self._values[k] = [v, 1]
                elif k not in self._values:
                    self._values[k] = [v * weight, weight]
                else:
                    self._values[k][0] += v * weight
                    self._values[k][1] += weight
        self._pending = {}

    def _average(self, k):
        values, count = self._values[k]
        if not isinstance(values, float):
            values = np.mean(values)
        return values / max(1, count)

    def update(self, current, values=None, finalize=None):
        """Updates the progress bar.

        Args:
            current: Index of current step.
            values: List of tuples: `(name, value_for_last_step)`. If `name` is
                in `stateful_metrics`, `value_for_last_step` will be displayed
                as-is. Else, an average of the metric over time will be
                displayed.
            finalize: Whether this is the last update for the progress bar. If
                `None`, defaults to `current >= self.target`.
        """
        if finalize is None:
            finalize = False if self.target is None else current >= self.target

        self._record(current, values or [], finalize)
        self._seen_so_far = current

        message = ""
        special_char_len = 0
        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)

        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._materialize()

            if self._dynamic_display:
                message += "\b" * self._prev_total_width
                message += "\r"
            else:
                message += "\n"

            if self.target is not None and self.target > 0:
                numdigits = int(math.log10(self.target)) + 1
                bar = f"{int(current):{numdigits}d}/{int(self.target)}"
                bar = f"\x1b[1m{bar}\x1b[0m "
                special_char_len += 8
                prog = float(current) / self.target
                prog_width = int(self.width * prog)
                if prog_width > 0:
                    bar += f"\33[32m{'━' * prog_width}\x1b[0m"
                    special_char_len += 9
                bar += f"\33[37m{'━' * (self.width - prog_width)}\x1b[0m"
                special_char_len += 9
            else:
                bar = f"{int(current):7d}/Unknown"
            message += bar

            if self.target is not None and self.target > 0 and not finalize:
                eta = time_per_unit * (self.target - current)
                if eta > 3600:
                    eta_format = (
                        f"{int(eta // 3600)}:{int((eta % 3600) // 60):02d}:{int(eta % 60):02d}"
                    )
                elif eta > 60:
                    eta_format = f"{int(eta // 60)}:{int(eta % 60):02d}"
                else:
                    eta_format = f"{int(eta)}s"
                info = f" \x1b[1m{eta_format}\x1b[0m"
            else:
                info = f" \x1b[1m{now - self._start:.0f}s\x1b[0m"
            special_char_len += 8

            info += self._format_time(time_per_unit, self.unit_name)

            for k in self._values_order:
                info += f" - {k}:"
                avg = self._average(k)
                if abs(avg) > 1e-3:
                    info += f" {avg:.4f}"
                else:
                    info += f" {avg:.4e}"
            message += info

            total_width = len(bar) + len(info) - special_char_len
            if self._prev_total_width > total_width:
                message += " " * (self._prev_total_width - total_width)
            if finalize:
                message += "\n"

            print_msg(message, line_break=False)
            self._prev_total_width = total_width

        elif self.verbose == 2:
            if finalize and self.target is not None and self.target > 0:
                self._materialize()
                numdigits = int(math.log10(self.target)) + 1
                count = f"{int(current):{numdigits}d}/{int(self.target)}"
                info = f"{count} - {now - self._start:.0f}s"
                info += f" -{self._format_time(time_per_unit, self.unit_name)}"
                for k in self._values_order:
                    info += f" - {k}:"
                    avg = self._average(k)
                    # Keras compares the signed value here (not `abs`).
                    if avg > 1e-3:
                        info += f" {avg:.4f}"
                    else:
                        info += f" {avg:.4e}"
                info += "\n"
                print_msg(info, line_break=False)

        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    def _format_time(self, time_per_unit, unit_name):
        """Formats a duration per unit as `Ns/unit`, `Nms/unit` or `Nus/unit`."""
        if time_per_unit >= 1 or time_per_unit == 0:
            return f" {time_per_unit:.0f}s/{unit_name}"
        elif time_per_unit >= 1e-3:
            return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
        return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"

    def _estimate_step_duration(self, current, now):
        """Estimates one step's duration, ignoring the (slow) first step when possible."""
        if current:
            if self._time_after_first_step is not None and current > 1:
                time_per_unit = (now - self._time_after_first_step) / (current - 1)
            else:
                time_per_unit = (now - self._start) / current
            if current == 1:
                self._time_after_first_step = now
            return time_per_unit
        return 0
