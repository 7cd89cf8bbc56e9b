"""TensorBoard: event files written with tensorboardX, read back with TensorBoard's
EventAccumulator, and compared with what was logged."""

import glob
import json
import os

import jax.numpy as jnp
import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator

from keras_on_jax import callbacks as kj_callbacks


class FakeWeight:
    def __init__(self, path, value):
        self.path = path
        self.value = np.asarray(value, "float32")

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)


class FakeLayer:
    def __init__(self, name, weights):
        self.name = name
        self.weights = weights


def _model(fake_model_cls, cls_name="FakeModel"):
    model = fake_model_cls(learning_rate=0.05)
    model.__class__ = type(cls_name, (fake_model_cls,), {})
    model.layers = [
        FakeLayer(
            "dense",
            [
                FakeWeight("dense/kernel", np.arange(6).reshape(3, 2)),
                FakeWeight("dense/bias", [0.5, -0.5]),
            ],
        ),
        FakeLayer("dropout", []),
    ]
    return model


def _read(run_dir):
    acc = event_accumulator.EventAccumulator(
        run_dir,
        size_guidance={
            event_accumulator.SCALARS: 0,
            event_accumulator.HISTOGRAMS: 0,
            event_accumulator.IMAGES: 0,
            event_accumulator.TENSORS: 0,
        },
    )
    acc.Reload()
    return acc


def _scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def _fit(cb, model, epochs=3, steps=4, val=True, evaluate=False):
    cb.set_model(model)
    cb.set_params({"epochs": epochs, "steps": steps, "verbose": 0})
    cb.on_train_begin()
    for epoch in range(epochs):
        cb.on_epoch_begin(epoch)
        for step in range(steps):
            cb.on_train_batch_begin(step)
            model.optimizer.iterations += 1
            cb.on_train_batch_end(
                step,
                {
                    "loss": jnp.float32(1.0 / (1 + step + epoch * steps)),
                    "accuracy": jnp.float32(0.1 * step),
                },
            )
        logs = {"loss": 1.0 / (epoch + 1), "accuracy": 0.5 + 0.1 * epoch}
        if val:
            cb.on_test_begin()
            for step in range(2):
                cb.on_test_batch_begin(step)
                cb.on_test_batch_end(step, {"loss": 2.0})
            cb.on_test_end({"loss": 2.0 + epoch, "accuracy": 0.4})
            logs.update(val_loss=2.0 + epoch, val_accuracy=0.4)
        cb.on_epoch_end(epoch, logs)
    cb.on_train_end()


def test_epoch_scalars(tmp_path, fake_model_cls):
    log_dir = str(tmp_path / "logs")
    _fit(kj_callbacks.TensorBoard(log_dir=log_dir), _model(fake_model_cls))
    train = _read(os.path.join(log_dir, "train"))
    val = _read(os.path.join(log_dir, "validation"))
    assert sorted(train.Tags()["scalars"]) == [
        "epoch_accuracy",
        "epoch_learning_rate",
        "epoch_loss",
    ]
    np.testing.assert_allclose(
        _scalars(train, "epoch_loss"), [(0, 1.0), (1, 0.5), (2, 1 / 3)], rtol=1e-6
    )
    np.testing.assert_allclose(
        _scalars(train, "epoch_accuracy"), [(0, 0.5), (1, 0.6), (2, 0.7)], rtol=1e-6
    )
    np.testing.assert_allclose(
        _scalars(train, "epoch_learning_rate"), [(e, 0.05) for e in range(3)], rtol=1e-6
    )
    assert sorted(val.Tags()["scalars"]) == [
        "epoch_accuracy",
        "epoch_loss",
        "evaluation_accuracy_vs_iterations",
        "evaluation_loss_vs_iterations",
    ]
    np.testing.assert_allclose(_scalars(val, "epoch_loss"), [(0, 2.0), (1, 3.0), (2, 4.0)])
    # step = optimizer.iterations at the end of each evaluation
    np.testing.assert_allclose(
        _scalars(val, "evaluation_loss_vs_iterations"), [(4, 2.0), (8, 3.0), (12, 4.0)]
    )
    assert not train.Tags()["histograms"]


@pytest.mark.parametrize("update_freq", ["batch", 3])
def test_batch_scalars(tmp_path, fake_model_cls, update_freq):
    log_dir = str(tmp_path / "logs")
    _fit(
        kj_callbacks.TensorBoard(
            log_dir=log_dir, update_freq=update_freq, write_steps_per_second=True
        ),
        _model(fake_model_cls),
        val=False,
    )
    train = _read(os.path.join(log_dir, "train"))
    freq = 1 if update_freq == "batch" else update_freq
    steps = [s for s in range(1, 13) if s % freq == 0]
    expected = [(s, 1.0 / s) for s in steps]  # the loss logged at global batch s
    np.testing.assert_allclose(_scalars(train, "batch_loss"), expected, rtol=1e-6)
    assert [s for s, _ in _scalars(train, "batch_accuracy")] == steps
    assert [s for s, _ in _scalars(train, "batch_steps_per_second")] == steps
    assert [s for s, _ in _scalars(train, "epoch_steps_per_second")] == [0, 1, 2]
    assert all(v > 0 for _, v in _scalars(train, "epoch_steps_per_second"))
    assert not os.path.exists(os.path.join(log_dir, "validation"))


