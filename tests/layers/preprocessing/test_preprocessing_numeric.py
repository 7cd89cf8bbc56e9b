"""Normalization, Discretization, CategoryEncoding, RMSNormalization, adaptive pooling."""

import numpy as np
import pytest
from layer_test_utils import run_layer_test

import keras_on_jax as kj
from keras_on_jax.layers import preprocessing as P


def _keras():
    import keras

    return keras


def _data(shape, seed=0):
    return np.random.default_rng(seed).normal(2.0, 3.0, shape).astype("float32")


# ---- Normalization -----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,shape", [
    ({"mean": 2.0, "variance": 4.0}, (3, 4)),
    ({"mean": [1.0, 2.0, 3.0, 4.0], "variance": [1.0, 4.0, 9.0, 0.25]}, (3, 4)),
    ({"axis": (1, 2), "mean": [[1.0, 2.0]] * 3, "variance": [[1.0, 2.0]] * 3, "invert": True},
     (2, 3, 2)),
    ({"axis": None, "mean": 1.5, "variance": 2.0}, (2, 3)),
])
def test_normalization_with_given_stats_matches_keras(kwargs, shape):
    run_layer_test(P.Normalization, kwargs, input_shape=shape, expected_output_shape=shape,
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)


@pytest.mark.parametrize("axis,shape", [(-1, (20, 3)), (None, (20, 3)), ((1, 2), (10, 3, 2)),
                                        (1, (10, 3, 2))])
def test_normalization_adapt_array_matches_keras(axis, shape):
    x = _data(shape)
    ours = P.Normalization(axis=axis)
    ours.adapt(x)
    theirs = _keras().layers.Normalization(axis=axis)
    theirs.adapt(x)
    assert [w.path.split("/")[-1] for w in ours.weights] == [w.path.split("/")[-1] for w in theirs.weights]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(ours(x[:4])), np.asarray(theirs(x[:4])), rtol=1e-5, atol=1e-5)
    assert len(ours.non_trainable_weights) == 3 and not ours.trainable_weights
    assert ours.get_config() == theirs.get_config() | {"name": ours.name}


def test_normalization_adapt_from_iterables():
    x = _data((30, 4))
    expected_mean, expected_var = x.mean(axis=0), x.var(axis=0)

    def gen():
        for i in range(0, 30, 7):
            yield x[i:i + 7], np.zeros(len(x[i:i + 7]))  # (x, y) batches keep x

    for data in ([x[:10], x[10:25], x[25:]], gen()):
        layer = P.Normalization()
        layer.adapt(data)
        np.testing.assert_allclose(layer.adapt_mean.numpy(), expected_mean, rtol=1e-5)
        np.testing.assert_allclose(layer.adapt_variance.numpy(), expected_var, rtol=1e-4)
        out = np.asarray(layer(x))
        np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-5)
        np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-4)


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        P.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="empty iterable"):
        P.Normalization().adapt([])
    layer = P.Normalization()
    layer.adapt(_data((5, 3)))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(_data((5, 4)))


def test_normalization_weights_saved_and_in_model(tmp_path):
    x = _data((40, 3))
    norm = P.Normalization()
    norm.adapt(x)
    inputs = kj.Input((3,))
    model = kj.Model(inputs, norm(inputs))
    model.compile(optimizer="sgd", loss="mse")
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(expected.mean(axis=0), 0.0, atol=1e-5)
    path = str(tmp_path / "norm.weights.h5")
    model.save_weights(path)
    norm2 = P.Normalization()
    inputs2 = kj.Input((3,))
    model2 = kj.Model(inputs2, norm2(inputs2))
    model2.load_weights(path)
    np.testing.assert_allclose(model2.predict(x, verbose=0), expected, rtol=1e-6)
    # Keras 3 reads the same file (same weight layout).
    keras = _keras()
    kin = keras.Input((3,))
    kmodel = keras.Model(kin, keras.layers.Normalization()(kin))
    kmodel.load_weights(path)
    np.testing.assert_allclose(kmodel.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)


