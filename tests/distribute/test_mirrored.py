"""MirroredStrategy data parallelism equals one device (losses, metrics, final weights)."""

import jax
import numpy as np
import pytest

import keras_on_jax as keras
from keras_on_jax import distribute
from keras_on_jax.distribute import context

from distribute_test_helpers import layer_class


def _dense_model():
    return [keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)]


def _bn_model():
    BN = layer_class("BatchNormalization")
    return [keras.Input((6,)), keras.layers.Dense(8), BN(), keras.layers.Dense(3)]


def _dropout_model():
    Dropout = layer_class("Dropout")
    return [keras.Input((6,)), keras.layers.Dense(16, activation="relu"), Dropout(0.3, seed=7),
            keras.layers.Dense(3)]


def _conv_model():
    Conv2D, Pool = layer_class("Conv2D"), layer_class("GlobalMaxPooling2D")
    return [keras.Input((6, 6, 2)), Conv2D(4, 3, activation="relu"), Pool(), keras.layers.Dense(3)]


def _lstm_model():
    return [keras.Input((3, 3)), layer_class("LSTM")(4), keras.layers.Dense(3)]


def _needs(*names):
    missing = [n for n in names if layer_class(n) is None]
    return pytest.mark.skipif(bool(missing), reason=f"layers not available: {missing}")


CASES = [
    pytest.param(_dense_model, (6,), id="dense"),
    pytest.param(_bn_model, (6,), id="batchnorm", marks=_needs("BatchNormalization")),
    pytest.param(_dropout_model, (6,), id="dropout", marks=_needs("Dropout")),
    pytest.param(_conv_model, (6, 6, 2), id="conv2d", marks=_needs("Conv2D", "GlobalMaxPooling2D")),
    pytest.param(_lstm_model, (3, 3), id="lstm", marks=_needs("LSTM")),
]


def _train(layers_fn, strategy, weights, x, y, epochs=2):  # noqa: D103
    def build():
        model = keras.Sequential(layers_fn())
        model.compile(optimizer=keras.optimizers.SGD(0.1),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["sparse_categorical_accuracy"])
        if weights is not None:
            model.set_weights(weights)
        return model

    if strategy is None:
        model = build()
        hist = model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0)
        return model, hist.history, model.evaluate(x, y, batch_size=16, verbose=0)
    with strategy.scope():
        model = build()
        hist = model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0)
        ev = model.evaluate(x, y, batch_size=16, verbose=0)
    return model, hist.history, ev


@pytest.mark.parametrize("layers_fn,shape", CASES)
def test_data_parallel_equals_single_device(layers_fn, shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, *shape)).astype("float32")
    y = rng.integers(0, 3, size=(32,))
    weights = keras.Sequential(layers_fn()).get_weights()
    ref, ref_hist, ref_eval = _train(layers_fn, None, weights, x, y)
    strategy = distribute.MirroredStrategy()
    assert strategy.num_replicas_in_sync == 8
    model, hist, ev = _train(layers_fn, strategy, weights, x, y)
    for key in ref_hist:
        np.testing.assert_allclose(hist[key], ref_hist[key], rtol=1e-5, atol=1e-5, err_msg=key)
    np.testing.assert_allclose(ev, ref_eval, rtol=1e-5, atol=1e-5)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    # The state really was replicated on the 8 devices.
    kernel = model.trainable_variables[0].get_raw_value()
    assert len(kernel.sharding.device_set) == 8 and kernel.sharding.is_fully_replicated


def test_batch_is_split_and_state_placement_is_cached():
    strategy = distribute.MirroredStrategy(devices=["cpu:0", "/cpu:1", "cpu:2", "cpu:3"])
    assert strategy.num_replicas_in_sync == 4
    batch = (np.ones((8, 3), "float32"), np.zeros((8,), "float32"))
    x, y = strategy.distribute_batch(batch)
    assert x.sharding.spec[0] == "batch" and len(x.addressable_shards) == 4
    assert x.addressable_shards[0].data.shape == (2, 3)
    stacked = strategy.distribute_batch((np.ones((2, 8, 3), "float32"),), stacked=True)
    assert stacked[0].addressable_shards[0].data.shape == (2, 2, 3)
    # An uneven batch runs replicated rather than failing.
    (odd,) = strategy.distribute_batch((np.ones((5, 3), "float32"),))
    assert odd.sharding.is_fully_replicated
    v = keras.Variable(np.ones((3,)), name="v")
    (placed,) = strategy.distribute_state([v], [v.get_raw_value()])
    (again,) = strategy.distribute_state([v], [placed])
    assert again is placed


def test_scope_pushes_and_pops_and_custom_callbacks_run():
    strategy = distribute.MirroredStrategy()
    seen = []

    class Probe(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(context.current() is strategy)

    assert context.current() is None
    with strategy.scope() as s:
        assert s is strategy and distribute.get_strategy() is strategy
        model = keras.Sequential(_dense_model())
        model.compile("sgd", "mse")
        model.fit(np.ones((16, 6)), np.ones((16, 3)), batch_size=8, verbose=0, callbacks=[Probe()])
    assert context.current() is None
    assert seen == [True, True]
    assert strategy.extended.should_checkpoint and distribute.is_chief()


def test_bad_device_names_are_clear():
    with pytest.raises(ValueError, match=r"'gpu:0' does not exist.*cpu:0"):
        distribute.MirroredStrategy(devices=["gpu:0"])
    with pytest.raises(ValueError, match="does not exist"):
        distribute.MirroredStrategy(devices=["cpu:99"])
    with pytest.raises(ValueError, match="distinct"):
        distribute.MirroredStrategy(devices=["cpu:0", "cpu:0"])
