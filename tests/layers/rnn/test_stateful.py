"""Stateful RNNs exactly as in the Keras FAQ ("How can I use stateful RNNs?")."""

import numpy as np
import pytest

import keras_on_jax as keras
from keras_on_jax.layers import rnn as R


def test_faq_stateful_example_as_written():
    # As in a fresh process: nothing has drawn from the global SeedGenerator yet, so the
    # first train_on_batch creates it while building the model (that once broke the build).
    from keras_on_jax.backend import random as random_lib

    random_lib.reset_global_seed_generator()
    layers = keras.layers
    x = np.random.random((32, 21, 16))

    model = keras.Sequential()
    model.add(R.LSTM(32, input_shape=(10, 16), batch_size=32, stateful=True))
    model.add(layers.Dense(16, activation='softmax'))

    model.compile(optimizer='rmsprop', loss='categorical_crossentropy')
    model.train_on_batch(x[:, :10, :], np.reshape(x[:, 10, :], (32, 16)))
    lstm = model.layers[0]
    h1 = lstm.states[0].numpy().copy()
    assert np.abs(h1).sum() > 0
    model.train_on_batch(x[:, 10:20, :], np.reshape(x[:, 20, :], (32, 16)))
    assert not np.allclose(lstm.states[0].numpy(), h1)

    model.reset_states()
    assert all(np.all(v.numpy() == 0) for v in lstm.states)
    model.predict(x[:, :10, :], batch_size=32, verbose=0)
    assert np.abs(lstm.states[0].numpy()).sum() > 0
    model.layers[0].reset_states()
    assert all(np.all(v.numpy() == 0) for v in lstm.states)
    # States are not weights (as in Keras), but are threaded through the compiled steps.
    assert len(lstm.weights) == 3
    model.fit(x[:, :10, :], x[:, 10, :], batch_size=32, shuffle=False, epochs=1, verbose=0)
    assert np.abs(lstm.states[0].numpy()).sum() > 0


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_two_halves_equal_whole(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 3)).astype("float32")
    inp = keras.Input(batch_shape=(4, None, 3))
    layer = getattr(R, name)(5, stateful=True, return_state=True)
    model = keras.Model(inp, layer(inp))
    whole = getattr(R, name)(5, return_state=True)
    whole(x)
    whole.set_weights(layer.get_weights())
    expected = whole(x)
    model.predict(x[:, :3], batch_size=4, verbose=0)
    out = model.predict(x[:, 3:], batch_size=4, verbose=0)
    for a, b in zip(out, expected):
        np.testing.assert_allclose(a, np.asarray(b), atol=1e-5)
    for v, b in zip(layer.states, expected[1:]):
        np.testing.assert_allclose(v.numpy(), np.asarray(b), atol=1e-5)
    # Eager calls carry the states too.
    layer.reset_states()
    layer(x[:, :3])
    last = layer(x[:, 3:])
    np.testing.assert_allclose(np.asarray(last[0]), np.asarray(expected[0]), atol=1e-5)


def test_reset_states_with_values_and_errors():
    layer = R.LSTM(3, stateful=True, batch_input_shape=(2, 4, 5))
    model = keras.Sequential([layer])
    model.build((2, 4, 5))
    h = np.full((2, 3), 0.5, "float32")
    c = np.full((2, 3), -1.0, "float32")
    layer.reset_states(states=[h, c])
    np.testing.assert_array_equal(layer.states[0].numpy(), h)
    np.testing.assert_array_equal(layer.states[1].numpy(), c)
    x = np.random.default_rng(0).standard_normal((2, 4, 5)).astype("float32")
    ref = R.LSTM(3)
    ref(x)
    ref.set_weights(layer.get_weights())
    np.testing.assert_allclose(model.predict(x, batch_size=2, verbose=0),
                               ref(x, initial_state=[h, c]), atol=1e-5)
    with pytest.raises(ValueError, match="shape"):
        layer.reset_states(states=[np.zeros((3, 3)), c])
    with pytest.raises(ValueError, match="expects 2 states"):
        layer.reset_states(states=[h])
    with pytest.raises(ValueError, match="batch size"):
        layer(np.zeros((3, 4, 5), "float32"))
    with pytest.raises(ValueError, match="static"):
        R.GRU(2, stateful=True)(keras.Input((4, 5)))


def test_bidirectional_stateful_reset():
    layer = R.Bidirectional(R.GRU(2, stateful=True), batch_input_shape=(2, 3, 4))
    model = keras.Sequential([layer])
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype("float32")
    model.predict(x, batch_size=2, verbose=0)
    assert len(layer.states) == 2
    assert np.abs(layer.states[0].numpy()).sum() > 0
    model.reset_states()
    assert all(np.all(v.numpy() == 0) for v in layer.states)
    values = [np.ones((2, 2), "float32"), np.full((2, 2), 2.0, "float32")]
    layer.reset_states(states=values)
    np.testing.assert_array_equal(layer.forward_layer.states[0].numpy(), values[0])
    np.testing.assert_array_equal(layer.backward_layer.states[0].numpy(), values[1])
