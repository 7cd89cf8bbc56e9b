"""Mixed precision: policies, float32 variables, half compute, loss scaling, accuracy."""

import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax import mixed_precision


def _keras():
    import keras

    return keras


@pytest.fixture(autouse=True)
def _reset_policy():
    yield
    mixed_precision.set_global_policy("float32")
    _keras().mixed_precision.set_global_policy("float32")


def test_public_names_match_keras():
    keras = _keras()
    ours = {n for n in dir(mixed_precision) if not n.startswith("_")}
    theirs = {n for n in dir(keras.mixed_precision) if not n.startswith("_")}
    assert theirs <= ours
    assert mixed_precision.LossScaleOptimizer is kj.optimizers.LossScaleOptimizer
    assert mixed_precision.Policy is mixed_precision.DTypePolicy


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16", "float32"])
def test_global_policy_variable_and_compute_dtypes(policy):
    keras = _keras()
    mixed_precision.set_global_policy(policy)
    keras.mixed_precision.set_global_policy(policy)
    assert mixed_precision.global_policy().name == keras.mixed_precision.global_policy().name
    assert mixed_precision.dtype_policy().name == policy
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    ours = kj.layers.Dense(5)
    theirs = keras.layers.Dense(5)
    yo, yt = ours(x), theirs(x)
    assert ours.compute_dtype == theirs.compute_dtype
    assert ours.variable_dtype == theirs.variable_dtype == "float32"
    assert ours.dtype_policy.name == theirs.dtype_policy.name == policy
    assert ours.kernel.dtype == "float32" and ours.bias.dtype == "float32"
    assert str(yo.dtype) == str(yt.dtype) == ours.compute_dtype


def test_per_layer_policy():
    layer = kj.layers.Dense(2, dtype="mixed_bfloat16")
    out = layer(np.ones((1, 3), "float32"))
    assert layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32"
    assert str(out.dtype) == "bfloat16" and layer.kernel.dtype == "float32"
    layer = kj.layers.Dense(2, dtype=mixed_precision.DTypePolicy("mixed_float16"))
    assert layer.compute_dtype == "float16"
    assert layer.get_config()["dtype"]["config"]["name"] == "mixed_float16"


def _layer_pair(name, **kwargs):
    keras = _keras()
    import importlib

    ours_cls = getattr(kj.layers, name, None)
    if ours_cls is None:
        for mod in ("normalization.batch_normalization", "normalization.layer_normalization"):
            module = importlib.import_module(f"keras_on_jax.layers.{mod}")
            ours_cls = getattr(module, name, None) or ours_cls
    return ours_cls(**kwargs), getattr(keras.layers, name)(**kwargs)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("name,kwargs", [
    ("Dense", {"units": 4, "activation": "softmax"}),
    ("BatchNormalization", {}),
    ("LayerNormalization", {}),
])
def test_layer_numerics_match_keras_under_mixed_policy(policy, name, kwargs):
    keras = _keras()
    ours, theirs = _layer_pair(name, dtype=policy, **kwargs)
    x = (np.random.default_rng(1).standard_normal((6, 5)) * 3 + 1).astype("float32")
    theirs(x)
    ours(x)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    for training in (False, True):
        yo = ours(x, training=training) if name == "BatchNormalization" else ours(x)
        yt = theirs(x, training=training) if name == "BatchNormalization" else theirs(x)
        assert str(yo.dtype) == str(keras.ops.convert_to_numpy(yt).dtype) or str(yo.dtype) == str(yt.dtype)
        np.testing.assert_allclose(np.asarray(yo, "float32"), np.asarray(yt, "float32"),
                                   rtol=1e-2, atol=1e-2)
    for wo, wt in zip(ours.weights, theirs.weights):
        assert wo.dtype == "float32"
        np.testing.assert_allclose(wo.numpy(), np.asarray(wt), rtol=1e-5, atol=1e-6)


def test_losses_accumulate_in_float32():
    keras = _keras()
    rng = np.random.default_rng(2)
    y_pred = rng.random((512, 10)).astype("float16")
    y_true = np.eye(10, dtype="float32")[rng.integers(0, 10, 512)]
    for name in ("MeanSquaredError", "CategoricalCrossentropy"):
        ours = getattr(kj.losses, name)()(y_true, y_pred)
        theirs = getattr(keras.losses, name)()(y_true, y_pred)
        assert str(ours.dtype) == "float32"
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-6)


def _mlp(seed, n_in=64):
    kj.utils.set_random_seed(seed)
    return kj.Sequential([
        kj.Input((n_in,)),
        kj.layers.Dense(32, activation="relu"),
        kj.layers.Dense(10, activation="softmax"),
    ])


def test_compile_wraps_optimizer_in_loss_scale_optimizer():
    mixed_precision.set_global_policy("mixed_float16")
    model = _mlp(0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert isinstance(model.optimizer, mixed_precision.LossScaleOptimizer)
    mixed_precision.set_global_policy("mixed_bfloat16")
    model = _mlp(0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert not isinstance(model.optimizer, mixed_precision.LossScaleOptimizer)


def test_loss_scaling_recovers_from_overflow_in_fit():
    mixed_precision.set_global_policy("mixed_float16")
    model = _mlp(0, n_in=8)
    opt = mixed_precision.LossScaleOptimizer(kj.optimizers.SGD(0.01), initial_scale=2.0**40)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((160, 8)).astype("float32")
    y = rng.integers(0, 10, 160)
    before = model.get_weights()
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    scale = float(opt.dynamic_scale.numpy())
    # Overflowing steps were skipped and halved the scale until gradients were finite.
    assert scale < 2.0**40
    skipped = int(round(np.log2(2.0**40 / scale)))
    assert 0 < skipped < 40
    assert int(opt.iterations.numpy()) == 40 - skipped
    after = model.get_weights()
    assert all(np.all(np.isfinite(w)) for w in after)
    assert all(w.dtype == np.float32 for w in after)
    assert not all(np.allclose(a, b) for a, b in zip(after, before))
    assert np.isfinite(history.history["loss"][-1])


def _digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    y = data.target.astype("int32")
    idx = np.random.default_rng(0).permutation(len(x))
    x, y = x[idx], y[idx]
    return (x[:1400], y[:1400]), (x[1400:], y[1400:])


def test_mlp_on_digits_trains_to_float32_accuracy():
    (x, y), (xt, yt) = _digits()
    accuracies = {}
    for policy in ("float32", "mixed_bfloat16", "mixed_float16"):
        mixed_precision.set_global_policy(policy)
        model = _mlp(7)
        model.compile(optimizer=kj.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x, y, batch_size=64, epochs=10, verbose=0)
        assert all(w.dtype == np.float32 for w in model.get_weights())
        accuracies[policy] = model.evaluate(xt, yt, verbose=0, return_dict=True)["accuracy"]
    assert accuracies["float32"] > 0.93
    print(accuracies)
    for policy in ("mixed_bfloat16", "mixed_float16"):
        assert abs(accuracies[policy] - accuracies["float32"]) <= 0.01, accuracies
