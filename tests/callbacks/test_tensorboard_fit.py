"""TensorBoard through fit: event files under train/ and validation/ match History."""

import numpy as np
import pytest

import keras_on_jax as kj

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _scalars(path, tag):
    acc = event_accumulator.EventAccumulator(str(path), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    if tag in tags.get("scalars", []):
        return [(e.step, e.value) for e in acc.Scalars(tag)]
    if tag in tags.get("tensors", []):
        return [(e.step, float(np.asarray(
            np.frombuffer(e.tensor_proto.tensor_content, np.float32)
            if e.tensor_proto.tensor_content else e.tensor_proto.float_val).reshape(-1)[0]))
            for e in acc.Tensors(tag)]
    raise AssertionError(f"tag {tag!r} not in {tags}")


def test_fit_writes_train_and_validation_events_equal_to_history(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype("float32")
    y = x @ np.array([[1.0], [-1.0], [0.5]], "float32")
    kj.utils.set_random_seed(0)
    model = kj.Sequential([kj.Input((3,)), kj.layers.Dense(1)])
    model.compile(optimizer=kj.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    log_dir = tmp_path / "logs"
    hist = model.fit(x, y, batch_size=8, epochs=3, validation_split=0.25, verbose=0,
                     callbacks=[kj.callbacks.TensorBoard(str(log_dir))])
    assert (log_dir / "train").is_dir() and (log_dir / "validation").is_dir()
    for split, prefix in (("train", ""), ("validation", "val_")):
        for metric in ("loss", "mae"):
            got = _scalars(log_dir / split, f"epoch_{metric}")
            assert [s for s, _ in got] == [0, 1, 2]
            np.testing.assert_allclose([v for _, v in got], hist.history[prefix + metric],
                                       rtol=1e-6)
