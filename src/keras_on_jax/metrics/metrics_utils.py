"""Confusion-matrix helpers shared by the threshold metrics (ported from Keras 3 logic)."""

from __future__ import annotations

from enum import Enum

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import config
from keras_on_jax.losses.loss import squeeze_or_expand_to_same_rank

NEG_INF = -1e10


def _to_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def assert_thresholds_range(thresholds):
    if thresholds is not None:
        invalid = [t for t in thresholds if t is None or t < 0 or t > 1]
        if invalid:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")


def parse_init_thresholds(thresholds, default_threshold=0.5):
    if thresholds is not None:
        assert_thresholds_range(_to_list(thresholds))
    return _to_list(default_threshold if thresholds is None else thresholds)


class ConfusionMatrix(Enum):
    TRUE_POSITIVES = "tp"
    FALSE_POSITIVES = "fp"
    TRUE_NEGATIVES = "tn"
    FALSE_NEGATIVES = "fn"


class AUCCurve(Enum):
    ROC = "ROC"
    PR = "PR"
    PRGAIN = "PRGAIN"

    @staticmethod
    def from_str(key):
        if key in ("pr", "PR"):
            return AUCCurve.PR
        if key in ("roc", "ROC"):
            return AUCCurve.ROC
        if key in ("prgain", "PRGAIN"):
            return AUCCurve.PRGAIN
        raise ValueError(
            f'Invalid AUC curve value: "{key}". Expected values are ["PR", "ROC", "PRGAIN"]'
        )


class AUCSummationMethod(Enum):
    INTERPOLATION = "interpolation"
    MAJORING = "majoring"
    MINORING = "minoring"

    @staticmethod
    def from_str(key):
        if key in ("interpolation", "Interpolation"):
            return AUCSummationMethod.INTERPOLATION
        if key in ("majoring", "Majoring"):
            return AUCSummationMethod.MAJORING
        if key in ("minoring", "Minoring"):
            return AUCSummationMethod.MINORING
        raise ValueError(
            f'Invalid AUC summation method value: "{key}". Expected values are '
            '["interpolation", "majoring", "minoring"]'
        )


def is_evenly_distributed_thresholds(thresholds):
    num_thresholds = len(thresholds)
    if num_thresholds < 3:
        return False
    even = np.arange(num_thresholds, dtype=np.float32) / (num_thresholds - 1)
    return np.allclose(thresholds, even, atol=config.epsilon())


def _reverse_cumsum(x, axis=-1):
    return jnp.flip(jnp.cumsum(jnp.flip(x, axis=axis), axis=axis), axis=axis)


def _update_optimized(
    variables_to_update,
    y_true,
    y_pred,
    thresholds,
    multi_label=False,
    sample_weights=None,
    label_weights=None,
    thresholds_with_epsilon=False,
):
    """Bucketed update for evenly spaced thresholds: O(N) instead of O(N*T)."""
    num_thresholds = thresholds.shape[0]
    if sample_weights is None:
        sample_weights = 1.0
    else:
        sample_weights = jnp.broadcast_to(sample_weights.astype(y_pred.dtype), y_pred.shape)
        if not multi_label:
            sample_weights = jnp.reshape(sample_weights, (-1,))
    if label_weights is None:
        label_weights = 1.0
    else:
        label_weights = jnp.broadcast_to(jnp.expand_dims(label_weights, 0), y_pred.shape)
        if not multi_label:
            label_weights = jnp.reshape(label_weights, (-1,))
    weights = jnp.asarray(jnp.multiply(sample_weights, label_weights)).astype(y_true.dtype)
    y_pred = jnp.clip(y_pred, 0.0, 1.0)
    y_true = y_true.astype(bool).astype(y_true.dtype)
    if not multi_label:
        y_true = jnp.reshape(y_true, (-1,))
        y_pred = jnp.reshape(y_pred, (-1,))
    true_labels = y_true * weights
    false_labels = (1.0 - y_true) * weights
    bucket_indices = jnp.ceil(y_pred * (jnp.asarray(num_thresholds, y_pred.dtype) - 1)) - 1
    if thresholds_with_epsilon:
        bucket_indices = jax.nn.relu(bucket_indices)
    bucket_indices = bucket_indices.astype("int32")
    if multi_label:
        true_labels = true_labels.T
        false_labels = false_labels.T
        bucket_indices = bucket_indices.T

        def gather(label, idx):
            return jax.ops.segment_sum(label, idx, num_segments=num_thresholds)

        tp_bucket = jax.vmap(gather)(true_labels, bucket_indices)
        fp_bucket = jax.vmap(gather)(false_labels, bucket_indices)
        tp = _reverse_cumsum(tp_bucket, axis=1).T
        fp = _reverse_cumsum(fp_bucket, axis=1).T
    else:
        tp_bucket = jax.ops.segment_sum(true_labels, bucket_indices, num_segments=num_thresholds)
        fp_bucket = jax.ops.segment_sum(false_labels, bucket_indices, num_segments=num_thresholds)
        tp = _reverse_cumsum(tp_bucket)
        fp = _reverse_cumsum(fp_bucket)
    if multi_label:
        total_true = jnp.sum(true_labels, axis=1)
        total_false = jnp.sum(false_labels, axis=1)
    else:
        total_true = jnp.sum(true_labels)
        total_false = jnp.sum(false_labels)
    updates = {
        ConfusionMatrix.TRUE_POSITIVES: lambda: tp,
        ConfusionMatrix.FALSE_POSITIVES: lambda: fp,
        ConfusionMatrix.TRUE_NEGATIVES: lambda: total_false - fp,
        ConfusionMatrix.FALSE_NEGATIVES: lambda: total_true - tp,
    }
    for key, make in updates.items():
        if key in variables_to_update:
            var = variables_to_update[key]
            var.assign(var.value + make())


