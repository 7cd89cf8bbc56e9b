"""Embedding, Identity, Masking, EinsumDense, Wrapper against real Keras 3."""

import jax.numpy as jnp
import numpy as np
import pytest
from layer_test_utils import run_layer_test

import keras_on_jax as kj
from keras_on_jax.layers.core import Dense, EinsumDense, Embedding, Identity, Masking, Wrapper
from keras_on_jax.layers.layer import Layer


# ---------------------------------------------------------------- Embedding
@pytest.mark.parametrize("kwargs", [
    {"input_dim": 5, "output_dim": 3},
    {"input_dim": 6, "output_dim": 2, "mask_zero": True, "embeddings_regularizer": "l2"},
])
def test_embedding(kwargs):
    run_layer_test(Embedding, kwargs, input_shape=(2, 4), input_dtype="int32",
                   expected_output_shape=(2, 4, kwargs["output_dim"]),
                   expected_num_trainable_weights=1, expected_num_non_trainable_weights=0)


def test_embedding_float_indices_and_mask():
    layer = Embedding(4, 2, mask_zero=True)
    out = layer(np.array([[0.0, 1.0, 3.0]], dtype="float32"))
    np.testing.assert_allclose(out[0, 2], layer.embeddings.numpy()[3])
    mask = layer.compute_mask(np.array([[0, 1, 3]]))
    np.testing.assert_array_equal(mask, [[False, True, True]])
    assert Embedding(4, 2).compute_mask(np.array([[0, 1]])) is None


def test_embedding_input_length_and_errors():
    with pytest.warns(UserWarning, match="input_length"):
        layer = Embedding(4, 2, input_length=3)
    assert layer(np.zeros((1, 3), "int32")).shape == (1, 3, 2)
    with pytest.raises(ValueError, match="input_dim"):
        Embedding(0, 2)
    with pytest.raises(ValueError, match="output_dim"):
        Embedding(3, 2.5)


def test_embedding_config_matches_keras():
    import keras

    assert Embedding(3, 4, name="e").get_config() == keras.layers.Embedding(3, 4, name="e").get_config()


def test_embedding_mask_in_functional_model():
    inputs = kj.Input((3,), dtype="int32")
    emb = Embedding(5, 2, mask_zero=True)(inputs)
    assert emb._keras_mask is not None


# ---------------------------------------------------------------- Identity / Masking
def test_identity():
    run_layer_test(Identity, {}, input_shape=(2, 3), expected_output_shape=(2, 3),
                   expected_num_trainable_weights=0)


def test_masking():
    run_layer_test(Masking, {"mask_value": 0.0}, input_shape=(2, 3, 4),
                   expected_output_shape=(2, 3, 4))
    x = np.ones((2, 3, 2), "float32")
    x[0, 1] = 5.0
    layer = Masking(mask_value=5.0)
    out = layer(x)
    np.testing.assert_array_equal(out[0, 1], [0, 0])
    np.testing.assert_array_equal(layer.compute_mask(x), [[True, False, True], [True] * 3])
    import keras

    assert layer.get_config() == {**keras.layers.Masking(mask_value=5.0, name=layer.name).get_config()}


class _MaskReader(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.seen = None

    def call(self, inputs, mask=None):
        self.seen = mask
        return inputs


def test_masking_propagates_mask_to_next_layer():
    x = np.zeros((1, 3, 2), "float32")
    x[0, 0] = 1.0

    class Outer(Layer):
        def __init__(self):
            super().__init__()
            self.masking = Masking()
            self.reader = _MaskReader()

        def call(self, inputs):
            return self.reader(self.masking(inputs))

    outer = Outer()
    outer(x)
    np.testing.assert_array_equal(outer.reader.seen, [[True, False, False]])


# ---------------------------------------------------------------- EinsumDense
@pytest.mark.parametrize("kwargs,shape,out,nw", [
    ({"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": "c"}, (2, 3), (2, 4), 2),
    ({"equation": "abc,cd->abd", "output_shape": (3, 5)}, (2, 3, 4), (2, 3, 5), 1),
    ({"equation": "abc,cde->abde", "output_shape": (3, 2, 3), "bias_axes": "de",
      "activation": "tanh"}, (2, 3, 4), (2, 3, 2, 3), 2),
    ({"equation": "...b,bc->...c", "output_shape": 3, "bias_axes": "c"}, (2, 4, 5), (2, 4, 3), 2),
    ({"equation": "abc,cd->abd", "output_shape": (4, 3), "bias_axes": "b"}, (2, 4, 5), (2, 4, 3), 2),
])
def test_einsum_dense(kwargs, shape, out, nw):
    run_layer_test(EinsumDense, kwargs, input_shape=shape, expected_output_shape=out,
                   expected_num_trainable_weights=nw)


def test_einsum_dense_initializer_uses_axes_and_errors():
    import keras

    ours = EinsumDense("abc,cde->abde", (None, 2, 3))
    ours.build((2, 3, 4))
    theirs = keras.layers.EinsumDense("abc,cde->abde", (None, 2, 3))
    theirs.build((2, 3, 4))
    assert ours.kernel.shape == tuple(theirs.kernel.shape) == (4, 2, 3)
    # Glorot bounds with fans from the einsum axes (fan_in=4, fan_out=6).
    limit = np.sqrt(6.0 / (4 + 6))
    assert np.abs(ours.kernel.numpy()).max() <= limit
    with pytest.raises(ValueError, match="einsum equation"):
        EinsumDense("abc", 3).build((2, 3))
    with pytest.raises(ValueError, match="Bias dimension"):
        EinsumDense("ab,bc->ac", 3, bias_axes="x").build((2, 3))


# ---------------------------------------------------------------- Wrapper
class _MyWrapper(Wrapper):
    def call(self, inputs):
        return self.layer(inputs) * 2.0


def test_wrapper_builds_and_serializes():
    w = _MyWrapper(Dense(3, name="inner"), name="wrap")
    out = w(np.ones((2, 4), "float32"))
    assert out.shape == (2, 3)
    assert [v.path for v in w.weights] == ["wrap/inner/kernel", "wrap/inner/bias"] or \
        [v.path.split("/")[-1] for v in w.weights] == ["kernel", "bias"]
    config = w.get_config()
    assert config["layer"]["class_name"] == "Dense"
    clone = _MyWrapper.from_config(config)
    assert clone.layer.units == 3
    with pytest.raises(ValueError, match="Wrapper"):
        _MyWrapper("not a layer")


def test_jnp_is_used():
    assert isinstance(Identity()(jnp.ones((1, 2))), jnp.ndarray)
