"""F-beta and F1 scores."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.backend import config
from keras_on_jax.metrics.metric import Metric


class FBetaScore(Metric):
    """F-beta score: the weighted harmonic mean of precision and recall."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', "
                f"'weighted'}}. Received: average={average}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                "Invalid `beta` argument value. It should be a Python float. Received: "
                f"beta={beta} of type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float. "
                    f"Received: threshold={threshold} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                    f"Received: threshold={threshold}"
                )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None
        self._built = False
        if self.average != "micro":
            self.axis = 0

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received "
                f"input shapes: y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}."
            )
        num_classes = y_pred_shape[-1]
        init_shape = (num_classes,) if self.average != "micro" else ()

        def zeros_var(name):
            return self.add_variable(name=name, shape=init_shape, initializer="zeros", dtype=self.dtype)

        self.true_positives = zeros_var("true_positives")
        self.false_positives = zeros_var("false_positives")
        self.false_negatives = zeros_var("false_negatives")
        self.intermediate_weights = zeros_var("intermediate_weights")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = jnp.asarray(y_true).astype(self.dtype)
        y_pred = jnp.asarray(y_pred).astype(self.dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            threshold = jnp.max(y_pred, axis=-1, keepdims=True)
            y_pred = jnp.logical_and(y_pred >= threshold, jnp.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.astype(self.dtype)
        if sample_weight is not None:
            sample_weight = jnp.asarray(sample_weight).astype(self.dtype)

        def weighted_sum(val):
            if sample_weight is not None:
                val = val * jnp.expand_dims(sample_weight, 1)
            return jnp.sum(val, axis=self.axis)

        self.true_positives.assign(self.true_positives.value + weighted_sum(y_pred * y_true))
        self.false_positives.assign(self.false_positives.value + weighted_sum(y_pred * (1 - y_true)))
        self.false_negatives.assign(self.false_negatives.value + weighted_sum((1 - y_pred) * y_true))
        self.intermediate_weights.assign(self.intermediate_weights.value + weighted_sum(y_true))

    def result(self):
        eps = config.epsilon()
        tp = self.true_positives.value
        precision = tp / (tp + self.false_positives.value + eps)
        recall = tp / (tp + self.false_negatives.value + eps)
        mean = (precision * recall) / (self.beta**2 * precision + recall + eps)
        f1_score = mean * (1 + self.beta**2)
        if self.average == "weighted":
            w = self.intermediate_weights.value
            weights = w / (jnp.sum(w) + eps)
            f1_score = jnp.sum(f1_score * weights)
        elif self.average is not None:
            f1_score = jnp.mean(f1_score)
        return f1_score

    def get_config(self):
        config_ = {
            "name": self.name,
            "dtype": self.dtype,
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }
        return {**super().get_config(), **config_}

    def reset_state(self):
        for v in self.variables:
            v.assign(jnp.zeros(v.shape, dtype=v.dtype))


class F1Score(FBetaScore):
    """F1 score: the harmonic mean of precision and recall."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        base_config = super().get_config()
        del base_config["beta"]
        return base_config
