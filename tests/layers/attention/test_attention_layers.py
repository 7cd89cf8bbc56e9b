"""Attention layers against real Keras 3: outputs, gradients, masks, weight order."""

import jax
import numpy as np
import pytest
from layer_test_utils import run_layer_test

import keras_on_jax as kj
from keras_on_jax.layers.attention import (
    AdditiveAttention,
    Attention,
    GroupQueryAttention,
    MultiHeadAttention,
)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _keras(name, **kwargs):
    import keras

    return getattr(keras.layers, name)(**kwargs)


def _compare(ours, theirs, args, kwargs=None, atol=1e-5):
    kwargs = kwargs or {}
    out = ours(*args, **kwargs)
    theirs(*args, **kwargs)
    assert [(w.path.split("/", 1)[-1], tuple(w.shape)) for w in ours.weights] == \
        [(w.path.split("/", 1)[-1], tuple(w.shape)) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    kout = theirs(*args, **kwargs)
    for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(kout)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=1e-5)
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name} or \
        {k: v for k, v in ours.get_config().items() if k != "name"} == \
        {k: v for k, v in theirs.get_config().items() if k != "name"}
    return out


# ---------------------------------------------------------------- Attention
@pytest.mark.parametrize("cls,kwargs", [
    (Attention, {}),
    (Attention, {"use_scale": True, "score_mode": "concat"}),
    (AdditiveAttention, {}),
    (AdditiveAttention, {"use_scale": False}),
])
@pytest.mark.parametrize("call", [{}, {"use_causal_mask": True},
                                  {"return_attention_scores": True}])
def test_attention_vs_keras(cls, kwargs, call):
    q, v, k = _rand(2, 3, 4), _rand(2, 5, 4, seed=1), _rand(2, 5, 4, seed=2)
    ours = cls(**kwargs)
    _compare(ours, _keras(cls.__name__, **kwargs), ([q, v, k],), call)


def test_attention_masks_vs_keras():
    q, v = _rand(2, 3, 4), _rand(2, 5, 4, seed=1)
    mask = [np.array([[True, True, False], [True, False, True]]),
            np.array([[True, True, True, False, False], [True] * 5])]
    out = _compare(Attention(), _keras("Attention"), ([q, v],), {"mask": mask})
    np.testing.assert_array_equal(np.asarray(out)[0, 2], 0.0)
    layer = Attention()
    np.testing.assert_array_equal(layer.compute_mask([q, v], mask), mask[0])
    with pytest.raises(ValueError, match="list"):
        layer(q)
    with pytest.raises(ValueError, match="score_mode"):
        Attention(score_mode="x")


def test_attention_run_layer_test_and_symbolic_scores():
    # run_layer_test feeds a single tensor, so test the symbolic API directly.
    q = kj.Input((3, 4))
    v = kj.Input((5, 4))
    out, scores = Attention()([q, v], return_attention_scores=True)
    assert out.shape == (None, 3, 4) and scores.shape == (None, 3, 5)


def test_attention_gradients_vs_keras():
    q, v = _rand(2, 3, 4), _rand(2, 5, 4, seed=1)
    ours = Attention(use_scale=True)
    ours([q, v])
    theirs = _keras("Attention", use_scale=True)
    theirs([q, v])
    theirs.set_weights(ours.get_weights())

    def loss(layer, tv, q):
        ntv = [w.value for w in layer.non_trainable_variables]
        return (layer.stateless_call(tv, ntv, [q, v])[0] ** 2).sum()

    g1 = jax.grad(lambda tv, q: loss(ours, tv, q), argnums=(0, 1))([w.value for w in ours.trainable_variables], q)
    g2 = jax.grad(lambda tv, q: loss(theirs, tv, q), argnums=(0, 1))([w.value for w in theirs.trainable_variables], q)
    for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4)


