"""keras.datasets, offline: tiny files in the real formats.

Two checks per dataset: (1) with `get_file` replaced by a recorder returning a local
tiny file, real Keras's `load_data` and ours make the same `get_file` request (origin,
file name, hash, extraction) and return the same arrays; (2) the real `get_file` path:
the origin pointed at a `file://` copy, downloaded into `$KERAS_HOME/datasets`, hash
checked, extracted, then served from the cache.
"""

import gzip
import hashlib
import inspect
import io
import json
import os
import pickle
import tarfile

import numpy as np
import pytest

import keras.src.datasets.boston_housing as k_boston
import keras.src.datasets.california_housing as k_california
import keras.src.datasets.cifar10 as k_cifar10
import keras.src.datasets.cifar100 as k_cifar100
import keras.src.datasets.fashion_mnist as k_fashion
import keras.src.datasets.imdb as k_imdb
import keras.src.datasets.mnist as k_mnist
import keras.src.datasets.reuters as k_reuters
from keras.src.utils.file_utils import get_file as k_get_file

from keras_on_jax import datasets
from keras_on_jax.datasets import _npz_utils
from keras_on_jax.datasets import boston_housing, california_housing, cifar10, cifar100
from keras_on_jax.datasets import fashion_mnist, imdb, mnist, reuters

_GET_FILE_SIG = inspect.signature(k_get_file)


def _normalize(args, kwargs):
    bound = _GET_FILE_SIG.bind(*args, **kwargs)
    return dict(bound.arguments)


class _Recorder:
    def __init__(self, resolve):
        self.calls = []
        self.resolve = resolve

    def __call__(self, *args, **kwargs):
        call = _normalize(args, kwargs)
        self.calls.append(call)
        return self.resolve(call)


def _compare(monkeypatch, k_module, our_module, resolve, load_kwargs=None):
    load_kwargs = load_kwargs or {}
    theirs_rec, ours_rec = _Recorder(resolve), _Recorder(resolve)
    monkeypatch.setattr(k_module, "get_file", theirs_rec)
    monkeypatch.setattr(our_module, "get_file", ours_rec)
    theirs = k_module.load_data(**load_kwargs)
    ours = our_module.load_data(**load_kwargs)
    assert ours_rec.calls == theirs_rec.calls
    _assert_same(ours, theirs)
    return ours


def _assert_same(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
        return
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.dtype == object:
        assert [list(s) for s in a] == [list(s) for s in b]
    else:
        np.testing.assert_array_equal(a, b)


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---------------------------------------------------------------------------------------
# Tiny files
# ---------------------------------------------------------------------------------------


@pytest.fixture
def mnist_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
             y_train=np.arange(5, dtype=np.uint8),
             x_test=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
             y_test=np.arange(3, dtype=np.uint8))
    return path


def _idx_gz(path, header_len, array):
    with gzip.open(path, "wb") as f:
        f.write(b"\x00" * header_len + array.astype(np.uint8).tobytes())


@pytest.fixture
def fashion_dir(tmp_path):
    rng = np.random.default_rng(1)
    d = tmp_path / "fashion"
    d.mkdir()
    _idx_gz(d / "train-labels-idx1-ubyte.gz", 8, np.array([3, 1, 4, 1]))
    _idx_gz(d / "train-images-idx3-ubyte.gz", 16, rng.integers(0, 256, (4, 28, 28)))
    _idx_gz(d / "t10k-labels-idx1-ubyte.gz", 8, np.array([9, 2]))
    _idx_gz(d / "t10k-images-idx3-ubyte.gz", 16, rng.integers(0, 256, (2, 28, 28)))
    return d


def _cifar_batch(path, n, rng, label_keys=("labels",)):
    d = {b"batch_label": b"tiny", b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
         b"filenames": [f"f{i}.png".encode() for i in range(n)]}
    for key in label_keys:
        d[key.encode()] = [int(v) for v in rng.integers(0, 100, n)]
    with open(path, "wb") as f:
        pickle.dump(d, f, protocol=4)  # bytes need protocol >= 3 on Python 3


def _tar_gz(folder, out):
    with tarfile.open(out, "w:gz") as tar:
        tar.add(folder, arcname=os.path.basename(folder))


@pytest.fixture
def cifar10_archive(tmp_path):
    rng = np.random.default_rng(2)
    inner = tmp_path / "src10" / "cifar-10-batches-py"
    inner.mkdir(parents=True)
    for i in range(1, 6):
        _cifar_batch(inner / f"data_batch_{i}", 2, rng)
    _cifar_batch(inner / "test_batch", 3, rng)
    archive = tmp_path / "cifar-10-python.tar.gz"
    _tar_gz(inner, archive)
    return tmp_path / "src10", archive


@pytest.fixture
def cifar100_dir(tmp_path):
    rng = np.random.default_rng(3)
    inner = tmp_path / "src100" / "cifar-100-python"
    inner.mkdir(parents=True)
    _cifar_batch(inner / "train", 4, rng, ("fine_labels", "coarse_labels"))
    _cifar_batch(inner / "test", 2, rng, ("fine_labels", "coarse_labels"))
    return tmp_path / "src100"


