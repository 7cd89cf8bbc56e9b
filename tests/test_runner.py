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


def test_tf_function_training_loop(tmp_path):
    # The tf.keras guide "Writing a training loop from scratch", unchanged but for sizes:
    # `@tf.function` steps, `tf.GradientTape`, a `tf.data.Dataset` with a partial batch.
    proc = _run(tmp_path, """
        import numpy as np
        import tensorflow as tf
        from tensorflow import keras

        def run():
            keras.utils.set_random_seed(0)
            inputs = keras.Input(shape=(6,), name="digits")
            x = keras.layers.Dense(8, activation="relu")(inputs)
            outputs = keras.layers.Dense(3, name="predictions")(x)
            model = keras.Model(inputs=inputs, outputs=outputs)
            optimizer = keras.optimizers.SGD(learning_rate=1e-1)
            loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            train_acc_metric = keras.metrics.SparseCategoricalAccuracy()

            @tf.function
            def train_step(x, y):
                with tf.GradientTape() as tape:
                    logits = model(x, training=True)
                    loss_value = loss_fn(y, logits)
                grads = tape.gradient(loss_value, model.trainable_weights)
                optimizer.apply_gradients(zip(grads, model.trainable_weights))
                train_acc_metric.update_state(y, logits)
                return loss_value

            rng = np.random.default_rng(0)
            x_train = rng.standard_normal((40, 6)).astype("float32")
            y_train = rng.integers(0, 3, 40).astype("int32")
            dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(16)
            for epoch in range(2):
                for x_batch, y_batch in dataset:
                    loss_value = train_step(x_batch, y_batch)
            return (float(loss_value), float(train_acc_metric.result()),
                    train_step.experimental_get_tracing_count(), model.get_weights())

        compiled = run()
        tf.config.run_functions_eagerly(True)
        eager = run()
        assert compiled[:2] == eager[:2] or np.allclose(compiled[:2], eager[:2], rtol=1e-5)
        assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(compiled[3], eager[3]))
        print("TRACES", compiled[2], eager[2], "ACC", compiled[1] == eager[1])
    """)
    assert proc.returncode == 0, proc.stderr
    # Two traces (the full batches, the last partial batch); none when run eagerly.
    assert "TRACES 2 0 ACC True" in proc.stdout
