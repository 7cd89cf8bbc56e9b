"""Sublayers a layer keeps in a list it fills after assigning it (`self.blocks = []`, then
`append` in `build`: KerasHub's ViT encoder) are tracked as in Keras 3: their weights are
the layer's, train, and save at Keras 3's paths."""

import keras
import numpy as np

import keras_on_jax as kj


def _encoder_class(lib):
    class Encoder(lib.layers.Layer):
        def __init__(self, depth, **kwargs):
            super().__init__(**kwargs)
            self.depth = depth

        def build(self, input_shape):
            self.blocks = []
            for i in range(self.depth):
                block = lib.layers.Dense(input_shape[-1], activation="tanh", name=f"block_{i}")
                block.build(input_shape)
                self.blocks.append(block)
            self.norm = lib.layers.LayerNormalization(name="norm")
            self.norm.build(input_shape)

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return self.norm(x)

    return Encoder


def _model(lib):
    inputs = lib.Input((3,))
    return lib.Model(inputs, _encoder_class(lib)(2, name="encoder")(inputs))


def test_layers_appended_to_a_list_attribute_are_tracked_trained_and_saved(tmp_path):
    ours, theirs = _model(kj), _model(keras)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert len(ours.trainable_weights) == 6
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    ours.load_weights(tmp_path / "theirs.weights.h5")
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    before = ours.get_weights()
    ours.compile(optimizer="sgd", loss="mse")
    ours.fit(x, np.ones((4, 3), "float32"), verbose=0)
    assert not np.allclose(ours.get_weights()[0], before[0])  # the appended blocks train
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
