"""Hashing, StringLookup, IntegerLookup, TextVectorization (host-side layers).

Real Keras 3 runs these only through TensorFlow (not installed here), so the expected values
are Keras 3's documented examples and its own test-suite values (hashing_test.py), plus
hand-computed ones.
"""

import h5py
import jax
import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.io import weights_h5
from keras_on_jax.layers import preprocessing as P
from keras_on_jax.layers.preprocessing._hash import fingerprint64, siphash24

WIRE = [["omar"], ["stringer"], ["marlo"], ["wire"], ["skywalker"]]


# ---- hashes ---------------------------------------------------------------------------------------
def test_fingerprint64_reference_vectors():
    # Guava's FarmHashFingerprint64Test and published FarmHash Fingerprint64 values: every
    # length class (0-16, 17-32, 33-64, >64 bytes).
    assert fingerprint64(b"test") == 8581389452482819506
    assert fingerprint64(b"test" * 8) == (-4196240717365766262) % 2**64
    assert fingerprint64(b"test" * 64) == 3500507768004279527
    assert fingerprint64(b"dXB@tDQ-v5<H]rq2Pcc*s>nC-[Mdy") == 8365906589669344754
    assert fingerprint64(b"F7479877-4690-4A44-AFC9-8FE987EA512F:some_other_id") == 6862335115798125349
    assert fingerprint64(b"?c^6BkI#-SLw") == 13133570674398037786


def test_siphash_reference_vectors():
    k0, k1 = 0x0706050403020100, 0x0F0E0D0C0B0A0908  # the SipHash paper's key
    assert siphash24(k0, k1, b"") == 0x726FDB47DD0E0E31
    assert siphash24(k0, k1, bytes(range(15))) == 0xA129CA6149BE45E5


# ---- Hashing -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,data,expected", [
    ({"num_bins": 3}, [["A"], ["B"], ["C"], ["D"], ["E"]], [[1], [0], [1], [1], [2]]),
    ({"num_bins": 3, "mask_value": ""}, [["A"], ["B"], [""], ["C"], ["D"]], [[1], [1], [0], [2], [2]]),
    ({"num_bins": 3, "salt": [133, 137]}, [["A"], ["B"], ["C"], ["D"], ["E"]], [[1], [2], [1], [0], [2]]),
    ({"num_bins": 3, "salt": 133}, [["A"], ["B"], ["C"], ["D"], ["E"]], [[0], [0], [2], [1], [0]]),
    ({"num_bins": 1}, [["A"], ["B"], ["C"]], [[0], [0], [0]]),
    ({"num_bins": 2}, WIRE, [[0], [0], [1], [0], [0]]),
    ({"num_bins": 3, "mask_value": ""}, WIRE, [[1], [1], [2], [1], [1]]),
    ({"num_bins": 3, "mask_value": "omar"}, WIRE, [[0], [1], [2], [1], [1]]),
    ({"num_bins": 2, "salt": [133, 137]}, WIRE, [[0], [1], [0], [1], [0]]),
    ({"num_bins": 2, "salt": [211, 137]}, WIRE, [[1], [0], [1], [0], [1]]),
    ({"num_bins": 3}, np.array([[0], [1], [2], [3], [4]]), [[1], [0], [1], [0], [2]]),
    ({"num_bins": 3, "salt": [133, 137]}, np.array([[0], [1], [2], [3], [4]]), [[1], [1], [2], [0], [1]]),
    ({"num_bins": 2}, [[1, 2], [2, 3], [3, 4]], [[1, 1], [1, 1], [1, 1]]),
])
def test_hashing_matches_keras_values(kwargs, data, expected):
    layer = P.Hashing(**kwargs)
    out = layer(data)
    assert isinstance(out, np.ndarray) and out.dtype == np.int64
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(layer(np.asarray(data)), expected)
    clone = P.Hashing.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize("mode,data,expected", [
    ("one_hot", [0, 1, 2, 3, 4], [[0, 1, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]]),
    ("multi_hot", [[0, 1, 2, 3, 4]], [[1.0, 1.0, 1.0]]),
    ("count", [[0, 1, 2, 3, 4]], [[2.0, 2.0, 1.0]]),
])
def test_hashing_output_modes(mode, data, expected):
    layer = P.Hashing(num_bins=3, output_mode=mode)
    out = layer(np.array(data))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)
    sym = layer(kj.Input(batch_shape=(None, 5), dtype="int32"))
    assert sym.shape == (None, 3)


