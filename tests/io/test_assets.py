"""`assets/` in .keras archives: `save_assets(dir)` / `load_assets(dir)` hooks (spec 2.5).

Real Keras 3 runs the same hooks on any layer (its StringLookup itself needs TensorFlow,
absent here), so the directory layout is checked both ways with a custom layer defined in
both libraries, and the lookup layers' asset is checked byte for byte against the file
Keras 3 writes (`assets/layers/string_lookup/vocabulary.txt` = b"[UNK]\\nb\\nc\\na").
"""

import io
import os
import zipfile

import h5py
import keras
import numpy as np

import keras_on_jax as kj


@keras.saving.register_keras_serializable(package="AssetPkg")
class Tagger(keras.layers.Layer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.tags = None

    def call(self, x):
        return x

    def save_assets(self, dir_path):
        with open(os.path.join(dir_path, "tags.txt"), "w") as f:
            f.write("\n".join(self.tags))

    def load_assets(self, dir_path):
        with open(os.path.join(dir_path, "tags.txt")) as f:
            self.tags = f.read().split("\n")


@kj.saving.register_keras_serializable(package="AssetPkg", name="Tagger")
class KjTagger(kj.Layer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.tags = None
        self.loaded_from = "unset"

    def call(self, x):
        return x

    def save_assets(self, dir_path):
        with open(os.path.join(dir_path, "tags.txt"), "w") as f:
            f.write("\n".join(self.tags))

    def load_assets(self, dir_path):
        self.loaded_from = dir_path
        if dir_path is not None:
            with open(os.path.join(dir_path, "tags.txt")) as f:
                self.tags = f.read().split("\n")


KjTagger.__name__ = KjTagger.__qualname__ = "Tagger"


# Keras 3 leaves `name` out of the config of a layer without constructor arguments, so
# the outer tagger is found by position after loading.
def _functional(lib, tagger_cls):
    x = lib.Input((2,), name="x")
    inner = lib.Sequential([lib.Input((2,)), tagger_cls(name="inner_tag")], name="inner")
    y = tagger_cls(name="outer_tag")(inner(lib.layers.Dense(2, name="d")(x)))
    return lib.Model(x, y, name="m")


def test_custom_asset_layout_both_ways(tmp_path):
    k = _functional(keras, Tagger)
    k.layers[-1].tags = ["a", "b"]
    k.get_layer("inner").layers[0].tags = ["z"]
    theirs = str(tmp_path / "theirs.keras")
    k.save(theirs)
    with zipfile.ZipFile(theirs) as zf:
        their_assets = sorted(n for n in zf.namelist() if n.startswith("assets/"))
    m = kj.saving.load_model(theirs)
    assert m.layers[-1].tags == ["a", "b"]
    assert m.get_layer("inner").layers[0].tags == ["z"]
    ours = str(tmp_path / "ours.keras")
    m.save(ours)
    with zipfile.ZipFile(ours) as zf:
        our_assets = sorted(n for n in zf.namelist() if n.startswith("assets/"))
        assert zf.read("assets/layers/tagger/tags.txt") == b"a\nb"
    assert our_assets == their_assets
    back = keras.saving.load_model(ours)
    assert back.layers[-1].tags == ["a", "b"]
    assert back.get_layer("inner").layers[0].tags == ["z"]


def test_unzipped_folder_has_assets(tmp_path):
    m = _functional(kj, KjTagger)
    m.layers[-1].tags = ["q"]
    m.get_layer("inner").layers[0].tags = ["r", "s"]
    path = str(tmp_path / "folder")
    kj.saving.save_model(m, path, zipped=False)
    assert os.path.isfile(os.path.join(path, "assets", "layers", "tagger", "tags.txt"))
    back = kj.saving.load_model(path)
    assert back.layers[-1].tags == ["q"]
    assert back.get_layer("inner").layers[0].tags == ["r", "s"]


def test_no_assets_members_without_assets(tmp_path):
    m = kj.Sequential([kj.Input((2,)), kj.layers.Dense(1)])
    path = str(tmp_path / "plain.keras")
    m.save(path)
    with zipfile.ZipFile(path) as zf:
        assert [n for n in zf.namelist() if n.startswith("assets")] == []


def _lookup_model():
    look = kj.layers.StringLookup(name="lookup")
    look.adapt(np.array([["a"], ["b"], ["b"], ["c"]]))
    return kj.Sequential([kj.Input((1,), dtype="string"), look], name="lk")


def test_string_lookup_asset_matches_keras3_bytes(tmp_path):
    m = _lookup_model()
    path = str(tmp_path / "lookup.keras")
    m.save(path)
    with zipfile.ZipFile(path) as zf:
        assert [n for n in zf.namelist() if n.startswith("assets/")] == [
            "assets/layers/string_lookup/vocabulary.txt"]
        assert zf.read("assets/layers/string_lookup/vocabulary.txt") == b"[UNK]\nb\nc\na"


def _strip_vocabulary_from_weights(src, dst):
    """What Keras 3 writes: the vocabulary only in assets/, not in the weights."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "model.weights.h5":
                buf = io.BytesIO(data)
                with h5py.File(buf, "a") as f:
                    dropped = []
                    f.visititems(lambda name, obj, out=dropped: out.append(name) if (
                        name.endswith("/vars") and "vocabulary" in obj) else None)
                    assert dropped, "expected a vocabulary dataset to remove"
                    for name in dropped:
                        del f[name]["vocabulary"]
                data = buf.getvalue()
            zout.writestr(info, data)


def test_string_lookup_vocabulary_loads_from_assets_only(tmp_path):
    m = _lookup_model()
    full = str(tmp_path / "full.keras")
    m.save(full)
    k3_like = str(tmp_path / "k3.keras")
    _strip_vocabulary_from_weights(full, k3_like)
    back = kj.saving.load_model(k3_like)
    look = back.layers[0]
    assert look.get_vocabulary() == ["[UNK]", "b", "c", "a"]
    np.testing.assert_array_equal(np.asarray(look(np.array([["c"], ["zz"], ["b"]]))).reshape(-1),
                                  [2, 0, 1])


def test_text_vectorization_assets_round_trip(tmp_path):
    tv = kj.layers.TextVectorization(max_tokens=10, output_sequence_length=3, name="tv")
    tv.adapt(np.array(["a b b", "c a"]))
    m = kj.Sequential([kj.Input((1,), dtype="string"), tv], name="t")
    full = str(tmp_path / "tv.keras")
    m.save(full)
    with zipfile.ZipFile(full) as zf:
        names = sorted(n for n in zf.namelist() if n.startswith("assets/"))
        assert names == ["assets/layers/text_vectorization/_lookup_layer/vocabulary.txt",
                         "assets/layers/text_vectorization/vocabulary.txt"]
        # mask "", OOV, then tokens by count (ties: descending token), as Keras writes them
        assert zf.read(names[1]) == b"\n[UNK]\nb\na\nc" == zf.read(names[0])
    k3_like = str(tmp_path / "k3.keras")
    _strip_vocabulary_from_weights(full, k3_like)
    back = kj.saving.load_model(k3_like)
    assert back.layers[0].get_vocabulary() == tv.get_vocabulary()
    x = np.array([["c b a"], ["a zz"]])
    np.testing.assert_array_equal(np.asarray(back.layers[0](x)), np.asarray(tv(x)))


def test_integer_lookup_assets(tmp_path):
    look = kj.layers.IntegerLookup(name="ilook")
    look.adapt(np.array([[5], [7], [7], [9]]))
    m = kj.Sequential([kj.Input((1,), dtype="int64"), look], name="il")
    full = str(tmp_path / "il.keras")
    m.save(full)
    k3_like = str(tmp_path / "k3.keras")
    _strip_vocabulary_from_weights(full, k3_like)
    back = kj.saving.load_model(k3_like)
    assert back.layers[0].get_vocabulary() == look.get_vocabulary()
