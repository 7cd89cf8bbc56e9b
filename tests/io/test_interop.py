"""Files written here load in real Keras 3 and the other way round."""

import json
import os

import numpy as np
import pytest

import keras
import keras_on_jax as kj
from keras_on_jax.io import saving_api

from io_models import KjScale, Scale, build_functional, build_sequential


def _np(x):
    return np.asarray(x)


def _assert_weights_equal(a, b, tol=0.0):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb):
        np.testing.assert_allclose(_np(x), _np(y), atol=tol, rtol=0)


def test_sequential_keras_archive_ours_to_keras_and_back(tmp_path, data):
    m = build_sequential(kj)
    m.compile(optimizer=kj.optimizers.Adam(1e-2), loss="mse")
    m.fit(data["x"], data["y"], batch_size=8, epochs=2, verbose=0)
    path = str(tmp_path / "ours.keras")
    m.save(path)
    k = keras.saving.load_model(path)
    np.testing.assert_allclose(k.predict(data["x"], verbose=0), _np(m.predict(data["x"], verbose=0)), atol=1e-6)
    # Optimizer state restored in real Keras: same values, same next step.
    assert int(k.optimizer.iterations.numpy()) == 2
    for a, b in zip(k.optimizer.variables, m.optimizer.variables):
        np.testing.assert_allclose(_np(a.numpy()), _np(b.numpy()), atol=1e-7)
    k.train_on_batch(data["x"], data["y"])
    m.train_on_batch(data["x"], data["y"])
    _assert_weights_equal(k, m, 1e-5)
    # And back: Keras's file loads here with its optimizer state.
    path2 = str(tmp_path / "theirs.keras")
    k.save(path2)
    m2 = kj.saving.load_model(path2)
    assert m2.compiled and int(_np(m2.optimizer.iterations.numpy())) == 3
    np.testing.assert_allclose(_np(m2.predict(data["x"], verbose=0)), k.predict(data["x"], verbose=0), atol=1e-6)
    k.train_on_batch(data["x"], data["y"])
    m2.train_on_batch(data["x"], data["y"])
    _assert_weights_equal(k, m2, 1e-5)


def test_functional_shared_nested_custom_both_ways(tmp_path, data):
    k = build_functional(keras, Scale)
    k.compile(optimizer="sgd", loss={"aux": "mae", "out": "mse"})
    k.fit([data["xa"], data["xb"]], {"aux": np.zeros((4, 5)), "out": np.zeros((4, 2))}, verbose=0)
    path = str(tmp_path / "func.keras")
    k.save(path)
    ours = kj.saving.load_model(path)
    assert isinstance(ours.get_layer("scale"), KjScale)
    pk = k.predict([data["xa"], data["xb"]], verbose=0)
    po = ours.predict([data["xa"], data["xb"]], verbose=0)
    for key in pk:
        np.testing.assert_allclose(_np(po[key]), pk[key], atol=1e-6)
    assert int(_np(ours.optimizer.iterations.numpy())) == 1
    path2 = str(tmp_path / "func_ours.keras")
    ours.save(path2)
    back = keras.saving.load_model(path2)
    pb = back.predict([data["xa"], data["xb"]], verbose=0)
    for key in pk:
        np.testing.assert_allclose(pb[key], pk[key], atol=1e-6)


def test_functional_built_here_loads_in_keras(tmp_path, data):
    m = build_functional(kj, KjScale)
    path = str(tmp_path / "f.keras")
    m.save(path)
    k = keras.saving.load_model(path)
    pk = k.predict([data["xa"], data["xb"]], verbose=0)
    po = m.predict([data["xa"], data["xb"]], verbose=0)
    for key in pk:
        np.testing.assert_allclose(pk[key], _np(po[key]), atol=1e-6)


def test_layer_input_shape_and_input_layer_config_as_keras(tmp_path):
    """`Dense(..., input_shape=...)` starts a Sequential with an InputLayer and is not in
    the layer's config (Keras 3 constructors reject `batch_input_shape`); InputLayer
    configs have Keras 3.15's keys, in its order."""
    x = np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)
    ours = kj.Sequential([kj.layers.Dense(2, input_shape=(3,), name="d")])
    config = ours.get_config()
    assert [e["class_name"] for e in config["layers"]] == ["InputLayer", "Dense"]
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")])
    assert set(config["layers"][1]["config"]) == set(theirs.get_config()["layers"][1]["config"])
    assert (list(config["layers"][0]["config"])
            == list(theirs.get_config()["layers"][0]["config"]))
    path = str(tmp_path / "seq.keras")
    ours.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), _np(ours.predict(x, verbose=0)),
                               atol=1e-6)


def test_weights_h5_both_ways_and_layout(tmp_path, data):
    import h5py

    m = build_functional(kj, KjScale)
    k = build_functional(keras, Scale)
    p1 = str(tmp_path / "ours.weights.h5")
    m.save_weights(p1)
    with h5py.File(p1) as f:
        assert "layers/dense/vars/0" in f  # class-named container paths, not layer names
        assert f["layers/dense/vars"].attrs["name"] == "shared_dense"
        assert "layers/sequential/layers/dense/vars/1" in f
        assert "layers/scale/vars" in f and "vars" in f
    k.load_weights(p1)
    _assert_weights_equal(k, m)
    k2 = build_functional(keras, Scale)
    p2 = str(tmp_path / "theirs.weights.h5")
    k2.save_weights(p2)
    m.load_weights(p2)
    _assert_weights_equal(k2, m)


