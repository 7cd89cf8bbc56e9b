"""Data adapters: the data's epoch hooks as Keras 3 calls them, lazy `validation_split` rows."""

import h5py
import jax
import keras
import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.training import data_adapters

X = np.random.default_rng(0).standard_normal((48, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")


def _hook_log(lib):
    """The order of __getitem__ / on_epoch_begin / on_epoch_end calls that fit, evaluate
    and predict make on PyDatasets, with library `lib` (real Keras or keras_on_jax)."""
    log = []

    class Logged(lib.utils.PyDataset):
        def __init__(self, tag, n=3, **kwargs):
            super().__init__(**kwargs)
            self.tag, self.n = tag, n

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            log.append(f"{self.tag}get{i}")
            x = np.full((2, 3), i, "float32")
            return x, x[:, :1]

        def on_epoch_begin(self):
            log.append(f"{self.tag}begin")

        def on_epoch_end(self):
            log.append(f"{self.tag}end")

    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X[:4], Y[:4], verbose=0)  # built: no batch is peeked at below
    out = {}
    model.fit(Logged("T"), validation_data=Logged("V", 2), epochs=2, shuffle=False, verbose=0)
    out["fit"], log[:] = list(log), []
    model.evaluate(Logged("E"), verbose=0)
    out["evaluate"], log[:] = list(log), []
    model.evaluate(Logged("S"), steps=2, verbose=0)
    out["evaluate_steps"], log[:] = list(log), []
    model.predict(Logged("P"), verbose=0)
    out["predict"], log[:] = list(log), []
    model.fit(Logged("W", workers=2), epochs=1, shuffle=False, verbose=0)
    out["fit_workers"], log[:] = list(log), []
    return out


def test_pydataset_epoch_hooks_match_keras():
    ours, ref = _hook_log(kj), _hook_log(keras)
    # With workers, Keras's enqueuer threads may read before on_epoch_begin runs.
    workers, ref_workers = ours.pop("fit_workers"), ref.pop("fit_workers")
    assert ours == ref
    assert workers[0] == ref_workers[0] == "Wend" and workers[-1] == ref_workers[-1] == "Wend"
    assert sorted(workers[1:-1]) == sorted(ref_workers[1:-1])
    # evaluate ends with on_epoch_end (and, as Keras's EpochIterator.reset, starts with one)
    assert ref["evaluate"] == ["Eend", "Ebegin", "Eget0", "Eget1", "Eget2", "Eend"]


def test_evaluate_calls_on_epoch_end_of_duck_typed_sequence():
    """A Keras 2 style Sequence (not a PyDataset subclass) goes through the iterable
    adapter, which calls the same hooks."""

    class Seq:
        def __init__(self):
            self.ends = 0

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return X[i * 8:(i + 1) * 8], Y[i * 8:(i + 1) * 8]

        def on_epoch_end(self):
            self.ends += 1

    seq = Seq()
    model = kj.Sequential([kj.Input((3,)), kj.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    loss = model.evaluate(seq, verbose=0)
    assert seq.ends == 2
    np.testing.assert_allclose(loss, model.evaluate(X[:16], Y[:16], batch_size=8, verbose=0),
                               rtol=1e-6)


# ---- validation_split on out-of-core arrays ----------------------------------------------------


class CountingRows:
    """An h5py dataset that records how many rows each read returns."""

    def __init__(self, dataset):
        self.dataset, self.reads = dataset, []

    shape = property(lambda self: self.dataset.shape)
    dtype = property(lambda self: self.dataset.dtype)

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        out = self.dataset[index]
        self.reads.append(int(np.shape(out)[0]) if np.ndim(out) else 1)
        return out


@pytest.fixture
def h5(tmp_path):
    with h5py.File(tmp_path / "data.h5", "w") as f:
        f["x"], f["y"] = X, Y
        yield f["x"], f["y"]


def _model():
    kj.utils.set_random_seed(1)
    model = kj.Sequential([kj.Input((3,)), kj.layers.Dense(1)])
    model.compile(optimizer=kj.optimizers.SGD(0.05), loss="mse")
    return model


@pytest.mark.parametrize("shuffle", [False, True])
def test_h5py_validation_split_reads_rows_in_batches(h5, shuffle):
    cx, cy = CountingRows(h5[0]), CountingRows(h5[1])
    np.random.seed(3)
    hist = _model().fit(cx, cy, batch_size=8, epochs=2, validation_split=0.25,
                        shuffle=shuffle, verbose=0)
    np.random.seed(3)
    ref = _model().fit(X, Y, batch_size=8, epochs=2, validation_split=0.25, shuffle=shuffle,
                       verbose=0)
    np.testing.assert_allclose(hist.history["val_loss"], ref.history["val_loss"], rtol=1e-5)
    np.testing.assert_allclose(hist.history["loss"], ref.history["loss"], rtol=1e-5)
    for counted in (cx, cy):
        # No read of the whole split: every read is one batch (or fewer rows).
        assert counted.reads and max(counted.reads) <= 8, counted.reads
        # 2 epochs x 36 training rows + 2 validations x 12 rows (+ a build peek).
        assert 96 <= sum(counted.reads) <= 96 + 16, sum(counted.reads)


def test_validation_split_keeps_numpy_views_and_cuts_last_fraction(h5):
    (tx, ty), (vx, vy) = data_adapters.train_validation_split((X, Y), 0.25)
    assert np.shares_memory(tx, X) and np.shares_memory(vx, X)
    (hx, hy), (hvx, hvy) = data_adapters.train_validation_split(h5, 0.25)
    assert isinstance(hvx, data_adapters.RowRange) and hvx.shape == (12, 3)
    np.testing.assert_array_equal(np.asarray(hvx), X[36:])
    np.testing.assert_array_equal(np.asarray(hx), X[:36])
    np.testing.assert_array_equal(hvy[:], Y[36:])


def test_row_range_indexing_equals_numpy(h5):
    rows = data_adapters.RowRange(h5[0], 10, 40)
    ref = X[10:40]
    assert rows.shape == ref.shape and rows.dtype == ref.dtype and len(rows) == 30
    for index in [slice(None), slice(2, 9), slice(1, None, 4), slice(-5, None), slice(8, 2), 3,
                  -1, np.array([7, 1, 20]), [0, 29], np.array([-1, -30]),
                  np.arange(30) % 3 == 0, (slice(1, 4), 1), (2, 0),
                  (np.array([3, 1]), slice(None))]:
        np.testing.assert_array_equal(rows[index], ref[index])
    nested = data_adapters.train_validation_split((rows,), 0.5)[1][0]
    np.testing.assert_array_equal(np.asarray(nested), ref[15:])
    with pytest.raises(IndexError, match="Row index 30 is out of range for 30 rows"):
        rows[30]
    with pytest.raises(IndexError, match="out of range for 30 rows"):
        rows[np.array([0, 31])]


# ---- device prefetching of streamed sources ----------------------------------------------------


def test_streamed_sources_prefetch_only_on_accelerators(monkeypatch):
    from keras_on_jax.training import py_dataset_adapter as pda

    gen = ((X[:8], Y[:8]) for _ in range(2))
    monkeypatch.setattr(pda.jax, "default_backend", lambda: "cpu")
    assert not pda.device_prefetch_enabled()
    assert isinstance(data_adapters.get_data_adapter(gen), data_adapters.IterableDataAdapter)
    assert isinstance(data_adapters.get_data_adapter(_Counting()), pda.PyDatasetAdapter)
    monkeypatch.setattr(pda.jax, "default_backend", lambda: "gpu")
    assert pda.device_prefetch_enabled()
    assert isinstance(data_adapters.get_data_adapter(gen), pda.PrefetchingAdapter)
    assert isinstance(data_adapters.get_data_adapter(_Counting()), pda.PrefetchingAdapter)
    assert isinstance(data_adapters.get_data_adapter(X, Y), data_adapters.ArrayDataAdapter)
    with kj.distribution.DataParallel(devices=jax.devices()[:1]).scope():
        assert not pda.device_prefetch_enabled()


class _Counting(kj.utils.PyDataset):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.begins = self.ends = 0

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return X[i * 8:(i + 1) * 8], Y[i * 8:(i + 1) * 8]

    def on_epoch_begin(self):
        self.begins += 1

    def on_epoch_end(self):
        self.ends += 1


@pytest.mark.parametrize("workers", [1, 2])
def test_fit_evaluate_predict_with_device_prefetch_equal_plain(monkeypatch, workers):
    from keras_on_jax.training import py_dataset_adapter as pda

    def run():
        ds = _Counting(workers=workers)
        model = _model()
        hist = model.fit(ds, epochs=2, shuffle=False, verbose=0,
                         validation_data=((X[:8], Y[:8]) for _ in range(2)), validation_steps=1)
        loss = model.evaluate(ds, verbose=0)
        pred = model.predict(ds, verbose=0)
        return hist.history, loss, pred, (ds.begins, ds.ends), model.get_weights()

    plain = run()
    monkeypatch.setattr(pda, "device_prefetch_enabled", lambda: True)
    prefetched = run()
    for a, b in zip(jax.tree.leaves(prefetched), jax.tree.leaves(plain), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # fit: 1 + 2 epochs; evaluate: 1 + 1; predict: 1 (as Keras 3)
    assert prefetched[3] == plain[3] == (4, 6)


def test_pack_x_y_sample_weight_equals_keras():
    import keras

    x, y, w = np.ones((2, 1)), np.zeros((2,)), np.ones((2,))
    for args in [(x,), ((x, x),), ([x, x],), ({"a": x},), (x, y), (x, y, w), ((x,), y)]:
        ours = data_adapters.pack_x_y_sample_weight(*args)
        theirs = keras.utils.pack_x_y_sample_weight(*args)
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        assert data_adapters.unpack_x_y_sample_weight(ours)[0] is \
            keras.utils.unpack_x_y_sample_weight(theirs)[0]


def test_sparse_data_into_a_dense_input_is_densified_as_keras():
    sp = pytest.importorskip("scipy.sparse")
    from jax.experimental import sparse as jax_sparse

    dense = np.where(np.abs(X) > 1.0, X, 0.0).astype("float32")
    models = []
    for lib in (keras, kj):
        inputs = lib.Input((3,))
        models.append(lib.Model(inputs, lib.layers.Dense(2)(inputs)))
    models[1].set_weights(models[0].get_weights())
    theirs, ours = models
    want = theirs.predict(sp.csr_matrix(dense), verbose=0)
    for data in (sp.csr_matrix(dense), jax_sparse.BCOO.fromdense(dense)):
        np.testing.assert_allclose(ours.predict(data, verbose=0), want, atol=1e-6)
    np.testing.assert_allclose(ours(jax_sparse.BCOO.fromdense(dense)),
                               theirs(jax_sparse.BCOO.fromdense(dense)), atol=1e-6)
    ours.compile(optimizer=kj.optimizers.SGD(0.1), loss="mse")
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    targets = np.ones((len(dense), 2), "float32")
    for model in (ours, theirs):
        model.fit(sp.csr_matrix(dense), targets, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