def _ragged(rng, n, vocab=30):
    out = np.empty((n,), dtype=object)
    out[:] = [list(map(int, rng.integers(0, vocab, int(rng.integers(1, 9))))) for _ in range(n)]
    return out


@pytest.fixture
def imdb_file(tmp_path):
    rng = np.random.default_rng(4)
    path = tmp_path / "imdb.npz"
    np.savez(path, x_train=_ragged(rng, 7), y_train=rng.integers(0, 2, 7),
             x_test=_ragged(rng, 5), y_test=rng.integers(0, 2, 5))
    return path


@pytest.fixture
def reuters_file(tmp_path):
    rng = np.random.default_rng(5)
    path = tmp_path / "reuters.npz"
    np.savez(path, x=_ragged(rng, 11), y=rng.integers(0, 46, 11))
    return path


@pytest.fixture
def regression_file(tmp_path):
    rng = np.random.default_rng(6)
    path = tmp_path / "housing.npz"
    np.savez(path, x=rng.normal(size=(700, 3)), y=rng.normal(size=(700,)))
    return path


# ---------------------------------------------------------------------------------------
# Same request, same arrays as real Keras
# ---------------------------------------------------------------------------------------


def test_mnist_matches_keras(monkeypatch, mnist_file):
    (x, y), (xt, yt) = _compare(monkeypatch, k_mnist, mnist, lambda call: str(mnist_file))
    assert x.shape == (5, 28, 28) and x.dtype == np.uint8 and yt.tolist() == [0, 1, 2]


def test_fashion_mnist_matches_keras(monkeypatch, fashion_dir):
    (x, y), (xt, yt) = _compare(monkeypatch, k_fashion, fashion_mnist,
                                lambda call: str(fashion_dir / call["fname"]))
    assert x.shape == (4, 28, 28) and y.tolist() == [3, 1, 4, 1] and yt.tolist() == [9, 2]


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_matches_keras(monkeypatch, cifar100_dir, label_mode):
    (x, y), (xt, yt) = _compare(monkeypatch, k_cifar100, cifar100, lambda call: str(cifar100_dir),
                                {"label_mode": label_mode})
    assert x.shape == (4, 32, 32, 3) and y.shape == (4, 1) and xt.shape == (2, 32, 32, 3)


def test_cifar10_request_matches_keras(monkeypatch, cifar10_archive):
    """Keras's cifar10 preallocates 5 x 10,000 samples, so only the request is compared
    with it; the arrays are checked by hand."""

    class Stop(Exception):
        pass

    def stop(call):
        raise Stop

    for module in (k_cifar10, cifar10):
        rec = _Recorder(stop)
        monkeypatch.setattr(module, "get_file", rec)
        with pytest.raises(Stop):
            module.load_data()
        if module is k_cifar10:
            expected = rec.calls
        else:
            assert rec.calls == expected
    src, _ = cifar10_archive
    monkeypatch.setattr(cifar10, "get_file", lambda *a, **k: str(src))
    (x, y), (xt, yt) = cifar10.load_data()
    assert x.shape == (10, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (10, 1) and y.dtype == np.uint8 and xt.shape == (3, 32, 32, 3)
    with open(src / "cifar-10-batches-py" / "data_batch_2", "rb") as f:
        raw = pickle.load(f, encoding="bytes")
    np.testing.assert_array_equal(x[2], raw[b"data"][0].reshape(3, 32, 32).transpose(1, 2, 0))
    assert y[2:4, 0].tolist() == raw[b"labels"]


@pytest.mark.parametrize("kwargs", [
    {}, {"num_words": 10}, {"skip_top": 3, "num_words": 20}, {"maxlen": 6},
    {"oov_char": None, "num_words": 12}, {"start_char": None, "index_from": 0}, {"seed": 1},
])
def test_imdb_matches_keras(monkeypatch, imdb_file, kwargs):
    (x, y), _ = _compare(monkeypatch, k_imdb, imdb, lambda call: str(imdb_file), kwargs)
    assert x.dtype == object


@pytest.mark.parametrize("kwargs", [
    {}, {"num_words": 10, "test_split": 0.3}, {"maxlen": 7}, {"skip_top": 2, "oov_char": None},
    {"start_char": None, "index_from": 0},
])
def test_reuters_matches_keras(monkeypatch, reuters_file, kwargs):
    _compare(monkeypatch, k_reuters, reuters, lambda call: str(reuters_file), kwargs)
    assert reuters.get_label_names() == k_reuters.get_label_names()


@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.5, "seed": 3}])
def test_boston_housing_matches_keras(monkeypatch, regression_file, kwargs):
    _compare(monkeypatch, k_boston, boston_housing, lambda call: str(regression_file), kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"version": "small", "test_split": 0.1}])