# ---- Discretization ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,shape", [
    ({"bin_boundaries": [-1.0, 0.0, 2.5]}, (4, 3)),
    ({"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "one_hot"}, (5, 1)),
    ({"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "multi_hot"}, (4, 3)),
    ({"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "count"}, (4, 3)),
])
def test_discretization_matches_keras(kwargs, shape):
    x = np.random.default_rng(1).uniform(-2, 4, shape).astype("float32")
    layer, out = run_layer_test(P.Discretization, kwargs, input_data=x, check_grads=False)
    k = _keras().layers.Discretization(**kwargs)
    assert layer.get_config() == k.get_config() | {"name": layer.name}


def test_discretization_hand_values():
    layer = P.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    out = layer(np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]], "float32"))
    np.testing.assert_array_equal(np.asarray(out), [[0, 2, 3, 1], [1, 3, 2, 1]])


@pytest.mark.parametrize("num_bins,epsilon", [(4, 0.01), (3, 0.1), (5, 0.001)])
def test_discretization_adapt_matches_keras_algorithm(num_bins, epsilon):
    x = np.random.default_rng(2).normal(size=(300, 2)).astype("float32")
    batches = [x[:100], x[100:220], x[220:]]
    ours = P.Discretization(num_bins=num_bins, epsilon=epsilon)
    ours.adapt(batches)
    # Keras's adapt needs tf.data only for dispatch; its summary math is NumPy.
    k = _keras().layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    k.reset_state()
    for b in batches:
        k.update_state(b)
    k.finalize_state()
    np.testing.assert_allclose(ours.bin_boundaries, k.bin_boundaries, rtol=1e-6)
    assert len(ours.bin_boundaries) == num_bins - 1
    ours_arr = P.Discretization(num_bins=num_bins, epsilon=epsilon)
    ours_arr.adapt(x)
    k.reset_state()
    k.update_state(x)
    k.finalize_state()
    np.testing.assert_allclose(ours_arr.bin_boundaries, k.bin_boundaries, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(ours_arr(x)), np.asarray(k(x)))
    clone = P.Discretization.from_config(ours_arr.get_config())
    assert clone.bin_boundaries == ours_arr.bin_boundaries


def test_discretization_errors():
    with pytest.raises(ValueError, match="either `num_bins` or `bin_boundaries`"):
        P.Discretization()
    with pytest.raises(ValueError, match="Cannot adapt"):
        P.Discretization(bin_boundaries=[0.0]).adapt(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="adapt"):
        P.Discretization(num_bins=3)(np.zeros((2, 1), "float32"))


# ---- CategoryEncoding ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,data", [
    ({"num_tokens": 4, "output_mode": "one_hot"}, [3, 2, 0, 1]),
    ({"num_tokens": 4, "output_mode": "one_hot"}, [[3], [2], [0], [1]]),
    ({"num_tokens": 4, "output_mode": "multi_hot"}, [[0, 1], [0, 0], [1, 2], [3, 1]]),
    ({"num_tokens": 4, "output_mode": "count"}, [[0, 1], [0, 0], [1, 2], [3, 1]]),
    ({"num_tokens": 5}, [[0, 1, 4], [0, 0, 0]]),
])
def test_category_encoding_matches_keras(kwargs, data):
    run_layer_test(P.CategoryEncoding, kwargs, input_data=np.array(data, "int32"),
                   input_dtype="int32")


def test_category_encoding_count_weights_and_errors():
    x = np.array([[0, 1], [0, 0], [1, 2], [3, 1]])
    w = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]], "float32")
    out = P.CategoryEncoding(num_tokens=4, output_mode="count")(x, count_weights=w)
    np.testing.assert_allclose(np.asarray(out), [[0.1, 0.2, 0, 0], [0.2, 0, 0, 0],
                                                 [0, 0.2, 0.3, 0], [0, 0.2, 0, 0.4]], atol=1e-6)
    with pytest.raises(ValueError, match="num_tokens"):
        P.CategoryEncoding()
    with pytest.raises(ValueError, match="count_weights"):
        P.CategoryEncoding(num_tokens=3, output_mode="one_hot")(x, count_weights=w)


