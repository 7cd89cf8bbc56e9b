"""Building models three ways, the Layer contract, summary, and clear errors."""

import io
import contextlib

import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax import layers


def test_sequential_input_shape_input_dim_add_pop():
    m = kj.Sequential()
    m.add(layers.Dense(4, input_dim=3))
    m.add(layers.Dense(2))
    assert m.built and m.output_shape == (None, 2)
    assert [w.shape for w in m.weights] == [(3, 4), (4,), (4, 2), (2,)]
    popped = m.pop()
    assert popped.units == 2 and len(m.layers) == 1 and m.output_shape == (None, 4)
    m2 = kj.Sequential([layers.Dense(5, input_shape=(7,))])
    assert m2.layers[0].kernel.shape == (7, 5)


def test_sequential_deferred_build_on_first_call():
    m = kj.Sequential([layers.Dense(3), layers.Dense(1)])
    assert not m.built
    out = m(np.ones((2, 4), "float32"))
    assert out.shape == (2, 1) and m.built


def test_sequential_built_from_a_built_model_first_layer():
    """A pretrained base as the first layer gives the input shape (the FAQ's
    `Sequential([ResNet50Base(...), Dense(10)])`); names and paths as in Keras 3."""
    keras = pytest.importorskip("keras")
    models = {}
    for lib in (kj, keras):
        inp = lib.Input((5,))
        base = lib.Model(inp, lib.layers.Dense(3, name="inner")(inp), name="base")
        model = lib.Sequential([base, lib.layers.Dense(2, name="head")], name="seq")
        models[lib] = model
        assert model.built and model.output_shape == (None, 2)
        base.trainable = False
        assert len(model.trainable_weights) == 2
    ours, theirs = models[kj], models[keras]
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]


def test_unique_names_and_paths():
    kj.utils.clear_session()
    a, b = layers.Dense(1), layers.Dense(1)
    assert (a.name, b.name) == ("dense", "dense_1")
    m = kj.Sequential([kj.Input((2,)), a])
    assert m.weights[0].path == "sequential/dense/kernel"


def test_functional_multi_io_get_layer_and_feature_extraction():
    a = kj.Input((4,), name="a")
    b = kj.Input((3,), name="b")
    ha = layers.Dense(5, name="ha")(a)
    hb = layers.Dense(5, name="hb")(b)
    s = layers.Dense(2, name="out1")(ha)
    t = layers.Dense(1, name="out2")(hb)
    model = kj.Model(inputs=[a, b], outputs=[s, t])
    assert [l.name for l in model.layers] == ["a", "b", "ha", "hb", "out1", "out2"]
    assert model.get_layer("ha").output.shape == (None, 5)
    assert model.get_layer("ha").input is a
    extractor = kj.Model(model.inputs, [model.get_layer("ha").output])
    xa, xb = np.ones((2, 4), "float32"), np.ones((2, 3), "float32")
    np.testing.assert_allclose(extractor.predict([xa, xb], verbose=0)[0] if isinstance(extractor.predict([xa, xb], verbose=0), list) else extractor.predict([xa, xb], verbose=0),
                               np.asarray(model.get_layer("ha")(xa)), atol=1e-6)
    out = model({"a": xa, "b": xb})
    assert out[0].shape == (2, 2) and out[1].shape == (2, 1)
    with pytest.raises(ValueError, match="No such layer"):
        model.get_layer("nope")


def test_nested_model_as_layer():
    inner = kj.Sequential([kj.Input((3,)), layers.Dense(4, activation="relu")], name="inner")
    x = kj.Input((3,))
    y = layers.Dense(1)(inner(x))
    outer = kj.Model(x, y)
    assert len(outer.weights) == 4
    outer.compile("sgd", "mse")
    outer.fit(np.ones((8, 3)), np.ones((8, 1)), verbose=0)
    assert outer.predict(np.ones((2, 3)), verbose=0).shape == (2, 1)


class _MLP(kj.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(8, activation="relu")
        self.out = layers.Dense(1)

    def call(self, x, training=None):
        return self.out(self.hidden(x))


def test_subclassed_model_trains_and_tracks_weights():
    m = _MLP()
    m.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).standard_normal((32, 5)).astype("float32")
    h = m.fit(x, x[:, :1], epochs=3, verbose=0)
    assert len(m.trainable_weights) == 4 and h.history["loss"][-1] < h.history["loss"][0]


def test_trainable_recursive_and_weight_lists():
    m = kj.Sequential([kj.Input((3,)), layers.Dense(4), layers.Dense(2)])
    m.layers[0].trainable = False
    assert len(m.trainable_weights) == 2 and len(m.non_trainable_weights) == 2
    m.trainable = False
    assert m.trainable_weights == [] and all(not l.trainable for l in m.layers)


def test_get_set_weights_and_errors():
    d = layers.Dense(2)
    d.build((None, 3))
    with pytest.raises(ValueError, match="expecting 2 weights"):
        d.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match="not compatible"):
        d.set_weights([np.zeros((4, 2)), np.zeros(2)])


def test_wrong_input_shape_names_layer():
    # As Keras 3: a Sequential checks ranks only, so its first layer names the problem; a
    # Functional model checks its inputs' dimensions but the batch size.
    m = kj.Sequential([kj.Input((3,)), layers.Dense(2, name="head")])
    with pytest.raises(ValueError, match='layer "head".*expected axis -1 of input shape to '
                                         r"have value 3, but received input with shape \(2, 4\)"):
        m.predict(np.ones((2, 4)), verbose=0)
    x = kj.Input(batch_shape=(2, 3), name="features")
    f = kj.Model(x, layers.Dense(2)(x), name="fn")
    assert f.predict(np.ones((5, 3)), verbose=0).shape == (5, 2)
    with pytest.raises(ValueError, match=r"Input 0 with name 'features' of layer 'fn' is "
                                         r"incompatible with the layer: expected "
                                         r"shape=\(None, 3\), found shape=\(5, 4\)"):
        f(np.ones((5, 4)))
    d = layers.Dense(2, name="lonely")
    d(np.ones((1, 3)))
    with pytest.raises(ValueError, match='layer "lonely".*expected axis -1 of input shape to have value 3'):
        d(np.ones((1, 5)))


