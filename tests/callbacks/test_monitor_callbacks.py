"""EarlyStopping / ReduceLROnPlateau / LearningRateScheduler against real Keras 3, run
over the same synthetic sequences of epoch logs with the same fake model."""

import keras
import numpy as np
import pytest

from keras_on_jax import callbacks as kj_callbacks

LOSSES = {
    "down_then_flat": [1.0, 0.8, 0.7, 0.7, 0.71, 0.69, 0.72, 0.73, 0.74, 0.75, 0.76, 0.6],
    "noisy": [0.5, 0.6, 0.4, 0.45, 0.41, 0.39, 0.5, 0.52, 0.38, 0.6, 0.61, 0.62],
    "tiny_steps": [
        1.0,
        0.99995,
        0.9999,
        0.99985,
        0.9998,
        0.9,
        0.89999,
        0.89998,
        0.89997,
        0.89996,
        0.89995,
        0.89994,
    ],
    "rising": [0.1 * i for i in range(1, 13)],
}


def _run_epochs(cb, model, logs_seq, capsys):
    cb.set_model(model)
    cb.set_params({"epochs": len(logs_seq), "steps": 1, "verbose": 0})
    cb.on_train_begin()
    epochs_run = 0
    lrs = []
    seen_logs = []
    for epoch, logs in enumerate(logs_seq):
        cb.on_epoch_begin(epoch)
        model.set_weights([np.full((2, 2), epoch, "float32"), np.full((2,), -epoch, "float32")])
        logs = dict(logs)
        cb.on_epoch_end(epoch, logs)
        seen_logs.append(logs)
        lrs.append(float(model.optimizer.learning_rate))
        epochs_run += 1
        if model.stop_training:
            break
    cb.on_train_end()
    out = capsys.readouterr().out
    return epochs_run, lrs, [w.copy() for w in model.get_weights()], out, seen_logs


def _compare(make_cb_kwargs, cls_name, logs_seq, fake_model_cls, capsys, metrics=None):
    ref_cb = getattr(keras.callbacks, cls_name)(**make_cb_kwargs)
    kj_cb = getattr(kj_callbacks, cls_name)(**make_cb_kwargs)
    ref = _run_epochs(ref_cb, fake_model_cls(metrics=metrics), logs_seq, capsys)
    got = _run_epochs(kj_cb, fake_model_cls(metrics=metrics), logs_seq, capsys)
    assert got[0] == ref[0]  # epochs run
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-6)  # learning rates
    for g, r in zip(got[2], ref[2], strict=True):
        np.testing.assert_array_equal(g, r)  # final weights
    assert got[3] == ref[3]  # printed messages
    assert got[4] == ref[4]  # logs as mutated by the callbacks
    for attr in ("best", "wait", "stopped_epoch", "best_epoch", "cooldown_counter"):
        if hasattr(ref_cb, attr):
            assert getattr(kj_cb, attr) == pytest.approx(getattr(ref_cb, attr)), attr
    return got


EARLY_CONFIGS = [
    dict(monitor="loss"),
    dict(monitor="loss", patience=2, verbose=1),
    dict(monitor="loss", patience=3, restore_best_weights=True, verbose=1),
    dict(monitor="loss", patience=1, min_delta=0.05),
    dict(monitor="loss", patience=2, min_delta=-0.01),
    dict(monitor="loss", patience=2, baseline=0.65, verbose=1),
    dict(monitor="loss", patience=2, baseline=0.3, restore_best_weights=True, verbose=1),
    dict(monitor="loss", patience=1, start_from_epoch=4, restore_best_weights=True),
    dict(monitor="loss", patience=2, mode="max", verbose=1),
    dict(monitor="val_loss", patience=2, mode="min"),
    dict(monitor="acc", patience=2, mode="max", restore_best_weights=True),
]


@pytest.mark.parametrize("kwargs", EARLY_CONFIGS)
@pytest.mark.parametrize("seq", sorted(LOSSES))
def test_early_stopping_matches_keras(kwargs, seq, fake_model_cls, capsys):
    logs_seq = [{"loss": v, "val_loss": v + 0.1, "acc": 1.0 - v} for v in LOSSES[seq]]
    _compare(kwargs, "EarlyStopping", logs_seq, fake_model_cls, capsys)


