"""`keras.Function` (ops/function.py) against real Keras 3's, and layers as `keras.Operation`s."""

import keras
import numpy as np
import pytest

import keras_on_jax as kj


def _both(build):
    """Run `build(keras_module)` with real Keras and with keras_on_jax."""
    return build(keras), build(kj)


def _values(structure):
    if isinstance(structure, dict):
        return {k: _values(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_values(v) for v in structure]
    return np.asarray(structure)


def test_layers_and_models_are_operations():
    assert isinstance(kj.layers.Dense(2), kj.Operation)
    assert isinstance(kj.Sequential([kj.Input((3,)), kj.layers.Dense(2)]), kj.Operation)
    add = (kj.Input((3,)) + 1)._keras_history.operation
    assert isinstance(add, kj.Operation) and not isinstance(add, kj.Layer)
    # Layer's own calling is kept: a call on KerasTensors records one node, with masks.
    x = kj.Input((4,), dtype="int32")
    embedding = kj.layers.Embedding(10, 3, mask_zero=True)
    y = embedding(x)
    assert y.shape == (None, 4, 3) and y._keras_mask.shape == (None, 4)
    assert [n.output_tensors for n in embedding._inbound_nodes] == [[y]]


def test_eager_symbolic_and_nested_calls_match_keras():
    a, b = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")

    def build(k):
        x1, x2 = k.KerasTensor((2, 3)), k.KerasTensor((2, 3))
        x = k.ops.add(x1, x2)
        fn = k.Function(inputs=[x1, x2], outputs=[x * 3, x**2], name="test_function")
        eager = fn([a, b])
        alt = [k.KerasTensor((2, 3)), k.KerasTensor((2, 3))]
        symbolic = fn(alt)
        nested = k.Function(inputs=alt, outputs=symbolic)
        return (fn.name, isinstance(fn, k.Operation), [type(op).__name__ for op in fn.operations],
                _values(eager), [(t.shape, t.dtype) for t in symbolic],
                [op is fn for op in nested.operations], _values(nested([a, b])))

    theirs, ours = _both(build)
    assert ours[:3] == theirs[:3] and ours[4:6] == theirs[4:6]
    for got, want in ((ours[3], theirs[3]), (ours[6], theirs[6])):
        np.testing.assert_allclose(got, want)


def test_dict_io_layers_and_shape_inference_match_keras():
    def build(k):
        x1, x2 = k.KerasTensor((None, 3)), k.KerasTensor((None, 3))
        fn = k.Function({"x1": x1, "x2": x2}, {"y1": (x1 + x2) * 3, "y2": x1 - x2})
        out = fn({"x1": np.ones((2, 3), "float32"), "x2": np.full((2, 3), 4.0, "float32")})
        spec = fn.compute_output_spec({"x1": k.KerasTensor((5, 3)), "x2": k.KerasTensor((5, 3))})
        shape = fn.compute_output_shape({"x1": (None, 3), "x2": (None, 3)})
        inp = k.Input((4,))
        dense = k.layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")
        with_layer = k.Function(inp, k.ops.relu(dense(inp) - 5.0))
        return (_values(out), {n: s.shape for n, s in spec.items()}, shape,
                [type(op).__name__ for op in with_layer.operations],
                _values(with_layer(np.arange(8, dtype="float32").reshape(2, 4))))

    theirs, ours = _both(build)
    for key in ("y1", "y2"):
        np.testing.assert_allclose(ours[0][key], theirs[0][key])
    assert ours[1:4] == theirs[1:4]
    np.testing.assert_allclose(ours[4], theirs[4])


def test_intermediate_inputs_end_the_graph_as_in_keras():
    def build(k):
        x = k.Input(batch_shape=(None, 3), name="x")
        b = (x * 2) + 1
        fn = k.Function(b, b**2)
        return [type(op).__name__ for op in fn.operations], _values(fn(np.full((2, 3), 3.0)))

    theirs, ours = _both(build)
    assert ours[0] == theirs[0] == ["Power"]
    np.testing.assert_allclose(ours[1], theirs[1])


def test_functional_model_from_intermediate_tensors_starts_from_new_inputs_as_keras():
    # Keras 3 gives such a model new `Input`s in place of the intermediate tensors: the
    # layer that made them is not the model's, and the config reloads.
    data = np.arange(8, dtype="float32").reshape(2, 4)

    def build(k):
        x = k.Input((3,))
        h = k.layers.Dense(4, name="enc")(x)
        other = k.Input((4,), name="other")
        y = k.ops.concatenate([k.layers.Dense(2, name="dec")(h), other * 2.0], axis=-1)
        model = k.Model([h, other], y)
        model.get_layer("dec").set_weights([np.ones((4, 2)), np.zeros(2)])
        clone = k.Model.from_config(model.get_config())
        clone.set_weights(model.get_weights())
        config = model.get_config()
        return ([type(op).__name__ for op in model.operations], len(model.weights),
                [name.endswith("CLONE") for name, _, _ in config["input_layers"]],
                np.asarray(model([data, data])), np.asarray(clone([data, data])))

    theirs, ours = _both(build)
    assert ours[:3] == theirs[:3]
    assert ours[0][:2] == ["InputLayer", "InputLayer"] and ours[1] == 2
    assert ours[2] == [True, False]
    for got, want in zip(ours[3:], theirs[3:]):
        np.testing.assert_allclose(got, want)


def test_errors_match_keras():
    x1, x2 = kj.KerasTensor((2, 3)), kj.KerasTensor((2, 3))
    fn = kj.Function([x1, x2], [x1 + x2])
    with pytest.raises(ValueError, match="invalid input structure"):
        fn(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"incompatible inputs.*expected shape \(2, 3\), but "
                                         r"received instead a tensor with shape \(2, 3, 3\)"):
        fn([np.ones((2, 3, 3)), np.ones((2, 3))])
    with pytest.raises(ValueError, match="incompatible inputs"):
        fn([np.ones((4, 3)), np.ones((2, 3))])
    with pytest.raises(ValueError, match="`outputs` argument cannot be empty"):
        kj.Function(inputs=x1, outputs=[])
    with pytest.raises(ValueError, match="`inputs` argument cannot be empty"):
        kj.Function(inputs=[], outputs=x1)
    with pytest.raises(ValueError, match="Graph disconnected"):
        kj.Function(x1, kj.KerasTensor((2, 3)) + 1)
    with pytest.raises(NotImplementedError, match="must override `get_config"):
        fn.get_config()
