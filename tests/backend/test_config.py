"""keras.json in the Keras home, KERAS_HOME, and the FAQ's defaults (fresh processes)."""

import json
import os
import subprocess
import sys

CODE = (
    "import keras_on_jax as k, json;"
    "print(json.dumps([k.config.floatx(), k.config.epsilon(), k.config.image_data_format(),"
    " k.config.backend(), k.config.keras_home()]))"
)


def _run(env):
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_defaults_written_to_keras_home(tmp_path):
    env = dict(os.environ, KERAS_HOME=str(tmp_path / "kh"))
    floatx, eps, fmt, backend, home = _run(env)
    assert (floatx, eps, fmt, backend) == ("float32", 1e-07, "channels_last", "jax")
    assert home == str(tmp_path / "kh")
    written = json.loads((tmp_path / "kh" / "keras.json").read_text())
    assert written["floatx"] == "float32" and written["image_data_format"] == "channels_last"


def test_keras_json_values_are_read_and_backend_ignored(tmp_path):
    home = tmp_path / "kh"
    home.mkdir()
    (home / "keras.json").write_text(json.dumps({
        "floatx": "float16", "epsilon": 1e-5, "image_data_format": "channels_first",
        "backend": "tensorflow"}))
    floatx, eps, fmt, backend, _ = _run(dict(os.environ, KERAS_HOME=str(home)))
    assert (floatx, eps, fmt, backend) == ("float16", 1e-5, "channels_first", "jax")


def test_unwritable_home_falls_back_to_tmp(tmp_path):
    env = dict(os.environ)
    env.pop("KERAS_HOME", None)
    env["HOME"] = "/proc/nonexistent-home"
    *_, home = _run(env)
    assert home == "/tmp/.keras"