def test_california_housing_matches_keras(monkeypatch, regression_file, kwargs):
    _compare(monkeypatch, k_california, california_housing, lambda call: str(regression_file),
             kwargs)


@pytest.mark.parametrize("k_module,our_module", [(k_imdb, imdb), (k_reuters, reuters)])
def test_word_index_matches_keras(monkeypatch, tmp_path, k_module, our_module):
    path = tmp_path / "index.json"
    path.write_text(json.dumps({"the": 1, "film": 2}))
    theirs_rec, ours_rec = _Recorder(lambda c: str(path)), _Recorder(lambda c: str(path))
    monkeypatch.setattr(k_module, "get_file", theirs_rec)
    monkeypatch.setattr(our_module, "get_file", ours_rec)
    assert our_module.get_word_index() == k_module.get_word_index() == {"the": 1, "film": 2}
    assert ours_rec.calls == theirs_rec.calls


def test_argument_errors():
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=1.0)
    with pytest.raises(ValueError, match="test_split"):
        california_housing.load_data(version="tiny", test_split=1.5)


def test_public_names():
    import keras

    for name in ("mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters",
                 "boston_housing", "california_housing"):
        assert hasattr(keras.datasets, name) and hasattr(datasets, name)
        mod, k_mod = getattr(datasets, name), getattr(keras.datasets, name)
        for attr in ("load_data", "get_word_index", "get_label_names"):
            assert hasattr(mod, attr) == hasattr(k_mod, attr), (name, attr)
        assert list(inspect.signature(mod.load_data).parameters) == list(
            inspect.signature(k_mod.load_data).parameters)


# ---------------------------------------------------------------------------------------
# Through the real get_file: file:// origin, hash check, extraction, cache
# ---------------------------------------------------------------------------------------


def test_mnist_download_and_cache(monkeypatch, tmp_path, mnist_file, capsys):
    monkeypatch.setattr(_npz_utils, "ORIGIN_FOLDER", tmp_path.as_uri() + "/")
    monkeypatch.setattr(mnist, "FILE_HASH", _sha256(mnist_file))
    (x, y), _ = mnist.load_data(path="kj-test-mnist.npz")
    assert "Downloading data from" in capsys.readouterr().out
    os.remove(mnist_file)  # now only the cached copy exists
    (x2, _), _ = mnist.load_data(path="kj-test-mnist.npz")
    assert "Downloading" not in capsys.readouterr().out
    np.testing.assert_array_equal(x, x2)


def test_hash_mismatch_is_refused(monkeypatch, tmp_path, mnist_file):
    monkeypatch.setattr(_npz_utils, "ORIGIN_FOLDER", tmp_path.as_uri() + "/")
    monkeypatch.setattr(mnist, "FILE_HASH", "0" * 64)
    with pytest.raises(ValueError, match="hash"):
        mnist.load_data(path="kj-test-mnist-bad.npz")


def test_cifar10_download_and_extract(monkeypatch, cifar10_archive):
    _, archive = cifar10_archive
    monkeypatch.setattr(cifar10, "ORIGIN", archive.as_uri())
    monkeypatch.setattr(cifar10, "FILE_HASH", _sha256(archive))
    (x, y), (xt, yt) = cifar10.load_data()
    assert x.shape == (10, 32, 32, 3) and xt.shape == (3, 32, 32, 3) and yt.shape == (3, 1)


def test_fashion_mnist_download(monkeypatch, fashion_dir):
    monkeypatch.setattr(_npz_utils, "ORIGIN_FOLDER", fashion_dir.as_uri() + "/")
    (x, y), (xt, yt) = fashion_mnist.load_data()
    assert x.shape == (4, 28, 28) and yt.tolist() == [9, 2]


def test_imdb_download(monkeypatch, tmp_path, imdb_file):
    monkeypatch.setattr(_npz_utils, "ORIGIN_FOLDER", tmp_path.as_uri() + "/")
    monkeypatch.setattr(imdb, "FILE_HASH", _sha256(imdb_file))
    (x, y), (xt, yt) = imdb.load_data(path="kj-test-imdb.npz")
    assert len(x) == 7 and len(xt) == 5 and all(s[0] == 1 for s in x)


# ---------------------------------------------------------------------------------------
# Nothing but arrays is unpickled
# ---------------------------------------------------------------------------------------


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_malicious_cifar_batch_is_refused(tmp_path):
    from keras_on_jax.datasets.cifar import load_batch

    path = tmp_path / "data_batch_1"
    with open(path, "wb") as f:
        pickle.dump({b"data": _Evil(), b"labels": [1]}, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="Refusing"):
        load_batch(str(path))


def test_malicious_npz_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    arr = np.empty((1,), dtype=object)
    arr[0] = _Evil()
    buffer = io.BytesIO()
    np.save(buffer, arr, allow_pickle=True)
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.npy", buffer.getvalue())
    with pytest.raises(pickle.UnpicklingError, match="Refusing"):
        _npz_utils.load_npz(str(path))