def test_early_stopping_reuse_across_fits(fake_model_cls, capsys):
    cb = kj_callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    logs_seq = [{"loss": v} for v in LOSSES["rising"]]
    first = _run_epochs(cb, fake_model_cls(), logs_seq, capsys)
    second = _run_epochs(cb, fake_model_cls(), logs_seq, capsys)
    assert first[0] == second[0] == 2
    np.testing.assert_array_equal(second[2][0], np.zeros((2, 2)))  # epoch 0 restored


def test_early_stopping_missing_monitor_warns(fake_model_cls):
    cb = kj_callbacks.EarlyStopping(monitor="val_loss")
    cb.set_model(fake_model_cls())
    cb.on_train_begin()
    with pytest.warns(UserWarning, match="val_loss.*Available metrics are: loss"):
        cb.on_epoch_end(0, {"loss": 1.0})
    assert cb.wait == 0


def test_auto_mode_needs_known_direction(fake_model_cls):
    cb = kj_callbacks.EarlyStopping(monitor="val_auc")
    cb.set_model(fake_model_cls())
    with pytest.raises(ValueError, match="monitor=val_auc"):
        cb.on_epoch_end(0, {"val_auc": 0.5})


def test_auto_mode_reads_metric_direction(fake_model_cls, capsys):
    class Metric:
        def __init__(self, name, direction):
            self.name = name
            self._direction = direction

    class Container:  # like Keras's CompileMetrics: a metric holding `.metrics`
        name = "compile_metrics"

        def __init__(self, metrics):
            self.metrics = metrics

    model = fake_model_cls(metrics=[Container([Metric("auc", "up"), Metric("mse", "down")])])
    cb = kj_callbacks.EarlyStopping(monitor="val_auc", patience=1)
    logs_seq = [{"val_auc": v} for v in [0.5, 0.6, 0.55, 0.54, 0.7]]
    got = _run_epochs(cb, model, logs_seq, capsys)
    assert got[0] == 3  # maximised: stops at the first epoch without a higher AUC
    cb = kj_callbacks.EarlyStopping(monitor="val_mse", patience=0)
    model.stop_training = False  # (reset by the trainer at each fit)
    got = _run_epochs(cb, model, [{"val_mse": v} for v in [0.5, 0.4, 0.45]], capsys)
    assert got[0] == 3


def test_unknown_mode_warns():
    with pytest.warns(UserWarning, match="mode 'up' is unknown"):
        cb = kj_callbacks.EarlyStopping(mode="up")
    assert cb.mode == "auto"


def test_early_stopping_reads_device_values(fake_model_cls, capsys):
    import jax.numpy as jnp

    cb = kj_callbacks.EarlyStopping(monitor="loss", patience=1)
    logs_seq = [{"loss": jnp.float32(v)} for v in LOSSES["rising"]]
    got = _run_epochs(cb, fake_model_cls(), logs_seq, capsys)
    assert got[0] == 2 and isinstance(cb.best, float)


REDUCE_CONFIGS = [
    dict(monitor="loss"),
    dict(monitor="loss", patience=1, verbose=1),
    dict(monitor="loss", patience=2, factor=0.5, cooldown=2, verbose=1),
    dict(monitor="loss", patience=1, factor=0.2, min_lr=0.0005, verbose=1),
    dict(monitor="loss", patience=0, min_delta=0.05, factor=0.5),
    dict(monitor="loss", patience=1, mode="max", cooldown=1),
    dict(monitor="val_loss", patience=2, min_delta=0.0),
    dict(monitor="learning_rate", patience=1, mode="min", factor=0.5),
]


