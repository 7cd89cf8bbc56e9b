"""`model.metrics` is Keras 3's `[loss tracker, compile_metrics]`: one `CompileMetrics`
whose `update_state(y, y_pred, sample_weight)` weights only the `weighted_metrics` and
whose result is a dict. Checked against real Keras 3 (JAX backend)."""

import keras
import numpy as np
from guide_models import jax_guide_model_class

import keras_on_jax


def _data(n=16):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((n, 4)).astype("float32")
    y = rng.standard_normal((n, 2)).astype("float32")
    sw = rng.uniform(0.1, 3.0, size=(n,)).astype("float32")
    return x, y, sw


def _models(model_class=None):
    """The same Functional model in real Keras and here (same weights)."""
    out = []
    for lib in (keras, keras_on_jax):
        inputs = lib.Input((4,))
        outputs = lib.layers.Dense(2)(inputs)
        cls = model_class(lib) if model_class else lib.Model
        out.append(cls(inputs, outputs))
    out[1].set_weights(out[0].get_weights())
    return out


def _jax_guide_model(lib):
    return jax_guide_model_class(lib, weight_the_loss=False)


def _compile(model, lib, **kwargs):
    model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse", **kwargs)


def test_metrics_are_loss_tracker_and_compile_metrics_as_keras():
    x, y, sw = _data()
    seen = []
    for lib, model in zip((keras, keras_on_jax), _models()):
        _compile(model, lib, metrics=["mae"], weighted_metrics=["mae"])
        before = [(type(m).__name__, m.name) for m in model.metrics]
        model.fit(x, y, sample_weight=sw, batch_size=8, epochs=1, shuffle=False, verbose=0)
        after = [(type(m).__name__, m.name) for m in model.metrics]
        container = model.metrics[1]
        result = container.result()
        assert isinstance(result, dict)
        seen.append((before, after, [m.name for m in container.metrics],
                     {k: float(v) for k, v in result.items()}))
    (kb, ka, kinner, kres), (jb, ja, jinner, jres) = seen
    assert jb == kb == [("Mean", "loss"), ("CompileMetrics", "compile_metrics")]
    assert ja == ka
    assert jinner == kinner == ["mae", "mae"]
    assert list(jres) == list(kres) == ["mae", "weighted_mae"]
    np.testing.assert_allclose([jres[k] for k in kres], list(kres.values()), rtol=1e-5)


def test_no_metrics_compiled_lists_only_the_loss_tracker_as_keras():
    for lib, model in zip((keras, keras_on_jax), _models()):
        _compile(model, lib)
        assert [m.name for m in model.metrics] == ["loss"]
        _compile(model, lib, metrics=[])
        assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]


def test_compile_metrics_weights_only_weighted_metrics():
    x, y, sw = _data()
    (_, model) = _models()
    _compile(model, keras_on_jax, metrics=["mae"], weighted_metrics=["mae"])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # builds the metrics
    container = model.metrics[1]
    container.reset_state()
    y_pred = model.predict(x, verbose=0)
    container.update_state(y, y_pred, sample_weight=sw)
    per_row = np.abs(y - y_pred).mean(axis=1)
    got = {k: float(v) for k, v in container.result().items()}
    np.testing.assert_allclose(got["mae"], per_row.mean(), rtol=1e-5)
    np.testing.assert_allclose(got["weighted_mae"], (per_row * sw).sum() / sw.sum(), rtol=1e-5)
    container.reset_state()
    assert float(container.result()["mae"]) == 0.0