def test_no_batch_scalars_by_default(tmp_path, fake_model_cls):
    log_dir = str(tmp_path / "logs")
    _fit(kj_callbacks.TensorBoard(log_dir=log_dir), _model(fake_model_cls), val=False)
    tags = _read(os.path.join(log_dir, "train")).Tags()["scalars"]
    assert not [t for t in tags if t.startswith("batch_")]


def test_histograms_and_images(tmp_path, fake_model_cls):
    log_dir = str(tmp_path / "logs")
    model = _model(fake_model_cls)
    _fit(
        kj_callbacks.TensorBoard(log_dir=log_dir, histogram_freq=2, write_images=True),
        model,
        val=False,
    )
    train = _read(os.path.join(log_dir, "train"))
    assert sorted(train.Tags()["histograms"]) == ["dense/bias/histogram", "dense/kernel/histogram"]
    hist = train.Histograms("dense/kernel/histogram")
    assert [h.step for h in hist] == [0, 2]
    h = hist[0].histogram_value
    assert (h.min, h.max, h.num, h.sum) == (0.0, 5.0, 6.0, 15.0)
    assert sorted(train.Tags()["images"]) == ["dense/bias/image", "dense/kernel/image"]
    img = train.Images("dense/kernel/image")[0]
    assert (img.width, img.height) == (3, 2)  # (3, 2) kernel transposed to 2 x 3


def test_model_graph_summary(tmp_path, fake_model_cls):
    log_dir = str(tmp_path / "logs")
    model = _model(fake_model_cls, cls_name="Sequential")
    model.to_json = lambda: json.dumps({"class_name": "Sequential", "config": {}})
    cb = kj_callbacks.TensorBoard(log_dir=log_dir)
    cb.set_model(model)
    cb.on_train_end()
    train = _read(os.path.join(log_dir, "train"))
    assert train.Tags()["tensors"] == ["keras"]
    event = train.Tensors("keras")[0]
    assert json.loads(event.tensor_proto.string_val[0]) == {
        "class_name": "Sequential",
        "config": {},
    }
    meta = train.SummaryMetadata("keras")
    assert meta.plugin_data.plugin_name == "graph_keras_model"


def test_profile_batch(tmp_path, fake_model_cls):
    log_dir = str(tmp_path / "logs")
    cb = kj_callbacks.TensorBoard(log_dir=log_dir, profile_batch=(2, 3))
    _fit(cb, _model(fake_model_cls), epochs=1, val=False)
    assert not cb._is_tracing and not cb._profiler_started
    traces = glob.glob(os.path.join(log_dir, "train", "plugins", "profile", "*", "*.xplane.pb"))
    assert len(traces) == 1


@pytest.mark.parametrize("bad", [-1, (3, 1), "a,b", (1, 2, 3), 1.5])
def test_profile_batch_validation(bad):
    with pytest.raises(ValueError, match="profile_batch must be"):
        kj_callbacks.TensorBoard(profile_batch=bad)


def test_profile_batch_string_form():
    cb = kj_callbacks.TensorBoard(profile_batch="2,4")
    assert (cb._start_batch, cb._stop_batch, cb._should_trace) == (2, 4, True)
    cb = kj_callbacks.TensorBoard()
    assert cb._should_trace is False


def test_embeddings(tmp_path, fake_model_cls):
    log_dir = str(tmp_path / "logs")
    model = _model(fake_model_cls)
    model.layers.append(type("Embedding", (FakeLayer,), {})("emb", []))
    cb = kj_callbacks.TensorBoard(
        log_dir=log_dir, embeddings_freq=1, embeddings_metadata={"emb": "meta.tsv"}
    )
    _fit(cb, model, epochs=2, val=False)
    with open(os.path.join(log_dir, "projector_config.pbtxt")) as f:
        config = f.read()
    assert 'metadata_path: "meta.tsv"' in config
    assert "layer_with_weights-0/embeddings" in config
    assert [os.path.basename(p) for _, p in model.saved] == [
        "keras_embedding.ckpt-0.weights.h5",
        "keras_embedding.ckpt-1.weights.h5",
    ]
    with pytest.raises(ValueError, match="Unrecognized `Embedding` layer names"):
        kj_callbacks.TensorBoard(
            log_dir=log_dir, embeddings_freq=1, embeddings_metadata={"nope": "m.tsv"}
        ).set_model(model)


def test_missing_tensorboardx_message(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "tensorboardX":
            raise ImportError("no tensorboardX")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match="pip install tensorboardX"):
        kj_callbacks.TensorBoard()
