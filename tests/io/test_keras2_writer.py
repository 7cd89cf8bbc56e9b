"""Whole-model legacy .h5 written here: model_config in Keras 2 (tf-keras 2.21) terms.

The written configs are compared key by key with the tf-keras 2.21 fixtures of the same
architectures (tests/fixtures/keras2/), and the files load in real Keras 3 (its legacy
reader) and here with equal predictions.
"""

import json
import os

import h5py
import keras
import numpy as np
import pytest
from io_models import KjScale, Scale  # noqa: F401  (registers MyPkg>Scale in both)

import keras_on_jax as kj
from keras_on_jax.io import keras2_config

@pytest.fixture(autouse=True)
def _fresh_keras_names():
    """Loading models in real Keras advances its global name counters (e.g. the
    `seed_generator` of a Dropout); reset them so later tests see fresh names."""
    yield
    keras.backend.clear_session()


HERE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras2")
L = kj.layers

BUILDERS = {
    "dense_seq": lambda: kj.Sequential([kj.Input((4,)), L.Dense(5, activation="relu"),
                                        L.Dropout(0.1), L.Dense(2)], name="seq"),
    "conv_bn": lambda: kj.Sequential([kj.Input((6, 6, 2)), L.Conv2D(3, 3), L.BatchNormalization(),
                                      L.Flatten(), L.Dense(2)], name="conv_bn"),
    "lstm": lambda: kj.Sequential([kj.Input((5, 3)), L.LSTM(4), L.Dense(1)]),
    "gru": lambda: kj.Sequential([kj.Input((5, 3)), L.GRU(4), L.Dense(1)]),
    "embedding": lambda: kj.Sequential([kj.Input((5,)), L.Embedding(10, 3), L.Flatten(),
                                        L.Dense(1)]),
    "bidi": lambda: kj.Sequential([kj.Input((5, 3)), L.Bidirectional(L.LSTM(2)), L.Dense(1)]),
}
# Keras-2-only keys deliberately left out because Keras 3's reader rejects them (spec 4.7);
# tf-keras uses its defaults for them.
OMITTED = {"LSTM": {"time_major"}, "GRU": {"time_major"}, "Embedding": {"batch_input_shape"}}
# Values that depend on how the fixture was built (names, Keras 2's `input_length=5`).
IGNORED_VALUES = {"name", "input_length"}


def _fixture_config(name):
    with h5py.File(os.path.join(HERE, f"{name}.h5"), "r") as f:
        return json.loads(f.attrs["model_config"])


def _compare_entry(ours, theirs, where):
    assert ours["class_name"] == theirs["class_name"], where
    assert set(ours) == set(theirs), (where, set(ours) ^ set(theirs))
    ka, kb = set(ours["config"]), set(theirs["config"])
    assert ka - kb == set(), (where, "keys only here", ka - kb)
    assert kb - ka == OMITTED.get(theirs["class_name"], set()), (where, "keys only in tf-keras", kb - ka)
    for key in ka & kb:
        if key in IGNORED_VALUES:
            continue
        a, b = ours["config"][key], theirs["config"][key]
        if key == "layer":
            _compare_entry(a, b, f"{where}.layer")
        else:
            assert a == b, (where, key, a, b)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_config_matches_tf_keras_fixture(name):
    ours = keras2_config.keras2_model_config(BUILDERS[name]())
    theirs = _fixture_config(name)
    assert ours["class_name"] == theirs["class_name"]
    assert set(ours["config"]) == set(theirs["config"])
    assert len(ours["config"]["layers"]) == len(theirs["config"]["layers"])
    for i, (a, b) in enumerate(zip(ours["config"]["layers"], theirs["config"]["layers"])):
        _compare_entry(a, b, f"{name}.layers[{i}]")


