"""What the keras-io training guides rely on (run unchanged with `python -m keras_on_jax`).

custom_train_step_in_jax, writing_a_custom_training_loop_in_jax,
distributed_training_with_jax, writing_your_own_callbacks,
training_with_built_in_methods, customizing_what_happens_in_fit.
"""

import os
import subprocess
import sys
import textwrap

import jax
import keras
import numpy as np
import pytest
from guide_models import jax_guide_model_class

import keras_on_jax
from keras_on_jax import _aliases


def _dense_models(kernel_regularizer=None):
    """The same small functional model in real Keras and keras_on_jax, same weights."""
    out = []
    for lib in (keras, keras_on_jax):
        inputs = lib.Input(shape=(4,))
        outputs = lib.layers.Dense(2, kernel_regularizer=kernel_regularizer)(inputs)
        out.append(lib.Model(inputs, outputs))
    out[1].set_weights(out[0].get_weights())
    return out


def _data(n=16):
    rng = np.random.RandomState(0)
    return rng.rand(n, 4).astype("float32"), rng.rand(n, 2).astype("float32")


# ---- custom_train_step_in_jax: Model.stateless_compute_loss ---------------------------------------


def test_stateless_compute_loss_matches_keras_and_uses_given_values():
    x, y = _data()
    results = []
    for model in _dense_models(kernel_regularizer="l2"):
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        tv = [v.value * 2.0 for v in model.trainable_variables]  # not the stored values
        ntv = [v.value for v in model.non_trainable_variables]
        mv = [v.value for v in model.metrics_variables]
        y_pred, _ = model.stateless_call(tv, ntv, x)
        loss, (tv2, ntv2, mv2) = model.stateless_compute_loss(
            tv, ntv, mv, x=x, y=y, y_pred=y_pred, training=True)
        assert len(tv2) == len(tv) and len(ntv2) == len(ntv) and len(mv2) == len(mv)
        results.append(float(loss))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5)
    # the regularization term uses the given (doubled) kernel, not the stored one
    model = _dense_models(kernel_regularizer="l2")[1]
    model.compile(optimizer="sgd", loss="mse")
    stored = float(model.compute_loss(x=x, y=y, y_pred=model(x)))
    assert abs(results[1] - stored) > 1e-3


def test_guide_jax_train_step_with_stateless_compute_loss_matches_keras():
    x, y = _data(32)
    histories, weights = [], []
    for lib in (keras, keras_on_jax):
        inputs = lib.Input(shape=(4,))
        outputs = lib.layers.Dense(2)(inputs)
        model = jax_guide_model_class(lib)(inputs, outputs)
        if weights:
            model.set_weights(weights)
        else:
            weights = model.get_weights()
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
        h = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        histories.append((h.history, model.get_weights()))
    (kh, kw), (jh, jw) = histories
    assert set(jh) == {"loss", "mae"}
    for key in kh:
        np.testing.assert_allclose(jh[key], kh[key], rtol=1e-4)
    for a, b in zip(jw, kw):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


# ---- writing_a_custom_training_loop_in_jax / distributed_training_with_jax ------------------------
# The state passed through `jax.jit` is `model.trainable_variables` (Variables) itself.


def _jitted_loop(lib, model, x, y, steps=3, as_values=False):
    optimizer = lib.optimizers.Adam(learning_rate=1e-2)
    loss_fn = lib.losses.MeanSquaredError()

    def compute_loss_and_updates(tv, ntv, x, y):
        y_pred, ntv = model.stateless_call(tv, ntv, x)
        return loss_fn(y, y_pred), ntv

    grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)

    @jax.jit
    def train_step(state, data):
        tv, ntv, ov = state
        (loss, ntv), grads = grad_fn(tv, ntv, *data)
        tv, ov = optimizer.stateless_apply(ov, grads, tv)
        return loss, (tv, ntv, ov)

    optimizer.build(model.trainable_variables)
    state = model.trainable_variables, model.non_trainable_variables, optimizer.variables
    if as_values:  # real Keras on this JAX cannot pass its Variables through jit
        state = tuple([v.value for v in group] for group in state)
    losses = []
    for _ in range(steps):
        loss, state = train_step(state, (x, y))
        losses.append(float(loss))
    for variable, value in zip(model.trainable_variables, state[0]):
        variable.assign(value)
    return losses


