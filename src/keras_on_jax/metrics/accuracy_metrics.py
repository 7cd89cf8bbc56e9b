"""Accuracy metrics and their function forms."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.backend import config
from keras_on_jax.losses.loss import _to_array, squeeze_or_expand_to_same_rank
from keras_on_jax.metrics.reduction_metrics import MeanMetricWrapper


def accuracy(y_true, y_pred):
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).astype(config.floatx())


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of `y_pred > threshold` matching binary `y_true`."""
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true)
    threshold = jnp.asarray(threshold)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = (y_pred > threshold).astype(y_true.dtype)
    return (y_true == y_pred).astype(config.floatx())


class BinaryAccuracy(MeanMetricWrapper):
    """How often predictions match binary labels."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


def categorical_accuracy(y_true, y_pred):
    """Whether `argmax(y_pred)` equals `argmax(y_true)` (one-hot labels)."""
    y_true = jnp.argmax(_to_array(y_true), axis=-1)
    reshape_matches = False
    y_pred = _to_array(y_pred)
    y_true = y_true.astype(y_pred.dtype)
    y_true_org_shape = y_true.shape
    if len(y_true.shape) == len(y_pred.shape):
        y_true = jnp.squeeze(y_true, -1)
        reshape_matches = True
    y_pred = jnp.argmax(y_pred, axis=-1).astype(y_true.dtype)
    matches = (y_true == y_pred).astype(config.floatx())
    if reshape_matches:
        matches = jnp.reshape(matches, y_true_org_shape)
    return matches


class CategoricalAccuracy(MeanMetricWrapper):
    """How often predictions match one-hot labels."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def sparse_categorical_accuracy(y_true, y_pred):
    """Whether `argmax(y_pred)` equals the integer label `y_true`."""
    reshape_matches = False
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true, y_pred.dtype)
    y_true_org_shape = y_true.shape
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = jnp.squeeze(y_true, -1)
        reshape_matches = True
    y_pred = jnp.argmax(y_pred, axis=-1).astype(y_true.dtype)
    matches = (y_true == y_pred).astype(config.floatx())
    if reshape_matches:
        matches = jnp.reshape(matches, y_true_org_shape)
    if len(matches.shape) > 1 and matches.shape[-1] == 1:
        matches = jnp.squeeze(matches, -1)
    return matches


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often predictions match integer labels."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def _in_top_k(targets, predictions, k):
    preds_at_label = jnp.take_along_axis(predictions, jnp.expand_dims(targets, -1), axis=-1)
    preds_at_label = jnp.where(jnp.isnan(preds_at_label), -jnp.inf, preds_at_label)
    rank = 1 + jnp.sum(predictions > preds_at_label, axis=-1)
    return rank <= k


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Whether the one-hot target is in the top `k` predictions."""
    reshape_matches = False
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true, y_pred.dtype)
    y_true = jnp.argmax(y_true, axis=-1)
    y_true_org_shape = y_true.shape
    if len(y_pred.shape) > 2:
        y_pred = jnp.reshape(y_pred, (-1, y_pred.shape[-1]))
    if len(y_true.shape) > 1:
        reshape_matches = True
        y_true = jnp.reshape(y_true, (-1,))
    matches = _in_top_k(y_true.astype("int32"), y_pred, k).astype(config.floatx())
    if reshape_matches:
        matches = jnp.reshape(matches, y_true_org_shape)
    return matches


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top `k` predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """Whether the integer target is in the top `k` predictions (or in the first `k`
    sorted ids when `from_sorted_ids=True`)."""
    reshape_matches = False
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true, y_pred.dtype if from_sorted_ids else "int32")
    y_true_org_shape = y_true.shape
    if len(y_pred.shape) > 2:
        y_pred = jnp.reshape(y_pred, (-1, y_pred.shape[-1]))
    if len(y_true.shape) > 1:
        reshape_matches = True
        y_true = jnp.reshape(y_true, (-1,))
    if from_sorted_ids:
        matches = jnp.any(jnp.expand_dims(y_true, axis=1) == y_pred[:, :k], axis=1)
    else:
        matches = _in_top_k(y_true, y_pred, k)
    matches = matches.astype(config.floatx())
    if reshape_matches:
        matches = jnp.reshape(matches, y_true_org_shape)
    return matches


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top `k` predictions."""

    def __init__(
        self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False
    ):
        super().__init__(
            fn=sparse_top_k_categorical_accuracy,
            name=name,
            dtype=dtype,
            k=k,
            from_sorted_ids=from_sorted_ids,
        )
        self.k = k
        self.from_sorted_ids = from_sorted_ids
        self._direction = "up"

    def get_config(self):
        config_ = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config_["from_sorted_ids"] = True
        return config_


