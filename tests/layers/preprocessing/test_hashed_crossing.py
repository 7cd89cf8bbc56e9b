"""HashedCrossing against real Keras 3's outputs (recorded: Keras computes them with
TensorFlow, see tests/fixtures/hashed_crossing/make_fixture.py) and its docstring."""

import json
import pathlib

import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.layers import HashedCrossing

FIXTURE = pathlib.Path(__file__).parents[2] / "fixtures" / "hashed_crossing" / "hashed_crossing.json"


def _fixture():
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", _fixture()["cases"], ids=lambda c: c["name"])
def test_outputs_equal_keras(case):
    arrays = [np.array(c, dtype=object if isinstance(c[0], str) else np.int64)[:, None]
              for c in case["columns"]]
    out = HashedCrossing(num_bins=case["num_bins"], output_mode=case["output_mode"])(arrays)
    expected = np.array(case["output"])
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == (np.int64 if case["output_mode"] == "int" else np.float32)


def test_keras_docstring_examples_and_shapes():
    feat1 = np.array(["A", "B", "A", "B", "A"])
    feat2 = np.array([101, 101, 101, 102, 102])
    np.testing.assert_array_equal(HashedCrossing(num_bins=5)((feat1, feat2)), [1, 4, 1, 1, 3])
    one_hot = HashedCrossing(num_bins=5, output_mode="one_hot")((feat1, feat2))
    np.testing.assert_array_equal(one_hot, np.eye(5, dtype="float32")[[1, 4, 1, 1, 3]])
    # Shapes as real Keras gives them: (batch, 1) stays, a scalar gives a scalar (int) or
    # one (1, num_bins) row (one_hot).
    assert HashedCrossing(num_bins=5)((feat1[:, None], feat2[:, None])).shape == (5, 1)
    assert HashedCrossing(num_bins=5)((np.array("A"), np.array(101))) == 1
    assert HashedCrossing(num_bins=5, output_mode="one_hot")(
        (np.array("A"), np.array(101))).shape == (1, 5)
    # Bytes and Python lists are the same strings.
    np.testing.assert_array_equal(
        HashedCrossing(num_bins=5)(([b"A", b"B"], [101, 101])), [1, 4])


def test_config_matches_keras():
    configs = _fixture()["configs"]
    ours = HashedCrossing(num_bins=5).get_config()
    assert {k: v for k, v in ours.items() if k != "name"} == \
        {k: v for k, v in configs[0].items() if k != "name"}
    assert HashedCrossing(num_bins=9, output_mode="one_hot", name="cross").get_config() == configs[1]
    clone = HashedCrossing.from_config(configs[1])
    assert clone.get_config() == configs[1]


def test_leading_layer_of_a_model_trains_and_predicts_on_raw_features():
    city = kj.Input((1,), dtype="string", name="city")
    rooms = kj.Input((1,), dtype="int64", name="rooms")
    crossed = HashedCrossing(num_bins=16, output_mode="one_hot")([city, rooms])
    model = kj.Model([city, rooms], kj.layers.Dense(1)(crossed))
    model.compile(optimizer=kj.optimizers.SGD(0.5), loss="mse")
    rng = np.random.default_rng(0)
    cities = rng.choice(["paris", "rome", "oslo"], (64, 1))
    n_rooms = rng.integers(1, 4, (64, 1))
    crossed_ids = HashedCrossing(num_bins=16)([cities, n_rooms])
    y = (crossed_ids % 3).astype("float32")  # a function of the crossed feature only
    history = model.fit([cities, n_rooms], y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    direct = model.predict([cities, n_rooms], verbose=0)
    via_ids = kj.Model(model.layers[-1].input, model.layers[-1].output).predict(
        np.eye(16, dtype="float32")[crossed_ids[:, 0]], verbose=0)
    np.testing.assert_allclose(direct, via_ids, atol=1e-6)


def test_errors_match_keras():
    layer = HashedCrossing(num_bins=5)
    with pytest.raises(ValueError, match="should be called on a list or tuple of inputs"):
        layer(np.array([1, 2]))
    with pytest.raises(ValueError, match="should be called on at least two inputs"):
        layer([np.array([1, 2])])
    with pytest.raises(ValueError, match="should have equal shape"):
        layer([np.array([1, 2]), np.array([1, 2, 3])])
    with pytest.raises(ValueError, match=r"should have shape `\(\)`, `\(batch_size\)`"):
        layer([np.ones((2, 3), "int64"), np.ones((2, 3), "int64")])
    with pytest.raises(ValueError, match="integer or string dtype"):
        layer([np.array([1.5, 2.0]), np.array([1, 2])])
    with pytest.raises(ValueError, match="Allowed values are: \\('int', 'one_hot'\\)"):
        HashedCrossing(num_bins=5, output_mode="multi_hot")
    with pytest.raises(ValueError, match="only be used with the TensorFlow backend"):
        HashedCrossing(num_bins=5, sparse=True)
