"""`model.metrics` holds the metrics a model and its layers keep as attributes, as Keras 3's
trainer lists them (checked against real Keras 3, JAX backend); the built-in steps' logs
keep the compiled metrics' values."""

import keras
import numpy as np

import keras_on_jax


def _data(n=16):
    rng = np.random.default_rng(0)
    return rng.random((n, 3)).astype("float32"), rng.random((n, 1)).astype("float32")


def _custom_model(lib, tracker_name="total"):
    class Block(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = lib.layers.Dense(1, kernel_initializer="ones")
            self.stats = {"act": lib.metrics.Mean(name="act_mean")}

        def call(self, x):
            return self.dense(x)

    class Custom(lib.Model):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.inner = lib.Sequential([lib.Input((1,)), lib.layers.Dense(1)])
            self.inner.compile(optimizer="sgd", loss="mae")
            self.tracker = lib.metrics.Mean(name=tracker_name)

        def call(self, x):
            return self.inner(self.block(x))

    return Custom()


def _listing(model):
    return [(type(m).__name__, m.name) for m in model.metrics], len(model.metrics_variables)


def test_attribute_and_sublayer_metrics_are_listed_as_keras():
    x, y = _data()
    seen = []
    for lib in (keras, keras_on_jax):
        model = _custom_model(lib)
        model(x)
        before = _listing(model)
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        compiled = _listing(model)
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        seen.append((before, compiled, _listing(model), _listing(model.block)))
    assert seen[1] == seen[0]
    assert seen[0][1][0] == [("Mean", "loss"), ("CompileMetrics", "compile_metrics"),
                             ("Mean", "total"), ("Mean", "act_mean")]


def test_ordinary_fit_logs_keep_the_compiled_values():
    # Keras 3 would log this model's never-updated `Mean(name="loss")` attribute as its
    # loss (0.0); here the compiled loss keeps its log, and the other attribute metrics
    # are logged as in Keras.
    x, y = _data()
    histories = []
    for lib, name in ((keras, "total"), (keras_on_jax, "total"), (keras_on_jax, "loss")):
        model = _custom_model(lib, tracker_name=name)
        model(x)
        if histories:
            model.set_weights(initial)
        else:
            initial = model.get_weights()
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
        histories.append(history)
    theirs, ours, clashing = histories
    assert sorted(ours) == sorted(theirs) == ["act_mean", "loss", "mae", "total"]
    assert sorted(clashing) == ["act_mean", "loss", "mae"]
    for key in ("loss", "mae"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5)
        np.testing.assert_allclose(clashing[key], theirs[key], rtol=1e-5)
    assert ours["total"] == theirs["total"] == [0.0, 0.0]


def test_metric_a_layer_updates_in_call_is_logged_and_reset_each_epoch():
    # Keras 3 on JAX cannot run this (its step passes no state for such a metric).
    class Probe(keras_on_jax.layers.Layer):
        def __init__(self):
            super().__init__()
            self.total = keras_on_jax.metrics.Sum(name="output_sum")

        def call(self, x):
            self.total.update_state(x)
            return x

    x, y = _data()
    inputs = keras_on_jax.Input((3,))
    dense = keras_on_jax.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")
    model = keras_on_jax.Model(inputs, Probe()(dense(inputs)))
    model.compile(optimizer=keras_on_jax.optimizers.SGD(0.0), loss="mse")
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0).history
    assert [m.name for m in model.metrics] == ["loss", "output_sum"]
    np.testing.assert_allclose(history["output_sum"], [x.sum()] * 2, rtol=1e-5)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["output_sum"], x.sum(), rtol=1e-5)
