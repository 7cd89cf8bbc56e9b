"""Convolution layers vs real Keras 3: shapes, configs, outputs and gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.layers import convolutional as conv
from layer_test_utils import run_layer_test

CONV_CASES = [
    # (class, kwargs, input_shape, expected_output_shape)
    ("Conv1D", dict(filters=3, kernel_size=2), (2, 5, 4), (2, 4, 3)),
    ("Conv1D", dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2,
                    activation="relu"), (2, 7, 2), (2, 7, 4)),
    ("Conv1D", dict(filters=4, kernel_size=3, strides=2, padding="same", groups=2,
                    data_format="channels_first"), (2, 4, 7), (2, 4, 4)),
    ("Conv2D", dict(filters=3, kernel_size=(2, 3), use_bias=False), (2, 5, 6, 2), (2, 4, 4, 3)),
    ("Conv2D", dict(filters=4, kernel_size=3, strides=2, padding="same"), (2, 7, 6, 3),
     (2, 4, 3, 4)),
    ("Conv2D", dict(filters=6, kernel_size=3, dilation_rate=2, groups=3,
                    data_format="channels_first"), (2, 3, 7, 7), (2, 6, 3, 3)),
    ("Conv3D", dict(filters=2, kernel_size=2, strides=(1, 2, 1), padding="same"),
     (1, 4, 5, 3, 2), (1, 4, 3, 3, 2)),
    ("Conv3D", dict(filters=2, kernel_size=2, data_format="channels_first"),
     (1, 3, 4, 4, 3), (1, 2, 3, 3, 2)),
    ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2), (2, 4, 2), (2, 9, 3)),
    ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same"),
     (2, 4, 2), (2, 8, 3)),
    ("Conv1DTranspose", dict(filters=2, kernel_size=4, strides=3, output_padding=1,
                             padding="same"), (2, 4, 2), (2, 10, 2)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=(3, 2), strides=(2, 1)), (2, 3, 4, 2),
     (2, 7, 5, 3)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, padding="same",
                             output_padding=1, data_format="channels_first"),
     (2, 3, 4, 4), (2, 2, 8, 8)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, dilation_rate=2, padding="valid",
                             activation="tanh"), (1, 4, 4, 2), (1, 8, 8, 2)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=2, strides=3), (1, 3, 3, 2),
     (1, 9, 9, 2)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=2, strides=2, padding="same"),
     (1, 2, 3, 2, 2), (1, 4, 6, 4, 2)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=(2, 3, 2), output_padding=(0, 1, 1),
                             strides=2, data_format="channels_first"),
     (1, 2, 2, 3, 2), (1, 2, 4, 8, 5)),
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2), (2, 6, 3), (2, 4, 6)),
    ("DepthwiseConv1D", dict(kernel_size=3, strides=2, padding="same",
                             data_format="channels_first"), (2, 3, 6), (2, 3, 3)),
    ("DepthwiseConv2D", dict(kernel_size=(2, 3), depth_multiplier=3, use_bias=False),
     (2, 5, 5, 2), (2, 4, 3, 6)),
    ("DepthwiseConv2D", dict(kernel_size=3, dilation_rate=2, padding="same",
                             data_format="channels_first", activation="relu"),
     (2, 3, 6, 6), (2, 3, 6, 6)),
    ("SeparableConv1D", dict(filters=4, kernel_size=3, depth_multiplier=2), (2, 6, 3),
     (2, 4, 4)),
    ("SeparableConv1D", dict(filters=2, kernel_size=3, strides=2, padding="same",
                             data_format="channels_first"), (2, 3, 7), (2, 2, 4)),
    ("SeparableConv2D", dict(filters=4, kernel_size=3, padding="same", strides=2),
     (2, 6, 5, 3), (2, 3, 3, 4)),
    ("SeparableConv2D", dict(filters=2, kernel_size=2, dilation_rate=2, depth_multiplier=2,
                             data_format="channels_first", use_bias=False),
     (2, 3, 5, 5), (2, 2, 3, 3)),
]


def _cheap_init(name, kwargs):
    """Zeros initializers: random initializers of rank-4+ shapes take seconds to compile
    on CPU (for both libraries); the tests set random weights with NumPy instead."""
    kwargs = dict(kwargs)
    if name.startswith("Depthwise"):
        kwargs["depthwise_initializer"] = "zeros"
    elif name.startswith("Separable"):
        kwargs["depthwise_initializer"] = "zeros"
        kwargs["pointwise_initializer"] = "zeros"
    else:
        kwargs["kernel_initializer"] = "zeros"
    return kwargs


def _num_weights(name, kwargs):
    return (3 if name.startswith("Separable") else 2) - (0 if kwargs.get("use_bias", True) else 1)


@pytest.mark.parametrize("name,kwargs,input_shape,expected", CONV_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV_CASES)])
def test_conv_layers_match_keras(name, kwargs, input_shape, expected):
    """Same random weights -> same outputs and gradients (weights and inputs) as Keras."""
    import keras

    rng = np.random.default_rng(0)
    kwargs = _cheap_init(name, kwargs)
    x = rng.standard_normal(input_shape).astype("float32")
    layer = getattr(conv, name)(**kwargs)
    klayer = getattr(keras.layers, name)(**kwargs)
    layer.build(input_shape)
    klayer.build(input_shape)
    assert [tuple(w.shape) for w in layer.weights] == [tuple(w.shape) for w in klayer.weights]
    assert [w.name for w in layer.weights] == [w.name for w in klayer.weights]
    assert len(layer.trainable_weights) == _num_weights(name, kwargs)
    weights = [rng.standard_normal(w.shape).astype("float32") for w in layer.weights]
    layer.set_weights(weights)
    klayer.set_weights(weights)
    out = layer(x)
    assert tuple(out.shape) == expected
    np.testing.assert_allclose(np.asarray(out), np.asarray(klayer(x)), atol=1e-5, rtol=1e-5)
    # symbolic shape
    sym = getattr(conv, name)(**kwargs)(kj.Input(batch_shape=(None, *input_shape[1:])))
    assert tuple(sym.shape) == (None, *expected[1:])
    # config round trip
    config = layer.get_config()
    assert getattr(conv, name).from_config(config).get_config() == config
    # gradients wrt weights and inputs, jitted
    probe = rng.standard_normal(expected).astype("float32")

    def loss(lyr):
        def f(tv, x):
            return jnp.sum(lyr.stateless_call(tv, [], x)[0] * probe)
        return jax.jit(jax.value_and_grad(f, argnums=(0, 1)))

    tv = [jnp.asarray(w) for w in weights]
    v1, g1 = loss(layer)(tv, jnp.asarray(x))
    v2, g2 = loss(klayer)(tv, jnp.asarray(x))
    np.testing.assert_allclose(float(v1), float(v2), rtol=1e-4, atol=1e-4)
    for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("index", [4, 12, 18, 22])
def test_conv_layer_battery(index):
    """The shared checks (config, symbolic, jit, one fit step, Keras oracle)."""
    name, kwargs, input_shape, expected = CONV_CASES[index]
    run_layer_test(getattr(conv, name), _cheap_init(name, kwargs), input_shape=input_shape,
                   expected_output_shape=expected,
                   expected_num_trainable_weights=_num_weights(name, kwargs),
                   expected_num_non_trainable_weights=0)


def test_weight_names_and_shapes():
    layer = conv.SeparableConv2D(4, 3, depth_multiplier=2, depthwise_initializer="zeros",
                                 pointwise_initializer="zeros")
    layer(np.zeros((1, 5, 5, 3), "float32"))
    assert [w.name for w in layer.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]
    assert [tuple(w.shape) for w in layer.weights] == [(3, 3, 3, 2), (1, 1, 6, 4), (4,)]
    layer = conv.Conv2DTranspose(5, 3, kernel_initializer="zeros")
    layer(np.zeros((1, 4, 4, 2), "float32"))
    assert tuple(layer.kernel.shape) == (3, 3, 5, 2)
    layer = conv.Conv2D(4, 3, groups=2, kernel_initializer="zeros")
    layer(np.zeros((1, 4, 4, 6), "float32"))
    assert tuple(layer.kernel.shape) == (3, 3, 3, 4)
    layer = conv.DepthwiseConv2D(3, depth_multiplier=2, depthwise_initializer="zeros")
    layer(np.zeros((1, 4, 4, 3), "float32"))
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert tuple(layer.kernel.shape) == (3, 3, 3, 2)


def test_config_keys_match_keras():
    import keras

    for name, kwargs, *_ in CONV_CASES:
        ours = getattr(conv, name)(name="x", **kwargs).get_config()
        theirs = getattr(keras.layers, name)(name="x", **kwargs).get_config()
        assert ours == theirs, name
    ours = conv.Conv2D(2, 3, name="x", kernel_regularizer="l2", activity_regularizer="l1",
                       kernel_constraint="non_neg").get_config()
    theirs = keras.layers.Conv2D(2, 3, name="x", kernel_regularizer="l2",
                                 activity_regularizer="l1",
                                 kernel_constraint="non_neg").get_config()
    assert ours == theirs


def test_aliases():
    assert conv.Convolution2D is conv.Conv2D
    assert conv.Convolution3DTranspose is conv.Conv3DTranspose
    assert conv.SeparableConvolution1D is conv.SeparableConv1D


def test_symbolic_none_spatial_dims():
    x = kj.Input(shape=(None, None, 3))
    y = conv.Conv2D(4, 3, strides=2, padding="same", kernel_initializer="zeros")(x)
    assert tuple(y.shape) == (None, None, None, 4)
    y = conv.Conv2DTranspose(4, 3, strides=2, kernel_initializer="zeros")(x)
    assert tuple(y.shape) == (None, None, None, 4)


def test_errors():
    with pytest.raises(ValueError, match="filters"):
        conv.Conv2D(0, 3)
    with pytest.raises(ValueError, match="groups"):
        conv.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match="padding"):
        conv.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="dilation_rate"):
        conv.Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="output_padding"):
        conv.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="kernel_size"):
        conv.Conv2D(2, (3, 3, 3))
    layer = conv.Conv2D(2, 3, groups=2)
    with pytest.raises(ValueError, match="groups"):
        layer(np.zeros((1, 5, 5, 3), "float32"))
    layer = conv.Conv2D(2, 3, kernel_initializer="zeros")
    layer(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match="conv2d"):
        layer(np.zeros((1, 5, 5, 4), "float32"))


def test_regularizer_losses_and_constraint():
    layer = conv.Conv1D(2, 2, kernel_regularizer="l2", kernel_constraint="non_neg",
                        kernel_initializer="ones")
    layer(np.ones((1, 4, 3), "float32"))
    assert len(layer.losses) == 1
    expected = 0.01 * np.sum(np.square(layer.kernel.numpy()))
    np.testing.assert_allclose(np.asarray(layer.losses[0]), expected, rtol=1e-6)
