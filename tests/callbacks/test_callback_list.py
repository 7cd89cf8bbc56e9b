"""Callback base, CallbackList, History and ProgbarLogger (against real Keras 3)."""

import jax.numpy as jnp
import keras
import numpy as np
import pytest
from keras.src.utils import progbar as keras_progbar_module

from keras_on_jax import callbacks as kj_callbacks
from keras_on_jax.callbacks.callback import is_default
from keras_on_jax.utils import progbar as kj_progbar_module

HOOKS_WITH_BATCH = [
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
    "on_batch_begin",
    "on_batch_end",
    "on_epoch_begin",
    "on_epoch_end",
]
HOOKS_LOGS_ONLY = [
    "on_train_begin",
    "on_train_end",
    "on_test_begin",
    "on_test_end",
    "on_predict_begin",
    "on_predict_end",
]


class CountingScalar:
    conversions = 0

    def __init__(self, value):
        self.value = value

    def __array__(self, dtype=None, copy=None):
        CountingScalar.conversions += 1
        return np.asarray(self.value, dtype=dtype)

    def __float__(self):
        CountingScalar.conversions += 1
        return float(self.value)


class Recorder(kj_callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            calls = object.__getattribute__(self, "calls")

            def hook(*args, **kwargs):
                calls.append((name, args, kwargs.get("logs", args[-1] if args else None)))

            return hook
        return object.__getattribute__(self, name)


def test_callback_has_every_keras_hook():
    cb = kj_callbacks.Callback()
    ref = keras.callbacks.Callback()
    for name in HOOKS_WITH_BATCH + HOOKS_LOGS_ONLY:
        assert is_default(getattr(cb, name)), name
        assert hasattr(ref, name)
    assert cb.params is None and cb.model is None
    cb.set_params({"epochs": 2})
    assert cb.params == {"epochs": 2}
    model = object()
    cb.set_model(model)
    assert cb.model is model


def test_train_batch_hooks_forward_to_legacy_alias():
    class Legacy(kj_callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_batch_begin(self, batch, logs=None):
            self.seen.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            self.seen.append(("end", batch, logs))

    cb = Legacy()
    cb.on_train_batch_begin(3)
    cb.on_train_batch_end(3, {"loss": 1.0})
    assert cb.seen == [("begin", 3), ("end", 3, {"loss": 1.0})]


def test_model_property_syncs_jax_state(fake_model_cls):
    model = fake_model_cls()
    model.synced = 0

    def jax_state_sync():
        model.synced += 1

    model.jax_state_sync = jax_state_sync
    cb = kj_callbacks.Callback()
    cb.set_model(model)
    assert cb.model is model and model.synced == 1


def test_callback_list_constructor_and_defaults(fake_model_cls):
    model = fake_model_cls()
    rec = Recorder()
    cbl = kj_callbacks.CallbackList(
        [rec], add_history=True, add_progbar=True, model=model, verbose=0, epochs=3, steps=5
    )
    kinds = [type(c).__name__ for c in cbl.callbacks]
    assert kinds == ["Recorder", "History", "ProgbarLogger"]
    assert model.history is cbl.callbacks[1]
    assert cbl.callbacks[1].params == {"verbose": 0, "epochs": 3, "steps": 5}
    assert cbl.callbacks[2].epochs == 3 and cbl.callbacks[2].target == 5
    assert cbl.model is model
    # Existing History / ProgbarLogger are reused, not duplicated; nested lists flatten.
    hist = kj_callbacks.History()
    cbl = kj_callbacks.CallbackList(
        [[hist], kj_callbacks.ProgbarLogger()], add_history=True, add_progbar=True
    )
    assert len(cbl.callbacks) == 2 and cbl._history is hist
    assert kj_callbacks.CallbackList().callbacks == []


def test_callback_list_dispatches_every_hook():
    rec = Recorder()
    cbl = kj_callbacks.CallbackList([rec])
    for name in HOOKS_WITH_BATCH:
        getattr(cbl, name)(7, {"b": 2.0, "a": {"c": 1.0}})
    for name in (
        "on_train_begin",
        "on_test_begin",
        "on_predict_begin",
        "on_train_end",
        "on_test_end",
        "on_predict_end",
    ):
        getattr(cbl, name)({"x": 1})
    names = [c[0] for c in rec.calls]
    assert names == HOOKS_WITH_BATCH + [
        "on_train_begin",
        "on_test_begin",
        "on_predict_begin",
        "on_train_end",
        "on_test_end",
        "on_predict_end",
    ]
    # Logs are flattened and sorted, as Keras's CallbackList does.
    first_logs = rec.calls[0][2]
    assert list(first_logs) == ["c", "b"]  # sorted by outer key, nested dict expanded
    assert first_logs == {"c": 1.0, "b": 2.0}


def test_callback_list_flattens_like_keras():
    ref_seen, kj_seen = [], []
    logs = {"val_loss": 1.0, "loss": np.float32(2.0), "nested": {"acc": 0.5}}
    keras.callbacks.CallbackList(
        [keras.callbacks.LambdaCallback(on_epoch_end=lambda e, lg: ref_seen.append(lg))]
    ).on_epoch_end(0, logs)
    kj_callbacks.CallbackList(
        [kj_callbacks.LambdaCallback(on_epoch_end=lambda e, lg: kj_seen.append(lg))]
    ).on_epoch_end(0, logs)
    assert kj_seen == ref_seen
    assert list(kj_seen[0]) == list(ref_seen[0])
    assert all(type(v) is float for v in kj_seen[0].values())


def test_end_without_begin_raises():
    cbl = kj_callbacks.CallbackList([])
    with pytest.raises(ValueError, match="without a corresponding"):
        cbl.on_train_end()


def test_batch_logs_not_converted_epoch_logs_converted(fake_model_cls):
    model = fake_model_cls()
    cbl = kj_callbacks.CallbackList(
        [], add_history=True, add_progbar=True, model=model, verbose=0, epochs=1, steps=50
    )
    CountingScalar.conversions = 0
    cbl.on_train_begin()
    cbl.on_epoch_begin(0)
    for step in range(50):
        cbl.on_train_batch_begin(step)
        cbl.on_train_batch_end(step, {"loss": CountingScalar(1.0 / (step + 1))})
    assert CountingScalar.conversions == 0
    cbl.on_epoch_end(0, {"loss": CountingScalar(0.5), "acc": jnp.float32(0.25)})
    cbl.on_train_end()
    assert CountingScalar.conversions == 1
    assert model.history.history == {"acc": [0.25], "loss": [0.5]}
    assert all(type(v) is float for vals in model.history.history.values() for v in vals)
    assert model.history.epoch == [0]


def test_overrides_reports_batch_hooks():
    cbl = kj_callbacks.CallbackList([kj_callbacks.History(), kj_callbacks.EarlyStopping()])
    assert not cbl.overrides("on_train_batch_end")
    assert cbl.overrides("on_epoch_end")
    cbl = kj_callbacks.CallbackList([kj_callbacks.TerminateOnNaN()])
    assert cbl.overrides("on_train_batch_end")  # through the legacy `on_batch_end`


def test_history_matches_keras(fake_model_cls):
    results = []
    for mod in (keras.callbacks, kj_callbacks):
        model = fake_model_cls()
        h = mod.History()
        h.set_model(model)
        h.on_train_begin()
        for epoch in range(3):
            h.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "val_loss": 2.0 + epoch})
        assert model.history is h
        results.append((h.history, h.epoch))
    assert results[0] == results[1]