def test_flat_functional_matches_tf_keras_node_format():
    """The func_nested fixture's layers except the nested model (see the fallback test)."""
    a = kj.Input((6,), name="in_a")
    b = kj.Input((6,), name="in_b")
    shared = L.Dense(5, name="shared_dense")
    out = L.Dense(2, name="head")(shared(a))
    aux = KjScale(3.0, name="scale")(shared(b))
    m = kj.Model([a, b], [out, aux], name="func")
    ours = keras2_config.keras2_model_config(m)
    theirs = _fixture_config("func_nested")
    assert set(ours["config"]) == set(theirs["config"])
    assert ours["config"]["input_layers"] == theirs["config"]["input_layers"]
    assert ours["config"]["output_layers"] == [["head", 0, 0], ["scale", 0, 0]]
    by_name = {e["name"]: e for e in theirs["config"]["layers"]}
    for entry in ours["config"]["layers"]:
        ref = by_name[entry["name"]]
        _compare_entry(entry, ref, entry["name"])
        if entry["name"] != "head":  # head is called on the nested model in the fixture
            assert entry["inbound_nodes"] == ref["inbound_nodes"]
    assert by_name["head"]["inbound_nodes"] == [[["inner_seq", 1, 0, {}]]]
    assert [e for e in ours["config"]["layers"] if e["name"] == "head"][0]["inbound_nodes"] == [
        [["shared_dense", 0, 0, {}]]]