def test_bad_arguments_errors():
    with pytest.raises(ValueError, match="positive int"):
        layers.Dense(-3)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        layers.Dense(3, foo=1)
    m = kj.Sequential([kj.Input((3,)), layers.Dense(1)])
    m.compile("sgd", "mse")
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        m.fit(np.ones((4, 3)), np.ones((5, 1)), verbose=0)
    with pytest.raises(ValueError, match=r"validation_split.*\[0, 1\)"):
        m.fit(np.ones((4, 3)), np.ones((4, 1)), validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="must call `compile\\(\\)`"):
        kj.Sequential([kj.Input((3,)), layers.Dense(1)]).fit(np.ones((2, 3)), np.ones((2, 1)))


def test_summary_counts_trainable_and_non_trainable():
    m = kj.Sequential([kj.Input((3,)), layers.Dense(4), layers.Dense(2)])
    m.layers[1].trainable = False
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        m.summary()
    text = buf.getvalue()
    assert 'Model: "' in text and "dense" in text
    assert "Total params: 26" in text
    assert "Trainable params: 16" in text
    assert "Non-trainable params: 10" in text


def test_add_loss_and_losses_in_training():
    class WithLoss(layers.Layer):
        def call(self, x):
            self.add_loss(0.5 * kj.ops.sum(x))
            return x

    m = kj.Sequential([kj.Input((2,)), WithLoss(), layers.Dense(1, kernel_initializer="zeros")])
    m(np.ones((1, 2), "float32"))
    assert len(m.losses) == 1 and float(m.losses[0]) == 1.0
    m.compile("sgd", "mse")
    loss = m.evaluate(np.ones((4, 2), "float32"), np.zeros((4, 1), "float32"), verbose=0)
    assert loss == pytest.approx(4.0, abs=1e-6)  # mse 0 + add_loss 0.5 * sum(ones((4, 2)))


def test_faq_gan_compile_freezes_trainable_set():
    """The FAQ: a model compiled while its layers were trainable keeps training them after
    they are frozen for another model; the other model leaves them alone."""
    rng = np.random.default_rng(0)
    discriminator = kj.Sequential([kj.Input((4,)), layers.Dense(1, activation="sigmoid")])
    discriminator.compile(optimizer="sgd", loss="binary_crossentropy")
    discriminator.trainable = False
    assert discriminator.trainable_weights == []
    generator = kj.Sequential([kj.Input((3,)), layers.Dense(4)])
    gan_in = kj.Input((3,))
    gan = kj.Model(gan_in, discriminator(generator(gan_in)))
    gan.compile(optimizer="sgd", loss="binary_crossentropy")
    assert len(gan.trainable_weights) == 2  # the generator's kernel and bias only

    d_before = [w.copy() for w in discriminator.get_weights()]
    g_before = [w.copy() for w in generator.get_weights()]
    gan.fit(rng.standard_normal((16, 3)), np.ones((16, 1)), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(d_before, discriminator.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, generator.get_weights()))
    discriminator.fit(rng.standard_normal((16, 4)), np.ones((16, 1)), verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(d_before, discriminator.get_weights()))


def test_layer_made_frozen_has_frozen_weights_until_unfrozen():
    """`Dense(2, trainable=False)`: its weights are not trained (Keras's `_track_variable`),
    and `trainable = True` later makes them trainable again."""
    keras = pytest.importorskip("keras")
    for lib in (kj, keras):
        dense = lib.layers.Dense(2, trainable=False)
        model = lib.Sequential([lib.Input((3,)), dense, lib.layers.Dense(1)])
        assert [w.trainable for w in dense.weights] == [False, False]
        assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    model = kj.Sequential([kj.Input((3,)), kj.layers.Dense(2, trainable=False), kj.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    frozen = model.layers[0].kernel.numpy().copy()
    model.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), epochs=1, verbose=0)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), frozen)
    model.layers[0].trainable = True
    assert len(model.trainable_weights) == 4


def test_dict_outputs_keep_their_key_order_as_keras():
    # Keras 3 returns a model's output dict in the order it was built with (KerasHub's
    # CLIP backbone: vision_logits, then text_logits); `predict` sorts it, as Keras does.
    import keras

    x = np.ones((4, 2), "float32")
    orders = []
    for lib in (kj, keras):
        inputs = lib.Input((2,))
        outputs = {"zeta": lib.layers.Dense(1)(inputs),
                   "alpha": {"y": lib.layers.Dense(2)(inputs), "b": inputs},
                   "mid": [lib.layers.Dense(3)(inputs)]}
        model = lib.Model(inputs, outputs)
        out = model(x)
        spec = model.compute_output_spec(lib.KerasTensor((4, 2)))
        predicted = model.predict(x, verbose=0)
        orders.append((list(out), list(out["alpha"]), list(spec), list(predicted),
                       list(predicted["alpha"]), type(predicted["mid"]).__name__))
    assert orders[0] == orders[1]
    assert orders[0][0] == ["zeta", "alpha", "mid"] and orders[0][1] == ["y", "b"]
