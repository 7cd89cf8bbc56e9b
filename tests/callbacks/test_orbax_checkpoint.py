"""OrbaxCheckpoint: Keras 3's on-disk layout, checkpoints that move both ways between real
Keras 3.15 (KERAS_BACKEND=jax) and this package, chief-only writes."""

import json
import os
import warnings

import keras
import numpy as np
import orbax.checkpoint as ocp
import pytest

import keras_on_jax as kj
from keras_on_jax.io import orbax_dir

X = np.random.default_rng(0).standard_normal((32, 3)).astype("float32")
Y = np.random.default_rng(1).standard_normal((32, 1)).astype("float32")


def _functional(lib):
    inputs = lib.Input((3,), name="x")
    h = lib.layers.Dense(4, name="d1")(inputs)
    h = lib.layers.BatchNormalization(name="bn")(h)
    outputs = lib.layers.Dense(1, name="d2")(h)
    model = lib.Model(inputs, outputs, name="fn")
    model.compile(optimizer=lib.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


def _sequential(lib, optimizer_name=None):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4, name="d1"),
                            lib.layers.BatchNormalization(name="bn"),
                            lib.layers.Dense(1, name="d2")], name="seq")
    model.compile(optimizer=lib.optimizers.Adam(0.01, name=optimizer_name), loss="mse",
                  metrics=["mae"])
    return model


def _short(path):
    # A Sequential built by load_model names its variables without the model's name.
    return path.replace("seq/", "").replace("/seq_", "/")


def _state(model):
    weights = {_short(v.path): np.asarray(v.value) for v in model.weights}
    # Optimizer variables by slot name: a second `Adam()` in a session is named "adam_1".
    opt = {_short(v.path).rpartition("/")[2]: np.asarray(v.value)
           for v in model.optimizer.variables}
    return weights, opt


def _assert_same_state(a, b, atol=0.0, optimizer=True):
    (wa, oa), (wb, ob) = _state(a), _state(b)
    if not optimizer:
        oa, ob = {}, {}
    assert sorted(wa) == sorted(wb)
    assert sorted(oa) == sorted(ob)
    for p in wa:
        np.testing.assert_allclose(wa[p], wb[p], atol=atol, rtol=0, err_msg=p)
    for p in oa:
        np.testing.assert_allclose(oa[p].astype("float64"), ob[p].astype("float64"),
                                   atol=atol, rtol=0, err_msg=p)


def _keras_load_model(path):
    with warnings.catch_warnings():  # Orbax: "Sharding info not provided when restoring"
        warnings.simplefilter("ignore", UserWarning)
        return keras.saving.load_model(path)


def _pytree_paths(step_dir):
    meta = ocp.v1.metadata(step_dir, checkpointable_name="pytree").metadata
    out = {}

    def walk(node, prefix):
        for k, v in node.items():
            if isinstance(v, dict):
                walk(v, prefix + (k,))
            else:
                out["/".join(prefix + (k,))] = (tuple(v.shape), str(v.dtype))

    walk(dict(meta), ())
    return out


def test_keras_checkpoint_loads_here_with_optimizer_state(tmp_path):
    d = str(tmp_path / "ck")
    km = _functional(keras)
    km.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0,
           callbacks=[keras.callbacks.OrbaxCheckpoint(d, save_freq=4)])
    assert sorted(os.listdir(d)) == ["8"]  # global batch count; max_to_keep=1
    ours = kj.saving.load_model(d)
    assert int(ours.optimizer.iterations.numpy()) == 8
    _assert_same_state(km, ours)
    # load_weights of the folder (latest step) and of one step folder, optimizer included.
    for path in (d, os.path.join(d, "8")):
        fresh = _functional(kj)
        fresh.load_weights(path)
        _assert_same_state(km, fresh)
    km.train_on_batch(X[:8], Y[:8])
    ours.train_on_batch(X[:8], Y[:8])
    _assert_same_state(km, ours, atol=1e-6)
    np.testing.assert_allclose(ours.predict(X, verbose=0), km.predict(X, verbose=0), atol=1e-5)


def test_keras_sequential_checkpoint_loads_here(tmp_path):
    # Keras 3.15's own load_model loses these weights (its rebuilt Sequential's variable
    # paths lack the model name); here they are restored.
    d = str(tmp_path / "ck")
    km = _sequential(keras)
    km.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0,
           callbacks=[keras.callbacks.OrbaxCheckpoint(d, save_on_background=False)])
    assert sorted(os.listdir(d)) == ["1"]  # epoch index
    ours = kj.saving.load_model(d)
    _assert_same_state(km, ours)
    km.train_on_batch(X[:8], Y[:8])
    ours.train_on_batch(X[:8], Y[:8])
    _assert_same_state(km, ours, atol=1e-6)