def test_hashing_config_and_errors():
    layer = P.Hashing(num_bins=3)
    config = layer.get_config()
    assert {k: config[k] for k in ("num_bins", "salt", "mask_value", "output_mode", "sparse")} == {
        "num_bins": 3, "salt": None, "mask_value": None, "output_mode": "int", "sparse": False}
    assert config["dtype"]["config"]["name"] == "int64"
    with pytest.raises(ValueError, match="num_bins"):
        P.Hashing(num_bins=0)
    with pytest.raises(ValueError, match="salt"):
        P.Hashing(num_bins=2, salt="string")
    with pytest.raises(ValueError, match="output_mode"):
        P.Hashing(num_bins=3, output_mode="unsupported")
    with pytest.raises(TypeError, match="host"):
        jax.jit(lambda x: P.Hashing(num_bins=3)(x))(np.zeros((2,), "int32"))


# ---- StringLookup ------------------------------------------------------------------------------------
VOCAB = ["a", "b", "c", "d"]


def test_string_lookup_documented_examples():
    data = [["a", "c", "d"], ["d", "z", "b"]]
    layer = P.StringLookup(vocabulary=VOCAB)
    np.testing.assert_array_equal(layer(data), [[1, 3, 4], [4, 0, 2]])
    np.testing.assert_array_equal(layer(np.array(data)), [[1, 3, 4], [4, 0, 2]])
    np.testing.assert_array_equal(layer(np.array(data, dtype=bytes)), [[1, 3, 4], [4, 0, 2]])
    adapted = P.StringLookup()
    adapted.adapt(data)
    assert adapted.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    np.testing.assert_array_equal(adapted(data), [[5, 3, 1], [1, 2, 4]])
    multi_oov = P.StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    np.testing.assert_array_equal(multi_oov([["a", "c", "d"], ["m", "z", "b"]]), [[2, 4, 5], [0, 1, 3]])
    one_hot = P.StringLookup(vocabulary=VOCAB, output_mode="one_hot")
    np.testing.assert_array_equal(one_hot(["a", "b", "c", "d", "z"]), np.eye(5)[[1, 2, 3, 4, 0]])
    data2 = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    np.testing.assert_array_equal(P.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(data2),
                                  [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(P.StringLookup(vocabulary=VOCAB, output_mode="count")(data2),
                                  [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    tfidf = P.StringLookup(output_mode="tf_idf")
    tfidf.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(tfidf(data2), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6)
    tfidf2 = P.StringLookup(output_mode="tf_idf")
    tfidf2.set_vocabulary(["[UNK]"] + VOCAB, idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(tfidf2(data2), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]], rtol=1e-6)
    inverse = P.StringLookup(vocabulary=VOCAB, invert=True)
    assert inverse([[1, 3, 4], [4, 0, 2]]).tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]
    assert inverse(layer(data)).tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]


def test_string_lookup_mask_max_tokens_and_sizes():
    layer = P.StringLookup(vocabulary=VOCAB, mask_token="")
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b", "c", "d"]
    assert layer.vocabulary_size() == 6
    assert layer.get_vocabulary(include_special_tokens=False) == VOCAB
    np.testing.assert_array_equal(layer([["a", "", "z"]]), [[2, 0, 1]])
    inv = P.StringLookup(vocabulary=VOCAB, mask_token="", invert=True)
    assert inv([[2, 0, 1]]).tolist() == [["a", "", "[UNK]"]]
    # Non-int modes: the mask token is dropped (encoded to nothing).
    mh = P.StringLookup(vocabulary=VOCAB, mask_token="", output_mode="multi_hot")
    np.testing.assert_array_equal(mh([["a", "", "z"]]), [[1, 1, 0, 0, 0]])
    capped = P.StringLookup(max_tokens=3)
    capped.adapt(["x", "y", "y", "z", "z", "z"])
    assert capped.get_vocabulary() == ["[UNK]", "z", "y"]
    padded = P.StringLookup(max_tokens=6, pad_to_max_tokens=True, output_mode="count")
    padded.adapt([["x", "y", "y"]])
    assert padded([["y", "q"]]).shape == (1, 6)
    with pytest.raises(ValueError, match="OOV"):
        P.StringLookup(vocabulary=VOCAB, num_oov_indices=0)([["zz"]])
    with pytest.raises(ValueError, match="repeated"):
        P.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="Cannot adapt"):
        P.StringLookup(vocabulary=VOCAB).adapt(["a"])
    with pytest.raises(RuntimeError, match="vocabulary"):
        P.StringLookup(output_mode="multi_hot")([["a"]])


def test_string_lookup_tf_idf_adapt():
    data = [["a", "b"], ["a", "c"], ["a", "a"]]
    layer = P.StringLookup(output_mode="tf_idf")
    layer.adapt(data)
    assert layer.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    idf = np.log(1 + 3 / (1 + np.array([3.0, 1.0, 1.0])))
    expected_w = np.concatenate([[idf.mean()], idf])
    np.testing.assert_allclose(layer.idf_weights, expected_w, rtol=1e-6)
    np.testing.assert_allclose(layer([["a", "a", "q"]]), [[expected_w[0], 2 * expected_w[1], 0, 0]], rtol=1e-6)