# ---- RMSNormalization ----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,shape", [({}, (3, 5)), ({"axis": [1, 2], "epsilon": 1e-3}, (2, 3, 4)),
                                          ({"axis": -1, "epsilon": 0.1}, (2, 3, 4))])
def test_rms_normalization_matches_keras(kwargs, shape):
    run_layer_test(P.RMSNormalization, kwargs, input_shape=shape, expected_output_shape=shape,
                   expected_num_trainable_weights=1, expected_num_non_trainable_weights=0)


def test_rms_normalization_inner_axis():
    x = _data((2, 3, 4))
    layer = P.RMSNormalization(axis=1)
    layer.build(x.shape)
    layer.scale.assign(np.array([1.0, 2.0, 3.0], "float32"))
    expected = x / np.sqrt((x ** 2).mean(axis=1, keepdims=True) + 1e-6) * np.array([1.0, 2.0, 3.0])[:, None]
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-5)


# ---- adaptive pooling ------------------------------------------------------------------------------
@pytest.mark.parametrize("name,output_size,shape,data_format", [
    ("AdaptiveAveragePooling1D", 3, (2, 7, 3), "channels_last"),
    ("AdaptiveMaxPooling1D", 4, (2, 3, 9), "channels_first"),
    ("AdaptiveAveragePooling2D", (2, 3), (2, 5, 7, 2), "channels_last"),
    ("AdaptiveMaxPooling2D", 3, (2, 2, 7, 5), "channels_first"),
    ("AdaptiveAveragePooling3D", (2, 3, 2), (1, 5, 6, 3, 2), "channels_last"),
    ("AdaptiveMaxPooling3D", 2, (1, 2, 5, 4, 3), "channels_first"),
])
def test_adaptive_pooling_matches_keras(name, output_size, shape, data_format):
    layer, out = run_layer_test(getattr(P, name), {"output_size": output_size,
                                                   "data_format": data_format},
                                input_shape=shape)
    n = len(shape) - 2
    size = (output_size,) * n if isinstance(output_size, int) else output_size
    expected = (shape[0], *size, shape[-1]) if data_format == "channels_last" else (*shape[:2], *size)
    assert out.shape == expected


def test_adaptive_pooling_hand_values():
    x = np.arange(5, dtype="float32").reshape(1, 5, 1)
    # windows of 5 -> 3: [0,2), [1,4), [3,5)
    np.testing.assert_allclose(np.asarray(P.AdaptiveAveragePooling1D(3)(x)).ravel(), [0.5, 2.0, 3.5])
    np.testing.assert_allclose(np.asarray(P.AdaptiveMaxPooling1D(3)(x)).ravel(), [1.0, 3.0, 4.0])
    with pytest.raises(TypeError, match="output_size"):
        P.AdaptiveAveragePooling2D((1, 2, 3))


@pytest.mark.parametrize("name,kwargs", [
    ("CategoryEncoding", {"num_tokens": 4, "output_mode": "count"}),
    ("Discretization", {"bin_boundaries": [0.0, 1.0], "output_mode": "one_hot"}),
    ("Normalization", {"axis": (1, 2), "mean": [1.0, 2.0], "variance": [1.0, 4.0]}),
    ("RMSNormalization", {"axis": [1, 2], "epsilon": 1e-3}),
    ("AdaptiveAveragePooling2D", {"output_size": 3}),
    ("AdaptiveMaxPooling3D", {"output_size": (1, 2, 3), "data_format": "channels_first"}),
])
def test_configs_match_keras(name, kwargs):
    ours = getattr(P, name)(**kwargs)
    theirs = getattr(_keras().layers, name)(**kwargs)
    assert ours.get_config() == theirs.get_config() | {"name": ours.name}
