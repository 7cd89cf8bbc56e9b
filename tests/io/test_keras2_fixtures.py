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


# --------------------------------------------------------------------------------------
# TensorFlow ops in Keras 2 graphs (TFOpLambda / SlicingOpLambda), made by
# tests/fixtures/keras2/make_tfop_fixtures.py
# --------------------------------------------------------------------------------------
TF_OP_MODELS = ["tfop_math", "tfop_slicing"]


def _tfop_io(name):
    def ordered(kind):
        paths = glob.glob(os.path.join(HERE, f"{name}_{kind}*.npy"))
        return [np.load(p) for p in sorted(paths, key=lambda p: int(p[:-4].rsplit(kind, 1)[1]))]

    xs, ys = ordered("x"), ordered("y")
    return (xs[0] if len(xs) == 1 else xs), ys


def _check_tfop(model, name):
    x, ys = _tfop_io(name)
    pred = model.predict(x, verbose=0)
    pred = pred if isinstance(pred, (list, tuple)) else [pred]
    assert len(pred) == len(ys)
    for p, y in zip(pred, ys):
        np.testing.assert_allclose(np.asarray(p), y, atol=1e-5)


@pytest.mark.parametrize("name", TF_OP_MODELS)
def test_keras2_tf_ops_whole_model_h5(name, tmp_path):
    model = kj.saving.load_model(os.path.join(HERE, f"{name}.h5"))
    _check_tfop(model, name)
    # The TensorFlow functions became Keras 3 op nodes: the model saves and reloads as such.
    classes = {type(op).__name__ for op in model.operations}
    assert {"Add", "Concatenate", "GetItem"} & classes and "TFOpLambda" not in classes
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    _check_tfop(kj.saving.load_model(path), name)


@pytest.mark.parametrize("name", TF_OP_MODELS)
def test_keras2_tf_ops_json_plus_weights(name):
    with open(os.path.join(HERE, f"{name}.json")) as f:
        model = saving_api.model_from_json(f.read())
    model.load_weights(os.path.join(HERE, f"{name}_weights.h5"))
    _check_tfop(model, name)


def test_keras2_tf_op_without_counterpart_is_named():
    with open(os.path.join(HERE, "tfop_unsupported.json")) as f:
        text = f.read()
    with pytest.raises(ValueError, match=r"Layer 'tf.math.bessel_i1e' .* `tf.math.bessel_i1e`, "
                                         r"which has no keras.ops counterpart"):
        saving_api.model_from_json(text)


@pytest.mark.parametrize("name", TF_OP_MODELS)
def test_keras2_tf_ops_resaved_load_in_keras3(tmp_path, name):
    """Real Keras 3 refuses TFOpLambda layers; re-saved here they are Keras 3 op nodes, and
    Keras 2's `batch_input_shape` on a non-input layer (tfop_slicing's Embedding) is not
    written back: Keras 3 constructors reject it."""
    keras = pytest.importorskip("keras")
    model = kj.saving.load_model(os.path.join(HERE, f"{name}.h5"))
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    _check_tfop(keras.saving.load_model(path), name)