class FakeClock:
    def __init__(self, step=0.1):
        self.t = 1000.0
        self.step = step

    def time(self):
        self.t += self.step
        return self.t


def _drive_progbar_logger(mod, params, wrap, n_epochs=2, steps=6, mode="fit"):
    cb = mod.ProgbarLogger()
    cb.set_params(params)
    if mode == "fit":
        cb.on_train_begin()
        for epoch in range(n_epochs):
            cb.on_epoch_begin(epoch)
            for step in range(steps):
                cb.on_train_batch_begin(step)
                cb.on_train_batch_end(
                    step, {"accuracy": wrap(0.1 * step), "loss": wrap(1.0 / (step + 1))}
                )
            # validation inside fit is silent
            cb.on_test_begin()
            cb.on_test_batch_end(0, {"loss": wrap(9.0)})
            cb.on_test_end({"loss": 9.0})
            cb.on_epoch_end(epoch, {"accuracy": 0.5, "loss": 0.25, "val_loss": 9.0})
        cb.on_train_end()
    elif mode == "evaluate":
        cb.on_test_begin()
        for step in range(steps):
            cb.on_test_batch_end(step, {"loss": wrap(2e-4 * step)})
        cb.on_test_end({"loss": 3e-4})
    else:
        cb.on_predict_begin()
        for step in range(steps):
            cb.on_predict_batch_end(step, {"outputs": wrap(1.0)})
        cb.on_predict_end()


@pytest.mark.parametrize("mode", ["fit", "evaluate", "predict"])
@pytest.mark.parametrize("verbose", [1, 2, 0, "auto"])
@pytest.mark.parametrize("steps_known", [True, False])
def test_progbar_logger_output_matches_keras(monkeypatch, capsys, mode, verbose, steps_known):
    params = {"verbose": verbose, "epochs": 2, "steps": 6 if steps_known else None}
    monkeypatch.setattr(keras_progbar_module, "time", FakeClock())
    # Keras's CallbackList hands the ProgbarLogger `float(value)` of the float32 values.
    _drive_progbar_logger(keras.callbacks, params, lambda v: float(np.float32(v)), mode=mode)
    expected = capsys.readouterr().out
    monkeypatch.setattr(kj_progbar_module, "time", FakeClock())
    _drive_progbar_logger(kj_callbacks, params, jnp.float32, mode=mode)
    got = capsys.readouterr().out
    assert got == expected
    if verbose in (1, "auto") and mode == "fit":
        assert "Epoch 2/2" in got


def test_progbar_logger_fetches_only_rendered_batches(monkeypatch, capsys):
    # 40 batches 1 ms apart: the bar renders on the first batch, then every 50 ms.
    monkeypatch.setattr(kj_progbar_module, "time", FakeClock(step=0.001))
    cb = kj_callbacks.ProgbarLogger()
    cb.set_params({"verbose": 1, "epochs": 1, "steps": 40})
    CountingScalar.conversions = 0
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    for step in range(40):
        cb.on_train_batch_end(step, {"loss": CountingScalar(1.0)})
    assert CountingScalar.conversions == 1
    cb.on_epoch_end(0, {"loss": 1.0})
    assert "loss: 1.0000" in capsys.readouterr().out
