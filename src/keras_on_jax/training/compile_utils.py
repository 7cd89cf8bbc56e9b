"""What `compile()` turns `loss=`, `loss_weights=`, `metrics=` and `weighted_metrics=` into.

`CompileLoss` and `CompileMetrics` align the targets with the model outputs (single,
list, or dict keyed by output name) and run Keras's losses and metrics on each pair.
Both are ordinary stateful objects: inside the compiled step they run under the step's
`StatelessScope`, so their metric state is part of the step state.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from keras_on_jax.metrics.metric import Metric


def _flatten_outputs(y, output_names, what):
    if isinstance(y, dict):
        missing = [n for n in output_names if n not in y]
        if missing and len(output_names) > 1:
            raise ValueError(
                f"Expected `{what}` to have keys for every model output {output_names}; "
                f"missing {missing}. Received keys: {list(y)}"
            )
        if missing:
            return list(y.values())
        return [y[n] for n in output_names]
    if isinstance(y, (list, tuple)):
        return list(y)
    return [y]


def _per_output(spec, output_names, what):
    """Expand a per-output argument (single, list, dict) to a list aligned with outputs."""
    n = len(output_names)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in output_names]
        if unknown:
            raise ValueError(
                f"In the dict argument `{what}`, key(s) {unknown} do not correspond to any model "
                f"output. Received: {what}={spec}; model outputs: {output_names}"
            )
        return [spec.get(name) for name in output_names]
    if isinstance(spec, (list, tuple)) and what in ("loss", "loss_weights"):
        if len(spec) != n:
            raise ValueError(
                f"For a model with {n} output(s), when providing `{what}` as a list, it should "
                f"have as many entries as the model has outputs. Received: {what}={spec}"
            )
        return list(spec)
    return [spec] * n


def _squeeze_or_expand(y_true, y_pred):
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = jnp.squeeze(y_true, -1)
    return y_true, y_pred


class CompileLoss:
    def __init__(self, loss, loss_weights=None, output_names=None):
        self._loss_spec = loss
        self._loss_weights_spec = loss_weights
        self.output_names = output_names
        self.built = False
        self.loss_fns = []
        self.loss_weights = []
        self.output_loss_trackers = []

    def build(self, output_names):
        self.output_names = list(output_names)
        specs = _per_output(self._loss_spec, self.output_names, "loss")
        self.loss_fns = [None if s is None else _get_loss(s) for s in specs]
        weights = self._loss_weights_spec
        self.loss_weights = (
            [1.0] * len(self.output_names) if weights is None
            else [1.0 if w is None else float(w) for w in _per_output(weights, self.output_names, "loss_weights")]
        )
        if len(self.output_names) > 1:
            self.output_loss_trackers = [
                _metrics().Mean(name=f"{name}_loss") if fn is not None else None
                for name, fn in zip(self.output_names, self.loss_fns)
            ]
        self.built = True

    @property
    def variables(self):
        out = []
        for t in self.output_loss_trackers:
            if t is not None:
                out.extend(t.variables)
        return out

    @property
    def metrics(self):
        return [t for t in self.output_loss_trackers if t is not None]

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None):
        total = self.compute(y_true, y_pred, sample_weight)
        if regularization_losses:
            total = total + sum(jnp.asarray(l, dtype=total.dtype) for l in regularization_losses)
        return total

    def compute(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            raise RuntimeError("CompileLoss must be built before it is called.")
        padding = _padding_of(sample_weight)
        if padding is not None:
            # A padded batch (TPUStrategy): the unscaled weights (0 on the padding rows),
            # each loss then rescaled to a mean over the real rows only.
            sample_weight = padding.raw_sample_weight
        ys_true = _flatten_outputs(y_true, self.output_names, "y")
        ys_pred = _flatten_outputs(y_pred, self.output_names, "y_pred")
        sws = (
            _flatten_outputs(sample_weight, self.output_names, "sample_weight")
            if isinstance(sample_weight, (list, tuple, dict)) else [sample_weight] * len(ys_pred)
        )
        if len(ys_true) != len(ys_pred):
            raise ValueError(
                f"The model has {len(ys_pred)} output(s) but received {len(ys_true)} target(s) `y`."
            )
        # Losses are computed in floatx (float64 with floatx="float64"), as in Keras 3.
        from keras_on_jax.backend.config import floatx

        total = jnp.asarray(0.0, dtype=floatx())
        for i, (fn, w, yt, yp, sw) in enumerate(zip(self.loss_fns, self.loss_weights, ys_true, ys_pred, sws)):
            if fn is None or yt is None:
                continue
            value = jnp.asarray(fn(yt, yp, sample_weight=sw), dtype=floatx())
            if padding is not None and getattr(fn, "reduction", None) in _MEAN_REDUCTIONS:
                value = value * (padding.size / padding.num_rows)
            if self.output_loss_trackers and self.output_loss_trackers[i] is not None:
                self.output_loss_trackers[i].update_state(value)
            total = total + w * value
        return total


_MEAN_REDUCTIONS = ("sum_over_batch_size", "mean")


def _padding_of(sample_weight):
    """The step's padding when `sample_weight` is the padded batch's own sample weight."""
    from keras_on_jax.distribute import context

    padding = context.padding()
    if padding is None or sample_weight is not padding.padded_sample_weight:
        return None
    return padding


def _metrics():
    from keras_on_jax import metrics

    return metrics


def _get_loss(identifier):
    from keras_on_jax import losses

    loss = losses.get(identifier)
    if loss is None:
        return None
    if isinstance(loss, losses.Loss):
        return loss
    return losses.LossFunctionWrapper(loss, name=getattr(loss, "__name__", None))


class CompileMetrics(Metric):
    """`compile(metrics=..., weighted_metrics=...)` as one metric, as in Keras 3.

    `model.metrics` holds it (named `"compile_metrics"`) after the loss tracker, so a custom
    step that runs `update_state(y, y_pred, sample_weight)` on each of `model.metrics`
    weights only the `weighted_metrics`; `result()` is a dict of the metrics' values.
    """

    def __init__(self, metrics=None, weighted_metrics=None, output_names=None):
        super().__init__(name="compile_metrics")
        self._metrics_spec = metrics
        self._weighted_spec = weighted_metrics
        self.output_names = output_names
        self.built = False
        self.per_output = []  # list of (metric, output_index, weighted)

    def _expand(self, spec, what):
        n = len(self.output_names)
        if spec is None:
            return [[] for _ in range(n)]
        if isinstance(spec, dict):
            per = _per_output(spec, self.output_names, what)
            return [[] if m is None else (list(m) if isinstance(m, (list, tuple)) else [m]) for m in per]
        if isinstance(spec, (list, tuple)):
            if n > 1 and len(spec) == n and all(isinstance(m, (list, tuple)) or m is None for m in spec):
                return [[] if m is None else list(m) for m in spec]
            return [list(spec) for _ in range(n)]
        return [[spec] for _ in range(n)]

    def build(self, output_names, y_true, y_pred, loss_fns=None):
        self.output_names = list(output_names)
        ys_true = _flatten_outputs(y_true, self.output_names, "y")
        ys_pred = _flatten_outputs(y_pred, self.output_names, "y_pred")
        loss_fns = loss_fns or [None] * len(self.output_names)
        self.per_output = []
        names = set()
        for weighted, spec in ((False, self._metrics_spec), (True, self._weighted_spec)):
            for i, metric_specs in enumerate(self._expand(spec, "weighted_metrics" if weighted else "metrics")):
                for m in metric_specs:
                    if m is None:
                        continue
                    metric = _metrics().resolve_metric(
                        m, ys_true[i] if i < len(ys_true) else None, ys_pred[i], loss_fns[i] if i < len(loss_fns) else None
                    )
                    name = metric.name
                    if len(self.output_names) > 1:
                        name = f"{self.output_names[i]}_{name}"
                    if weighted and name in names:
                        name = f"weighted_{name}"
                    names.add(name)
                    metric._compile_name = name
                    self.per_output.append((metric, i, weighted))
        self.built = True

    @property
    def requested(self):
        """Whether `compile()` was given `metrics` or `weighted_metrics` (Keras 3 lists
        the container in `model.metrics` only then)."""
        return self._metrics_spec is not None or self._weighted_spec is not None

    @property
    def metrics(self):
        return [m for m, _, _ in self.per_output]

    @property
    def variables(self):
        out = []
        for m in self.metrics:
            out.extend(m.variables)
        return out

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.per_output:
            return
        ys_true = _flatten_outputs(y_true, self.output_names, "y")
        ys_pred = _flatten_outputs(y_pred, self.output_names, "y_pred")
        padding = _padding_of(sample_weight)
        if padding is not None:
            sample_weight = padding.raw_sample_weight  # unscaled, 0 on the padding rows
        sws = (
            _flatten_outputs(sample_weight, self.output_names, "sample_weight")
            if isinstance(sample_weight, (list, tuple, dict)) else [sample_weight] * len(ys_pred)
        )
        from keras_on_jax.distribute import context

        step_padding = context.padding()
        for metric, i, weighted in self.per_output:
            if ys_true[i] is None:
                continue
            sw = sws[i] if weighted else None
            if sw is None and step_padding is not None:
                sw = step_padding.row_mask_for(ys_pred[i])  # leave the padding rows out
            metric.update_state(ys_true[i], ys_pred[i], sample_weight=sw)

    def result(self):
        return {m._compile_name: m.result() for m in self.metrics}

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()


def flatten_logs(logs):
    """`logs` with the entries of nested dicts (a `CompileMetrics` result) lifted to the
    top level, in order."""
    if not any(isinstance(v, dict) for v in logs.values()):
        return logs
    out = {}
    for k, v in logs.items():
        if isinstance(v, dict):
            out.update(flatten_logs(v))
        else:
            out[k] = v
    return out


def to_host_logs(logs):
    """Convert a dict of device scalars to Python floats (one transfer)."""
    if not logs:
        return {}
    import jax

    values = jax.device_get(logs)
    out = {}
    for k in logs:
        v = values[k]
        v = np.asarray(v)
        out[k] = float(v) if v.ndim == 0 else v
    return out
