"""get_file: cache under the Keras home, hashes, extraction, file:// URLs (no network)."""

import hashlib
import os
import tarfile
import zipfile

import pytest

import keras_on_jax as kj


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _url(path):
    return "file://" + os.path.abspath(path)


def test_downloads_once_into_datasets_and_checks_sha256(tmp_path, monkeypatch):
    monkeypatch.setattr("keras_on_jax.backend.config._KERAS_HOME", str(tmp_path / "home"))
    src = tmp_path / "data.bin"
    src.write_bytes(b"hello keras")
    sha = hashlib.sha256(b"hello keras").hexdigest()
    path = kj.utils.get_file("data.bin", origin=_url(src), file_hash=sha)
    assert path == str(tmp_path / "home" / "datasets" / "data.bin")
    assert _read(path) == b"hello keras"
    src.write_bytes(b"changed")  # cached: not downloaded again
    assert _read(kj.utils.get_file("data.bin", origin=_url(src))) == b"hello keras"


def test_hash_mismatch_is_a_clear_error(tmp_path):
    src = tmp_path / "x.bin"
    src.write_bytes(b"abc")
    with pytest.raises(ValueError, match="Incomplete or corrupted file detected"):
        kj.utils.get_file("x.bin", origin=_url(src), file_hash="0" * 64,
                          cache_dir=str(tmp_path / "cache"))


def test_md5_and_cache_subdir(tmp_path):
    src = tmp_path / "m.txt"
    src.write_bytes(b"md5 me")
    md5 = hashlib.md5(b"md5 me").hexdigest()
    path = kj.utils.get_file("m.txt", origin=_url(src), md5_hash=md5, cache_subdir="models",
                             cache_dir=str(tmp_path / "c"))
    assert path.endswith(os.path.join("models", "m.txt"))


def test_extract_tar_and_zip(tmp_path):
    inner = tmp_path / "inner.txt"
    inner.write_text("payload")
    tgz = tmp_path / "arch.tar.gz"
    with tarfile.open(tgz, "w:gz") as t:
        t.add(inner, arcname="folder/inner.txt")
    out = kj.utils.get_file("arch.tar.gz", origin=_url(tgz), extract=True, cache_dir=str(tmp_path / "c"))
    assert out.endswith("arch_extracted")
    assert _read(os.path.join(out, "folder", "inner.txt")).decode() == "payload"
    zp = tmp_path / "z.zip"
    with zipfile.ZipFile(zp, "w") as z:
        z.writestr("a.txt", "zipped")
        z.writestr("../evil.txt", "escape")
    out = kj.utils.get_file("zdata", origin=_url(zp), extract=True, cache_dir=str(tmp_path / "c"))
    assert _read(os.path.join(out, "a.txt")).decode() == "zipped"
    assert not os.path.exists(os.path.join(os.path.dirname(out), "evil.txt"))


def test_fname_with_separator_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="path separator"):
        kj.utils.get_file("a/b.txt", origin="file:///nonexistent", cache_dir=str(tmp_path))
