"""model.export(format="jax"): a jax.export artifact served by `load` or plain JAX."""

import json
import pathlib
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import op_node_models
import pytest

import keras_on_jax as keras
from keras_on_jax.export import load

ATOL = 1e-5
README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def _convnet(rng):
    model = keras.Sequential([
        keras.Input((8, 8, 1), name="digits"),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.MaxPooling2D(2),
        keras.layers.Dropout(0.3),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    bn = model.layers[1]
    bn.moving_mean.assign(rng.standard_normal(4))
    bn.moving_variance.assign(rng.uniform(0.5, 2.0, 4))
    return model


def test_sequential_round_trip_any_batch_size(tmp_path, rng):
    model = _convnet(rng)
    path = tmp_path / "digits_jax"
    model.export(path, format="jax", verbose=False)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["endpoints"]["serve"]["platforms"] == ["cpu", "cuda", "tpu"]
    assert manifest["endpoints"]["serve"]["inputs"] == [
        {"name": "digits", "shape": [None, 8, 8, 1], "dtype": "float32"}]
    loaded = load(path)
    for n in (1, 6):
        x = rng.uniform(0, 1, (n, 8, 8, 1)).astype("float32")
        want = model.predict(x, verbose=0)
        np.testing.assert_allclose(np.asarray(loaded.serve(x)), want, atol=ATOL)
        np.testing.assert_allclose(np.asarray(loaded(x.astype("float64"))), want, atol=ATOL)
    # As a Keras ExportArchive lists them: trainable first, then non-trainable.
    tracked = model.trainable_variables + model.non_trainable_variables
    assert len(loaded.variables) == len(tracked)
    for got, v in zip(loaded.variables, tracked):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(v.value))
    assert len(loaded.trainable_variables) == len(model.trainable_variables)


def test_prints_the_endpoints(tmp_path, capsys):
    model = keras.Sequential([keras.Input((3,), name="x"), keras.layers.Dense(2)])
    model.export(tmp_path / "m", format="jax")
    out = capsys.readouterr().out
    assert f"Saved artifact at '{tmp_path / 'm'}'" in out
    assert "* Endpoint 'serve'" in out
    assert "x: float32[batch, 3]" in out


def test_functional_dict_inputs_and_outputs(tmp_path, rng):
    a = keras.Input((4,), name="a")
    b = keras.Input((2,), name="b")
    h = keras.layers.Concatenate()([keras.layers.Dense(3)(a), b])
    model = keras.Model({"a": a, "b": b}, {"y": keras.layers.Dense(1)(h), "h": h})
    model.export(tmp_path / "m", format="jax", verbose=False)
    x = {"a": rng.standard_normal((5, 4)).astype("float32"),
         "b": rng.standard_normal((5, 2)).astype("float32")}
    got = load(tmp_path / "m")(x)
    want = model.predict(x, verbose=0)
    assert sorted(got) == ["h", "y"]
    for key in want:
        np.testing.assert_allclose(np.asarray(got[key]), want[key], atol=ATOL)


def test_recurrent_and_subclassed(tmp_path, rng):
    class Encoder(keras.Model):
        def __init__(self):
            super().__init__()
            self.rnn = keras.layers.GRU(4, return_sequences=True)
            self.lstm = keras.layers.LSTM(3)

        def call(self, x):
            return self.lstm(self.rnn(x))

    model = Encoder()
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    model(x)
    model.export(tmp_path / "m", format="jax", verbose=False)
    loaded = load(tmp_path / "m")
    assert loaded.manifest["endpoints"]["serve"]["inputs"][0]["name"] == "input_0"
    x7 = rng.standard_normal((7, 5, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x7)), model.predict(x7, verbose=0), atol=ATOL)


def _readme_plain_jax_snippet():
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    (snippet,) = [b for b in blocks if "export.deserialize" in b]
    return snippet


