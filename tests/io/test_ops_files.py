"""Functional models with op nodes in files, both ways with real Keras 3: `.keras`, JSON,
`.weights.h5`; op nodes written exactly as Keras writes them."""

import json

import keras
import numpy as np

import keras_on_jax as kj
from keras_on_jax.io import saving_api

R = np.random.default_rng(0)
DATA = [R.normal(size=(3, 6, 4)).astype("float32"), R.uniform(size=(3, 8, 8, 3)).astype("float32")]


def op_zoo(lib):
    """Ops of every module and every way of passing arguments: config tuples, keyword and
    variadic call arguments, constants, Python scalars, slices, operators, tuple outputs."""
    ops = lib.ops
    x = lib.Input((6, 4), name="seq")
    img = lib.Input((8, 8, 3), name="img")
    h = lib.layers.Dense(4, name="dense_in")(x)
    padded = ops.pad(h, ((0, 0), (1, 1), (0, 0)), constant_values=0.5)
    gram = ops.einsum("bij,bkj->bik", padded, padded) * ops.cast(ops.sqrt(2.0), "float32")
    attended = ops.dot_product_attention(h[:, :, None, :], h[:, :, None, :], h[:, :, None, :],
                                         is_causal=True)
    pooled = ops.max_pool(ops.image.resize(img, (4, 4)), 2, strides=2)
    flat = ops.reshape(pooled, (-1, 12))
    mean, var = ops.moments(h, axes=[1])
    values, indices = ops.top_k(mean, 2)
    det = ops.linalg.det(ops.einsum("bij,bik->bjk", h, h) + ops.eye(4))
    positive = ops.where(h > 0, h, ops.zeros_like(h))
    running = ops.cumsum(1.0 - positive, axis=1) / 2
    sliced = h[:, ::2, None, 1:3]
    summary = ops.concatenate([
        ops.sum(gram, axis=(1, 2))[:, None], values, ops.cast(indices, "float32"), var,
        ops.mean(flat, axis=-1, keepdims=True), ops.log(det)[:, None],
    ], axis=-1)
    out = lib.layers.Dense(3, name="head")(ops.nn.relu(summary))
    return lib.Model([x, img], [out, sliced, ops.swapaxes(running, 1, 2),
                                ops.squeeze(attended, 2)], name="op_zoo")


def _op_entries(config):
    return [e for e in config["layers"] if e["module"].startswith("keras.src.ops")]


def _close(a, b):
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=1e-5)


def test_keras_file_with_ops_loads_and_is_written_back_the_same(tmp_path):
    theirs = op_zoo(keras)
    expected = theirs.predict(DATA, verbose=0)
    path = str(tmp_path / "theirs.keras")
    theirs.save(path)
    ours = kj.saving.load_model(path)
    _close(ours.predict(DATA, verbose=0), expected)
    assert len(_op_entries(theirs.get_config())) > 25
    # Op nodes (class, module, config, inbound nodes, constants) as Keras writes them.
    ours_json = json.loads(json.dumps(ours.get_config(), default=list))
    theirs_json = json.loads(json.dumps(theirs.get_config(), default=list))
    assert _op_entries(ours_json) == _op_entries(theirs_json)
    assert ours_json["output_layers"] == theirs_json["output_layers"]


def test_our_file_with_ops_loads_in_keras(tmp_path):
    ours = op_zoo(kj)
    expected = ours.predict(DATA, verbose=0)
    path = str(tmp_path / "ours.keras")
    ours.save(path)
    theirs = keras.saving.load_model(path)
    _close(theirs.predict(DATA, verbose=0), expected)
    assert [type(op).__name__ for op in theirs.operations] == [type(op).__name__ for op in ours.operations]


def test_json_and_weights_files_both_ways(tmp_path):
    theirs = op_zoo(keras)
    theirs.save_weights(str(tmp_path / "theirs.weights.h5"))
    ours = saving_api.model_from_json(theirs.to_json())
    ours.load_weights(str(tmp_path / "theirs.weights.h5"))
    _close(ours.predict(DATA, verbose=0), theirs.predict(DATA, verbose=0))
    ours.save_weights(str(tmp_path / "ours.weights.h5"))
    again = keras.models.model_from_json(ours.to_json())
    again.load_weights(str(tmp_path / "ours.weights.h5"))
    _close(again.predict(DATA, verbose=0), theirs.predict(DATA, verbose=0))


def test_legacy_h5_with_ops_ours_and_keras(tmp_path):
    """Keras 3 writes op nodes into a whole-model `.h5` without their module (and cannot
    load that file back); both its file and ours load here."""
    theirs = op_zoo(keras)
    expected = theirs.predict(DATA, verbose=0)
    path = str(tmp_path / "theirs.h5")
    theirs.save(path)
    ours = kj.saving.load_model(path)
    _close(ours.predict(DATA, verbose=0), expected)
    path = str(tmp_path / "ours.h5")
    ours.save(path)
    again = kj.saving.load_model(path)
    _close(again.predict(DATA, verbose=0), expected)
    assert [type(op).__name__ for op in again.operations] == [type(op).__name__ for op in theirs.operations]
