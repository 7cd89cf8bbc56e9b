"""Functional models whose graphs hold `keras.ops` calls, operators and slices (op nodes),
checked against real Keras 3 given the same weights."""

import json

import keras
import numpy as np
import pytest

import keras_on_jax as kj

R = np.random.default_rng(0)
TOKENS = R.integers(0, 40, (4, 12)).astype("int32")
TOKENS[:, -3:] = 0  # padding


def gemma_like(lib):
    """The issue's example: masks from ops, a scaled embedding, slices and reductions."""
    ops = lib.ops
    x = lib.Input((12,), dtype="int32", name="tokens")
    mask = ops.not_equal(x, 0)
    e = lib.layers.Embedding(40, 8, name="embed")(x)
    e = e * ops.cast(ops.sqrt(8.0), e.dtype)
    first = e[:, 0, :]
    pooled = ops.sum(e * ops.expand_dims(ops.cast(mask, e.dtype), -1), axis=1)
    pooled = pooled / ops.maximum(ops.sum(ops.cast(mask, "float32"), axis=1, keepdims=True), 1.0)
    y = ops.mean(e, axis=1) + 1.0
    h = lib.layers.Dense(6, name="proj")(ops.concatenate([pooled, first, y], axis=-1))
    out = ops.softmax(h[..., :4] - ops.max(h, axis=-1, keepdims=True))
    return lib.Model(x, out, name="gemma_like")


def multi_io(lib):
    """Dict inputs, a shared layer called twice with ops between, several outputs."""
    ops = lib.ops
    a = lib.Input((6,), name="a")
    b = lib.Input((6,), name="b")
    shared = lib.layers.Dense(4, name="shared")
    ha, hb = shared(a), shared(ops.abs(b) - 0.5)
    both = ops.stack([ha, hb], axis=1)  # (None, 2, 4)
    mean, var = ops.moments(both, axes=[1])
    scores = ops.einsum("bij,bkj->bik", both, both) / 2.0
    top_values, _ = ops.top_k(mean, 2)
    return lib.Model({"a": a, "b": b},
                     {"var": var, "scores": ops.reshape(scores, (-1, 4)), "top": top_values},
                     name="multi_io")


def _copy_weights(src, dst):
    dst.set_weights([np.asarray(w) for w in src.get_weights()])


def _assert_close(a, b, atol=1e-5):
    for x, y in zip(_leaves(a), _leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=atol)


def _leaves(x):
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in _leaves(x[k])]
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _leaves(item)]
    return [x]


@pytest.mark.parametrize("build,data", [
    (gemma_like, TOKENS),
    (multi_io, {"a": R.normal(size=(4, 6)).astype("float32"), "b": R.normal(size=(4, 6)).astype("float32")}),
])
def test_predictions_equal_keras(build, data):
    ours, theirs = build(kj), build(keras)
    _copy_weights(theirs, ours)
    _assert_close(ours.predict(data, verbose=0), theirs.predict(data, verbose=0))
    _assert_close(ours(data), theirs(data))
    assert [type(op).__name__ for op in ours.operations] == [type(op).__name__ for op in theirs.operations]
    assert [l.name for l in ours.layers] == [l.name for l in theirs.layers]
    assert [t.shape for t in kj.tree.flatten(ours.output)] == [t.shape for t in keras.tree.flatten(theirs.output)]


def test_fit_with_ops_trains_as_keras():
    ours, theirs = gemma_like(kj), gemma_like(keras)
    _copy_weights(theirs, ours)
    y = np.eye(4, dtype="float32")[R.integers(0, 4, 4)]
    for lib, m in ((kj, ours), (keras, theirs)):
        m.compile(optimizer=lib.optimizers.SGD(0.5), loss="categorical_crossentropy", metrics=["mae"])
    h_ours = ours.fit(TOKENS, y, batch_size=2, epochs=2, verbose=0, shuffle=False)
    h_theirs = theirs.fit(TOKENS, y, batch_size=2, epochs=2, verbose=0, shuffle=False)
    np.testing.assert_allclose(h_ours.history["loss"], h_theirs.history["loss"], rtol=1e-4)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(np.asarray(a), b, atol=1e-5)
    assert np.allclose(ours.evaluate(TOKENS, y, verbose=0), theirs.evaluate(TOKENS, y, verbose=0), atol=1e-5)


