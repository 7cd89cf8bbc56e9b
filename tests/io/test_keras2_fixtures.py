"""Files written by Keras 2 (tf-keras 2.21, see tests/fixtures/keras2/make_fixtures.py)."""

import glob
import os

import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax import serialization
from keras_on_jax.io import saving_api

import io_models  # noqa: F401  (registers MyPkg>Scale)

HERE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras2")
NEEDS = {
    "dense_seq": ["Dense", "Dropout"], "conv_bn": ["Conv2D", "BatchNormalization", "Flatten"],
    "lstm": ["LSTM"], "gru": ["GRU"], "embedding": ["Embedding", "Flatten"],
    "bidi": ["Bidirectional", "LSTM"], "func_nested": ["Dense"],
}


def _io(name):
    xs = [np.load(p) for p in sorted(glob.glob(os.path.join(HERE, f"{name}_x*.npy")))]
    ys = [np.load(p) for p in sorted(glob.glob(os.path.join(HERE, f"{name}_y*.npy")))]
    return (xs[0] if len(xs) == 1 else xs), ys


def _need(name):
    missing = [c for c in NEEDS[name] if serialization.builtin_class(c, "keras.layers") is None]
    if missing:
        pytest.skip(f"layers not implemented yet: {missing}")


def _check(model, name):
    x, ys = _io(name)
    pred = model.predict(x, verbose=0)
    pred = pred if isinstance(pred, (list, tuple)) else [pred]
    for p, y in zip(pred, ys):
        np.testing.assert_allclose(np.asarray(p), y, atol=1e-5)


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_keras2_whole_model_h5(name):
    _need(name)
    _check(kj.saving.load_model(os.path.join(HERE, f"{name}.h5")), name)


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_keras2_json_plus_weights(name):
    _need(name)
    with open(os.path.join(HERE, f"{name}.json")) as f:
        model = saving_api.model_from_json(f.read())
    model.load_weights(os.path.join(HERE, f"{name}_weights.h5"))
    _check(model, name)


def test_keras2_optimizer_hyperparameters_and_state_kept():
    m = kj.saving.load_model(os.path.join(HERE, "dense_seq.h5"))
    cfg = m.optimizer.get_config()
    assert abs(cfg["learning_rate"] - 0.0123) < 1e-6 and abs(cfg["beta_1"] - 0.5) < 1e-6
    assert int(np.asarray(m.optimizer.iterations.numpy())) == 1
    assert any(np.abs(np.asarray(v.numpy())).sum() > 0 for v in m.optimizer.variables[2:])
