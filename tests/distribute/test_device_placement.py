"""`keras.device(...)` placement honoured: a Functional model on several devices runs as
per-device segments (forward, backward, optimizer update), equal to the same model
without scopes. Runs on the 8 fake CPU devices set by tests/conftest.py."""

import contextlib

import jax
import numpy as np

import keras_on_jax as keras
from keras_on_jax.models import placement


def _scope(placed):
    return (lambda name: keras.device(name)) if placed else (
        lambda name: contextlib.nullcontext())


def _faq_model(placed):
    """The FAQ's model-parallel example as written, with keras.device for
    tf.device_scope and the machine's devices: '/gpu:0' -> '/cpu:1', '/gpu:1' -> '/cpu:2'."""
    device_scope = _scope(placed)
    # A model where a shared LSTM is used to encode two different sequences in parallel
    input_a = keras.Input(shape=(140, 256))
    input_b = keras.Input(shape=(140, 256))

    shared_lstm = keras.layers.LSTM(64)

    # Process the first sequence on one GPU
    with device_scope('/cpu:1'):
        encoded_a = shared_lstm(input_a)
    # Process the next sequence on another GPU
    with device_scope('/cpu:2'):
        encoded_b = shared_lstm(input_b)

    # Concatenate results on CPU
    with device_scope('/cpu:0'):
        merged_vector = keras.layers.concatenate(
            [encoded_a, encoded_b], axis=-1)
    model = keras.Model([input_a, input_b], merged_vector)
    model.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae"])
    return model, shared_lstm


def _max_diff(xs, ys):
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(xs, ys))


def test_faq_shared_lstm_runs_on_its_devices_and_matches_one_device():
    cpu = jax.devices("cpu")
    placed, lstm = _faq_model(True)
    plain, _ = _faq_model(False)
    plain.set_weights(placed.get_weights())
    assert placement.is_placed(placed) and not placement.is_placed(plain)
    for v in lstm.weights:
        assert v.value.devices() == {cpu[1]}  # built inside the first scope
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 140, 256)).astype("float32")
    b = rng.normal(size=(6, 140, 256)).astype("float32")
    y = rng.normal(size=(6, 128)).astype("float32")

    out = placed.predict([a, b], verbose=0)
    record = placement.last_output_devices(placed)
    assert record[(lstm.name, 0)] == cpu[1]   # the first sequence encoded on '/cpu:1'
    assert record[(lstm.name, 1)] == cpu[2]   # the second on '/cpu:2'
    concat = placed.layers[-1]
    assert record[(concat.name, 0)] == cpu[0]  # merged on '/cpu:0'
    np.testing.assert_allclose(out, plain.predict([a, b], verbose=0), atol=1e-5)

    h_placed = placed.fit([a, b], y, batch_size=3, epochs=1, shuffle=False, verbose=0).history
    h_plain = plain.fit([a, b], y, batch_size=3, epochs=1, shuffle=False, verbose=0).history
    for key in ("loss", "mae"):
        np.testing.assert_allclose(h_placed[key], h_plain[key], rtol=1e-5, atol=1e-6)
    assert _max_diff(placed.get_weights(), plain.get_weights()) < 1e-5
    assert record != {} and placement.last_output_devices(placed)[(lstm.name, 1)] == cpu[2]
    # Variables stay where they live; each optimizer slot follows its variable.
    for v in lstm.variables:  # the weights, and the seed state (made outside any scope)
        assert v.value.devices() == {cpu[1]}
    slots = [v for v in placed.optimizer.variables if "lstm" in v.path]
    assert slots and all(v.value.devices() == {cpu[1]} for v in slots)
    np.testing.assert_allclose(placed.evaluate([a, b], y, verbose=0),
                               plain.evaluate([a, b], y, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(placed.predict([a, b], verbose=0),
                               plain.predict([a, b], verbose=0), atol=1e-5)


class _Probe(keras.layers.Layer):
    """Records the devices of the (concrete) arrays it sees."""

    def __init__(self, log, **kwargs):
        super().__init__(**kwargs)
        self.log = log

    def call(self, x):
        if not isinstance(x, jax.core.Tracer):
            self.log.append((self.name, x.devices()))
        return x


def _mixed_model(placed, log=None, run_eagerly=False):
    """Two inputs (one int), BatchNormalization, seeded Dropout, a weight and an activity
    regularizer, an Embedding, two outputs on two devices, unscoped layers."""
    device_scope = _scope(placed)
    log = [] if log is None else log
    keras.utils.set_random_seed(7)
    ia = keras.Input(shape=(4,))
    ib = keras.Input(shape=(4,), dtype="int32")
    with device_scope("cpu:1"):
        h = keras.layers.Dense(8, activation="relu", kernel_regularizer="l2")(ia)
        h = keras.layers.BatchNormalization()(h)
        h = keras.layers.Dropout(0.3, seed=3)(h)
        h = _Probe(log, name="probe_1")(h)
    with device_scope("cpu:2"):
        e = keras.layers.Flatten()(keras.layers.Embedding(10, 3)(ib))
        e = _Probe(log, name="probe_2")(e)
    z = _Probe(log, name="probe_0")(keras.layers.Concatenate()([h, e]))
    o1 = keras.layers.Dense(3, name="o1")(z)
    with device_scope("cpu:3"):
        o2 = keras.layers.Dense(1, name="o2", activity_regularizer="l1")(h)
    model = keras.Model([ia, ib], [o1, o2])
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9),
                  ["sparse_categorical_crossentropy", "mse"],
                  metrics=[["accuracy"], ["mae"]], run_eagerly=run_eagerly)
    return model