def test_string_lookup_adapt_from_generator_and_file(tmp_path):
    def batches():
        yield np.array([["a", "b"], ["b", "c"]])
        yield np.array([["b", "d"]])

    layer = P.StringLookup()
    layer.adapt(batches())
    assert layer.get_vocabulary() == ["[UNK]", "b", "d", "c", "a"]
    path = tmp_path / "vocab.txt"
    path.write_text("x\ny\nz\n")
    from_file = P.StringLookup(vocabulary=str(path))
    np.testing.assert_array_equal(from_file(["y", "q"]), [2, 0])


def test_string_lookup_config_round_trip_and_keys():
    layer = P.StringLookup(vocabulary=VOCAB, num_oov_indices=2, mask_token="[MASK]")
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "invert", "max_tokens", "num_oov_indices",
                           "oov_token", "mask_token", "output_mode", "sparse", "pad_to_max_tokens",
                           "idf_weights", "vocabulary", "vocabulary_size", "oov_method", "salt",
                           "encoding"}
    clone = P.StringLookup.from_config(config)
    assert clone.get_config() == config
    assert clone.get_vocabulary() == layer.get_vocabulary()


def _h5_round_trip(layer, new_layer, tmp_path):
    path = tmp_path / "vocab.weights.h5"
    with h5py.File(path, "w") as f:
        weights_h5.write_weights(layer, f)
    with h5py.File(path, "r") as f:
        weights_h5.read_weights(new_layer, lambda p: weights_h5._ReadStore(f.get(weights_h5._join(p, "vars"))),
                                str(path))


def test_adapted_vocabularies_are_saved(tmp_path):
    layer = P.StringLookup(output_mode="tf_idf")
    layer.adapt([["héllo", "a"], ["a", "b"]])
    new = P.StringLookup.from_config(layer.get_config())
    _h5_round_trip(layer, new, tmp_path)
    assert new.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_allclose(new.idf_weights, layer.idf_weights)
    ints = P.IntegerLookup()
    ints.adapt(np.array([[5, 7, 7], [9, 7, 5]]))
    new_ints = P.IntegerLookup.from_config(ints.get_config())
    _h5_round_trip(ints, new_ints, tmp_path)
    assert new_ints.get_vocabulary() == [-1, 7, 5, 9]
    np.testing.assert_array_equal(new_ints(np.array([9, 5, 3])), [3, 2, 0])


# ---- IntegerLookup -----------------------------------------------------------------------------------
def test_integer_lookup_documented_examples():
    vocab = [12, 36, 1138, 42]
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    np.testing.assert_array_equal(P.IntegerLookup(vocabulary=vocab)(data), [[1, 3, 4], [4, 0, 2]])
    adapted = P.IntegerLookup()
    adapted.adapt(data)
    assert adapted.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    np.testing.assert_array_equal(adapted(data), [[5, 2, 1], [1, 3, 4]])
    multi = P.IntegerLookup(vocabulary=vocab, num_oov_indices=2)
    np.testing.assert_array_equal(multi(np.array([[12, 1138, 42], [37, 1000, 36]])), [[2, 4, 5], [1, 0, 3]])
    oov = np.array([100, 300, 700, 1100, 1700, 2000])
    np.testing.assert_array_equal(
        P.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="floormod")(oov), [0] * 6)
    np.testing.assert_array_equal(
        P.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="farmhash")(oov),
        [3, 3, 2, 2, 0, 1])
    np.testing.assert_array_equal(
        P.IntegerLookup(vocabulary=vocab, output_mode="one_hot")(np.array([12, 36, 1138, 42, 7])),
        np.eye(5)[[1, 2, 3, 4, 0]])
    data2 = np.array([[12, 1138, 42, 42], [42, 7, 36, 7]])
    np.testing.assert_array_equal(P.IntegerLookup(vocabulary=vocab, output_mode="multi_hot")(data2),
                                  [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(P.IntegerLookup(vocabulary=vocab, output_mode="count")(data2),
                                  [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    inv = P.IntegerLookup(vocabulary=vocab, invert=True)
    np.testing.assert_array_equal(inv(np.array([[1, 3, 4], [4, 0, 2]])), [[12, 1138, 42], [42, -1, 36]])
    masked = P.IntegerLookup(vocabulary=vocab, mask_token=0)
    np.testing.assert_array_equal(masked(np.array([[12, 0, 5]])), [[2, 0, 1]])
    config = masked.get_config()
    assert config["mask_token"] == 0 and config["vocabulary"] == vocab
    assert config["vocabulary_dtype"] == "int64"
    assert P.IntegerLookup.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="vocabulary_dtype"):
        P.IntegerLookup(vocabulary_dtype="int32")


# ---- TextVectorization --------------------------------------------------------------------------------
def test_text_vectorization_documented_examples():
    layer = P.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    out = layer([["foo qux bar"], ["qux baz"]])
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [[4, 1, 3, 0], [1, 2, 0, 0]])
    given = P.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4,
                                vocabulary=["earth", "wind", "and", "fire"])
    assert given.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    np.testing.assert_array_equal(given(["Earth, and FIRE!", "wind wind wind wind wind"]),
                                  [[2, 4, 5, 0], [3, 3, 3, 3]])


def test_text_vectorization_standardize_split_ngrams():
    layer = P.TextVectorization(ngrams=2)
    layer.adapt(["The Fox, jumped.", "the dog!"])
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "the fox", "the dog", "jumped",
                                      "fox jumped", "fox", "dog"]
    np.testing.assert_array_equal(layer(["the fox"]), [[2, 7, 3]])
    chars = P.TextVectorization(split="character", standardize="lower")
    chars.adapt(["abba"])
    assert chars.get_vocabulary() == ["", "[UNK]", "b", "a"]
    np.testing.assert_array_equal(chars(["Ab", "c"]), [[3, 2], [1, 0]])
    custom = P.TextVectorization(standardize=lambda x: np.char.upper(x.astype(str)),
                                 split=lambda s: s.split("-"))
    custom.adapt(["a-b-b"])
    assert custom.get_vocabulary() == ["", "[UNK]", "B", "A"]
    nosplit = P.TextVectorization(split=None, standardize=None)
    nosplit.adapt(np.array([["x y"], ["x y"], ["z"]]))
    np.testing.assert_array_equal(nosplit(np.array([["x y"], ["q"]])), [[2], [1]])