def _predict(model, x):
    y = model.predict(x, verbose=0)
    return [np.asarray(v) for v in (y if isinstance(y, (list, tuple)) else [y])]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_keras2_form_file_loads_in_keras3_and_here(tmp_path, name):
    m = BUILDERS[name]()
    x = np.load(os.path.join(HERE, f"{name}_x0.npy"))
    path = str(tmp_path / f"{name}.h5")
    m.save(path)
    with h5py.File(path, "r") as f:
        assert f.attrs["keras_version"] == keras2_config.KERAS2_VERSION
        assert f.attrs["backend"] == "tensorflow"
        assert f["model_weights"].attrs["keras_version"] in ("2.21.0", b"2.21.0")
        cfg = json.loads(f.attrs["model_config"])
    assert "module" not in json.dumps(cfg["config"]["layers"][0])
    k = keras.models.load_model(path, compile=False)
    for a, b in zip(_predict(k, x), _predict(m, x)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    back = kj.saving.load_model(path)
    for a, b in zip(_predict(back, x), _predict(m, x)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


def test_flat_functional_with_custom_layer_loads_in_keras3(tmp_path):
    rng = np.random.default_rng(1)
    xa, xb = rng.random((3, 6), dtype=np.float32), rng.random((3, 6), dtype=np.float32)
    a = kj.Input((6,), name="in_a")
    b = kj.Input((6,), name="in_b")
    shared = L.Dense(5, name="shared_dense")
    cat = L.Concatenate(name="cat")([shared(a), shared(b)])
    out = L.Dense(2, name="head")(L.Dropout(0.5, name="drop")(cat, training=False))
    aux = KjScale(3.0, name="scale")(shared(b))
    m = kj.Model([a, b], [out, aux], name="func")
    cfg = keras2_config.keras2_model_config(m)
    nodes = {e["name"]: e["inbound_nodes"] for e in cfg["config"]["layers"]}
    assert nodes["cat"] == [[["shared_dense", 0, 0, {}], ["shared_dense", 1, 0, {}]]]
    assert nodes["drop"] == [[["cat", 0, 0, {"training": False}]]]
    assert cfg["config"]["layers"][-1]["class_name"] == "MyPkg>Scale"
    path = str(tmp_path / "f.h5")
    m.save(path)
    k = keras.models.load_model(path, compile=False)
    for p, q in zip(_predict(k, [xa, xb]), _predict(m, [xa, xb])):
        np.testing.assert_allclose(p, q, atol=1e-6, rtol=0)
    back = kj.saving.load_model(path)
    for p, q in zip(_predict(back, [xa, xb]), _predict(m, [xa, xb])):
        np.testing.assert_allclose(p, q, atol=1e-6, rtol=0)


def test_compiled_model_training_config_and_optimizer_state(tmp_path):
    rng = np.random.default_rng(2)
    x, y = rng.random((8, 4), dtype=np.float32), rng.random((8, 2), dtype=np.float32)
    m = BUILDERS["dense_seq"]()
    m.compile(optimizer=kj.optimizers.Adam(0.0123, beta_1=0.5), loss="mse", metrics=["mae"])
    m.fit(x, y, verbose=0)
    path = str(tmp_path / "c.h5")
    m.save(path)
    with h5py.File(path, "r") as f:
        tc = json.loads(f.attrs["training_config"])
    opt = tc["optimizer_config"]["config"]
    # tf-keras compiles an h5 file's optimizer with its legacy classes; legacy Adam takes
    # its own arguments and name/clipnorm/clipvalue/global_clipnorm (tf-keras 2.21), so
    # Keras 3's extra arguments at their defaults are left out.
    assert set(opt) <= {"name", "learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad",
                        "clipnorm", "clipvalue", "global_clipnorm"}, sorted(opt)
    assert tc["loss"] == "mean_squared_error"
    k = keras.models.load_model(path)
    assert k.compiled and abs(float(k.optimizer.learning_rate.numpy()) - 0.0123) < 1e-7
    np.testing.assert_allclose(k.predict(x, verbose=0), _predict(m, x)[0], atol=1e-6, rtol=0)
    back = kj.saving.load_model(path)
    assert back.compiled and abs(back.optimizer.get_config()["beta_1"] - 0.5) < 1e-7
    for a, b in zip(back.optimizer.variables, m.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a.numpy()), np.asarray(b.numpy()), atol=0)


def test_layer_without_keras2_form_keeps_keras3_entry(tmp_path):
    m = kj.Sequential([kj.Input((4,)), L.Dense(3), L.RMSNormalization(), L.Dense(2)], name="s")
    cfg = keras2_config.keras2_model_config(m)
    entries = cfg["config"]["layers"]
    assert entries[1]["config"]["dtype"] == "float32"  # Keras 2 form
    assert entries[2]["class_name"] == "RMSNormalization"  # Keras 3 only: its entry is kept
    assert isinstance(entries[2]["config"]["dtype"], dict)
    x = np.random.default_rng(3).random((2, 4), dtype=np.float32)
    path = str(tmp_path / "ln.h5")
    m.save(path)
    k = keras.models.load_model(path, compile=False)
    np.testing.assert_allclose(k.predict(x, verbose=0), _predict(m, x)[0], atol=1e-6, rtol=0)
    np.testing.assert_allclose(_predict(kj.saving.load_model(path), x)[0], _predict(m, x)[0],
                               atol=1e-6, rtol=0)


def test_nested_model_in_functional_falls_back_to_keras3_form(tmp_path):
    a = kj.Input((6,), name="in_a")
    inner = kj.Sequential([kj.Input((6,)), L.Dense(4, activation="tanh")], name="inner_seq")
    m = kj.Model(a, L.Dense(2, name="head")(inner(a)), name="func")
    assert keras2_config.keras2_model_config(m) is None
    path = str(tmp_path / "n.h5")
    m.save(path)
    with h5py.File(path, "r") as f:
        assert f.attrs["keras_version"].startswith("3.")
        assert f.attrs["backend"] == "jax"
    x = np.random.default_rng(4).random((2, 6), dtype=np.float32)
    k = keras.models.load_model(path, compile=False)
    np.testing.assert_allclose(k.predict(x, verbose=0), _predict(m, x)[0], atol=1e-6, rtol=0)
    np.testing.assert_allclose(_predict(kj.saving.load_model(path), x)[0], _predict(m, x)[0],
                               atol=1e-6, rtol=0)


def test_keras2_fixture_round_trips_through_our_writer(tmp_path):
    """A tf-keras file loaded here and saved again gives the same Keras 2 config."""
    m = kj.saving.load_model(os.path.join(HERE, "conv_bn.h5"), compile=False)
    ours = keras2_config.keras2_model_config(m)
    theirs = _fixture_config("conv_bn")
    for i, (a, b) in enumerate(zip(ours["config"]["layers"], theirs["config"]["layers"])):
        _compare_entry(a, b, f"conv_bn.layers[{i}]")
        assert a["config"]["name"] == b["config"]["name"]
