"""CSVLogger and ModelCheckpoint against real Keras 3 (same logs, same fake model)."""

import os

import jax.numpy as jnp
import keras
import numpy as np
import pytest

from keras_on_jax import callbacks as kj_callbacks

EPOCH_LOGS = [
    {"loss": 0.9, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.4},
    {"loss": 0.7, "accuracy": 0.6, "val_loss": 0.95, "val_accuracy": 0.5},
    {"loss": 0.6, "accuracy": 0.65, "val_loss": 0.97, "val_accuracy": 0.55},
    {"loss": 0.5, "accuracy": 0.7, "val_loss": 0.9, "val_accuracy": 0.5},
]


def _csv_run(mod, path, logs_seq, **kwargs):
    cb = mod.CSVLogger(path, **kwargs)
    cb.on_train_begin()
    for epoch, logs in enumerate(logs_seq):
        cb.on_epoch_end(epoch, dict(logs))
    cb.on_train_end()
    with open(path) as f:
        return f.read()


@pytest.mark.parametrize("separator", [",", ";", "\t"])
@pytest.mark.parametrize("drop_val", [False, True])
def test_csv_logger_matches_keras(tmp_path, separator, drop_val):
    logs_seq = [
        {k: v for k, v in lg.items() if not (drop_val and k.startswith("val_"))}
        for lg in EPOCH_LOGS
    ]
    ref = _csv_run(keras.callbacks, tmp_path / "ref.csv", logs_seq, separator=separator)
    got = _csv_run(kj_callbacks, tmp_path / "kj.csv", logs_seq, separator=separator)
    assert got == ref
    assert got.splitlines()[0].split(separator)[0] == "epoch"


def test_csv_logger_append_matches_keras(tmp_path):
    outs = []
    for name, mod in (("ref", keras.callbacks), ("kj", kj_callbacks)):
        path = tmp_path / f"{name}.csv"
        _csv_run(mod, path, EPOCH_LOGS[:2], append=True)
        outs.append(_csv_run(mod, path, EPOCH_LOGS[2:], append=True))
    assert outs[1] == outs[0]
    assert outs[1].count("epoch") == 1  # header written once


def test_csv_logger_values_like_keras(tmp_path):
    # Arrays and strings, plus device scalars (converted like Keras's CallbackList does).
    ref_logs = [{"loss": float(np.float32(0.25)), "vec": np.array([1, 2]), "tag": "x"}]
    kj_logs = [{"loss": jnp.float32(0.25), "vec": np.array([1, 2]), "tag": "x"}]
    ref = _csv_run(keras.callbacks, tmp_path / "ref.csv", ref_logs)
    got = _csv_run(kj_callbacks, tmp_path / "kj.csv", kj_logs)
    assert got == ref
    assert '"[1, 2]"' in got


def test_csv_logger_missing_keys_written_as_na(tmp_path):
    logs_seq = [{"loss": 1.0}, {"loss": 0.5, "val_loss": 0.7}]
    ref = _csv_run(keras.callbacks, tmp_path / "ref.csv", logs_seq)
    got = _csv_run(kj_callbacks, tmp_path / "kj.csv", logs_seq)
    assert got == ref and "NA" in got


# ----------------------------------------------------------------- ModelCheckpoint
def _ckpt_run(mod, model, filepath, logs_seq, batch_logs=None, steps=3, **kwargs):
    cb = mod.ModelCheckpoint(filepath, **kwargs)
    cb.set_model(model)
    cb.set_params({"epochs": len(logs_seq), "steps": steps, "verbose": 0})
    cb.on_train_begin()
    for epoch, logs in enumerate(logs_seq):
        cb.on_epoch_begin(epoch)
        for step in range(steps):
            cb.on_train_batch_begin(step)
            blogs = batch_logs(epoch, step) if batch_logs else {"loss": 1.0 - 0.1 * step}
            cb.on_train_batch_end(step, blogs)
        cb.on_epoch_end(epoch, dict(logs))
    cb.on_train_end()
    return cb


CKPT_CONFIGS = [
    dict(),
    dict(verbose=1),
    dict(save_best_only=True, verbose=1),
    dict(save_best_only=True, monitor="val_accuracy", mode="max", verbose=1),
    dict(save_best_only=True, monitor="loss", initial_value_threshold=0.65, verbose=1),
    dict(save_best_only=True, monitor="val_loss", mode="max"),
    dict(save_weights_only=True, verbose=1),
    dict(save_freq=2, verbose=1),
    dict(save_freq=4, save_best_only=True, monitor="loss", verbose=1),
]