def test_checkpoint_written_here_loads_in_keras(tmp_path):
    d = str(tmp_path / "ck")
    om = _functional(kj)
    om.fit(X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0,
           callbacks=[kj.callbacks.OrbaxCheckpoint(d, max_to_keep=2)])
    assert sorted(os.listdir(d)) == ["1", "2"]
    km = _keras_load_model(d)
    assert int(km.optimizer.iterations) == 12
    _assert_same_state(om, km)
    om.train_on_batch(X[:8], Y[:8])
    km.train_on_batch(X[:8], Y[:8])
    _assert_same_state(om, km, atol=1e-6)

    # Keras's load_weights into a model it builds (a Sequential keeps its paths here).
    d2 = str(tmp_path / "seq")
    osq = _sequential(kj)
    osq.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0,
            callbacks=[kj.callbacks.OrbaxCheckpoint(d2, save_freq=2)])
    assert sorted(os.listdir(d2)) == ["4"]
    ksq = _sequential(keras)
    ksq.fit(X[:8], Y[:8], epochs=1, verbose=0)  # build the optimizer's variables
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ksq.load_weights(d2)
    # Keras matches optimizer variables by their full path, so its new optimizer
    # ("adam_<n>" in this session) takes none of them; the model's weights are loaded.
    _assert_same_state(osq, ksq, optimizer=False)


def test_layout_matches_keras(tmp_path):
    kd, od = str(tmp_path / "k"), str(tmp_path / "o")
    km, om = _sequential(keras, "adam"), _sequential(kj, "adam")
    km.fit(X, Y, batch_size=16, epochs=1, verbose=0,
           callbacks=[keras.callbacks.OrbaxCheckpoint(kd)])
    om.fit(X, Y, batch_size=16, epochs=1, verbose=0,
           callbacks=[kj.callbacks.OrbaxCheckpoint(od)])
    ks, os_ = os.path.join(kd, "0"), os.path.join(od, "0")
    assert sorted(os.listdir(ks)) == sorted(os.listdir(os_))
    assert {"pytree", "model_config", "_CHECKPOINT_METADATA"} <= set(os.listdir(os_))
    with open(os.path.join(ks, "_CHECKPOINT_METADATA")) as f:
        k_meta = json.load(f)
    with open(os.path.join(os_, "_CHECKPOINT_METADATA")) as f:
        o_meta = json.load(f)
    assert o_meta["item_handlers"] == k_meta["item_handlers"]
    assert _pytree_paths(os_) == _pytree_paths(ks)
    config = ocp.v1.load_checkpointables(os_, {"model_config": None})["model_config"]["config"]
    config = json.loads(config)
    assert config["class_name"] == "Sequential"
    assert config["compile_config"]["loss"] == "mse"


def test_save_weights_only(tmp_path):
    d = str(tmp_path / "ck")
    om = _functional(kj)
    om.fit(X, Y, batch_size=16, epochs=2, verbose=0,
           callbacks=[kj.callbacks.OrbaxCheckpoint(d, save_weights_only=True)])
    step = os.path.join(d, "1")
    assert "model_config" not in os.listdir(step)
    assert {p.split("/")[0] for p in _pytree_paths(step)} == {"trainable_variables",
                                                              "non_trainable_variables"}
    with pytest.raises(ValueError, match="save_weights_only=True"):
        kj.saving.load_model(d)
    fresh = _functional(kj)
    fresh.load_weights(d)
    np.testing.assert_array_equal(fresh.predict(X, verbose=0), om.predict(X, verbose=0))
    km = _functional(keras)
    with warnings.catch_warnings():  # Orbax: "Sharding info not provided when restoring"
        warnings.simplefilter("ignore", UserWarning)
        km.load_weights(d)
    np.testing.assert_allclose(km.predict(X, verbose=0), om.predict(X, verbose=0), atol=1e-5)


def test_save_best_only_and_batch_steps(tmp_path):
    d = str(tmp_path / "best")
    om = _functional(kj)
    cb = kj.callbacks.OrbaxCheckpoint(d, monitor="loss", save_best_only=True, max_to_keep=None,
                                      save_on_background=False)
    losses = om.fit(X, Y, batch_size=8, epochs=5, shuffle=False, verbose=0,
                    callbacks=[cb]).history["loss"]
    expected, best = [], np.inf
    for epoch, loss in enumerate(losses):
        if loss < best:
            best = loss
            expected.append(str(epoch))
    assert sorted(os.listdir(d), key=int) == expected
    assert cb.best == pytest.approx(min(losses))

    d2 = str(tmp_path / "batches")
    om.fit(X, Y, batch_size=8, epochs=2, verbose=0,
           callbacks=[kj.callbacks.OrbaxCheckpoint(d2, save_freq=3, max_to_keep=None)])
    # Continues the model's global batch count (20 after the first fit): 23, 26.
    assert sorted(os.listdir(d2), key=int) == ["23", "26"]

    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        kj.callbacks.OrbaxCheckpoint(d2, save_freq="batch")