# ---------------------------------------------------------------- MultiHeadAttention
@pytest.mark.parametrize("kwargs,call", [
    ({"num_heads": 2, "key_dim": 3}, {}),
    # value_dim != key_dim: Keras 3.15's fused path fails on it, compare the einsum path.
    ({"num_heads": 2, "key_dim": 3, "value_dim": 5, "use_bias": False, "output_shape": 6},
     {"return_attention_scores": True}),
    ({"num_heads": 2, "key_dim": 3}, {"use_causal_mask": True}),
    ({"num_heads": 2, "key_dim": 3}, {"return_attention_scores": True}),
    ({"num_heads": 3, "key_dim": 2, "use_gate": True, "sliding_window": 2}, {"use_causal_mask": True}),
])
def test_multi_head_attention_vs_keras(kwargs, call):
    q, v = _rand(2, 4, 6), _rand(2, 5, 6, seed=1)
    _compare(MultiHeadAttention(**kwargs), _keras("MultiHeadAttention", **kwargs), (q, v), call)


def test_multi_head_attention_key_attention_axes_and_masks():
    q, v, k = _rand(2, 4, 6), _rand(2, 5, 6, seed=1), _rand(2, 5, 3, seed=2)
    _compare(MultiHeadAttention(2, 3), _keras("MultiHeadAttention", num_heads=2, key_dim=3),
             (q, v, k))
    x = _rand(2, 3, 4, 6)
    kw = {"num_heads": 2, "key_dim": 2, "attention_axes": (1, 2)}
    _compare(MultiHeadAttention(**kw), _keras("MultiHeadAttention", **kw), (x, x))
    mask = np.random.default_rng(3).random((2, 4, 5)) > 0.3
    mask[:, :, 0] = True
    _compare(MultiHeadAttention(2, 3), _keras("MultiHeadAttention", num_heads=2, key_dim=3),
             (q, v), {"attention_mask": mask})
    _compare(MultiHeadAttention(2, 3), _keras("MultiHeadAttention", num_heads=2, key_dim=3),
             (q, v), {"attention_mask": mask, "return_attention_scores": True})
    vmask = np.array([[True] * 3 + [False] * 2, [True] * 5])
    _compare(MultiHeadAttention(2, 3), _keras("MultiHeadAttention", num_heads=2, key_dim=3),
             (q, v), {"value_mask": vmask})


def test_multi_head_attention_gradients_vs_keras():
    q, v = _rand(2, 4, 6), _rand(2, 5, 6, seed=1)
    ours = MultiHeadAttention(2, 3)
    ours(q, v)
    theirs = _keras("MultiHeadAttention", num_heads=2, key_dim=3)
    theirs(q, v)
    theirs.set_weights(ours.get_weights())

    def loss(layer, tv, q):
        return (layer.stateless_call(tv, [], q, v)[0] ** 2).sum()

    g1 = jax.grad(lambda tv, q: loss(ours, tv, q), argnums=(0, 1))([w.value for w in ours.trainable_variables], q)
    g2 = jax.grad(lambda tv, q: loss(theirs, tv, q), argnums=(0, 1))([w.value for w in theirs.trainable_variables], q)
    for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4)


