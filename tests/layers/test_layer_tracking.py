"""How layers find their sublayers and name their weights, as Keras 3 (KerasHub's models
rely on each): sublayers appended to a list assigned empty, or assigned before
`super().__init__()`; `build` called directly by a parent's `build`; a `build` taking the
shapes of several `call` arguments; a layer without `build` whose sublayers only `call`
reaches; and the order of `_flatten_layers`."""

import keras
import numpy as np
import pytest

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


def _decoder_classes(lib):
    class Attention(lib.layers.Layer):
        def build(self, inputs_shape):
            self.query = lib.layers.Dense(inputs_shape[-1], name="query")
            self.query.build(inputs_shape)  # a direct build, under no `__call__`
            self.norm = lib.layers.LayerNormalization(name="norm")
            self.norm.build(inputs_shape)

        def call(self, inputs):
            return self.norm(self.query(inputs))

    class Decoder(lib.layers.Layer):
        def __init__(self, **kwargs):
            self.attention = Attention(name="self_attention")  # before `super().__init__`
            super().__init__(**kwargs)

        def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
            self.attention.build(decoder_sequence_shape)
            if encoder_sequence_shape is not None:  # cross attention only when given one
                self.cross = lib.layers.Dense(decoder_sequence_shape[-1], name="cross")
                self.cross.build(encoder_sequence_shape)

        def call(self, decoder_sequence, encoder_sequence=None):
            x = self.attention(decoder_sequence)
            if encoder_sequence is not None:
                x = x + self.cross(encoder_sequence)
            return x

    class Relative(lib.layers.Layer):
        """No `build`: its sublayer is only reached by `call` (KerasHub's DeBERTa)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.table = self.add_weight(shape=(2, 3), name="table")
            self.norm = lib.layers.LayerNormalization(name="table_norm")

        def call(self, inputs):
            return inputs[:, :1] * 0 + self.norm(self.table)[None]

        def compute_output_shape(self, input_shape):
            return (input_shape[0], 2, 3)

    return Decoder, Relative


def _decoder_model(lib):
    Decoder, Relative = _decoder_classes(lib)
    decoder_in, encoder_in = lib.Input((2, 3), name="dec"), lib.Input((2, 3), name="enc")
    x = Decoder(name="decoder")(decoder_in, encoder_sequence=encoder_in)
    x = x + Relative(name="relative")(x)
    return lib.Model([decoder_in, encoder_in], x)


def test_direct_builds_multi_argument_builds_and_call_only_sublayers_as_keras(tmp_path):
    ours, theirs = _decoder_model(kj), _decoder_model(keras)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert "decoder/self_attention/query/kernel" in [w.path for w in ours.weights]
    assert [layer.name for layer in ours._flatten_layers(include_self=False)] == \
        [layer.name for layer in theirs._flatten_layers(include_self=False)]
    decoder = ours.get_layer("decoder")
    assert decoder.get_build_config() == theirs.get_layer("decoder").get_build_config()
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    ours.load_weights(tmp_path / "theirs.weights.h5")
    x = [np.random.default_rng(i).standard_normal((2, 2, 3)).astype("float32") for i in (0, 1)]
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def _pair_head_class(lib):
    class PairHead(lib.layers.Layer):
        """Two tensor arguments and `compute_output_shape` of both shapes (KerasHub's
        CLIPHead)."""

        def call(self, image_embedding, text_embedding):
            logits = lib.ops.matmul(text_embedding, lib.ops.transpose(image_embedding))
            return lib.ops.transpose(logits), logits

        def compute_output_shape(self, image_embedding_shape, text_embedding_shape):
            return ((image_embedding_shape[0], text_embedding_shape[0]),
                    (text_embedding_shape[0], image_embedding_shape[0]))

    return PairHead


def test_multi_argument_compute_output_shape_as_keras():
    shapes = []
    for lib in (kj, keras):
        images, texts = lib.Input((4,), batch_size=3), lib.Input((4,), batch_size=5)
        outputs = _pair_head_class(lib)()(images, texts)
        shapes.append([tuple(t.shape) for t in outputs])
        model = lib.Model([images, texts], outputs)
        x = [np.ones((3, 4), "float32"), np.ones((5, 4), "float32")]
        assert [np.shape(y) for y in model(x)] == [(3, 5), (5, 3)]
    assert shapes[0] == shapes[1] == [(3, 5), (5, 3)]

    class Bad(kj.layers.Layer):
        def call(self, a, b):
            return a

        def compute_output_shape(self, a_shape, c_shape):
            return a_shape

    with pytest.raises(ValueError, match="`compute_output_shape\\(\\)` argument `c_shape`"):
        Bad()(kj.Input((2,)), kj.Input((2,)))


def test_attention_subclass_builds_with_keras_sublayer_kwargs():
    # KerasHub's Whisper attention rebuilds MHA's projections with Keras's helper; XLNet's
    # reads MHA's private attributes of the same names.
    kwargs = {}
    for lib in (kj, keras):
        mha = lib.layers.MultiHeadAttention(2, 4, kernel_regularizer="l2",
                                            kernel_initializer="ones", dtype="float16")
        kwargs[lib] = mha._get_common_kwargs_for_sublayer()
        assert type(mha._kernel_regularizer).__name__ == "L2"
        assert mha._bias_regularizer is mha._kernel_constraint is mha._bias_constraint is None
        assert kwargs[lib]["kernel_initializer"] is not mha._kernel_initializer
    ours, theirs = kwargs[kj], kwargs[keras]
    assert sorted(ours) == sorted(theirs)
    assert ours["dtype"].name == theirs["dtype"].name == "float16"
    for key in ("kernel_initializer", "bias_initializer", "kernel_regularizer"):
        assert type(ours[key]).__name__ == type(theirs[key]).__name__
        assert ours[key].get_config() == theirs[key].get_config()