def test_sharded_weights_both_ways(tmp_path):
    k = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64), keras.layers.Dense(8)])
    d = tmp_path / "k"
    d.mkdir()
    k.save_weights(str(d / "model.weights.json"), max_shard_size=0.00002)
    m = kj.Sequential([kj.Input((64,)), kj.layers.Dense(64), kj.layers.Dense(8)])
    m.load_weights(str(d / "model.weights.json"))
    _assert_weights_equal(k, m)
    o = tmp_path / "o"
    o.mkdir()
    m.save_weights(str(o / "w.weights.json"), max_shard_size=0.00001)
    assert len([n for n in os.listdir(o) if n.endswith(".weights.h5")]) > 1
    k2 = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64), keras.layers.Dense(8)])
    k2.load_weights(str(o / "w.weights.json"))
    _assert_weights_equal(k2, m)


def test_legacy_h5_both_ways(tmp_path, data):
    m = build_sequential(kj)
    m.compile(optimizer="adam", loss="mse")
    m.fit(data["x"], data["y"], verbose=0)
    p = str(tmp_path / "ours.h5")
    m.save(p)
    k = keras.saving.load_model(p)
    np.testing.assert_allclose(k.predict(data["x"], verbose=0), _np(m.predict(data["x"], verbose=0)), atol=1e-6)
    # Keras 3 writes legacy h5 too; we load the model, its compile config and optimizer state.
    k = build_sequential(keras)
    k.compile(optimizer="adam", loss="mean_squared_error")
    k.fit(data["x"], data["y"], verbose=0)
    p2 = str(tmp_path / "theirs.h5")
    k.save(p2)
    m2 = kj.saving.load_model(p2)
    np.testing.assert_allclose(_np(m2.predict(data["x"], verbose=0)), k.predict(data["x"], verbose=0), atol=1e-6)
    assert m2.compiled
    for a, b in zip(k.optimizer.variables, m2.optimizer.variables):
        np.testing.assert_allclose(_np(a.numpy()), _np(b.numpy()), atol=1e-7)
    # weights-only legacy file written here, read by Keras 3's legacy loader
    p3 = str(tmp_path / "w.h5")
    m2.save_weights(p3)
    k3 = build_sequential(keras)
    k3.load_weights(p3)
    _assert_weights_equal(k3, m2)


def test_legacy_by_name_and_skip_mismatch(tmp_path):
    a = kj.Sequential([kj.Input((3,)), kj.layers.Dense(2, name="a"), kj.layers.Dense(2, name="b")])
    p = str(tmp_path / "w.h5")
    a.save_weights(p)
    # The FAQ example: a different model, only layers with matching names receive weights.
    b = kj.Sequential([kj.Input((3,)), kj.layers.Dense(2, name="a"), kj.layers.Dense(4, name="new")])
    before = b.get_layer("new").get_weights()
    b.load_weights(p, by_name=True)
    np.testing.assert_array_equal(_np(b.get_layer("a").kernel.numpy()), _np(a.get_layer("a").kernel.numpy()))
    np.testing.assert_array_equal(b.get_layer("new").get_weights()[0], before[0])
    c = kj.Sequential([kj.Input((3,)), kj.layers.Dense(2, name="a"), kj.layers.Dense(5, name="b")])
    with pytest.raises(ValueError, match="named b"):
        c.load_weights(p, by_name=True)
    with pytest.warns(UserWarning, match="named b"):
        c.load_weights(p, by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(_np(c.get_layer("a").kernel.numpy()), _np(a.get_layer("a").kernel.numpy()))


def test_json_both_ways(data):
    m = build_functional(kj, KjScale)
    k = keras.models.model_from_json(m.to_json())
    assert [l.name for l in k.layers] == [l.name for l in m.layers]
    k2 = build_functional(keras, Scale)
    m2 = kj.models.model_from_json(k2.to_json()) if hasattr(kj.models, "model_from_json") else saving_api.model_from_json(k2.to_json())
    assert [l.name for l in m2.layers] == [l.name for l in k2.layers]
    m2.set_weights(k2.get_weights())
    pk = k2.predict([data["xa"], data["xb"]], verbose=0)
    po = m2.predict([data["xa"], data["xb"]], verbose=0)
    for key in pk:
        np.testing.assert_allclose(_np(po[key]), pk[key], atol=1e-6)
    cfg = json.loads(m.to_json())
    assert cfg["module"] == "keras.src.models.functional" and cfg["registered_name"] == "Functional"


def test_custom_objects_variants(tmp_path):
    class Unreg(kj.Layer):
        def call(self, x):
            return x * 2

    m = kj.Sequential([kj.Input((2,)), Unreg(name="u")])
    js = m.to_json()
    with pytest.raises(TypeError, match="Unreg"):
        saving_api.model_from_json(js)
    assert saving_api.model_from_json(js, custom_objects={"Unreg": Unreg}).layers[0].name == "u"
    with kj.saving.custom_object_scope({"Unreg": Unreg}):
        saving_api.model_from_json(js)
    # Keras 2 habit: the bare class name for a registered class.
    assert kj.saving.get_registered_object("Scale") is KjScale
    assert kj.saving.get_registered_object("MyPkg>Scale") is KjScale
    assert kj.saving.get_registered_name(KjScale) == "MyPkg>Scale"