@pytest.mark.parametrize("kwargs", CKPT_CONFIGS)
def test_model_checkpoint_matches_keras(tmp_path, kwargs, fake_model_cls, capsys):
    name = (
        "m-{epoch:02d}-{val_loss:.2f}"
        if kwargs.get("save_freq", "epoch") == "epoch"
        else "m-{epoch:02d}-{batch:02d}-{loss:.2f}"
    )
    suffix = ".weights.h5" if kwargs.get("save_weights_only") else ".keras"
    results = []
    for sub, mod in (("ref", keras.callbacks), ("kj", kj_callbacks)):
        model = fake_model_cls()
        cb = _ckpt_run(mod, model, str(tmp_path / sub / (name + suffix)), EPOCH_LOGS, **kwargs)
        out = capsys.readouterr().out.replace(str(tmp_path / sub), "<dir>")
        saved = [(kind, path.replace(str(tmp_path / sub), "<dir>")) for kind, path in model.saved]
        results.append((saved, out, cb.best))
    assert results[1][0] == results[0][0]
    assert results[1][1] == results[0][1]
    assert results[1][2] == results[0][2]
    assert results[1][0], "something was saved"


def test_model_checkpoint_batch_logs_with_device_values(tmp_path, fake_model_cls):
    model = fake_model_cls()
    _ckpt_run(
        kj_callbacks,
        model,
        str(tmp_path / "b{batch}-e{epoch}-{loss:.3f}.keras"),
        EPOCH_LOGS[:2],
        batch_logs=lambda e, s: {"loss": jnp.float32(0.5 + s)},
        save_freq=3,
    )
    assert [os.path.basename(p) for _, p in model.saved] == [
        "b3-e1-2.500.keras",
        "b3-e2-2.500.keras",
    ]


def test_model_checkpoint_paths_without_keras_extension(tmp_path, fake_model_cls):
    # Unlike Keras 3, the format is the model's choice: a FAQ-style path is accepted
    # and handed to `model.save`, `.h5` to `save_weights` with save_weights_only.
    model = fake_model_cls()
    _ckpt_run(kj_callbacks, model, str(tmp_path / "ckpt-loss={loss:.2f}"), EPOCH_LOGS[:2])
    assert [(k, os.path.basename(p)) for k, p in model.saved] == [
        ("model", "ckpt-loss=0.90"),
        ("model", "ckpt-loss=0.70"),
    ]
    model = fake_model_cls()
    _ckpt_run(
        kj_callbacks, model, str(tmp_path / "w-{epoch}.h5"), EPOCH_LOGS[:1], save_weights_only=True
    )
    assert [(k, os.path.basename(p)) for k, p in model.saved] == [("weights", "w-1.h5")]
    with pytest.raises(ValueError):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "ckpt-loss={loss:.2f}"))


def test_model_checkpoint_errors(tmp_path, fake_model_cls):
    with pytest.raises(ValueError, match="Unrecognized save_freq: sometimes"):
        kj_callbacks.ModelCheckpoint("m.keras", save_freq="sometimes")
    cb = kj_callbacks.ModelCheckpoint(str(tmp_path / "{unknown}.keras"), monitor="loss")
    cb.set_model(fake_model_cls())
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        cb.on_epoch_end(0, {"loss": 1.0})


def test_model_checkpoint_save_best_only_missing_monitor_warns(tmp_path, fake_model_cls):
    model = fake_model_cls()
    cb = kj_callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True)
    cb.set_model(model)
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        cb.on_epoch_end(0, {"loss": 1.0})
    assert len(model.saved) == 1


def test_most_recent_checkpoint_helper(tmp_path):
    cb = kj_callbacks.ModelCheckpoint(str(tmp_path / "e{epoch:02d}.keras"))
    for i, name in enumerate(["e01.keras", "e03.keras", "e02.keras"]):
        p = tmp_path / name
        p.write_text("x")
        os.utime(p, (1000 + i, 1000 + i))
    assert cb._get_most_recently_modified_file_matching_pattern(
        str(tmp_path / "e{epoch:02d}.keras")
    ) == str(tmp_path / "e02.keras")
