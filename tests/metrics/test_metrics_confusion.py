"""Threshold, IoU and F-score metrics against real Keras 3: accumulation, sample weights, reset, config."""

import pytest

from _metrics_oracle import C, check_metric_against_keras

CASES = [
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.3, 0.6]}, "binary_flat"),
    ("Precision", {"top_k": 2}, "binary"),
    ("Precision", {"class_id": 1}, "binary"),
    ("Recall", {}, "binary"),
    ("Recall", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "binary"),
    ("Recall", {"top_k": 1, "class_id": 2}, "binary"),
    ("TruePositives", {}, "binary"),
    ("FalsePositives", {"thresholds": [0.2, 0.8]}, "binary"),
    ("TrueNegatives", {}, "binary1"),
    ("FalseNegatives", {}, "binary"),
    ("PrecisionAtRecall", {"recall": 0.5}, "binary"),
    ("RecallAtPrecision", {"precision": 0.6}, "binary"),
    ("SensitivityAtSpecificity", {"specificity": 0.4, "num_thresholds": 20}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7, "class_id": 0}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7, "num_thresholds": 1}, "binary"),
    ("F1Score", {}, "onehot_scores"),
    ("F1Score", {"average": "macro", "threshold": 0.5}, "binary"),
    ("FBetaScore", {"average": "weighted", "beta": 2.0}, "onehot_scores"),
    ("FBetaScore", {"average": "micro", "beta": 0.5, "threshold": 0.4}, "binary"),
    ("IoU", {"num_classes": C, "target_class_ids": [0, 2]}, "labels"),
    ("MeanIoU", {"num_classes": C}, "labels"),
    ("MeanIoU", {"num_classes": C, "ignore_class": 0}, "labels"),
    ("BinaryIoU", {}, "binary_flat"),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, "binary_flat"),
    ("OneHotIoU", {"num_classes": C, "target_class_ids": [1, 3]}, "onehot_scores"),
    ("OneHotMeanIoU", {"num_classes": C}, "onehot_scores"),
]


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_metric_classes_match_keras(name, kwargs, kind):
    check_metric_against_keras(name, kwargs, kind)
