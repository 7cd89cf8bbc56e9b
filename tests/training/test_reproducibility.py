"""Reproducibility: `set_random_seed` gives bit-identical training across processes; random
ops in a custom train_step are drawn fresh at every step (not frozen by jit)."""

import os
import subprocess
import sys
import textwrap

import numpy as np

import keras_on_jax as keras

_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import keras_on_jax as keras
    from keras_on_jax.layers.regularization.dropout import Dropout

    keras.config.enable_unsafe_deterministic_mode()
    assert keras.config.is_unsafe_deterministic_mode_enabled()
    seed, out = int(sys.argv[1]), sys.argv[2]
    keras.utils.set_random_seed(seed)
    # Data drawn from NumPy's global generator (seeded by set_random_seed).
    x = np.random.random((64, 6)).astype("float32")
    y = np.random.randint(0, 3, size=(64,))
    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(16, activation="relu"),
        getattr(keras.layers, "Dropout", Dropout)(0.3),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=2, shuffle=True, verbose=0)
    np.savez(out, *model.get_weights())
    """
)


def _run_all(tmp_path, seeds):
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT)
    env = dict(os.environ)
    env.setdefault("KERAS_BACKEND", "jax")
    procs = []
    for i, seed in enumerate(seeds):
        out = tmp_path / f"w{i}.npz"
        procs.append((subprocess.Popen([sys.executable, str(script), str(seed), str(out)],
                                       env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE), out))
    results = []
    for proc, out in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-3000:]
        with np.load(out) as data:
            results.append([data[k] for k in sorted(data.files, key=lambda k: int(k.split("_")[1]))])
    return results


def test_same_seed_two_processes_bit_identical_weights(tmp_path):
    a, b, c = _run_all(tmp_path, [123, 123, 7])
    assert len(a) == 4
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    assert not all(np.array_equal(wa, wc) for wa, wc in zip(a, c))


class NoisyModel(keras.Model):
    """A custom train_step that draws from a model-owned SeedGenerator."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1)
        self.seed_generator = keras.random.SeedGenerator(42)

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        x, y = data
        noise = keras.random.uniform((), seed=self.seed_generator)
        logs = super().train_step((x + noise, y))
        logs = dict(logs)
        logs["noise"] = noise
        return logs


class _Collect(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.values = []

    def on_train_batch_end(self, batch, logs=None):
        self.values.append(float(logs["noise"]))


def test_random_ops_in_custom_train_step_differ_between_steps():
    keras.utils.set_random_seed(0)
    model = NoisyModel()
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((32, 2), "float32")
    y = np.zeros((32, 1), "float32")
    state_before = np.asarray(model.seed_generator.state.numpy())
    collect = _Collect()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[collect])
    assert len(collect.values) == 8
    assert len(set(collect.values)) == 8  # a fresh draw at every step
    # The generator state is model state: it advanced, and a second fit continues from it.
    assert not np.array_equal(np.asarray(model.seed_generator.state.numpy()), state_before)
    again = _Collect()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[again])
    assert not set(again.values) & set(collect.values)


def test_deterministic_mode_switch_exists():
    assert callable(keras.config.enable_unsafe_deterministic_mode)
    assert isinstance(keras.config.is_unsafe_deterministic_mode_enabled(), bool)