def test_readme_plain_jax_snippet_serves_without_this_package(tmp_path, rng):
    model = _convnet(rng)
    model.export(tmp_path / "digits_jax", format="jax", verbose=False)
    x = rng.uniform(0, 1, (3, 8, 8, 1)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    script = "\n".join([
        "import numpy as np",
        "x = np.load('x.npy')",
        _readme_plain_jax_snippet(),
        "import sys",
        "assert not any(m.startswith('keras') for m in sys.modules), 'keras was imported'",
        "np.save('out.npy', np.asarray(probabilities))",
    ])
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env={"PATH": "", "JAX_PLATFORMS": "cpu"})
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), model.predict(x, verbose=0),
                               atol=ATOL)


def test_bfloat16_weights_are_stored_as_raw_bits(tmp_path, rng):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, dtype="bfloat16")])
    model.export(tmp_path / "m", format="jax", verbose=False, platforms=["cpu"])
    with np.load(tmp_path / "m" / "variables.npz") as stored:
        assert {stored[k].dtype for k in stored.files} == {np.dtype("uint16")}
        weights = dict(stored)
    loaded = load(tmp_path / "m")
    assert loaded.manifest["endpoints"]["serve"]["platforms"] == ["cpu"]
    assert [v.dtype for v in loaded.variables] == [jnp.bfloat16, jnp.bfloat16]
    np.testing.assert_array_equal(np.asarray(loaded.variables[0], "float32"),
                                  np.asarray(model.layers[0].kernel.value, "float32"))
    x = rng.standard_normal((2, 4)).astype("float32")
    want = np.asarray(model.predict(x, verbose=0), "float32")
    np.testing.assert_allclose(np.asarray(loaded(x), "float32"), want, atol=1e-2)
    # The raw dict from the .npz is exactly what the program takes (plain-JAX serving).
    direct = loaded.serve.exported.call(weights, x)
    np.testing.assert_array_equal(np.asarray(direct, "float32"), np.asarray(loaded(x), "float32"))


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="No exported artifact at .*manifest.json"):
        load(tmp_path)
    model = keras.Sequential([keras.Input((3,), name="x"), keras.layers.Dense(2)])
    model.export(tmp_path / "m", format="jax", verbose=False)
    loaded = load(tmp_path / "m")
    with pytest.raises(TypeError, match=r"'serve' takes 1 positional argument\(s\) \(\['x'\]\)"):
        loaded(np.ones((1, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"for format='jax': \['opset_version'\]"):
        model.export(tmp_path / "m2", format="jax", opset_version=17)


def test_weights_are_inputs_of_the_program_not_constants(tmp_path, rng):
    # The program of an export serves the weights of a later export of the same model.
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.export(tmp_path / "a", format="jax", verbose=False, platforms=["cpu"])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(rng.standard_normal((8, 3)), rng.standard_normal((8, 2)), epochs=1, verbose=0)
    model.export(tmp_path / "b", format="jax", verbose=False, platforms=["cpu"])
    x = rng.standard_normal((4, 3)).astype("float32")
    want = model.predict(x, verbose=0)
    old = load(tmp_path / "a")
    assert not np.allclose(np.asarray(old(x)), want, atol=1e-3)
    with np.load(tmp_path / "b" / "variables.npz") as stored:
        new_weights = dict(stored)
    np.testing.assert_allclose(np.asarray(old.serve.exported.call(new_weights, x)), want,
                               atol=ATOL)


@pytest.mark.parametrize("name", sorted(op_node_models.BUILDERS))
def test_functional_with_op_nodes(tmp_path, rng, name):
    model, batch = op_node_models.BUILDERS[name](rng)
    model.export(tmp_path / name, format="jax", verbose=False)
    loaded = load(tmp_path / name)
    for n in (1, 5):
        x = batch(n)
        want, got = model.predict(x, verbose=0), loaded(x)
        for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_allclose(np.asarray(g), w, atol=ATOL)