def test_jax_guide_train_step_with_sample_weight_matches_keras():
    """Each of `self.metrics` updated with `sample_weight`: `metrics` stay unweighted,
    `weighted_metrics` are weighted (keras_on_jax used to weight `mae` too)."""
    x, y, sw = _data(32)
    histories, weights = [], []
    for lib, model in zip((keras, keras_on_jax), _models(_jax_guide_model)):
        _compile(model, lib, metrics=["mae"], weighted_metrics=["mse"])
        h = model.fit(x, y, sample_weight=sw, batch_size=8, epochs=2, shuffle=False, verbose=0)
        histories.append(h.history)
        weights.append(model.get_weights())
    kh, jh = histories
    assert set(jh) == set(kh) == {"loss", "mae", "mse"}
    for key in kh:
        np.testing.assert_allclose(jh[key], kh[key], rtol=1e-4)
    for a, b in zip(*weights):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_ordinary_fit_logs_history_and_names_unchanged():
    x, y, sw = _data(32)
    results = []
    for lib, model in zip((keras, keras_on_jax), _models()):
        _compile(model, lib, metrics=["mae"], weighted_metrics=["mae"])
        h = model.fit(x, y, sample_weight=sw, batch_size=8, epochs=2, shuffle=False,
                      validation_data=(x, y, sw), verbose=0)
        results.append((h.history, model.evaluate(x, y, sample_weight=sw, verbose=0,
                                                  return_dict=True),
                        model.get_metrics_result()))
    (kh, ke, kr), (jh, je, jr) = results
    assert set(jh) == set(kh) == {"loss", "mae", "weighted_mae", "val_loss", "val_mae",
                                  "val_weighted_mae"}
    for key in kh:
        np.testing.assert_allclose(jh[key], kh[key], rtol=1e-4)
    assert list(je) == ["loss", "mae", "weighted_mae"] and set(ke) == set(je)
    np.testing.assert_allclose([je[k] for k in ke], list(ke.values()), rtol=1e-4)
    assert list(jr) == ["loss", "mae", "weighted_mae"]
    # Keras 2's flat names (Keras 3 says ["loss", "compile_metrics"]); evaluate's list
    # follows them
    model = _models()[1]
    _compile(model, keras_on_jax, metrics=["mae"], weighted_metrics=["mae"])
    assert model.metrics_names == ["loss"]
    model.fit(x, y, sample_weight=sw, epochs=1, verbose=0)
    assert model.metrics_names == ["loss", "mae", "weighted_mae"]
    listed = model.evaluate(x, y, sample_weight=sw, verbose=0)
    as_dict = model.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True)
    np.testing.assert_allclose(listed, list(as_dict.values()), rtol=1e-6)
    model.reset_metrics()
    assert all(float(v) == 0.0 for v in model.get_metrics_result().values())


def test_multi_output_metrics_order_and_evaluate_list_as_keras():
    x, y, _ = _data()
    results, initial = [], []
    for lib in (keras, keras_on_jax):
        inputs = lib.Input((4,))
        a = lib.layers.Dense(2, name="a")(inputs)
        b = lib.layers.Dense(2, name="b")(inputs)
        model = lib.Model(inputs, [a, b])
        if initial:
            model.set_weights(initial)
        else:
            initial = model.get_weights()
        model.compile(optimizer="sgd", loss=["mse", "mse"], metrics=[["mae"], ["mae"]])
        h = model.fit(x, [y, y], epochs=1, shuffle=False, verbose=0)
        results.append(([m.name for m in model.metrics], sorted(h.history),
                        model.evaluate(x, [y, y], verbose=0)))
    (km, kh, ke), (jm, jh, je) = results
    assert jm == km == ["loss", "compile_metrics", "a_loss", "b_loss"]
    assert jh == kh
    np.testing.assert_allclose(je, ke, rtol=1e-4)  # [loss, a_loss, b_loss, a_mae, b_mae]


def test_keras2_compiled_metrics_update_state_in_train_step():
    """The FAQ / Keras 2 step: `self.compiled_loss(...)`, `self.compiled_metrics
    .update_state(y, y_pred, sample_weight)`, `{m.name: m.result() for m in self.metrics}`
    logs the same as the built-in step."""

    class Keras2Style(keras_on_jax.Model):
        def train_step(self, data):
            x, y, sample_weight = keras_on_jax.utils.unpack_x_y_sample_weight(data)
            with keras_on_jax.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, sample_weight=sample_weight)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.compiled_metrics.update_state(y, y_pred, sample_weight=sample_weight)
            return {m.name: m.result() for m in self.metrics}

    x, y, sw = _data(32)
    histories, initial = [], []
    for cls in (keras_on_jax.Model, Keras2Style):
        inputs = keras_on_jax.Input((4,))
        model = cls(inputs, keras_on_jax.layers.Dense(2)(inputs))
        if initial:
            model.set_weights(initial)
        else:
            initial = model.get_weights()
        _compile(model, keras_on_jax, metrics=["mae"], weighted_metrics=["mae"])
        h = model.fit(x, y, sample_weight=sw, batch_size=8, epochs=2, shuffle=False, verbose=0)
        histories.append(h.history)
    builtin, custom = histories
    assert list(custom) == list(builtin) == ["loss", "mae", "weighted_mae"]
    for key in builtin:
        np.testing.assert_allclose(custom[key], builtin[key], rtol=1e-5)


def test_early_stopping_auto_mode_finds_compiled_metric_direction():
    x, y, _ = _data()
    for lib, model in zip((keras, keras_on_jax), _models()):
        _compile(model, lib, metrics=["mae"])
        stop = lib.callbacks.EarlyStopping(monitor="val_mae")  # mode="auto": minimised
        model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[stop])
        assert stop.monitor_op is not None