def test_jit_loop_over_model_variables_as_state_matches_keras():
    x, y = _data()
    kmodel, jmodel = _dense_models()
    k_losses = _jitted_loop(keras, kmodel, x, y, as_values=True)
    j_losses = _jitted_loop(keras_on_jax, jmodel, x, y)
    np.testing.assert_allclose(j_losses, k_losses, rtol=1e-5)
    for a, b in zip(jmodel.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_stateless_call_accepts_variables_rebuilt_by_jit():
    x, _ = _data()
    model = _dense_models()[1]

    @jax.jit
    def f(tv, ntv):
        return model.stateless_call(tv, ntv, x)[0]

    np.testing.assert_allclose(
        f(model.trainable_variables, model.non_trainable_variables), model(x), rtol=1e-6)


# ---- tf.data under the runner (no TensorFlow installed) ---------------------------------------------


@pytest.fixture
def tf_shim():
    return _aliases._make_tensorflow_shim()


def test_tf_data_dataset_shuffle_batch_numpy(tf_shim):
    x = np.arange(10, dtype="float32").reshape(10, 1)
    y = np.arange(10, dtype="int32")
    ds = tf_shim.data.Dataset.from_tensor_slices((x, y)).shuffle(buffer_size=1024).batch(4)
    assert len(ds) == 3
    epoch1 = [(bx.numpy(), by.numpy()) for bx, by in ds]
    assert [b[0].shape for b in epoch1] == [(4, 1), (4, 1), (2, 1)]
    assert type(epoch1[0][0]) is np.ndarray
    seen = np.concatenate([b[1] for b in epoch1])
    assert sorted(seen.tolist()) == list(range(10))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in epoch1])[:, 0], seen)
    epoch2 = np.concatenate([by.numpy() for _, by in ds])
    assert sorted(epoch2.tolist()) == list(range(10))
    # drop_remainder, take and repeat
    ds2 = tf_shim.data.Dataset.from_tensor_slices((x, y)).batch(4, drop_remainder=True)
    assert [b[1].tolist() for b in ds2] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(ds2.repeat(2)) == 4 and len(list(ds2.repeat(2))) == 4
    assert len(list(ds2.take(1))) == 1
    # a buffer shuffle after batching keeps every batch whole
    batches = [b[1].tolist() for b in ds2.shuffle(2)]
    assert sorted(batches) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_tf_data_dataset_in_fit_evaluate_and_sample_weights(tf_shim):
    x, y = _data(32)
    sw = np.ones((32,), "float32")
    model = _dense_models()[1]
    model.compile(optimizer="sgd", loss="mse")
    ds = tf_shim.data.Dataset.from_tensor_slices((x, y, sw)).shuffle(1024).batch(8)
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    ev = model.evaluate(tf_shim.data.Dataset.from_tensor_slices((x, y)).batch(8), verbose=0)
    np.testing.assert_allclose(ev, model.evaluate(x, y, batch_size=8, verbose=0), rtol=1e-5)


# ---- writing_your_own_callbacks: optimizer.lr, tf.keras.backend.get_value / set_value ----------------


def test_optimizer_lr_alias_and_backend_get_set_value():
    opt = keras_on_jax.optimizers.RMSprop(learning_rate=0.1)
    assert hasattr(opt, "lr")
    assert float(keras_on_jax.backend.get_value(opt.learning_rate)) == pytest.approx(0.1)
    keras_on_jax.backend.set_value(opt.lr, 0.05)
    assert float(opt.learning_rate) == pytest.approx(0.05)
    opt.lr = 0.01
    assert float(opt.learning_rate) == pytest.approx(0.01)
    assert keras_on_jax.backend.get_value(3.0) == 3.0
    with pytest.raises(TypeError, match="expects a Variable"):
        keras_on_jax.backend.set_value(np.zeros(()), 1.0)


def test_lr_set_in_callback_takes_effect_in_fit():
    x, y = _data()
    model = _dense_models()[1]
    model.compile(optimizer=keras_on_jax.optimizers.SGD(learning_rate=0.1), loss="mse")

    class ZeroLR(keras_on_jax.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            keras_on_jax.backend.set_value(self.model.optimizer.lr, 0.0)

    before = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ZeroLR()])
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


# ---- customizing_what_happens_in_fit: a model without call() (the GAN) -------------------------------


def test_model_without_call_with_custom_train_step_fits():
    sub = keras_on_jax.Sequential([keras_on_jax.Input((4,)), keras_on_jax.layers.Dense(1)])

    class Wrapper(keras_on_jax.Model):
        def __init__(self, sub):
            super().__init__()
            self.sub = sub

        def compile(self, opt):
            super().compile()
            self.opt = opt

        def train_step(self, data):
            with keras_on_jax.GradientTape() as tape:
                loss = keras_on_jax.ops.mean(keras_on_jax.ops.square(self.sub(data)))
            grads = tape.gradient(loss, self.sub.trainable_weights)
            self.opt.apply_gradients(zip(grads, self.sub.trainable_weights))
            return {"loss": loss}

    model = Wrapper(sub)
    model.compile(keras_on_jax.optimizers.SGD(0.1))
    history = model.fit(np.ones((8, 4), "float32"), epochs=3, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert losses[2] < losses[0]


def test_runner_resolves_tensorflow_keras_submodules_and_guide_ops(tmp_path):
    script = tmp_path / "guide.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import tensorflow as tf
        from tensorflow import keras
        from tensorflow.keras import layers
        import keras_on_jax
        assert layers is keras_on_jax.layers
        x = np.ones((3, 2), "float32")
        n = tf.shape(x)[0]
        labels = tf.concat([tf.ones((n, 1)), tf.zeros((n, 1))], axis=0)
        assert labels.shape == (6, 1) and float(labels.sum()) == 3.0
        r = tf.random.normal(shape=(n, 4))
        assert r.shape == (3, 4)
        ds = tf.data.Dataset.from_tensor_slices(x).batch(2)
        print("OK", [b.numpy().shape for b in ds])
    """))
    env = dict(os.environ, KERAS_BACKEND="jax")
    proc = subprocess.run([sys.executable, "-m", "keras_on_jax", str(script)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "OK [(2, 2), (1, 2)]" in proc.stdout
