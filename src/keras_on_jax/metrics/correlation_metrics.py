"""Pearson and concordance correlation metrics."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.backend import config
from keras_on_jax.losses.loss import _to_array, squeeze_or_expand_to_same_rank
from keras_on_jax.metrics.reduction_metrics import MeanMetricWrapper


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson correlation coefficient along `axis`."""
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_true_norm = y_true - jnp.mean(y_true, axis=axis, keepdims=True)
    y_pred_norm = y_pred - jnp.mean(y_pred, axis=axis, keepdims=True)
    y_true_norm = y_true_norm / jnp.std(y_true_norm, axis=axis, keepdims=True)
    y_pred_norm = y_pred_norm / jnp.std(y_pred_norm, axis=axis, keepdims=True)
    return jnp.mean(y_true_norm * y_pred_norm, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Concordance correlation coefficient along `axis` (computed as Keras 3 does)."""
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_true_mean = jnp.mean(y_true, axis=axis, keepdims=True)
    y_pred_mean = jnp.mean(y_pred, axis=axis, keepdims=True)
    y_true_var = jnp.var(y_true - y_true_mean, axis=axis, keepdims=True)
    y_pred_var = jnp.var(y_pred - y_pred_mean, axis=axis, keepdims=True)
    covar = (y_true - y_pred_mean) * (y_pred - y_pred_mean)
    norm = y_true_var + y_pred_var + jnp.square(y_true_mean - y_pred_mean)
    return jnp.mean(2 * covar / (norm + config.epsilon()), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Pearson correlation coefficient, averaged over batches."""

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(fn=pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """Concordance correlation coefficient, averaged over batches."""

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(fn=concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}
