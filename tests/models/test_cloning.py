"""clone_model: same architecture and outputs shape, new weights; shared layers stay shared."""

import numpy as np

import keras_on_jax as kj
from keras_on_jax import layers


def test_clone_functional_shared_layer_and_sequential():
    a = kj.Input((4,))
    b = kj.Input((4,))
    shared = layers.Dense(3)
    out = layers.Add()([shared(a), shared(b)])
    model = kj.Model([a, b], out)
    clone = kj.models.clone_model(model)
    assert len(clone.weights) == len(model.weights) == 2
    assert clone.layers[2] is not model.layers[2]
    clone.set_weights(model.get_weights())
    x = [np.ones((2, 4), "float32"), np.full((2, 4), 2.0, "float32")]
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    seq = kj.Sequential([kj.Input((5,)), layers.Dense(2)])
    seq_clone = kj.models.clone_model(seq)
    assert seq_clone.output_shape == (None, 2) and seq_clone.layers[0] is not seq.layers[0]


def test_clone_function_changes_layers():
    model = kj.Sequential([kj.Input((3,)), layers.Dense(2, activation="relu")])

    def to_linear(layer):
        config = layer.get_config()
        config["activation"] = "linear"
        return layer.__class__.from_config(config)

    clone = kj.models.clone_model(model, clone_function=to_linear)
    assert clone.layers[0].get_config()["activation"] == "linear"