@pytest.mark.parametrize("mode", ["multi_hot", "count", "tf_idf"])
def test_text_vectorization_bag_modes(mode):
    texts = ["a b b", "b c", "a"]
    layer = P.TextVectorization(output_mode=mode)
    layer.adapt(texts)
    vocab = layer.get_vocabulary()
    assert vocab == ["[UNK]", "b", "a", "c"]
    out = layer(["b b q", "a"])
    assert out.shape == (2, 4) and out.dtype == np.float32
    counts = np.array([[1, 2, 0, 0], [0, 0, 1, 0]], "float32")
    if mode == "multi_hot":
        np.testing.assert_array_equal(out, np.minimum(counts, 1))
    elif mode == "count":
        np.testing.assert_array_equal(out, counts)
    else:
        idf = np.log(1 + 3 / (1 + np.array([2.0, 2.0, 1.0])))
        w = np.concatenate([[idf.mean()], idf])
        np.testing.assert_allclose(out, counts * w, rtol=1e-6)
    padded = P.TextVectorization(output_mode=mode, max_tokens=8, pad_to_max_tokens=True)
    padded.adapt(texts)
    assert padded(["a"]).shape == (1, 8)


def test_text_vectorization_iterables_config_and_saving(tmp_path):
    def batches():
        yield ["the cat sat"]
        yield np.array(["the cat", "a dog"])

    layer = P.TextVectorization(max_tokens=6, output_sequence_length=3)
    layer.adapt(batches())
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "cat", "sat", "dog"]
    config = layer.get_config()
    for key in ("max_tokens", "standardize", "split", "ngrams", "output_mode",
                "output_sequence_length", "pad_to_max_tokens", "sparse", "ragged", "vocabulary",
                "idf_weights", "encoding", "vocabulary_size"):
        assert key in config
    assert config["vocabulary_size"] == 6 and config["vocabulary"] is None
    clone = P.TextVectorization.from_config(config)
    _h5_round_trip(layer, clone, tmp_path)
    assert clone.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(clone(["a cat sat on the mat"]), layer(["a cat sat on the mat"]))
    np.testing.assert_array_equal(layer(["a cat sat on the mat"]), [[1, 3, 4]])


def test_text_vectorization_feeds_a_model():
    layer = P.TextVectorization(max_tokens=10, output_sequence_length=5)
    texts = ["good movie", "bad movie", "very good film", "very bad film"]
    layer.adapt(texts)
    ids = layer(texts)
    inputs = kj.Input((5,), dtype="int32")
    x = kj.layers.Embedding(10, 4)(inputs)
    x = kj.layers.GlobalAveragePooling1D()(x)
    model = kj.Model(inputs, kj.layers.Dense(1)(x))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(ids.astype("int32"), np.array([1, 0, 1, 0], "float32"), epochs=1, verbose=0)
    assert layer.compute_output_shape((None,)) == (None, 5)
