"""A Python-lambda `Lambda` layer in saved files: refused in safe mode (the default),
loaded with `safe_mode=False` — from a whole-model Keras 2 `.h5` (bytecode as tf-keras's
`func_dump` writes it, tests/fixtures/keras2/make_lambda_fixture.py) and from real Keras 3."""

import importlib.util
import os
import sys

import numpy as np
import pytest

import keras_on_jax as kj

HERE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras2")


def _keras2_lambda_file(tmp_path):
    """The committed fixture, or the same file rebuilt under another Python version
    (bytecode is specific to the version that wrote it, as with Keras 2)."""
    if sys.version_info[:2] == (3, 11):
        return os.path.join(HERE, "lambda_seq.h5"), HERE
    spec = importlib.util.spec_from_file_location(
        "make_lambda_fixture", os.path.join(HERE, "make_lambda_fixture.py"))
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    return maker.write(str(tmp_path), os.path.join(HERE, "dense_seq.h5")), str(tmp_path)


def test_keras2_h5_with_bytecode_lambda_refused_by_default(tmp_path):
    path, _ = _keras2_lambda_file(tmp_path)
    with pytest.raises(ValueError, match=r"layer 'lambda'.*safe_mode=False"):
        kj.saving.load_model(path)


def test_keras2_h5_with_bytecode_lambda_loads_with_safe_mode_false(tmp_path):
    path, folder = _keras2_lambda_file(tmp_path)
    model = kj.saving.load_model(path, safe_mode=False)
    assert [type(l).__name__ for l in model.layers] == ["Dense", "Dropout", "Dense", "Lambda"]
    x = np.load(os.path.join(folder, "lambda_seq_x0.npy"))
    expected = np.load(os.path.join(folder, "lambda_seq_y0.npy"))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    # the optimizer state came along (Keras 2 trained one step)
    assert int(np.asarray(model.optimizer.iterations.numpy())) == 1


@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_keras3_lambda_file_loads_with_safe_mode_false(tmp_path, ext):
    keras = pytest.importorskip("keras")
    inputs = keras.Input((3,))
    outputs = keras.layers.Lambda(lambda t: t * 2.0 + 1.0)(keras.layers.Dense(2)(inputs))
    model = keras.Model(inputs, outputs)
    path = str(tmp_path / f"k3{ext}")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode=False"):
        kj.saving.load_model(path)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    ours = kj.saving.load_model(path, safe_mode=False)
    np.testing.assert_allclose(ours.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)