def test_multi_head_attention_in_functional_model_and_training():
    q = kj.Input((4, 6))
    v = kj.Input((5, 6))
    layer = MultiHeadAttention(2, 3, dropout=0.1, seed=1)
    out = layer(q, v)
    assert out.shape == (None, 4, 6)
    assert [w.path.split("/")[-2] for w in layer.weights][::2] == ["query", "key", "value", "attention_output"]
    model = kj.Model([q, v], out)
    model.compile(optimizer="sgd", loss="mse")
    xq, xv = _rand(8, 4, 6), _rand(8, 5, 6, seed=1)
    before = [w.copy() for w in model.get_weights()]
    hist = model.fit([xq, xv], _rand(8, 4, 6, seed=2), epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    config = layer.get_config()
    clone = MultiHeadAttention.from_config(config)
    assert clone.get_config() == config
    clone.build_from_config(layer.get_build_config())
    assert len(clone.weights) == 8


def test_multi_head_attention_value_dim_fused_path():
    layer = MultiHeadAttention(2, 3, value_dim=5, output_shape=(2, 3))
    assert layer(_rand(2, 4, 6), _rand(2, 5, 6)).shape == (2, 4, 2, 3)


def test_multi_head_attention_errors():
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(0, 2)
    with pytest.raises(ValueError, match="key_dim"):
        MultiHeadAttention(2, -1)
    with pytest.raises(ValueError, match="value"):
        MultiHeadAttention(2, 2)(_rand(1, 3, 4), _rand(1, 5, 4), _rand(1, 6, 4))


# ---------------------------------------------------------------- GroupQueryAttention
@pytest.mark.parametrize("kwargs,call", [
    ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2}, {}),
    ({"head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 1, "use_bias": False},
     {"use_causal_mask": True}),
    ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2}, {"return_attention_scores": True}),
    ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 4, "use_gate": True,
      "sliding_window": 2}, {"use_causal_mask": True, "return_attention_scores": True}),
])
def test_group_query_attention_vs_keras(kwargs, call):
    q, v = _rand(2, 4, 6), _rand(2, 5, 6, seed=1)
    _compare(GroupQueryAttention(**kwargs), _keras("GroupQueryAttention", **kwargs), (q, v), call)


def test_group_query_attention_masks_and_errors():
    q, v = _rand(2, 4, 6), _rand(2, 5, 6, seed=1)
    kw = {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2}
    mask = np.random.default_rng(3).random((2, 4, 5)) > 0.3
    mask[:, :, 0] = True
    _compare(GroupQueryAttention(**kw), _keras("GroupQueryAttention", **kw), (q, v),
             {"attention_mask": mask})
    with pytest.raises(ValueError, match="divisible"):
        GroupQueryAttention(2, 3, 2)
    sym = GroupQueryAttention(**kw)(kj.Input((4, 6)), kj.Input((5, 6)))
    assert sym.shape == (None, 4, 6)


def test_attention_dropout_training_randomness():
    layer = MultiHeadAttention(2, 3, dropout=0.5, seed=1)
    q = _rand(2, 4, 6)
    a = layer(q, q, training=True)
    b = layer(q, q, training=True)
    assert not np.allclose(a, b)
    np.testing.assert_allclose(layer(q, q), layer(q, q, training=False))


def test_multi_head_attention_weights_files_move_both_ways(tmp_path):
    """Keras 3 saves the projections under the public properties' names (`key_dense`, ...:
    its walk visits `dir(layer)`, public names first); a subclass (KerasHub's
    `CachedMultiHeadAttention`) inherits them."""
    import h5py
    import keras

    x = _rand(2, 3, 4)
    models = {}
    for lib in (kj, keras):
        inp = lib.Input((3, 4))
        models[lib.__name__] = lib.Model(inp, lib.layers.MultiHeadAttention(2, 3)(inp, inp))
    ours, theirs = models["keras_on_jax"], models["keras"]
    paths = {}
    for name, model in models.items():
        model.save_weights(tmp_path / f"{name}.weights.h5")
        with h5py.File(tmp_path / f"{name}.weights.h5") as f:
            paths[name] = sorted(n for n in _h5_names(f) if n.endswith("/vars/0"))
    assert paths["keras_on_jax"] == paths["keras"]
    assert "layers/multi_head_attention/key_dense/vars/0" in paths["keras"]
    ours_before, theirs_before = np.asarray(ours(x)), np.asarray(theirs(x))
    ours.load_weights(tmp_path / "keras.weights.h5")
    np.testing.assert_allclose(ours(x), theirs_before, rtol=1e-5, atol=1e-5)
    theirs.load_weights(tmp_path / "keras_on_jax.weights.h5")
    np.testing.assert_allclose(theirs(x), ours_before, rtol=1e-5, atol=1e-5)


def _h5_names(f):
    names = []
    f.visit(names.append)
    return names
