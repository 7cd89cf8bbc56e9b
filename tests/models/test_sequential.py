"""`keras.Sequential` as the Keras guides use it, checked against real Keras 3."""

import warnings

import keras
import numpy as np
import pytest

import keras_on_jax as kj


def _masking_guide_model(lib):
    # "Understanding masking & padding": no Input, the shape comes from the first batch
    # (the guide's LSTM is a SimpleRNN here: the same masking, a faster oracle)
    return lib.Sequential([lib.layers.Embedding(input_dim=50, output_dim=4, mask_zero=True),
                           lib.layers.SimpleRNN(3)])


def test_sequential_without_input_takes_batches_of_another_length_as_keras():
    first = np.array([[11, 32, 7, 0, 0, 0], [7, 8, 15, 5, 27, 0], [3, 9, 1, 45, 12, 27]])
    second = np.array([[1, 2, 0]])
    models = [_masking_guide_model(keras), _masking_guide_model(kj)]
    k_first = np.asarray(models[0](first))
    models[1](first)  # builds
    models[1].set_weights(models[0].get_weights())
    np.testing.assert_allclose(np.asarray(models[1](first)), k_first, atol=1e-6)
    np.testing.assert_allclose(np.asarray(models[1](second)), np.asarray(models[0](second)),
                               atol=1e-6)
    np.testing.assert_allclose(models[1].predict(second, verbose=0),
                               models[0].predict(second, verbose=0), atol=1e-6)


def _shapes_reported(model):
    return (tuple(model.input_shape), tuple(model.output_shape),
            [tuple(t.shape) for t in model.inputs], model.inputs[0].dtype,
            tuple(model.get_config()["build_input_shape"]),
            tuple(model.get_build_config()["input_shape"]))


def test_sequential_built_from_data_reports_the_first_batch_shape_as_keras():
    first = np.array([[11, 32, 7, 0, 0, 0], [7, 8, 15, 5, 27, 0], [3, 9, 1, 45, 12, 27]])
    seen = []
    for lib in (keras, kj):
        model = _masking_guide_model(lib)
        model(first)
        model(np.array([[1, 2, 0]]))
        called = _shapes_reported(model)
        fitted = lib.Sequential([lib.layers.Dense(2)])
        fitted.compile("sgd", "mse")
        fitted.fit(np.ones((8, 6)), np.ones((8, 2)), batch_size=4, verbose=0)
        seen.append((called, _shapes_reported(fitted)))
    assert seen[1] == seen[0]
    assert seen[0][0][:2] == ((3, 6), (3, 3)) and seen[0][1][0] == (4, 6)


def test_sequential_saved_by_keras_from_data_takes_other_lengths(tmp_path):
    first = np.array([[11, 32, 7, 0, 0, 0], [7, 8, 15, 5, 27, 0], [3, 9, 1, 45, 12, 27]])
    theirs = _masking_guide_model(keras)
    theirs(first)
    path = str(tmp_path / "masking.keras")
    theirs.save(path)
    ours = kj.saving.load_model(path)
    assert ours.input_shape == theirs.input_shape == (3, 6)
    for x in (first[:2], np.array([[1, 2, 0], [4, 0, 0]]), np.ones((5, 9), "int32")):
        np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                                   atol=1e-6)


def test_sequential_without_input_still_checks_its_layers_and_rank():
    model = kj.Sequential([kj.layers.Dense(3, name="head")])
    model(np.ones((2, 4), "float32"))
    assert model(np.ones((7, 4), "float32")).shape == (7, 3)
    with pytest.raises(ValueError, match='layer "head".*expected axis -1 of input shape to '
                                         "have value 4"):
        model(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(2, 3, 4\)"):
        model(np.ones((2, 3, 4), "float32"))


def _rnn_guide_model(lib):
    # "Working with RNNs": grown with `add`, the first layer given `input_shape` (LSTMs
    # there; SimpleRNNs make the same graph faster in the oracle)
    model = lib.Sequential()
    with warnings.catch_warnings():
        # Keras 3 warns against `input_shape=` on a layer (the guide passes it anyway)
        warnings.filterwarnings("ignore", message="Do not pass an `input_shape`",
                                category=UserWarning)
        model.add(lib.layers.Bidirectional(lib.layers.SimpleRNN(8, return_sequences=True),
                                           input_shape=(5, 10)))
    model.add(lib.layers.Bidirectional(lib.layers.SimpleRNN(4)))
    model.add(lib.layers.Dense(10))
    return model


def test_sequential_grown_with_add_answers_layer_outputs_as_keras():
    seen = []
    for lib in (keras, kj):
        model = _rnn_guide_model(lib)
        seen.append(([tuple(l.output.shape) for l in model.layers],
                     [tuple(l.input.shape) for l in model.layers],
                     [len(l._inbound_nodes) for l in model.layers], model.count_params()))
    assert seen[1] == seen[0]
    assert seen[0][0] == [(None, 5, 16), (None, 8), (None, 10)]


def test_layer_called_twice_answers_its_first_call_as_keras():
    for lib in (keras, kj):
        dense = lib.layers.Dense(2)
        first = dense(lib.Input((3,)))
        dense(lib.Input((5, 3)))
        assert dense.output is first and tuple(dense.input.shape) == (None, 3)