def test_ops_drop_masks_as_in_keras():
    """A mask made by a layer does not flow through an op (Keras 3): pooling after `x * 2`
    averages the padded steps too, pooling right after the embedding does not."""

    def build(lib):
        x = lib.Input((5,), dtype="int32")
        e = lib.layers.Embedding(10, 3, mask_zero=True)(x)
        pool = lib.layers.GlobalAveragePooling1D()
        return lib.Model(x, [pool(e * 2.0), pool(e)])

    ours, theirs = build(kj), build(keras)
    _copy_weights(theirs, ours)
    data = np.array([[1, 2, 0, 0, 0], [3, 0, 0, 0, 0]], "int32")
    out = ours.predict(data, verbose=0)
    _assert_close(out, theirs.predict(data, verbose=0))
    assert not np.allclose(out[0], 2 * out[1])


def _summary_rows(model):
    lines = []
    model.summary(line_length=200, print_fn=lambda text, **kw: lines.extend(text.splitlines()))
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if line.startswith("│")]
    return [row[:3] for row in rows if row[0]]  # name (type), output shape, param count


def test_summary_lists_op_nodes_as_keras(monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")  # Keras's table is as wide as the terminal
    ours, theirs = gemma_like(kj), gemma_like(keras)
    rows, expected = _summary_rows(ours), _summary_rows(theirs)
    assert len(rows) == len(ours.operations) == len(expected)
    for row, exp in zip(rows, expected):
        assert row[0].split(" ")[1] == exp[0].split(" ")[1]  # the class, e.g. (GetItem)
        assert row[1:] == exp[1:]


def test_clone_and_json_keep_ops():
    model = gemma_like(kj)
    clone = kj.models.clone_model(model)
    _copy_weights(model, clone)
    _assert_close(clone.predict(TOKENS, verbose=0), model.predict(TOKENS, verbose=0))
    assert [type(op).__name__ for op in clone.operations] == [type(op).__name__ for op in model.operations]
    rebuilt = kj.models.model_from_json(model.to_json())
    _copy_weights(model, rebuilt)
    _assert_close(rebuilt.predict(TOKENS, verbose=0), model.predict(TOKENS, verbose=0))
    assert json.loads(rebuilt.to_json()) == json.loads(model.to_json())


def test_op_only_graph_and_intermediate_outputs():
    x = kj.Input((3,))
    y = x * 2.0 + 1.0
    model = kj.Model(x, [y, y[:, :1]])
    out = model.predict(np.ones((2, 3), "float32"), verbose=0)
    np.testing.assert_allclose(out[0], 3.0)
    assert out[1].shape == (2, 1)
    assert model.layers[0].name == model.operations[0].name and len(model.layers) == 1


def test_nested_model_with_ops_in_a_model(tmp_path):
    def build(lib):
        inner = gemma_like(lib)
        x = lib.Input((12,), dtype="int32")
        return lib.Model(x, lib.layers.Dense(2, name="outer_head")(inner(x) * 2.0), name="outer")

    ours, theirs = build(kj), build(keras)
    _copy_weights(theirs, ours)
    _assert_close(ours.predict(TOKENS, verbose=0), theirs.predict(TOKENS, verbose=0))
    path = str(tmp_path / "nested.keras")
    ours.save(path)
    _assert_close(keras.saving.load_model(path).predict(TOKENS, verbose=0),
                  theirs.predict(TOKENS, verbose=0))
