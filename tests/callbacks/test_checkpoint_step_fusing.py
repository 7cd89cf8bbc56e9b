"""Checkpoint callbacks that save per epoch leave fit free to fuse steps; per-batch
saving, and any user subclass with its own batch hook, keep one step per call."""

import numpy as np
import pytest

import keras_on_jax as keras
from keras_on_jax.callbacks import CallbackList
from keras_on_jax.training.trainer import _has_user_batch_hooks


def _observed(*cbs):
    return _has_user_batch_hooks(CallbackList(list(cbs)), "train")


def test_epoch_checkpoints_do_not_observe_batches(tmp_path):
    assert not _observed(keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras")))
    assert not _observed(keras.callbacks.BackupAndRestore(str(tmp_path / "b")))
    assert not _observed(keras.callbacks.OrbaxCheckpoint(str(tmp_path / "o")))
    assert _observed(keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq=3))
    assert _observed(keras.callbacks.BackupAndRestore(str(tmp_path / "b"), save_freq=2))
    assert _observed(keras.callbacks.OrbaxCheckpoint(str(tmp_path / "o"), save_freq=5))


def test_user_subclass_batch_hook_is_honoured(tmp_path):
    seen = []

    class Counting(keras.callbacks.ModelCheckpoint):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
            super().on_train_batch_end(batch, logs)

    cb = Counting(str(tmp_path / "m.keras"))
    assert _observed(cb)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((40, 3)), np.ones((40, 1)), batch_size=8, epochs=1, verbose=0,
              callbacks=[cb])
    assert seen == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("save_freq", ["epoch", 2])
def test_fit_with_checkpoint_saves_and_matches_plain_fit(tmp_path, save_freq):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(48, 3)).astype("float32"), rng.normal(size=(48, 1)).astype("float32")

    def run(callbacks):
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                                  keras.layers.Dense(1)])
        model.compile("adam", "mse")
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
                            callbacks=callbacks)
        return model, history.history["loss"]

    path = str(tmp_path / "ckpt_{epoch}.weights.h5") if save_freq == "epoch" else str(
        tmp_path / "ckpt_{epoch}_{batch}.weights.h5")
    model, losses = run([keras.callbacks.ModelCheckpoint(path, save_weights_only=True,
                                                         save_freq=save_freq)])
    plain, plain_losses = run([])
    np.testing.assert_allclose(losses, plain_losses, rtol=1e-6)
    for a, b in zip(model.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    saved = sorted(p.name for p in tmp_path.iterdir())
    if save_freq == "epoch":
        assert saved == ["ckpt_1.weights.h5", "ckpt_2.weights.h5"]
    else:
        assert len(saved) == 6  # every 2 of 6 batches per epoch, two epochs
