"""keras.config's debugging caps and switches, against real Keras 3 where it has them."""

import os
import subprocess
import sys

import jax
import keras
import numpy as np
import pytest

import keras_on_jax as kj


def _model(lib):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((40, 3)).astype("float32"), rng.standard_normal((40, 1)).astype("float32")


class _CountBatches(kj.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.train, self.test, self.predict = 0, 0, 0

    def on_train_batch_end(self, batch, logs=None):
        self.train += 1

    def on_test_batch_end(self, batch, logs=None):
        self.test += 1

    def on_predict_batch_end(self, batch, logs=None):
        self.predict += 1


def test_max_epochs_caps_fit_like_keras(data):
    x, y = data
    for lib in (kj, keras):
        lib.config.set_max_epochs(2)
        try:
            assert lib.config.max_epochs() == 2
            with pytest.warns(UserWarning, match="Limiting epochs to 2"):
                history = _model(lib).fit(x, y, epochs=5, batch_size=8, verbose=0)
            assert len(history.history["loss"]) == 2
        finally:
            lib.config.set_max_epochs(None)
    assert kj.config.max_epochs() is None


def test_max_steps_per_epoch_caps_fit_evaluate_predict(data):
    x, y = data
    kj.config.set_max_steps_per_epoch(3)
    try:
        counter = _CountBatches()
        model = _model(kj)
        with pytest.warns(UserWarning, match="Limiting steps_per_epoch to 3"):
            model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[counter],
                      validation_data=(x, y))
            model.evaluate(x, y, batch_size=8, verbose=0, callbacks=[counter])
            preds = model.predict(x, batch_size=8, verbose=0, callbacks=[counter])
        assert counter.train == 6  # 2 epochs x 3 steps (5 without the cap)
        assert counter.test == 2 * 3 + 3  # validation each epoch, then evaluate
        assert counter.predict == 3 and preds.shape == (24, 1)
    finally:
        kj.config.set_max_steps_per_epoch(None)


def test_caps_read_from_environment(tmp_path):
    code = ("import numpy as np, keras_on_jax as kj\n"
            "m = kj.Sequential([kj.Input((2,)), kj.layers.Dense(1)]); m.compile('sgd', 'mse')\n"
            "h = m.fit(np.ones((64, 2)), np.ones((64, 1)), epochs=9, batch_size=8, verbose=0)\n"
            "print(kj.config.max_epochs(), kj.config.max_steps_per_epoch(), len(h.history['loss']))\n")
    env = dict(os.environ, KERAS_MAX_EPOCHS="3", KERAS_MAX_STEPS_PER_EPOCH="2",
               KERAS_HOME=str(tmp_path), PYTHONWARNINGS="ignore")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["3", "2", "3"]


def test_flash_attention_switch_matches_keras():
    for lib in (kj, keras):
        assert lib.config.is_flash_attention_enabled() is None
        lib.config.disable_flash_attention()
        assert lib.config.is_flash_attention_enabled() is False
        lib.config.enable_flash_attention()
        assert lib.config.is_flash_attention_enabled() is None


def test_traceback_filtering_switches_jax():
    assert kj.config.is_traceback_filtering_enabled()
    kj.config.disable_traceback_filtering()
    try:
        assert not kj.config.is_traceback_filtering_enabled()
        assert jax.config.jax_traceback_filtering == "off"
    finally:
        kj.config.enable_traceback_filtering()
    assert kj.config.is_traceback_filtering_enabled()


def test_backend_switch_and_nnx():
    assert kj.config.is_nnx_enabled() is True
    kj.config.set_backend("jax")
    assert kj.config.backend() == "jax"
    with pytest.raises(ValueError, match=r"JAX backend only.*backend='torch'"):
        kj.config.set_backend("torch")
