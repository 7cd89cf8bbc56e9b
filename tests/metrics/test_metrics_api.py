"""keras_on_jax.metrics API against real Keras 3: functions, stateless API under jit,
get/serialize/deserialize, resolve_metric, exported names."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from _metrics_oracle import _batches

from keras_on_jax import backend, losses, metrics

FUNCTIONS = [
    ("binary_accuracy", {"threshold": 0.3}, "binary"),
    ("categorical_accuracy", {}, "cat"),
    ("sparse_categorical_accuracy", {}, "sparse_col"),
    ("top_k_categorical_accuracy", {"k": 2}, "cat"),
    ("sparse_top_k_categorical_accuracy", {"k": 3}, "sparse"),
    ("pearson_correlation", {}, "reg"),
    ("concordance_correlation", {}, "reg"),
    ("huber", {}, "reg"),
    ("binary_focal_crossentropy", {}, "binary"),
]


@pytest.mark.parametrize("name,kwargs,kind", FUNCTIONS)
def test_metric_functions_match_keras(name, kwargs, kind):
    yt, yp, _ = _batches(kind, n=1)[0]
    got = getattr(metrics, name)(yt, yp, **kwargs)
    want = getattr(keras.metrics, name)(yt, yp, **kwargs)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)


def test_sparse_top_k_from_sorted_ids():
    yt = np.array([2, 0, 1], "int32")
    ids = np.array([[2, 1, 0], [1, 2, 0], [0, 2, 1]], "int32")
    got = metrics.sparse_top_k_categorical_accuracy(yt, ids, k=2, from_sorted_ids=True)
    want = keras.metrics.sparse_top_k_categorical_accuracy(yt, ids, k=2, from_sorted_ids=True)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want))
    m = metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    assert m.get_config()["from_sorted_ids"] is True


def test_mean_and_sum_weighting():
    values = np.arange(12, dtype="float32").reshape(4, 3)
    for sw in (None, np.array([1.0, 0.0, 2.0, 0.5], "float32"), np.ones((4, 3), "float32") * 0.5):
        for name in ("Mean", "Sum"):
            ours, ref = getattr(metrics, name)(), getattr(keras.metrics, name)()
            ours.update_state(values, sample_weight=sw)
            ours.update_state(values[:2])
            ref.update_state(values, sample_weight=sw)
            ref.update_state(values[:2])
            np.testing.assert_allclose(np.asarray(ours.result()), np.asarray(ref.result()), rtol=1e-6)
    m = metrics.Mean()
    assert float(m.result()) == 0.0
    assert float(m(5.0)) == 5.0


def test_mean_metric_wrapper_and_config():
    m = metrics.MeanMetricWrapper(losses.huber, name="hub", delta=2.0)
    r = keras.metrics.MeanMetricWrapper(keras.losses.huber, name="hub", delta=2.0)
    yt, yp, sw = _batches("reg", n=1)[0]
    np.testing.assert_allclose(np.asarray(m(yt, yp, sw)), np.asarray(r(yt, yp, sw)), rtol=1e-6)
    assert m.get_config() == r.get_config()
    back = metrics.MeanMetricWrapper.from_config(m.get_config())
    assert back._fn is losses.huber and back._fn_kwargs == {"delta": 2.0}
    assert metrics.serialize(m) == keras.metrics.serialize(r)
    assert type(metrics.deserialize(metrics.serialize(m))) is metrics.MeanMetricWrapper


def test_stateless_api_under_jit_matches_stateful():
    for make in (
        lambda: metrics.AUC(num_thresholds=30),
        lambda: metrics.Precision(thresholds=[0.3, 0.7]),
        metrics.BinaryAccuracy,
        metrics.RootMeanSquaredError,
        lambda: metrics.MeanIoU(num_classes=2, sparse_y_pred=True),
    ):
        stateful, stateless = make(), make()
        is_iou = isinstance(stateful, metrics.MeanIoU)
        batches = _batches("binary_flat" if is_iou else "binary")
        before = [np.asarray(v) for v in stateless.variables]

        @jax.jit
        def step(mvars, yt, yp, sw):
            mvars = stateless.stateless_update_state(mvars, yt, yp, sample_weight=sw)
            return mvars, stateless.stateless_result(mvars)

        mvars = [v.value for v in stateless.variables]
        for yt, yp, sw in batches:
            if is_iou:
                yp = (yp > 0.5).astype("float32")
                sw = np.round(sw).astype("int32")
            mvars, res = step(mvars, yt, yp, sw)
            stateful.update_state(yt, yp, sample_weight=sw)
        np.testing.assert_allclose(np.asarray(res), np.asarray(stateful.result()), rtol=1e-6, atol=1e-7)
        # The stateless metric's own variables are untouched.
        for b, v in zip(before, stateless.variables):
            np.testing.assert_array_equal(b, np.asarray(v))
        reset = stateless.stateless_reset_state()
        assert all(not np.any(np.asarray(x)) for x in reset)
        with pytest.raises(ValueError, match="metric_variables"):
            stateless.stateless_update_state(mvars[:-1], *batches[0][:2])


def test_variables_are_backend_variables():
    m = metrics.Precision(name="prec")
    assert all(isinstance(v, backend.Variable) and not v.trainable for v in m.variables)
    assert [v.path for v in m.variables] == ["prec/true_positives", "prec/false_positives"]
    assert m.dtype == "float32"


def test_custom_metric_and_sub_metric_tracking():
    class Combo(metrics.Metric):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.inner = metrics.Mean(name="inner")
            self.hits = self.add_variable(shape=(), initializer="zeros", name="hits")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.inner.update_state(jnp.abs(y_true - y_pred))
            self.hits.assign(self.hits.value + jnp.sum(y_true == y_pred))

        def result(self):
            return self.inner.result() + self.hits.value

    m = Combo(name="combo")
    assert len(m.variables) == 3
    out = m(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    np.testing.assert_allclose(np.asarray(out), 1.0 + 1.0)
    m.reset_state()
    assert float(m.result()) == 0.0
    assert m.name == "combo" and "combo" in repr(m)


def test_get_serialize_deserialize():
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)
    assert isinstance(metrics.get("mse"), metrics.MeanSquaredError)
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    assert isinstance(metrics.get("binary_accuracy"), metrics.BinaryAccuracy)
    assert metrics.get(metrics.binary_accuracy) is metrics.binary_accuracy
    assert metrics.get(None) is None
    with pytest.raises(ValueError, match="accuracy"):
        metrics.get("nope")
    for ours, ref in [(metrics.AUC(num_thresholds=10, curve="PR"), keras.metrics.AUC(num_thresholds=10, curve="PR")),
                      (metrics.F1Score(average="macro"), keras.metrics.F1Score(average="macro"))]:
        a, b = metrics.serialize(ours), keras.metrics.serialize(ref)
        a["config"].pop("name"), b["config"].pop("name")
        assert a == b
        back = metrics.deserialize(metrics.serialize(ours))
        assert back.get_config() == ours.get_config()
    assert metrics.serialize(metrics.binary_accuracy) == keras.metrics.serialize(keras.metrics.binary_accuracy)
    assert metrics.deserialize(metrics.serialize(metrics.binary_accuracy)) is metrics.binary_accuracy


def test_resolve_metric():
    b1 = np.zeros((4, 1))
    cat = np.zeros((4, 3))
    sparse = np.zeros((4,))
    m = metrics.resolve_metric("accuracy", b1, b1, None)
    assert type(m) is metrics.BinaryAccuracy and m.name == "accuracy"
    m = metrics.resolve_metric("acc", sparse, cat, "sparse_categorical_crossentropy")
    assert type(m) is metrics.SparseCategoricalAccuracy and m.name == "acc"
    m = metrics.resolve_metric("accuracy", np.zeros((4, 1)), cat, None)
    assert type(m) is metrics.SparseCategoricalAccuracy
    m = metrics.resolve_metric("accuracy", cat, cat, None)
    assert type(m) is metrics.CategoricalAccuracy
    m = metrics.resolve_metric("crossentropy", sparse, cat, losses.SparseCategoricalCrossentropy(from_logits=True))
    assert type(m) is metrics.SparseCategoricalCrossentropy and m.from_logits and m.name == "crossentropy"
    m = metrics.resolve_metric("ce", b1, b1, None)
    assert type(m) is metrics.BinaryCrossentropy and not m.from_logits
    m = metrics.resolve_metric("ce", cat, cat, None)
    assert type(m) is metrics.CategoricalCrossentropy
    m = metrics.resolve_metric("mse", cat, cat, None)
    assert type(m) is metrics.MeanSquaredError and m.name == "mse"
    m = metrics.resolve_metric(losses.mean_absolute_error, cat, cat, None)
    assert type(m) is metrics.MeanMetricWrapper and m.name == "mean_absolute_error"
    auc = metrics.AUC(name="my_auc")
    assert metrics.resolve_metric(auc, b1, b1, None) is auc and auc.name == "my_auc"
    with pytest.raises(ValueError, match="None"):
        metrics.resolve_metric(None, b1, b1, None)


def _public(module):
    return {n for n in dir(module) if not n.startswith("_")}


def test_exported_names_match_keras():
    keras_names = _public(keras.metrics)
    missing = keras_names - set(dir(metrics))
    assert not missing, missing
    extra = set(metrics.__all__) - keras_names - {"resolve_metric"}
    assert not extra, extra