def _filter_top_k(x, k):
    _, top_k_idx = jax.lax.top_k(x, k)
    top_k_mask = jnp.sum(jax.nn.one_hot(top_k_idx, x.shape[-1], axis=-1, dtype=x.dtype), axis=-2)
    return x * top_k_mask + NEG_INF * (1 - top_k_mask)


def update_confusion_matrix_variables(
    variables_to_update,
    y_true,
    y_pred,
    thresholds,
    top_k=None,
    class_id=None,
    sample_weight=None,
    multi_label=False,
    label_weights=None,
    thresholds_distributed_evenly=False,
):
    """Accumulate true/false positives/negatives at the given thresholds."""
    if multi_label and label_weights is not None:
        raise ValueError(
            "`label_weights` for multilabel data should be handled outside of "
            "`update_confusion_matrix_variables` when `multi_label` is True."
        )
    if variables_to_update is None:
        return
    valid_keys = list(ConfusionMatrix)
    invalid = [k for k in variables_to_update if k not in valid_keys]
    if invalid or not variables_to_update:
        raise ValueError(
            f'Invalid keys: "{invalid}". Valid variable key options are: "{valid_keys}"'
        )
    variable_dtype = list(variables_to_update.values())[0].dtype
    y_true = jnp.asarray(y_true).astype(variable_dtype)
    y_pred = jnp.asarray(y_pred).astype(variable_dtype)
    if thresholds_distributed_evenly:
        thresholds_with_epsilon = bool(thresholds[0] < 0.0 or thresholds[-1] > 1.0)
    thresholds = jnp.asarray(np.asarray(thresholds), dtype=variable_dtype)
    num_thresholds = thresholds.shape[0]

    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = jnp.expand_dims(jnp.asarray(sample_weight).astype(variable_dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if len(y_pred.shape) == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {y_pred.shape}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]

    if thresholds_distributed_evenly:
        return _update_optimized(
            variables_to_update,
            y_true,
            y_pred,
            thresholds,
            multi_label=multi_label,
            sample_weights=sample_weight,
            label_weights=label_weights,
            thresholds_with_epsilon=thresholds_with_epsilon,
        )

    if multi_label:
        # [T, N, L] comparisons; weights broadcast over the thresholds.
        preds = jnp.expand_dims(y_pred, 0)
        labels = jnp.expand_dims(y_true.astype(bool), 0)
        thresh = jnp.reshape(thresholds, (num_thresholds,) + (1,) * y_pred.ndim)
    else:
        preds = jnp.reshape(y_pred, (1, -1))
        labels = jnp.reshape(y_true.astype(bool), (1, -1))
        thresh = jnp.reshape(thresholds, (num_thresholds, 1))
    pred_is_pos = preds > thresh
    weights = None
    if sample_weight is not None:
        weights = jnp.broadcast_to(sample_weight.astype(y_pred.dtype), y_pred.shape)
        weights = jnp.expand_dims(weights, 0) if multi_label else jnp.reshape(weights, (1, -1))
    if label_weights is not None and not multi_label:
        lw = jnp.broadcast_to(jnp.expand_dims(jnp.asarray(label_weights), 0), y_pred.shape)
        lw = jnp.reshape(lw, (1, -1)).astype(y_pred.dtype)
        weights = lw if weights is None else weights * lw

    def weighted_assign_add(label, pred, var):
        label_and_pred = jnp.logical_and(label, pred)
        if weights is not None:
            result = jnp.where(label_and_pred, weights.astype(var.dtype), 0)
        else:
            result = label_and_pred.astype(var.dtype)
        var.assign(var.value + jnp.sum(result, axis=1))

    label_is_neg = jnp.logical_not(labels)
    pred_is_neg = jnp.logical_not(pred_is_pos)
    conditions = {
        ConfusionMatrix.TRUE_POSITIVES: (labels, pred_is_pos),
        ConfusionMatrix.FALSE_NEGATIVES: (labels, pred_is_neg),
        ConfusionMatrix.FALSE_POSITIVES: (label_is_neg, pred_is_pos),
        ConfusionMatrix.TRUE_NEGATIVES: (label_is_neg, pred_is_neg),
    }
    for key, (label, pred) in conditions.items():
        if key in variables_to_update:
            weighted_assign_add(label, pred, variables_to_update[key])


def confusion_matrix(labels, predictions, num_classes, weights=None, dtype="int32"):
    """A `(num_classes, num_classes)` confusion matrix (rows: labels, cols: predictions)."""
    labels = jnp.asarray(labels).astype(dtype)
    predictions = jnp.asarray(predictions).astype(dtype)
    labels, predictions = squeeze_or_expand_to_same_rank(labels, predictions)
    values = jnp.ones_like(predictions, dtype) if weights is None else jnp.asarray(weights)
    values = values.astype(dtype)
    num_classes = int(num_classes)
    cm = jnp.zeros((num_classes, num_classes), dtype=dtype)
    return cm.at[labels.astype("int32"), predictions.astype("int32")].add(values)


