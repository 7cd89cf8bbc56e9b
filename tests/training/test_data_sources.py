"""Data sources for fit: PyDataset with workers, device prefetching, torch / tf.data, h5py."""

import os
import random
import subprocess
import sys
import textwrap
import threading
import time

import h5py
import jax
import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.training import data_adapters
from keras_on_jax.training import py_dataset_adapter as pda


@pytest.fixture
def pydataset_adapter(monkeypatch):
    """Route PyDatasets to `PyDatasetAdapter` (what `get_data_adapter` is to do itself)."""
    original = data_adapters.get_data_adapter

    def get_data_adapter(x, y=None, sample_weight=None, batch_size=None, steps=None,
                         shuffle=False, class_weight=None):
        if pda.is_py_dataset(x):
            return pda.PyDatasetAdapter(x, shuffle=shuffle, steps=steps, class_weight=class_weight)
        return original(x, y, sample_weight, batch_size=batch_size, steps=steps,
                        shuffle=shuffle, class_weight=class_weight)

    monkeypatch.setattr(data_adapters, "get_data_adapter", get_data_adapter)


X = np.random.default_rng(0).standard_normal((48, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")


class ArrayDataset(kj.utils.PyDataset):
    def __init__(self, x, y, batch_size=8, delay=0.0, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.delay = x, y, batch_size, delay
        self.calls = []
        self.epoch_ends = 0
        self.epoch_begins = 0
        self._lock = threading.Lock()

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, i):
        with self._lock:
            self.calls.append(i)
        if self.delay:
            time.sleep(self.delay * ((i * 7) % 3))  # out-of-order completion
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]

    def on_epoch_begin(self):
        self.epoch_begins += 1

    def on_epoch_end(self):
        self.epoch_ends += 1


def _model(seed=1):
    kj.utils.set_random_seed(seed)
    model = kj.Sequential([kj.Input((3,)), kj.layers.Dense(1)])
    model.compile(optimizer=kj.optimizers.SGD(0.05), loss="mse")
    return model


# ---- PyDataset ------------------------------------------------------------------------------


@pytest.mark.parametrize("workers,mp", [(1, False), (3, False), (2, True)])
def test_pydataset_batches_in_order(workers, mp):
    ds = ArrayDataset(X, Y, delay=0.01 if not mp else 0.0, workers=workers,
                      use_multiprocessing=mp)
    adapter = pda.PyDatasetAdapter(ds)
    assert adapter.num_batches == 6
    got = list(adapter.iter_epoch())
    assert len(got) == 6
    np.testing.assert_array_equal(np.concatenate([b[0] for b in got]), X)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in got]), Y)
    assert all(b[2] is None for b in got)
    assert ds.epoch_begins == 1


