"""Merge layers vs real Keras 3: outputs, gradients, shapes, masks, functional forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.layers import merging
from keras_on_jax.layers.layer import Layer

rng = np.random.default_rng(0)


def _data(*shapes):
    return [rng.standard_normal(s).astype("float32") for s in shapes]


CASES = [
    ("Add", {}, [(2, 3, 4), (2, 3, 4), (2, 3, 4)]),
    ("Add", {}, [(2, 3, 4), (2, 1, 4)]),
    ("Add", {}, [(2, 3, 4), (2, 4)]),  # rank alignment
    ("Subtract", {}, [(2, 3), (2, 3)]),
    ("Multiply", {}, [(2, 3, 4), (2, 3, 4)]),
    ("Average", {}, [(2, 5), (2, 5), (2, 5)]),
    ("Maximum", {}, [(2, 3, 4), (2, 3, 4)]),
    ("Minimum", {}, [(2, 4), (2, 4), (2, 4)]),
    ("Concatenate", {}, [(2, 3, 4), (2, 3, 2)]),
    ("Concatenate", dict(axis=1), [(2, 3, 4), (2, 1, 4), (2, 2, 4)]),
    ("Dot", dict(axes=1), [(2, 4), (2, 4)]),
    ("Dot", dict(axes=-1, normalize=True), [(2, 4), (2, 4)]),
    ("Dot", dict(axes=(2, 2)), [(2, 3, 4), (2, 5, 4)]),
    ("Dot", dict(axes=(1, 2)), [(2, 3, 4), (2, 5, 3)]),
    ("Dot", dict(axes=-1), [(2, 4), (2, 3, 4)]),
    ("Dot", dict(axes=(2, 1), normalize=True), [(2, 3, 4), (2, 4)]),
]


@pytest.mark.parametrize("name,kwargs,shapes", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_merge_matches_keras(name, kwargs, shapes):
    import keras

    data = _data(*shapes)
    ours_layer = getattr(merging, name)(**kwargs)
    theirs_layer = getattr(keras.layers, name)(**kwargs)
    ours = ours_layer(data)
    theirs = theirs_layer(data)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), atol=1e-5, rtol=1e-5)
    # shapes: eager, symbolic, compute_output_shape
    expected = tuple(theirs_layer.compute_output_shape(shapes))
    assert tuple(ours.shape) == expected == tuple(ours_layer.compute_output_shape(shapes))
    sym = getattr(merging, name)(**kwargs)([kj.Input(batch_shape=(None, *s[1:])) for s in shapes])
    assert tuple(sym.shape) == (None, *expected[1:])
    # config
    config = ours_layer.get_config()
    assert config == theirs_layer.get_config() | {"name": ours_layer.name}
    assert getattr(merging, name).from_config(config).get_config() == config
    # gradients wrt every input
    probe = rng.standard_normal(ours.shape).astype("float32")
    g1 = jax.grad(lambda xs: jnp.sum(ours_layer(xs) * probe))([jnp.asarray(d) for d in data])
    g2 = jax.grad(lambda xs: jnp.sum(theirs_layer(xs) * probe))([jnp.asarray(d) for d in data])
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5, rtol=1e-4)
    # jit == eager
    jitted = jax.jit(lambda xs: ours_layer(xs))(data)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(ours), atol=1e-6)


@pytest.mark.parametrize("fn,kwargs", [("add", {}), ("subtract", {}), ("multiply", {}),
                                       ("average", {}), ("maximum", {}), ("minimum", {}),
                                       ("concatenate", dict(axis=1)), ("dot", dict(axes=1))])
def test_functional_forms_in_model_and_eagerly(fn, kwargs):
    import keras

    a, b = _data((3, 4), (3, 4))
    eager = getattr(merging, fn)([a, b], **kwargs)
    expected = getattr(keras.layers, fn)([a, b], **kwargs)
    np.testing.assert_allclose(np.asarray(eager), np.asarray(expected), atol=1e-6)
    x1, x2 = kj.Input(shape=(4,)), kj.Input(shape=(4,))
    out = getattr(merging, fn)([x1, x2], **kwargs)
    model = kj.Model([x1, x2], out)
    np.testing.assert_allclose(np.asarray(model.predict([a, b], verbose=0)),
                               np.asarray(expected), atol=1e-6)


def test_training_through_merge():
    from keras_on_jax.layers.core.dense import Dense

    x1, x2 = kj.Input(shape=(3,)), kj.Input(shape=(3,))
    out = Dense(1)(merging.concatenate([Dense(2)(x1), Dense(2)(x2)]))
    model = kj.Model([x1, x2], out)
    model.compile(optimizer="sgd", loss="mse")
    a, b = _data((8, 3), (8, 3))
    history = model.fit([a, b], np.ones((8, 1), "float32"), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"][-1])


def _mask_layers(base):
    class Masker(base):
        """Identity whose mask is `x[..., 0] != 0`."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs):
            return inputs

        def compute_mask(self, inputs, mask=None):
            return inputs[..., 0] != 0

        def compute_output_shape(self, input_shape):
            return input_shape

    return Masker


