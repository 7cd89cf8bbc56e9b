"""`python -m keras_on_jax script.py`: unchanged Keras scripts run on this package."""

import os
import subprocess
import sys
import textwrap


def _run(tmp_path, code, *args):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.run([sys.executable, "-m", "keras_on_jax", str(script), *args],
                          capture_output=True, text=True, env=dict(os.environ), timeout=300)


def test_keras3_script_runs_with_argv(tmp_path):
    proc = _run(tmp_path, """
        import sys
        import numpy as np
        import keras
        from keras import layers
        from keras.optimizers import schedules
        model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(schedules.ExponentialDecay(0.1, 10, 0.9)), loss="mse")
        model.fit(np.ones((8, 3)), np.ones((8, 1)), verbose=0)
        print("OK", keras.__name__, sys.argv[1:])
    """, "--epochs", "2")
    assert proc.returncode == 0, proc.stderr
    assert "OK keras_on_jax ['--epochs', '2']" in proc.stdout


def test_faq_tensorflow_spelling_and_unknown_tf_names(tmp_path):
    proc = _run(tmp_path, """
        from tensorflow import keras
        import tensorflow as tf
        assert tf.keras is keras
        m = keras.Sequential([keras.layers.Dense(2, input_shape=(4,))])
        try:
            tf.linalg.matmul
        except AttributeError as e:
            print("ERR", e)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "ERR `tensorflow.linalg` is not provided by keras_on_jax" in proc.stdout


def test_missing_script_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "keras_on_jax", str(tmp_path / "nope.py")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no such file" in proc.stderr
