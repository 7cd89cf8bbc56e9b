"""Keras 3's JAX-style `train_step(self, state, data)` (the "custom train step in JAX"
guide) and a stateless custom loop run unchanged and match built-in fit."""

import jax
import numpy as np

import keras_on_jax as keras


class CustomModel(keras.Sequential):
    def compute_loss_and_updates(self, trainable_variables, non_trainable_variables,
                                 metrics_variables, x, y, sample_weight, training=False):
        y_pred, non_trainable_variables = self.stateless_call(
            trainable_variables, non_trainable_variables, x, training=training)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        return loss, (y_pred, non_trainable_variables)

    def train_step(self, state, data):
        trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
        x, y = data
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (loss, (y_pred, non_trainable_variables)), grads = grad_fn(
            trainable_variables, non_trainable_variables, metrics_variables, x, y, None,
            training=True)
        trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
            optimizer_variables, grads, trainable_variables)
        new_metrics_vars, logs = [], {}
        for metric in self.metrics:
            n = len(metric.variables)
            this = metrics_variables[len(new_metrics_vars):len(new_metrics_vars) + n]
            if metric.name == "loss":
                this = metric.stateless_update_state(this, loss)
            else:
                this = metric.stateless_update_state(this, y, y_pred)
            logs[metric.name] = metric.stateless_result(this)
            new_metrics_vars += this
        return logs, (trainable_variables, non_trainable_variables, optimizer_variables,
                      new_metrics_vars)


def _layers():
    return [keras.Input((5,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]


def test_jax_style_train_step_matches_builtin_fit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)).astype("float32")
    y = rng.standard_normal((64, 1)).astype("float32")
    custom = CustomModel(_layers())
    builtin = keras.Sequential(_layers())
    builtin.set_weights(custom.get_weights())
    for m in (custom, builtin):
        m.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    h1 = custom.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    h2 = builtin.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], atol=1e-5)
    np.testing.assert_allclose(h1.history["mae"], h2.history["mae"], atol=1e-5)
    for a, b in zip(custom.get_weights(), builtin.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_stateless_custom_loop_matches_fit():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 5)).astype("float32")
    y = rng.standard_normal((32, 1)).astype("float32")
    model = keras.Sequential(_layers())
    reference = keras.Sequential(_layers())
    reference.set_weights(model.get_weights())
    optimizer = keras.optimizers.SGD(0.05)
    loss_fn = keras.losses.MeanSquaredError()
    optimizer.build(model.trainable_variables)

    def compute_loss(tv, ntv, xb, yb):
        y_pred, ntv = model.stateless_call(tv, ntv, xb, training=True)
        return loss_fn(yb, y_pred), ntv

    @jax.jit
    def step(state, xb, yb):
        tv, ntv, ov = state
        (loss, ntv), grads = jax.value_and_grad(compute_loss, has_aux=True)(tv, ntv, xb, yb)
        tv, ov = optimizer.stateless_apply(ov, grads, tv)
        return loss, (tv, ntv, ov)

    state = ([v.value for v in model.trainable_variables],
             [v.value for v in model.non_trainable_variables],
             [v.value for v in optimizer.variables])
    for i in range(0, 32, 8):
        _, state = step(state, x[i:i + 8], y[i:i + 8])
    for v, value in zip(model.trainable_variables, state[0]):
        v.assign(value)
    reference.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    reference.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
