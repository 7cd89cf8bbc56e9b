"""AUC variants against real Keras 3: accumulation, sample weights, reset, config."""

import pytest

from _metrics_oracle import C, check_metric_against_keras

CASES = [
    ("AUC", {}, "binary"),
    ("AUC", {"curve": "PR"}, "binary"),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, "binary"),
    ("AUC", {"curve": "PRGAIN", "summation_method": "minoring"}, "binary"),
    ("AUC", {"thresholds": [0.2, 0.5, 0.9]}, "binary"),
    ("AUC", {"multi_label": True}, "binary"),
    ("AUC", {"multi_label": True, "num_labels": C, "thresholds": [0.3, 0.6]}, "binary"),
    ("AUC", {"label_weights": [0.1, 0.2, 0.3, 0.4], "num_thresholds": 50}, "binary"),
    ("AUC", {"from_logits": True}, "logits"),
]


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_metric_classes_match_keras(name, kwargs, kind):
    check_metric_against_keras(name, kwargs, kind)