def test_pydataset_multiprocessing_runs_in_other_processes():
    class PidDataset(kj.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.full((2, 1), os.getpid(), "float32"), np.full((2, 1), i, "float32")

    got = list(pda.PyDatasetAdapter(PidDataset(workers=2, use_multiprocessing=True)).iter_epoch())
    assert [int(b[1][0, 0]) for b in got] == [0, 1, 2, 3]
    assert all(int(b[0][0, 0]) != os.getpid() for b in got)


def test_pydataset_queue_bound():
    ahead = []
    consumed = [0]

    class Watch(ArrayDataset):
        def __getitem__(self, i):
            ahead.append(i - consumed[0])
            return super().__getitem__(i)

    ds = Watch(X, Y, workers=2, max_queue_size=2)
    for _ in pda.PyDatasetAdapter(ds).iter_epoch():
        time.sleep(0.005)
        consumed[0] += 1
    assert max(ahead) <= 2


def test_pydataset_shuffle_matches_keras_order():
    ds = ArrayDataset(X, Y)
    random.seed(3)
    got = [int(np.where((X == b[0][0]).all(1))[0][0]) // 8
           for b in pda.PyDatasetAdapter(ds, shuffle=True).iter_epoch()]
    random.seed(3)
    expected = list(range(6))
    random.shuffle(expected)
    assert got == expected


def test_pydataset_early_stop_releases_workers():
    before = threading.active_count()
    it = pda.PyDatasetAdapter(ArrayDataset(X, Y, workers=3, max_queue_size=4)).iter_epoch()
    next(it)
    it.close()
    assert threading.active_count() == before


def test_pydataset_infinite_with_steps():
    class Endless(kj.utils.PyDataset):
        def __getitem__(self, i):
            return X[:4] + i, Y[:4]

        @property
        def num_batches(self):
            return None

    adapter = pda.PyDatasetAdapter(Endless(), steps=3)
    first = [b[0][0, 0] - X[0, 0] for b in adapter.iter_epoch()]
    second = [b[0][0, 0] - X[0, 0] for b in adapter.iter_epoch()]
    np.testing.assert_allclose(first + second, [0, 1, 2, 3, 4, 5], atol=1e-5)


@pytest.mark.parametrize("workers,mp", [(1, False), (3, False), (2, True)])
def test_fit_on_pydataset_equals_arrays(pydataset_adapter, workers, mp):
    ref = _model()
    ref_hist = ref.fit(X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    ds = ArrayDataset(X, Y, workers=workers, use_multiprocessing=mp)
    model = _model()
    hist = model.fit(ds, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(hist.history["loss"], ref_hist.history["loss"], rtol=1e-5)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert ds.epoch_ends == 4  # as Keras 3: once when fit starts, then after each epoch
    assert ds.epoch_begins == 3


def test_fit_on_pydataset_shuffles_batch_order(pydataset_adapter):
    ds = ArrayDataset(X, Y, workers=2)
    _model().fit(ds, epochs=2, shuffle=True, verbose=0)
    epochs = [ds.calls[:6], ds.calls[6:]]
    assert all(sorted(e) == list(range(6)) for e in epochs)
    assert any(e != list(range(6)) for e in epochs)
    ds = ArrayDataset(X, Y, workers=2)
    _model().fit(ds, epochs=1, shuffle=False, verbose=0)
    assert ds.calls == list(range(6))


def test_pydataset_class_weight(pydataset_adapter):
    y = (Y > 0).astype("float32")
    batches = list(pda.PyDatasetAdapter(ArrayDataset(X, y), class_weight={0: 1.0, 1: 3.0}).iter_epoch())
    sw = np.concatenate([b[2] for b in batches])
    np.testing.assert_array_equal(sw, np.where(y[:, 0] > 0, 3.0, 1.0))


# ---- prefetching to the device ------------------------------------------------------------------


def test_prefetch_to_device_moves_and_preserves():
    batches = [(X[i:i + 8], Y[i:i + 8], None) for i in range(0, 48, 8)]
    got = list(pda.prefetch_to_device(iter(batches)))
    assert len(got) == 6
    for (gx, gy, gsw), (x, y, _) in zip(got, batches):
        assert isinstance(gx, jax.Array) and isinstance(gy, jax.Array) and gsw is None
        np.testing.assert_array_equal(np.asarray(gx), x)


def test_prefetch_propagates_errors_and_stops():
    def gen():
        yield (X[:2], None, None)
        raise RuntimeError("boom in generator")

    it = pda.prefetch_to_device(gen())
    next(it)
    with pytest.raises(RuntimeError, match="boom in generator"):
        next(it)

    before = threading.active_count()
    it = pda.prefetch_to_device((X[:2], None, None) for _ in iter(int, 1))  # endless
    next(it)
    it.close()
    assert threading.active_count() == before


def test_fit_with_prefetching_adapter_equals_plain(monkeypatch):
    def gen():
        for _ in range(3):
            for i in range(0, 48, 8):
                yield X[i:i + 8], Y[i:i + 8]

    ref = _model()
    ref.fit(gen(), steps_per_epoch=6, epochs=3, verbose=0)
    original = data_adapters.get_data_adapter
    monkeypatch.setattr(data_adapters, "get_data_adapter",
                        lambda *a, **k: pda.PrefetchingAdapter(original(*a, **k)))
    model = _model()
    model.fit(gen(), steps_per_epoch=6, epochs=3, verbose=0)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# ---- optional integrations: no import unless installed -----------------------------------------


def test_import_does_not_pull_tensorflow_or_torch():
    code = textwrap.dedent("""
        import sys, numpy as np
        import keras_on_jax as keras
        from keras_on_jax.training import data_adapters, py_dataset_adapter
        m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        m.compile(optimizer="sgd", loss="mse")
        m.fit((np.ones((4, 2), "float32"), np.ones((4, 1), "float32")) for _ in range(2))
        m.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), verbose=0)
        bad = sorted(n for n in sys.modules if n.split(".")[0] in ("tensorflow", "torch", "keras", "grain"))
        print("LOADED", bad)
        assert not bad, bad
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "LOADED []" in out.stdout


def test_torch_dataloader_feeds_fit():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)), batch_size=8)
    ref = _model()
    ref.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model = _model()
    hist = model.fit(loader, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(loader, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)


def test_tf_data_feeds_fit():
    tf = pytest.importorskip("tensorflow")
    ds = tf.data.Dataset.from_tensor_slices((X, Y)).batch(8)
    ref = _model()
    ref.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model = _model()
    model.fit(ds, epochs=2, verbose=0)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---- h5py ------------------------------------------------------------------------------------


@pytest.fixture
def h5(tmp_path):
    f = h5py.File(tmp_path / "data.h5", "w")
    f["x"], f["y"] = X, Y
    yield f["x"], f["y"]
    f.close()


@pytest.mark.parametrize("shuffle", [False, True, "batch"])
def test_fit_on_h5py_equals_numpy(h5, shuffle):
    hx, hy = h5
    ref = _model()
    np.random.seed(5)
    ref_hist = ref.fit(X, Y, batch_size=8, epochs=2, shuffle=shuffle, verbose=0)
    model = _model()
    np.random.seed(5)
    hist = model.fit(hx, hy, batch_size=8, epochs=2, shuffle=shuffle, verbose=0)
    np.testing.assert_allclose(hist.history["loss"], ref_hist.history["loss"], rtol=1e-5)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_h5py_batch_shuffle_partial_batch_sees_every_row(tmp_path):
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["x"] = np.arange(10, dtype="float32")[:, None]
        adapter = data_adapters.ArrayDataAdapter(f["x"], batch_size=4, shuffle="batch",
                                                 seed_rng=np.random.RandomState(1))
        for _ in range(4):
            rows = np.concatenate([b[0][:, 0] for b in adapter.iter_epoch()])
            assert sorted(rows.tolist()) == list(range(10))


def test_h5py_validation_split_equals_numpy(h5):
    hx, hy = h5
    ref = _model()
    ref_hist = ref.fit(X, Y, batch_size=8, epochs=2, validation_split=0.25, shuffle=False,
                       verbose=0)
    model = _model()
    hist = model.fit(hx, hy, batch_size=8, epochs=2, validation_split=0.25, shuffle=False,
                     verbose=0)
    np.testing.assert_allclose(hist.history["val_loss"], ref_hist.history["val_loss"], rtol=1e-5)
    np.testing.assert_allclose(hist.history["loss"], ref_hist.history["loss"], rtol=1e-5)


_MEMORY_SCRIPT = textwrap.dedent("""
    import resource, sys
    import h5py, numpy as np
    import keras_on_jax as keras

    f = h5py.File(sys.argv[1], "r")
    x, y = f["x"], f["y"]
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x[:4096], y[:4096], batch_size=4096, epochs=1, verbose=0, shuffle=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hist = model.fit(x, y, batch_size=4096, epochs=1, verbose=0, shuffle="batch")
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert np.isfinite(hist.history["loss"][0])
    print("GROWTH_KB", after - before)
""")


def test_streamed_h5py_peak_memory(tmp_path):
    rows, cols = 4096 * 12, 1024  # 201 MB of float32
    path = tmp_path / "big.h5"
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        dx = f.create_dataset("x", (rows, cols), "float32")
        f.create_dataset("y", data=rng.standard_normal((rows, 1)).astype("float32"))
        for start in range(0, rows, 4096):
            dx[start:start + 4096] = rng.standard_normal((4096, cols)).astype("float32")
    size_kb = rows * cols * 4 / 1024
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(path)], capture_output=True,
                         text=True, timeout=180, env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert out.returncode == 0, out.stderr[-2000:]
    growth_kb = int(out.stdout.split("GROWTH_KB")[1].split()[0])
    assert growth_kb < size_kb / 2, (growth_kb, size_kb)
