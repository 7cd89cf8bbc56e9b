"""Mean-based metrics (regression, accuracy, probabilistic, hinge, correlation) against real Keras 3."""

import pytest

from _metrics_oracle import C, check_metric_against_keras

CASES = [
    ("MeanSquaredError", {}, "reg"),
    ("MeanAbsoluteError", {}, "reg"),
    ("MeanAbsolutePercentageError", {}, "reg"),
    ("MeanSquaredLogarithmicError", {}, "reg"),
    ("RootMeanSquaredError", {}, "reg"),
    ("CosineSimilarity", {}, "reg"),
    ("LogCoshError", {}, "reg"),
    ("R2Score", {}, "reg"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "reg"),
    ("R2Score", {"class_aggregation": None, "num_regressors": 2}, "reg"),
    ("PearsonCorrelation", {}, "reg"),
    ("ConcordanceCorrelation", {}, "reg"),
    ("KLDivergence", {}, "cat"),
    ("Poisson", {}, "reg"),
    ("Hinge", {}, "hinge"),
    ("SquaredHinge", {}, "binary"),
    ("CategoricalHinge", {}, "cat"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "cat"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, "sparse"),
    ("Accuracy", {}, "labels"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.7}, "binary1"),
    ("CategoricalAccuracy", {}, "cat"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_col"),
    ("TopKCategoricalAccuracy", {"k": 2}, "cat"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse"),
]


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_metric_classes_match_keras(name, kwargs, kind):
    check_metric_against_keras(name, kwargs, kind)