def _mixed_data():
    rng = np.random.default_rng(1)
    return ([rng.normal(size=(24, 4)).astype("float32"),
             rng.integers(0, 10, size=(24, 4)).astype("int32")],
            [rng.integers(0, 3, size=(24,)), rng.normal(size=(24, 1)).astype("float32")])


def test_layers_compute_on_their_devices_eagerly():
    log = []
    model = _mixed_model(True, log, run_eagerly=True)
    x, _ = _mixed_data()
    model.predict(x, batch_size=24, verbose=0)
    devices = {name: d for name, d in log}
    cpu = jax.devices("cpu")
    assert devices == {"probe_1": {cpu[1]}, "probe_2": {cpu[2]}, "probe_0": {cpu[0]}}


def test_mixed_model_trains_like_one_device():
    placed = _mixed_model(True)
    plain = _mixed_model(False)
    placed.set_weights(plain.get_weights())  # assigned on the default device, for now
    for m in (placed, plain):
        m.steps_per_execution = 2  # batches stacked two by two (the FAQ test runs 1)
    x, y = _mixed_data()
    np.testing.assert_allclose(placed.predict(x, verbose=0)[0], plain.predict(x, verbose=0)[0],
                               atol=1e-5)
    h1 = placed.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    h2 = plain.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    assert h1.keys() == h2.keys()
    for key in h1:
        np.testing.assert_allclose(h1[key], h2[key], rtol=1e-4, atol=1e-5)
    assert _max_diff(placed.get_weights(), plain.get_weights()) < 1e-4
    np.testing.assert_allclose(placed.evaluate(x, y, batch_size=8, verbose=0),
                               plain.evaluate(x, y, batch_size=8, verbose=0), rtol=1e-4)
    cpu = jax.devices("cpu")
    record = placement.last_output_devices(placed)
    assert record[("o2", 0)] == cpu[3] and record[("o1", 0)] == cpu[0]
    # Each layer's variables live on the device of the scope it is called (built) in.
    by_type = {"Dense": cpu[1], "BatchNormalization": cpu[1], "Embedding": cpu[2]}
    by_name = {"o1": cpu[0], "o2": cpu[3]}
    checked = 0
    for layer in placed.layers:
        want = by_name.get(layer.name, by_type.get(type(layer).__name__))
        for v in layer.weights:
            assert v.value.devices() == {want}, (v.path, v.value.devices())
            checked += 1
    assert checked == 11
    # A direct eager call runs the same segments, after training too.
    out = placed(x, training=False)
    np.testing.assert_allclose(out[1], plain(x, training=False)[1], atol=1e-4)
    assert out[1].devices() == {cpu[3]}
    assert placement.last_output_devices(placed)[("o1", 0)] == cpu[0]


def test_single_program_path_kept_without_multi_device_placement():
    x, y = _mixed_data()
    # No scopes; or every layer under one scope: one program, as before.
    assert not placement.is_placed(_mixed_model(False))
    ia = keras.Input(shape=(4,))
    with keras.device("cpu:1"):
        out = keras.layers.Dense(2)(keras.layers.Dense(3)(ia))
    assert not placement.is_placed(keras.Model(ia, out))

    # A custom train_step keeps the single-program path (documented), and still trains.
    class Custom(keras.Model):
        def train_step(self, data):
            return super().train_step(data)

    ia = keras.Input(shape=(4,))
    with keras.device("cpu:1"):
        h = keras.layers.Dense(3)(ia)
    with keras.device("cpu:2"):
        out = keras.layers.Dense(1)(h)
    model = Custom(ia, out)
    assert not placement.is_placed(model)
    model.compile("sgd", "mse")
    hist = model.fit(x[0], y[1], epochs=1, verbose=0).history
    assert np.isfinite(hist["loss"][0])


def test_global_clipnorm_update_gathered_on_one_device():
    """An update that needs every gradient at once (global norm clipping) still equals
    the unplaced model's; the variables go back to their devices."""
    def build(placed):
        device_scope = _scope(placed)
        keras.utils.set_random_seed(3)
        inp = keras.Input(shape=(5,))
        with device_scope("cpu:1"):
            h = keras.layers.Dense(6, activation="tanh")(inp)
        with device_scope("cpu:2"):
            out = keras.layers.Dense(2)(h)
        model = keras.Model(inp, out)
        model.compile(keras.optimizers.Adam(0.05, global_clipnorm=0.1), "mse")
        return model

    placed, plain = build(True), build(False)
    plain.set_weights(placed.get_weights())
    rng = np.random.default_rng(2)
    x = rng.normal(size=(16, 5)).astype("float32")
    y = 10 * rng.normal(size=(16, 2)).astype("float32")  # large gradients: clipping is active
    h1 = placed.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0).history
    h2 = plain.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-5)
    assert _max_diff(placed.get_weights(), plain.get_weights()) < 1e-5
    cpu = jax.devices("cpu")
    assert [v.value.devices() for v in placed.weights] == [{cpu[1]}] * 2 + [{cpu[2]}] * 2


def test_assign_and_set_weights_keep_a_variable_on_its_device():
    with keras.device("/cpu:3"):
        dense = keras.layers.Dense(3)
        dense.build((None, 4))
    cpu3 = {jax.devices("cpu")[3]}
    assert dense.kernel.value.devices() == cpu3
    dense.set_weights([np.ones((4, 3), "float32"), np.zeros(3, "float32")])
    dense.bias.assign(np.full(3, 2.0, "float32"))
    assert dense.kernel.value.devices() == cpu3 and dense.bias.value.devices() == cpu3
    np.testing.assert_array_equal(dense.kernel.numpy(), np.ones((4, 3)))
    np.testing.assert_array_equal(dense.bias.numpy(), np.full(3, 2.0))