@pytest.mark.parametrize("kwargs", REDUCE_CONFIGS)
@pytest.mark.parametrize("seq", sorted(LOSSES))
def test_reduce_lr_on_plateau_matches_keras(kwargs, seq, fake_model_cls, capsys):
    logs_seq = [{"loss": v, "val_loss": v + 0.1} for v in LOSSES[seq]]
    _compare(kwargs, "ReduceLROnPlateau", logs_seq, fake_model_cls, capsys)


def test_reduce_lr_rejects_factor_ge_one():
    with pytest.raises(ValueError, match="factor=1.5"):
        kj_callbacks.ReduceLROnPlateau(factor=1.5)


def test_reduce_lr_missing_monitor_warns(fake_model_cls):
    cb = kj_callbacks.ReduceLROnPlateau(monitor="val_loss")
    cb.set_model(fake_model_cls())
    cb.on_train_begin()
    with pytest.warns(UserWarning, match="val_loss"):
        cb.on_epoch_end(0, {"loss": 1.0})


class _MultiOptimizer:
    def __init__(self, *opts):
        self.optimizers = list(opts)


@pytest.mark.parametrize("cls_name", ["ReduceLROnPlateau", "LearningRateScheduler"])
def test_multi_optimizer_matches_keras(cls_name, fake_model_cls, capsys):
    FakeOptimizer = type(fake_model_cls().optimizer)  # noqa: N806

    def make_model():
        model = fake_model_cls()
        model.optimizer = _MultiOptimizer(FakeOptimizer(0.1, "a"), FakeOptimizer(0.01, "b"))
        return model

    if cls_name == "ReduceLROnPlateau":
        kwargs = dict(monitor="loss", patience=1, verbose=1, min_lr=0.005)
    else:
        kwargs = dict(schedule=lambda epoch, lr: lr * 0.5, verbose=1)
    results = []
    for mod in (keras.callbacks, kj_callbacks):
        model = make_model()
        cb = getattr(mod, cls_name)(**kwargs)
        cb.set_model(model)
        cb.on_train_begin()
        trace = []
        for epoch, v in enumerate(LOSSES["rising"][:5]):
            logs = {"loss": v}
            cb.on_epoch_begin(epoch)
            cb.on_epoch_end(epoch, logs)
            trace.append((logs, [o.learning_rate for o in model.optimizer.optimizers]))
        results.append((trace, capsys.readouterr().out))
    assert results[1][1] == results[0][1]
    for (lg, lr_g), (lr_ref_logs, lr_r) in zip(results[1][0], results[0][0], strict=True):
        assert lg == pytest.approx(lr_ref_logs)
        np.testing.assert_allclose(lr_g, lr_r, rtol=1e-6)


SCHEDULES = {
    "halve_after_2": lambda epoch, lr: lr if epoch < 2 else lr * 0.5,
    "exp_np": lambda epoch, lr: float(lr * np.exp(-0.1)),
    "np32": lambda epoch, lr: np.float32(0.1 / (epoch + 1)),
    "old_api": lambda epoch: 0.01 * (epoch + 1),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("verbose", [0, 1])
def test_learning_rate_scheduler_matches_keras(name, verbose, fake_model_cls, capsys):
    logs_seq = [{"loss": v} for v in LOSSES["noisy"][:6]]
    _compare(
        dict(schedule=SCHEDULES[name], verbose=verbose),
        "LearningRateScheduler",
        logs_seq,
        fake_model_cls,
        capsys,
    )


def test_learning_rate_scheduler_rejects_non_float(fake_model_cls):
    cb = kj_callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    cb.set_model(fake_model_cls())
    with pytest.raises(ValueError, match="should be a float. Got: fast"):
        cb.on_epoch_begin(0)


def test_learning_rate_scheduler_accepts_scalar_jax_array(fake_model_cls):
    import jax.numpy as jnp

    cb = kj_callbacks.LearningRateScheduler(lambda epoch, lr: lr * jnp.exp(-0.1))
    model = fake_model_cls(learning_rate=0.01)
    cb.set_model(model)
    cb.on_epoch_begin(0)
    assert isinstance(model.optimizer.learning_rate, float)
    assert model.optimizer.learning_rate == pytest.approx(0.01 * np.exp(-0.1), rel=1e-6)
