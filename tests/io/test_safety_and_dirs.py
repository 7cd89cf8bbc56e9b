"""Safe loading, corrupt files, atomic saves, checkpoint folders."""

import json
import os
import zipfile

import numpy as np
import pytest

import keras
import keras_on_jax as kj
from keras_on_jax.io import saving_api, weights_h5

from io_models import build_sequential


def _model():
    m = build_sequential(kj)
    m.compile(optimizer="adam", loss="mse")
    return m


def test_lambda_bytecode_refused_in_safe_mode():
    k = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda t: t * 3, name="lam")])
    js = k.to_json()
    assert "__lambda__" in js
    with pytest.raises(ValueError, match="lambda"):
        saving_api.model_from_json(js)
    cfg = json.loads(js)
    cfg["config"]["layers"][1]["config"]["safe_mode"] = False  # a file cannot switch it off
    with pytest.raises(ValueError, match="safe_mode|lambda"):
        saving_api.model_from_json(json.dumps(cfg))


def test_config_referencing_unsafe_api_refused():
    m = _model()
    cfg = json.loads(m.to_json())
    cfg["config"]["layers"][1]["config"]["activation"] = {
        "module": "keras.config", "class_name": "function",
        "config": "enable_unsafe_deserialization", "registered_name": "function"}
    with pytest.raises((ValueError, TypeError)):
        saving_api.model_from_json(json.dumps(cfg))


def test_zip_with_parent_members_refused(tmp_path, data):
    m = _model()
    good = tmp_path / "m.keras"
    m.save(good)
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
        dst.writestr("../evil.txt", "x")
    with pytest.raises(ValueError, match=r"\.\."):
        kj.saving.load_model(bad)
    assert not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_truncated_and_corrupt_files_name_the_file(tmp_path, suffix):
    m = _model()
    p = tmp_path / f"m{suffix}"
    if suffix == ".weights.h5":
        m.save_weights(p)
    else:
        m.save(p)
    raw = p.read_bytes()
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=str(p.name)):
        if suffix == ".weights.h5":
            m.load_weights(p)
        else:
            kj.saving.load_model(p)
    p.write_bytes(b"garbage" * 10)
    with pytest.raises(ValueError, match=str(p.name)):
        if suffix == ".weights.h5":
            m.load_weights(p)
        else:
            kj.saving.load_model(p)


def test_weights_for_other_architecture(tmp_path):
    m = _model()
    p = tmp_path / "w.weights.h5"
    m.save_weights(p)
    other = kj.Sequential([kj.Input((4,)), kj.layers.Dense(8), kj.layers.Dense(5)])
    before = other.get_weights()
    with pytest.raises(ValueError, match="dense_1|could not be loaded"):
        other.load_weights(p)
    # the matching layer was loaded, the mismatched one kept its values
    np.testing.assert_array_equal(np.asarray(other.get_weights()[2]), np.asarray(before[2]))
    with pytest.warns(UserWarning):
        other.load_weights(p, skip_mismatch=True)


def test_crash_mid_save_keeps_previous_file(tmp_path, monkeypatch):
    m = _model()
    p = tmp_path / "m.keras"
    m.save(p)
    before = p.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("crash while writing weights")

    monkeypatch.setattr(weights_h5, "write_weights_to_bytes", boom)
    with pytest.raises(RuntimeError):
        m.save(p)
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.keras"]


def test_hdf5_detected_whatever_the_extension(tmp_path, data):
    m = _model()
    p = tmp_path / "legacy.h5"
    m.save(p)
    os.rename(p, tmp_path / "legacy.keras")  # tf-keras wrote HDF5 under `.keras`
    m2 = kj.saving.load_model(tmp_path / "legacy.keras")
    np.testing.assert_allclose(np.asarray(m2.predict(data["x"], verbose=0)),
                               np.asarray(m.predict(data["x"], verbose=0)), atol=1e-6)


def test_unzipped_keras_folder_from_keras(tmp_path, data):
    from keras.src.saving import saving_lib

    k = build_sequential(keras)
    saving_lib.save_model(k, str(tmp_path / "seq_dir"), zipped=False)
    m = kj.saving.load_model(tmp_path / "seq_dir")
    np.testing.assert_allclose(np.asarray(m.predict(data["x"], verbose=0)), k.predict(data["x"], verbose=0), atol=1e-6)


def test_checkpoint_folder_resumes_training(tmp_path, data):
    ckpt_dir = tmp_path / "ckpt"
    ckpt_dir.mkdir()
    m = _model()
    m.fit(data["x"], data["y"], batch_size=4, epochs=1, verbose=0)
    m.save(str(ckpt_dir / "ckpt-1"))
    m.save(str(ckpt_dir / "ckpt-1"))  # overwrite in place
    assert os.listdir(ckpt_dir) == ["ckpt-1"]  # no temporary names left around
    restored = kj.saving.load_model(str(ckpt_dir / "ckpt-1"))
    assert restored.compiled
    assert int(np.asarray(restored.optimizer.iterations.numpy())) == 2
    m.fit(data["x"], data["y"], batch_size=4, epochs=1, verbose=0, shuffle=False)
    restored.fit(data["x"], data["y"], batch_size=4, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(m.get_weights(), restored.get_weights()):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def test_dotted_name_is_a_checkpoint_folder(tmp_path, data):
    """The FAQ's `ModelCheckpoint(filepath='ckpt-loss={loss:.2f}')` names folders with a
    dot, which tf.keras saved as SavedModel folders."""
    m = _model()
    m.fit(data["x"], data["y"], batch_size=4, epochs=1, verbose=0)
    path = tmp_path / "ckpt-loss=0.25"
    m.save(str(path))
    assert path.is_dir()
    restored = kj.saving.load_model(str(path))
    assert int(np.asarray(restored.optimizer.iterations.numpy())) == 2
    np.testing.assert_allclose(restored.predict(data["x"], verbose=0),
                               m.predict(data["x"], verbose=0), atol=1e-6)


def test_save_format_argument(tmp_path):
    m = _model()
    m.save(str(tmp_path / "x.keras"), save_format="h5")
    with open(tmp_path / "x.keras", "rb") as f:
        assert f.read(8) == b"\x89HDF\r\n\x1a\n"
    with pytest.raises(ValueError, match="save_format"):
        m.save(str(tmp_path / "y.keras"), save_format="pickle")
