"""Behaviour the Keras model-building guides (keras-io `guides/`) rely on, vs real Keras 3."""

import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.utils import model_visualization


def _padded():
    return np.array([[711, 632, 71, 0, 0, 0], [73, 8, 3215, 55, 927, 0],
                     [83, 91, 1, 645, 1253, 927]], dtype="int32")


def test_eager_output_carries_keras_mask_like_keras():
    import keras

    ours = kj.layers.Embedding(input_dim=5000, output_dim=4, mask_zero=True)(_padded())
    theirs = keras.layers.Embedding(input_dim=5000, output_dim=4, mask_zero=True)(_padded())
    np.testing.assert_array_equal(np.asarray(ours._keras_mask), np.asarray(theirs._keras_mask))
    x = np.tile(_padded()[..., None], (1, 1, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(kj.layers.Masking()(x)._keras_mask),
                                  np.asarray(keras.layers.Masking()(x)._keras_mask))


def _split_layer(base, ops):
    class TemporalSplit(base):
        def call(self, inputs):
            return ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            return None if mask is None else ops.split(mask, 2, axis=1)

    return TemporalSplit()


def test_compute_mask_gets_the_inputs_mask_when_call_takes_no_mask():
    import keras

    x = np.tile(_padded()[..., None], (1, 1, 3)).astype("float32")
    ours = _split_layer(kj.layers.Layer, kj.ops)(kj.layers.Masking()(x))
    theirs = _split_layer(keras.layers.Layer, keras.ops)(keras.layers.Masking()(x))
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(np.asarray(a._keras_mask), np.asarray(b._keras_mask))
    assert not np.asarray(ours[1]._keras_mask)[0].any()


def _softmax_layer(base, ops, seen):
    class TemporalSoftmax(base):
        def call(self, inputs, mask=None):
            seen.append(mask is not None)
            m = ops.expand_dims(ops.cast(mask, "float32"), -1)
            e = ops.exp(inputs) * m
            return e / ops.sum(e, axis=1, keepdims=True)

    return TemporalSoftmax()


def test_symbolic_call_passes_the_inputs_mask_to_call():
    import keras

    x = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], dtype="int32")
    outs = []
    for k in (kj, keras):
        seen = []
        inputs = k.Input(shape=(None,), dtype="int32")
        h = k.layers.Embedding(10, 3, mask_zero=True, embeddings_initializer="ones")(inputs)
        h = k.layers.Dense(1, kernel_initializer="ones")(h)
        model = k.Model(inputs, _softmax_layer(k.layers.Layer, k.ops, seen)(h))
        outs.append(np.asarray(model(x)))
        assert seen and all(seen), k.__name__
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)
    np.testing.assert_allclose(outs[0][:, :, 0].sum(axis=1), [1.0, 1.0], rtol=1e-6)


def _small_model():
    inputs = kj.Input((3,), name="x")
    return kj.Model(inputs, kj.layers.Dense(2, name="d")(inputs), name="m")


def test_plot_model_without_pydot_prints_and_returns_none(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(model_visualization, "pydot", None)
    out = tmp_path / "m.png"
    assert kj.utils.plot_model(_small_model(), str(out), show_shapes=True) is None
    assert "pydot" in capsys.readouterr().out
    assert not out.exists()
    with pytest.raises(ImportError, match="pydot"):
        kj.utils.model_to_dot(_small_model())


def test_plot_model_rejects_unbuilt_model_and_unknown_arguments():
    with pytest.raises(ValueError, match="not yet been built"):
        kj.utils.plot_model(kj.Sequential([kj.layers.Dense(2)]))
    with pytest.raises(ValueError, match="layer_range"):
        kj.utils.plot_model(_small_model(), layer_range=["a", "b"])
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        kj.utils.plot_model(_small_model(), bogus=1)


def test_model_to_dot_matches_keras_graph():
    pytest.importorskip("pydot")
    import keras

    def edges(k):
        a = k.Input((None,), name="title")
        b = k.Input((4,), name="tags")
        h = k.layers.LSTM(6, name="lstm")(k.layers.Embedding(50, 8, name="emb")(a))
        x = k.layers.concatenate([h, b], name="cat")
        m = k.Model([a, b], [k.layers.Dense(1, name="p")(x), k.layers.Dense(3, name="dep")(x)])
        dot = k.utils.model_to_dot(m, show_shapes=True)
        names = {n.get_name(): n.get("label") for n in dot.get_nodes() if n.get("label")}
        return sorted(names.values()), sorted((names[e.get_source()], names[e.get_destination()])
                                              for e in dot.get_edges())

    assert edges(kj) == edges(keras)