@pytest.mark.parametrize("name,kwargs", [("Add", {}), ("Maximum", {}), ("Minimum", {}),
                                         ("Multiply", {}), ("Average", {}),
                                         ("Concatenate", {}), ("Subtract", {})])
def test_masks_through_functional_model(name, kwargs):
    import keras

    a, b = _data((2, 4, 3), (2, 4, 3))
    a[0, 1, 0] = 0.0
    a[1, 2, 0] = 0.0
    b[0, 1, 0] = 0.0
    b[0, 3, 0] = 0.0
    results = []
    for lib, layers_mod in ((kj, merging), (keras, keras.layers)):
        Masker = _mask_layers(Layer if lib is kj else keras.layers.Layer)
        x1, x2 = lib.Input(shape=(4, 3)), lib.Input(shape=(4, 3))
        m1, m2 = Masker()(x1), Masker()(x2)
        merged = getattr(layers_mod, name)(**kwargs)([m1, m2])
        model = lib.Model([x1, x2], merged)
        results.append(np.asarray(model.predict([a, b], verbose=0)))
    np.testing.assert_allclose(results[0], results[1], atol=1e-6)


def test_compute_mask_matches_keras():
    import keras

    a, b = _data((2, 3, 4), (2, 3, 2))
    m1 = np.array([[1, 0, 1], [0, 0, 1]], bool)
    m2 = np.array([[0, 0, 1], [1, 0, 1]], bool)
    for name in ("Add", "Concatenate"):
        ours = getattr(merging, name)().compute_mask([a, b], [m1, m2])
        theirs = getattr(keras.layers, name)().compute_mask([a, b], [m1, m2])
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    assert merging.Add().compute_mask([a, a], [m1, None]) is None
    ours = merging.Concatenate().compute_mask([a, b], [m1, None])
    theirs = keras.layers.Concatenate().compute_mask([a, b], [m1, None])
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    assert merging.Dot(axes=1).compute_mask([a, a], [m1, m2]) is None


def test_errors():
    a, b, c = _data((2, 3), (2, 3), (2, 3))
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        merging.Subtract()([a, b, c])
    with pytest.raises(ValueError, match="list"):
        merging.Add()(a)
    with pytest.raises(ValueError, match="incompatible shapes"):
        merging.Add()([a, np.zeros((2, 4), "float32")])
    with pytest.raises(ValueError, match="matching shapes"):
        merging.Concatenate(axis=1)([np.zeros((2, 3, 4)), np.zeros((2, 3, 5))])
    with pytest.raises(ValueError, match="Incompatible input shapes"):
        merging.Dot(axes=1)([a, np.zeros((2, 4), "float32")])
    with pytest.raises(TypeError, match="axes"):
        merging.Dot(axes="x")
