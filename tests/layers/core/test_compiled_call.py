"""Eager calls of built-in layers and models run as one compiled program per signature
(`layers/compiled_call.py`) after a few eager calls, with the same results."""

import numpy as np
import pytest

import keras_on_jax as keras
from keras_on_jax import ops
from keras_on_jax.backend import stateful_jit
from keras_on_jax.layers import compiled_call
from keras_on_jax.training import compiled_tape

CALLS = stateful_jit.EAGER_CALLS_BEFORE_COMPILING + 3  # some eager, then compiled


def _compiled(cache):
    """The programs a cache compiled."""
    return [p for p in cache._programs.values() if isinstance(p, stateful_jit.StatefulJit)]


def _model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((4,)), keras.layers.Dense(5, activity_regularizer="l2"),
        keras.layers.BatchNormalization(), keras.layers.Dropout(0.5), keras.layers.Dense(2)])


def _calls(model, training):
    x = np.arange(12, dtype="float32").reshape(3, 4) / 10
    outs = [np.asarray(model(x, training=training)) for _ in range(CALLS)]
    cache = compiled_call._CACHES.get(model)
    assert len(_compiled(cache.programs)) == (stateful_jit.EAGER_CALLS_BEFORE_COMPILING < CALLS)
    bn = model.layers[1]
    return outs, [float(l) for l in model.losses], [bn.moving_mean.numpy()]


@pytest.mark.parametrize("training", [False, True])
def test_compiled_calls_equal_eager_calls(training, monkeypatch):
    compiled = _calls(_model(), training)
    monkeypatch.setattr(stateful_jit, "EAGER_CALLS_BEFORE_COMPILING", 10**9)
    eager = _calls(_model(), training)
    for a, b in zip(compiled[0], eager[0]):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # `model.losses` holds the last call's activity regularization, as arrays.
    np.testing.assert_allclose(compiled[1], eager[1], rtol=1e-6)
    np.testing.assert_allclose(compiled[2], eager[2], atol=1e-6)
    if training:  # Dropout draws a new mask each call; BatchNorm statistics move
        assert not np.allclose(compiled[0][-1], compiled[0][-2])
        assert not np.allclose(compiled[2][0], 0.0)
    else:
        np.testing.assert_allclose(compiled[0][-1], compiled[0][0], atol=1e-6)


def test_compiled_calls_see_new_weights_and_new_layers():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, use_bias=False)])
    x = np.array([[1.0, 2.0]], "float32")
    for _ in range(CALLS):
        model(x)
    model.layers[0].kernel.assign(np.eye(2, dtype="float32") * 3)
    np.testing.assert_allclose(model(x), [[3.0, 6.0]])
    model.add(keras.layers.Dense(1, kernel_initializer="ones", use_bias=False))
    for _ in range(CALLS):
        out = model(x)
    np.testing.assert_allclose(out, [[9.0]])


def test_user_layers_keep_running_their_python_code():
    calls = []

    class Doubling(keras.layers.Layer):
        def call(self, x):
            calls.append(1)  # a side effect the user expects on every eager call
            return x * 2

    layer = Doubling()
    for _ in range(CALLS):
        out = layer(np.ones(2, "float32"))
    np.testing.assert_allclose(out, [2.0, 2.0])
    assert len(calls) == CALLS
    assert not compiled_call._CACHES[layer].eligible


def test_optimizer_apply_compiled_equals_eager(monkeypatch):
    def run():
        variables = [keras.Variable(np.array([1.0, -2.0], "float32")),
                     keras.Variable(np.array([[0.5]], "float32"))]
        optimizer = keras.optimizers.Adam(learning_rate=0.1, clipnorm=1.0)
        history = []
        for step in range(CALLS):
            grads = [v.value * (step + 1) for v in variables]
            if step == CALLS - 2:
                optimizer.beta_1 = 0.5  # a Python hyperparameter: a new program
            optimizer.apply_gradients(zip(grads, variables))
            history.append([v.numpy().copy() for v in variables])
        # Compiled before `beta_1` changed; the new value then runs eagerly (a new key).
        assert len(_compiled(stateful_jit.program_cache(optimizer))) == (
            stateful_jit.EAGER_CALLS_BEFORE_COMPILING < CALLS - 2)
        return history, int(optimizer.iterations.numpy())

    compiled, steps = run()
    monkeypatch.setattr(stateful_jit, "EAGER_CALLS_BEFORE_COMPILING", 10**9)
    eager, _ = run()
    assert steps == CALLS
    for a, b in zip(compiled, eager):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-6)


def test_eager_tape_loop_compiled_equals_eager(monkeypatch):
    def run():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                                  keras.layers.Dense(1)])
        optimizer = keras.optimizers.SGD(0.05)
        weight = keras.Variable(1.0, name="loss_weight")  # read by the loss, not a source
        rng = np.random.default_rng(0)
        losses = []
        for step in range(CALLS):
            x = rng.standard_normal((8, 3)).astype("float32")
            y = rng.standard_normal((8, 1)).astype("float32")
            weight.assign(float(step + 1))
            with keras.GradientTape() as tape:
                loss = ops.mean((model(x, training=True) - y) ** 2) * weight
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            losses.append(float(loss))
        return losses, model.get_weights()

    before = len(_compiled(compiled_tape._PROGRAMS))
    compiled = run()
    assert len(_compiled(compiled_tape._PROGRAMS)) == before + 1
    monkeypatch.setattr(stateful_jit, "EAGER_CALLS_BEFORE_COMPILING", 10**9)
    eager = run()
    np.testing.assert_allclose(compiled[0], eager[0], rtol=1e-5)
    for a, b in zip(compiled[1], eager[1]):
        np.testing.assert_allclose(a, b, atol=1e-6)
