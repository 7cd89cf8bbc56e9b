"""`floatx="float64"` (keras.json or `keras.config.set_floatx`) computes in float64 end to end.

JAX's 64-bit mode is process-wide, so each case runs in a subprocess with `KERAS_HOME`
pointing to a temporary `keras.json`.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import jax
    import keras_on_jax as keras

    if sys.argv[1] == "set_floatx":
        keras.config.set_floatx("float64")
    out = {"floatx": keras.config.floatx(), "x64": bool(jax.config.jax_enable_x64)}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3)).astype("float32")
    y = rng.standard_normal((32, 1))
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    model.set_weights([np.array([[1 / 3], [0.5 + 1e-9], [np.pi]]), np.array([1e-10])])
    out["weights"] = [str(v.dtype) for v in model.weights]
    out["optimizer"] = sorted({str(v.dtype) for v in model.optimizer.variables})
    out["output"] = str(model(x).dtype)
    out["predict"] = model.predict(x, verbose=0)[:, 0].tolist()
    out["predict_dtype"] = str(model.predict(x, verbose=0).dtype)
    out["evaluate"] = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    out["metric_vars"] = sorted({str(v.dtype) for v in model.metrics_variables})
    out["loss_fn"] = str(keras.losses.MeanSquaredError()(y, model(x)).dtype)
    out["ops"] = [str(keras.ops.ones(2).dtype), str(keras.random.normal((2,)).dtype),
                  str(keras.ops.convert_to_tensor(1.0).dtype)]
    history = model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    out["fit_loss"] = history.history["loss"][0]
    out["after"] = [np.asarray(w).ravel().tolist() for w in model.get_weights()]
    out["after_dtypes"] = [str(w.dtype) for w in model.get_weights()]
    print("RESULT" + json.dumps(out))
""")


def _run(tmp_path, floatx, mode):
    home = tmp_path / "keras_home"
    home.mkdir()
    (home / "keras.json").write_text(json.dumps({
        "floatx": floatx, "epsilon": 1e-07, "backend": "jax",
        "image_data_format": "channels_last", "jax_compilation_cache": False,
    }))
    script = tmp_path / "run.py"
    script.write_text(_SCRIPT)
    env = dict(os.environ, KERAS_HOME=str(home), JAX_PLATFORMS="cpu")
    env.pop("JAX_ENABLE_X64", None)
    proc = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [s for s in proc.stdout.splitlines() if s.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


def _reference(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3)).astype("float32").astype(dtype)
    y = rng.standard_normal((32, 1)).astype(dtype)
    k = np.array([[1 / 3], [0.5 + 1e-9], [np.pi]], dtype=dtype)
    b = np.array([1e-10], dtype=dtype)
    pred = x @ k + b
    err = pred - y
    loss = np.mean(err ** 2)
    mae = np.mean(np.abs(err))
    dk = 2.0 / 32 * x.T @ err
    db = 2.0 / 32 * np.sum(err, axis=0)
    return pred[:, 0], loss, mae, [(k - 0.1 * dk).ravel(), b - 0.1 * db]


def _check(out):
    assert out["floatx"] == "float64" and out["x64"] is True
    assert out["weights"] == ["float64", "float64"]
    assert "float64" in out["optimizer"] and "float32" not in out["optimizer"]
    assert out["output"] == out["predict_dtype"] == out["loss_fn"] == "float64"
    assert out["metric_vars"] == ["float64"]
    assert out["ops"] == ["float64", "float64", "float64"]
    assert out["after_dtypes"] == ["float64", "float64"]
    pred, loss, mae, after = _reference(np.float64)
    pred32, loss32, _, after32 = _reference(np.float32)
    # The float64 answers match NumPy's float64 computation far beyond float32 precision.
    np.testing.assert_allclose(out["predict"], pred, rtol=1e-13, atol=1e-13)
    assert np.max(np.abs(pred32 - pred)) > 1e-9
    assert abs(out["evaluate"]["loss"] - loss) < 1e-13
    assert abs(loss32 - loss) > 1e-9
    assert abs(out["evaluate"]["mae"] - mae) < 1e-13
    assert abs(out["fit_loss"] - loss) < 1e-13
    for got, ref, ref32 in zip(out["after"], after, after32):
        np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-15)
        assert np.max(np.abs(np.asarray(ref32, "float64") - ref)) > 1e-10


def test_keras_json_floatx_float64_fits_in_float64(tmp_path):
    _check(_run(tmp_path, "float64", "json"))


def test_set_floatx_float64_enables_64_bit_jax(tmp_path):
    _check(_run(tmp_path, "float32", "set_floatx"))