def test_only_the_chief_writes(tmp_path, monkeypatch):
    from keras_on_jax.distribute import strategies

    monkeypatch.setattr(strategies, "is_chief", lambda: False)
    d = str(tmp_path / "ck")
    om = _functional(kj)
    om.fit(X, Y, batch_size=16, epochs=1, verbose=0,
           callbacks=[kj.callbacks.OrbaxCheckpoint(d)])
    assert not os.path.exists(d)


def test_step_folders_and_faq_pattern(tmp_path):
    # The FAQ's make_or_restore_model: the newest entry of the checkpoint folder is loaded.
    d = str(tmp_path / "ck")
    om = _functional(kj)
    om.fit(X, Y, batch_size=16, epochs=3, verbose=0,
           callbacks=[kj.callbacks.OrbaxCheckpoint(d, max_to_keep=None)])
    entries = [os.path.join(d, n) for n in os.listdir(d)]
    latest = max(entries, key=lambda p: int(os.path.basename(p)))
    assert os.path.basename(latest) == "2"
    restored = kj.models.load_model(latest)
    np.testing.assert_array_equal(restored.predict(X, verbose=0), om.predict(X, verbose=0))
    older = kj.models.load_model(os.path.join(d, "0"))
    assert int(older.optimizer.iterations.numpy()) == 2

    # The extension-less model folder of `model.save` keeps working alongside.
    om.save(str(tmp_path / "saved"))
    assert orbax_dir.is_checkpoint_dir(str(tmp_path / "saved"))
    assert not orbax_dir.is_keras_orbax_checkpoint(str(tmp_path / "saved"))
    again = kj.models.load_model(str(tmp_path / "saved"))
    np.testing.assert_array_equal(again.predict(X, verbose=0), om.predict(X, verbose=0))


def test_incomplete_checkpoint_folder(tmp_path):
    d = tmp_path / "ck"
    (d / "3.orbax-checkpoint-tmp").mkdir(parents=True)
    with pytest.raises(ValueError, match="No valid checkpoints found"):
        kj.saving.load_model(str(d))


def test_assets_round_trip(tmp_path):
    # Keras's lookup layers need TensorFlow, so assets are checked here against the
    # `.keras` archive's asset layout (the same tree Keras 3 stores in the checkpoint).
    xs = np.array([[3], [7], [9], [3], [7], [11]], dtype="int64")
    ys = np.arange(6, dtype="float32")[:, None]
    lookup = kj.layers.IntegerLookup(name="lk")
    lookup.adapt(xs)
    inputs = kj.Input((1,), dtype="int64")
    h = kj.layers.Flatten()(kj.layers.Embedding(10, 2, name="e")(lookup(inputs)))
    model = kj.Model(inputs, kj.layers.Dense(1, name="d")(h), name="fn")
    model.compile(optimizer="sgd", loss="mse")
    d = str(tmp_path / "ck")
    model.fit(xs, ys, epochs=1, verbose=0, callbacks=[kj.callbacks.OrbaxCheckpoint(d)])
    step = os.path.join(d, "0")
    assets = ocp.v1.load_checkpointables(step, {"assets": None})["assets"]
    flat = {}

    def walk(node, prefix):
        for k, v in node.items():
            if isinstance(v, dict):
                walk(v, prefix + [k])
            else:
                flat["/".join(prefix + [k])] = np.asarray(v, dtype=np.uint8).tobytes()

    walk(dict(assets), [])
    model.save(str(tmp_path / "m.keras"))
    import zipfile

    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        archived = {n[len("assets/"):]: zf.read(n) for n in zf.namelist()
                    if n.startswith("assets/") and not n.endswith("/")}
    assert flat == archived and flat
    restored = kj.saving.load_model(d)
    assert restored.get_layer("lk").get_vocabulary() == lookup.get_vocabulary()
    probe = np.array([[3], [11], [5]], dtype="int64")
    np.testing.assert_array_equal(restored.predict(probe, verbose=0),
                                  model.predict(probe, verbose=0))


def test_load_weights_shape_mismatch(tmp_path):
    d = str(tmp_path / "ck")
    om = _functional(kj)
    om.fit(X, Y, batch_size=16, epochs=1, verbose=0,
           callbacks=[kj.callbacks.OrbaxCheckpoint(d, save_weights_only=True)])
    inputs = kj.Input((3,), name="x")
    h = kj.layers.BatchNormalization(name="bn")(kj.layers.Dense(4, name="d1")(inputs))
    other = kj.Model(inputs, kj.layers.Dense(2, name="d2")(h), name="fn")
    before = other.get_layer("d1").kernel.numpy()
    with pytest.raises(ValueError, match=r"'d2/bias'.*expects shape \(2,\).*shape \(1,\)"):
        other.load_weights(d)
    np.testing.assert_array_equal(other.get_layer("d1").kernel.numpy(), before)  # unchanged
    with pytest.warns(UserWarning, match=r"Skipping variable 'd2/(bias|kernel)'"):
        other.load_weights(d, skip_mismatch=True)
    np.testing.assert_array_equal(other.get_layer("d1").kernel.numpy(),
                                  om.get_layer("d1").kernel.numpy())
