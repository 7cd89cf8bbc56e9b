"""Grain datasets (`MapDataset`, `IterDataset`, `DataLoader`) in fit / evaluate / predict."""

import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.training import data_adapters

grain = pytest.importorskip("grain")

X = np.random.default_rng(0).standard_normal((24, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")
W = np.linspace(0.5, 2.0, 24).astype("float32")


def _model(seed=1):
    kj.utils.set_random_seed(seed)
    model = kj.Sequential([kj.Input((3,)), kj.layers.Dense(1)])
    model.compile(optimizer=kj.optimizers.SGD(0.05), loss="mse")
    return model


def _map_dataset(batch_size=8):
    return grain.MapDataset.source(list(zip(X, Y))).batch(batch_size)


def _loader(batch_size=8):
    sampler = grain.samplers.IndexSampler(len(X), num_epochs=1, shuffle=False, seed=0)
    return grain.DataLoader(data_source=list(zip(X, Y)), sampler=sampler,
                            operations=[grain.transforms.Batch(batch_size)], worker_count=0)


def _epoch(adapter):
    return list(adapter.iter_epoch())


@pytest.mark.parametrize("make", [_map_dataset, lambda: _map_dataset().to_iter_dataset(), _loader],
                         ids=["MapDataset", "IterDataset", "DataLoader"])
def test_adapter_yields_the_datasets_batches_each_epoch(make):
    dataset = make()
    assert data_adapters.is_grain_dataset(dataset)
    adapter = data_adapters.get_data_adapter(dataset)
    assert adapter.num_batches is None  # unknown until iterated, as in Keras 3
    for _ in range(2):  # each epoch iterates the dataset afresh
        batches = _epoch(adapter)
        assert len(batches) == 3
        for i, (x, y, sw) in enumerate(batches):
            np.testing.assert_array_equal(x, X[8 * i:8 * (i + 1)])
            np.testing.assert_array_equal(y, Y[8 * i:8 * (i + 1)])
            assert sw is None


@pytest.mark.parametrize("make", [_map_dataset, lambda: _map_dataset().to_iter_dataset(), _loader],
                         ids=["MapDataset", "IterDataset", "DataLoader"])
def test_fit_on_grain_equals_fit_on_arrays(make):
    ref = _model()
    ref.fit(X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    model = _model()
    history = model.fit(make(), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]  # it trains
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(make(), verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)
    np.testing.assert_allclose(model.evaluate(make(), verbose=0),
                               model.evaluate(X, Y, batch_size=8, verbose=0), rtol=1e-6)


def test_dict_inputs_list_batches_and_sample_weights():
    inp = kj.Input((3,), name="features")
    model = kj.Model({"features": inp}, kj.layers.Dense(1)(inp))
    model.compile(optimizer="sgd", loss="mse")
    rows = [({"features": x}, y, w) for x, y, w in zip(X, Y, W)]
    # A map producing lists: Keras reads `[x, y, sw]` as `(x, y, sw)`.
    dataset = grain.MapDataset.source(rows).batch(6).map(list)
    expected = model.evaluate({"features": X}, Y, sample_weight=W, batch_size=6, verbose=0)
    np.testing.assert_allclose(model.evaluate(dataset, verbose=0), expected, rtol=1e-6)


def test_infinite_iter_dataset_with_steps_continues_across_epochs():
    dataset = grain.MapDataset.source(list(zip(X, Y))).batch(8).repeat().to_iter_dataset()
    adapter = data_adapters.get_data_adapter(dataset, steps=2)
    assert adapter.num_batches == 2
    seen = [x[0, 0] for _ in range(3) for x, _, _ in _epoch(adapter)]
    expected = [X[8 * (i % 3), 0] for i in range(6)]
    np.testing.assert_array_equal(seen, expected)
    model = _model()
    history = model.fit(dataset, steps_per_epoch=2, epochs=4, verbose=0)
    assert len(history.history["loss"]) == 4


def test_targets_and_class_weight_beside_a_grain_dataset_are_refused():
    model = _model()
    with pytest.raises(ValueError, match=r"When providing `x` as a grain.Dataset and "
                       r"grain.DataLoader, `y` should not be passed"):
        model.fit(_map_dataset(), Y, verbose=0)
    with pytest.raises(ValueError, match=r"`sample_weights` should not be passed. Instead, the "
                       r"sample weights should be included"):
        model.evaluate(_map_dataset(), sample_weight=W, verbose=0)
    with pytest.raises(ValueError, match=r"Argument `class_weight` is not supported for "
                       r"grain.Dataset and grain.DataLoader inputs.*Received: class_weight="):
        model.fit(_loader(), class_weight={0: 2.0}, verbose=0)


def test_class_weight_to_sample_weights_equals_keras():
    from keras.src.trainers.data_adapters.data_adapter_utils import (
        class_weight_to_sample_weights as keras_fn,
    )

    weights = {0: 0.5, 2: 3.0}
    for y in (np.array([0, 1, 2, 2]), np.array([[0.0], [2.0], [1.2], [1.7]]),
              np.eye(3, dtype="float32")[[2, 0, 1]]):
        np.testing.assert_array_equal(data_adapters.class_weight_to_sample_weights(y, weights),
                                      np.asarray(keras_fn(y, weights)))
