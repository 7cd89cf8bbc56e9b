"""TPUStrategy (fixed shapes, padded last batch), cluster resolvers, device scopes."""

import json

import jax
import numpy as np
import pytest

import keras_on_jax as keras
from keras_on_jax import distribute

from distribute_test_helpers import layer_class


def _model():
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(3)])


def _compile(m):
    m.compile(keras.optimizers.SGD(0.1),
              keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["sparse_categorical_accuracy"])


def test_tpu_strategy_pads_last_batch_without_new_shape():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 5)).astype("float32")
    y = rng.integers(0, 3, size=(20,))
    ref = _model()
    _compile(ref)
    w = ref.get_weights()
    strategy = distribute.experimental.TPUStrategy(devices=[f"cpu:{i}" for i in range(4)])
    assert strategy.num_replicas_in_sync == 4
    with strategy.scope():
        m = _model()
        _compile(m)
        m.set_weights(w)
        # One partial batch (5 rows padded to the 8 of the first, fixed shape) ...
        m.evaluate(x[:8], y[:8], batch_size=8, verbose=0)
        loss, acc = m.evaluate(x[8:13], y[8:13], batch_size=8, verbose=0)
        assert m._functions[("test", "step")][0]._cache_size() == 1
        # ... gives the loss and metric of the unpadded batch on one device.
        ref_loss, ref_acc = ref.evaluate(x[8:13], y[8:13], batch_size=8, verbose=0)
        np.testing.assert_allclose([loss, acc], [ref_loss, ref_acc], rtol=1e-5, atol=1e-6)
        # Training over 8 + 8 + 4 rows: the padded step's gradient is the unpadded one.
        m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        assert m._functions[("train", "step")][0]._cache_size() == 1
    ref.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(m.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_tpu_padding_keeps_user_sample_weights():
    s = distribute.TPUStrategy(devices=["cpu:0", "cpu:1"])
    s.distribute_batch((np.ones((4, 2)), np.ones((4,))))
    x, y, sw = s.distribute_batch((np.arange(6.0).reshape(3, 2), np.ones((3,)), np.array([1.0, 2.0, 0.5])))
    np.testing.assert_allclose(np.asarray(sw), [4 / 3, 8 / 3, 2 / 3, 0.0])
    np.testing.assert_allclose(np.asarray(x)[3], [0.0, 1.0])  # padded with a real row


def test_tpu_cluster_resolver_without_tpu_is_clear():
    with pytest.raises(ValueError, match=r"found no TPU: jax.devices\('tpu'\).*cpu"):
        distribute.cluster_resolver.TPUClusterResolver()
    with pytest.raises(ValueError, match="found no TPU"):
        distribute.TPUStrategy()


def test_tf_config_cluster_resolver(monkeypatch):
    cfg = {"cluster": {"chief": ["host0:1000"], "worker": ["host1:1001", "host2:1002"]},
           "task": {"type": "worker", "index": 1}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(cfg))
    r = distribute.cluster_resolver.TFConfigClusterResolver()
    assert (r.task_type, r.task_id) == ("worker", 1)
    assert r.cluster_spec().as_dict() == cfg["cluster"]
    assert r.num_processes == 3 and r.process_id == 2 and not r.is_chief
    assert r.coordinator_address == "host0:1000"
    assert distribute.experimental_connect_to_cluster(r) is r
    cfg["task"] = {"type": "worker", "index": 5}
    monkeypatch.setenv("TF_CONFIG", json.dumps(cfg))
    with pytest.raises(ValueError, match="not in the cluster"):
        distribute.cluster_resolver.TFConfigClusterResolver()


def test_device_scope_places_variables_and_names_devices():
    with distribute.device("/cpu:3"):
        v = keras.Variable(np.ones((2,)), name="v")
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
    assert v.get_raw_value().devices() == {jax.devices()[3]}
    assert layer.kernel.get_raw_value().devices() == {jax.devices()[3]}
    for name in ("cpu:1", "CPU:1", "/device:CPU:1", "/job:localhost/replica:0/task:0/device:CPU:1"):
        with distribute.device(name) as d:
            assert d == jax.devices()[1]
    with pytest.raises(ValueError, match=r"'/gpu:0' does not exist\. Available devices: \['cpu:0'"):
        with distribute.device("/gpu:0"):
            pass
    with pytest.raises(ValueError, match="Invalid device name"):
        distribute.device("gpu-0").__enter__()
    assert [d.device_type for d in distribute.list_physical_devices("CPU")] == ["CPU"] * 8


def test_tf_device_places_softly_keras_device_does_not():
    """TensorFlow's soft placement for `tf.device` / the FAQ's `tf.device_scope`: a device
    type the machine lacks means its own devices (same index, else the first)."""
    from keras_on_jax import _aliases

    tf = _aliases._make_tensorflow_shim()  # what `import tensorflow as tf` gives the runner
    for name, index in (("/gpu:0", 0), ("/gpu:1", 1), ("/device:GPU:3", 3), ("/gpu:99", 0)):
        with tf.device_scope(name) as d, tf.device(name) as d2:
            assert d == d2 == jax.devices()[index]
    with tf.device("/cpu:2") as d:  # an existing device is used as named
        assert d == jax.devices()[2]
    with pytest.raises(ValueError, match=r"'/cpu:99' does not exist"):
        with tf.device("/cpu:99"):  # soft placement covers missing types, not bad indices
            pass
    with pytest.raises(ValueError, match=r"'gpu:1' does not exist"):
        with keras.device("gpu:1"):
            pass


def test_faq_shared_encoder_device_placement_example():
    LSTM = layer_class("LSTM")
    concatenate = getattr(keras.layers, "concatenate", None)
    if concatenate is None:
        Concatenate = layer_class("Concatenate")
        concatenate = lambda xs, axis=-1: Concatenate(axis=axis)(xs)  # noqa: E731
    # The FAQ's example with the machine's devices ('/gpu:0' -> '/cpu:1' on CPU).
    input_a = keras.Input(shape=(3, 8))
    input_b = keras.Input(shape=(3, 8))
    shared_lstm = LSTM(4) if LSTM is not None else keras.layers.Dense(4)
    with keras.distribute.device("/cpu:1"):
        encoded_a = shared_lstm(input_a)
    with keras.distribute.device("/cpu:2"):
        encoded_b = shared_lstm(input_b)
    with keras.distribute.device("/cpu:0"):
        merged_vector = concatenate([encoded_a, encoded_b], axis=-1)
    model = keras.Model([input_a, input_b], merged_vector)
    a = np.ones((2, 3, 8), "float32")
    out = model.predict([a, 2 * a], verbose=0)
    assert out.shape[0] == 2 and out.shape[-1] == 8


def test_device_scope_recorded_on_graph_nodes():
    input_a = keras.Input(shape=(3, 8))
    input_b = keras.Input(shape=(3, 8))
    shared = keras.layers.Dense(4)
    with keras.device("/cpu:1"):
        encoded_a = shared(input_a)
    with keras.device("cpu:2"):
        encoded_b = shared(input_b)
    with keras.device("/cpu:0"):
        merged_layer = keras.layers.Concatenate(axis=-1)
        merged = merged_layer([encoded_a, encoded_b])
    unplaced = keras.layers.Dense(2)
    out = unplaced(merged)
    assert [n.device for n in shared._inbound_nodes] == [jax.devices()[1], jax.devices()[2]]
    assert merged_layer._inbound_nodes[0].device == jax.devices()[0]
    assert unplaced._inbound_nodes[0].device is None
    # Variables live where the layer was built (the first scope), as documented.
    assert shared.kernel.get_raw_value().devices() == {jax.devices()[1]}
    model = keras.Model([input_a, input_b], out)
    model.compile("sgd", "mse")
    a = np.ones((2, 3, 8), "float32")
    model.fit([a, 2 * a], np.zeros((2, 3, 2)), verbose=0)
    assert model.predict([a, 2 * a], verbose=0).shape == (2, 3, 2)


def test_tpu_strategy_predict_pads_partial_batch_and_keeps_real_rows():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(21, 5)).astype("float32")
    ref = _model()
    w = ref.get_weights()
    strategy = distribute.TPUStrategy(devices=[f"cpu:{i}" for i in range(4)])
    with strategy.scope():
        m = _model()
        m.set_weights(w)
    # 8 + 8 + 5 rows: the last batch is padded to 8, so one program serves all three.
    out = m.predict(x, batch_size=8, verbose=0)
    assert out.shape == (21, 3)
    assert m._functions[("predict", "step")][0]._cache_size() == 1
    np.testing.assert_allclose(out, ref.predict(x, batch_size=8, verbose=0), rtol=1e-5, atol=1e-6)
    # A lone partial batch (the one-batch path) and predict_on_batch are padded too.
    np.testing.assert_allclose(m.predict(x[:3], verbose=0), ref.predict(x[:3], verbose=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.predict_on_batch(x[:5]), ref.predict_on_batch(x[:5]),
                               rtol=1e-5, atol=1e-6)
    assert m._functions[("predict", "step")][0]._cache_size() == 1
