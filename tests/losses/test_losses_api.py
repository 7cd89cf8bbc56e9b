"""keras_on_jax.losses functions, special losses and get/serialize against real Keras 3."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from loss_test_data import B, _data

from keras_on_jax import losses

REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", None]


FUNCTIONS = [
    ("mean_squared_error", {}, "reg"),
    ("mean_absolute_error", {}, "reg"),
    ("mean_absolute_percentage_error", {}, "reg"),
    ("mean_squared_logarithmic_error", {}, "reg"),
    ("cosine_similarity", {}, "reg"),
    ("huber", {"delta": 2.0}, "reg"),
    ("log_cosh", {}, "reg"),
    ("poisson", {}, "reg"),
    ("kl_divergence", {}, "cat"),
    ("hinge", {}, "hinge"),
    ("squared_hinge", {}, "binary"),
    ("categorical_hinge", {}, "cat"),
    ("binary_crossentropy", {"from_logits": True}, "binary"),
    ("binary_focal_crossentropy", {}, "binary"),
    ("categorical_crossentropy", {"label_smoothing": 0.1}, "cat"),
    ("categorical_focal_crossentropy", {}, "cat"),
    ("sparse_categorical_crossentropy", {"from_logits": True}, "sparse"),
    ("sparse_categorical_crossentropy", {"ignore_class": 0}, "sparse"),
    ("dice", {}, "seg"),
    ("tversky", {}, "seg"),
]


@pytest.mark.parametrize("name,kwargs,kind", FUNCTIONS)
def test_loss_functions_match_keras(name, kwargs, kind):
    yt, yp = _data(kind, kwargs.get("from_logits", False))
    got = np.asarray(getattr(losses, name)(yt, yp, **kwargs))
    want = np.asarray(getattr(keras.losses, name)(yt, yp, **kwargs))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_categorical_generalized_cross_entropy():
    yt, yp = _data("sparse")
    for reduction in REDUCTIONS:
        got = losses.CategoricalGeneralizedCrossEntropy(q=0.7, reduction=reduction)(yt, yp)
        want = keras.losses.CategoricalGeneralizedCrossEntropy(q=0.7, reduction=reduction)(yt, yp)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="q"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)


def test_ctc_matches_keras():
    rng = np.random.default_rng(3)
    yt = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [2, 3, 1, 1]], dtype="int32")
    yp = rng.normal(size=(3, 7, 5)).astype("float32")
    want = np.asarray(keras.losses.CTC(reduction=None)(yt, yp))
    np.testing.assert_allclose(np.asarray(losses.CTC(reduction=None)(yt, yp)), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(losses.CTC()(yt, yp)), want.mean(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="y_pred"):
        losses.ctc(yt, yp[0])


def test_circle_matches_keras():
    rng = np.random.default_rng(4)
    emb = rng.normal(size=(8, 5)).astype("float32")
    emb = emb / np.linalg.norm(emb, axis=-1, keepdims=True)
    labels = np.array([0, 1, 0, 2, 1, 2, 0, 3], dtype="int32")  # class 3 has no positive
    sw = rng.uniform(size=(8,)).astype("float32")
    for reduction in ("sum_over_batch_size", "mean_with_sample_weight"):
        for weight in (None, sw):
            got = losses.Circle(reduction=reduction)(labels, emb, sample_weight=weight)
            want = keras.losses.Circle(reduction=reduction)(labels, emb, sample_weight=weight)
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(losses.circle(labels, emb, margin=0.2)),
        np.asarray(keras.losses.circle(labels, emb, margin=0.2)),
        rtol=1e-5,
        atol=1e-5,
    )


def test_sample_weight_shapes_and_mean_reduction():
    yt, yp = _data("reg")
    for weight in (np.float32(2.0), np.ones((B, 1), "float32") * 0.5, np.arange(B, dtype="float32")):
        for reduction in ("mean", "sum_over_batch_size", "sum"):
            got = losses.MeanAbsoluteError(reduction=reduction)(yt, yp, sample_weight=weight)
            want = keras.losses.MeanAbsoluteError(reduction=reduction)(yt, yp, sample_weight=weight)
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5)


def test_rank_mismatch_is_squeezed():
    yt = np.array([1.0, 2.0, 3.0], "float32")
    yp = np.array([[1.5], [2.0], [2.0]], "float32")
    np.testing.assert_allclose(
        np.asarray(losses.MeanSquaredError()(yt, yp)), np.asarray(keras.losses.MeanSquaredError()(yt, yp))
    )


def test_loss_is_jittable_and_differentiable():
    yt, yp = _data("cat", True)
    loss = losses.CategoricalCrossentropy(from_logits=True)
    val = jax.jit(lambda a, b: loss(a, b))(yt, yp)
    np.testing.assert_allclose(np.asarray(val), np.asarray(loss(yt, yp)), rtol=1e-6)
    grad = jax.grad(lambda p: loss(yt, p))(jnp.asarray(yp))
    assert grad.shape == yp.shape and np.all(np.isfinite(np.asarray(grad)))


def test_dtype_argument():
    yt, yp = _data("reg")
    loss = losses.MeanSquaredError(dtype="float16")
    assert loss.dtype == "float16"
    assert loss(yt, yp).dtype == jnp.float16
    assert losses.MeanSquaredError(dtype="mixed_bfloat16").dtype == "bfloat16"


def test_invalid_reduction():
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")


def test_custom_loss_subclass():
    class MyLoss(losses.Loss):
        def call(self, y_true, y_pred):
            return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)

    yt, yp = _data("reg")
    got = MyLoss(reduction="sum")(yt, yp)
    np.testing.assert_allclose(np.asarray(got), np.abs(yt - yp).mean(-1).sum(), rtol=1e-5)
    assert MyLoss().name.startswith("my_loss")


def test_get_and_aliases():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("MAE") is losses.mean_absolute_error
    assert losses.get("sparse_categorical_crossentropy") is losses.sparse_categorical_crossentropy
    assert isinstance(losses.get("BinaryCrossentropy"), losses.BinaryCrossentropy)
    obj = losses.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(obj, losses.CategoricalCrossentropy) and obj.from_logits
    inst = losses.Huber()
    assert losses.get(inst) is inst
    assert losses.get(None) is None
    assert isinstance(losses.get(losses.Hinge), losses.Hinge)
    with pytest.raises(ValueError, match="mean_squared_error"):
        losses.get("not_a_loss")


def test_serialize_matches_keras_and_round_trips():
    for ours, ref in [
        (losses.MeanSquaredError(), keras.losses.MeanSquaredError()),
        (losses.BinaryCrossentropy(from_logits=True), keras.losses.BinaryCrossentropy(from_logits=True)),
        (losses.SparseCategoricalCrossentropy(ignore_class=0), keras.losses.SparseCategoricalCrossentropy(ignore_class=0)),
        (losses.Tversky(alpha=0.2, axis=(1, 2)), keras.losses.Tversky(alpha=0.2, axis=(1, 2))),
    ]:
        cfg = losses.serialize(ours)
        want = keras.losses.serialize(ref)
        assert cfg["class_name"] == want["class_name"]
        assert cfg["module"] == want["module"]
        assert set(cfg["config"]) == set(want["config"])
        back = losses.deserialize(cfg)
        assert type(back) is type(ours)
        assert back.get_config() == ours.get_config()
        # Keras's own config dict loads too.
        assert type(losses.deserialize(want)) is type(ours)
    assert losses.serialize(losses.mean_squared_error) == keras.losses.serialize(keras.losses.mean_squared_error)
    assert losses.deserialize(losses.serialize(losses.huber)) is losses.huber


def test_loss_function_wrapper_config():
    from keras.src.losses import LossFunctionWrapper as KerasLFW

    ours = losses.LossFunctionWrapper(losses.huber, name="w", delta=2.0)
    ref = KerasLFW(keras.losses.huber, name="w", delta=2.0)
    assert ours.get_config() == ref.get_config()
    back = losses.LossFunctionWrapper.from_config(ours.get_config())
    assert back.fn is losses.huber and back._fn_kwargs == {"delta": 2.0}
    yt, yp = _data("reg")
    np.testing.assert_allclose(np.asarray(back(yt, yp)), np.asarray(ref(yt, yp)), rtol=1e-5)


def test_from_config_round_trip_all_classes():
    for name in ["Huber", "CosineSimilarity", "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "Dice", "Circle", "CTC"]:
        obj = getattr(losses, name)(name="x", reduction="sum")
        back = type(obj).from_config(obj.get_config())
        assert back.get_config() == obj.get_config()
        assert obj.get_config() == getattr(keras.losses, name)(name="x", reduction="sum").get_config()


def _public(module):
    return {n for n in dir(module) if not n.startswith("_")}


def test_exported_names_match_keras():
    keras_names = _public(keras.losses)
    missing = keras_names - set(dir(losses))
    assert not missing, missing
    extra = set(losses.__all__) - keras_names
    assert not extra, extra
