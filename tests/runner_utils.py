"""Running a script as a user would, under `python -m keras_on_jax` (the runner)."""

import os
import subprocess
import sys


def run_script(tmp_path, name, text, *args, timeout=300):
    """Write `text` to `tmp_path / name` and run it under the runner in a fresh process
    (`import keras` is this package there; no KERAS_BACKEND, CPU only). Returns the
    `CompletedProcess` with its output as text."""
    script = tmp_path / name
    script.write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["JAX_PLATFORMS"] = "cpu"
    return subprocess.run([sys.executable, "-m", "keras_on_jax", str(script), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)
