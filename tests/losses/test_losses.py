"""keras_on_jax.losses against real Keras 3 (the oracle)."""

import keras
import numpy as np
import pytest

from loss_test_data import B, _data

from keras_on_jax import losses

CASES = [
    ("MeanSquaredError", {}, "reg"),
    ("MeanAbsoluteError", {}, "reg"),
    ("MeanAbsolutePercentageError", {}, "reg"),
    ("MeanSquaredLogarithmicError", {}, "reg"),
    ("CosineSimilarity", {}, "reg"),
    ("CosineSimilarity", {"axis": 0}, "reg"),
    ("Huber", {"delta": 0.5}, "reg"),
    ("LogCosh", {}, "reg"),
    ("Poisson", {}, "reg"),
    ("KLDivergence", {}, "cat"),
    ("Hinge", {}, "hinge"),
    ("Hinge", {}, "binary"),
    ("SquaredHinge", {}, "hinge"),
    ("CategoricalHinge", {}, "cat"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary"),
    ("BinaryCrossentropy", {}, "binary1"),
    ("BinaryFocalCrossentropy", {}, "binary"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "from_logits": True, "gamma": 1.5}, "binary"),
    ("CategoricalCrossentropy", {}, "cat"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "cat"),
    ("CategoricalFocalCrossentropy", {}, "cat"),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "alpha": 0.5}, "cat"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse"),
    ("SparseCategoricalCrossentropy", {}, "sparse_col"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, "sparse"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2, "from_logits": True}, "sparse"),
    ("Dice", {}, "seg"),
    ("Dice", {"axis": (1, 2, 3)}, "seg"),
    ("Tversky", {"alpha": 0.3, "beta": 0.7}, "seg"),
    ("Tversky", {"axis": (1, 2, 3)}, "seg"),
]
REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", None]


def _kind_logits(kwargs):
    return kwargs.get("from_logits", False)


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_loss_classes_match_keras(name, kwargs, kind):
    yt, yp = _data(kind, _kind_logits(kwargs))
    sw = np.random.default_rng(1).uniform(0, 2, (B,)).astype("float32")
    for reduction in REDUCTIONS:
        ours = getattr(losses, name)(reduction=reduction, **kwargs)
        ref = getattr(keras.losses, name)(reduction=reduction, **kwargs)
        for weight in (None, sw):
            try:
                want = np.asarray(ref(yt, yp, sample_weight=weight))
            except Exception:
                with pytest.raises(Exception):  # noqa: B017 - whatever Keras raises
                    ours(yt, yp, sample_weight=weight)
                continue
            got = np.asarray(ours(yt, yp, sample_weight=weight))
            assert got.shape == want.shape, (reduction, weight is None)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{reduction}")
    assert ours.get_config() == ref.get_config()
