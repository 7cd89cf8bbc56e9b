"""Shared oracle helpers for the metrics tests (real Keras 3 is the oracle)."""

import keras
import numpy as np

from keras_on_jax import metrics

B, C = 8, 4


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def _batches(kind, n=3, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        if kind == "reg":
            yt, yp = rng.uniform(0.1, 2, (B, C)), rng.uniform(0.1, 2, (B, C))
        elif kind == "binary":
            yt, yp = rng.integers(0, 2, (B, C)), rng.uniform(size=(B, C))
        elif kind == "binary1":
            yt, yp = rng.integers(0, 2, (B, 1)), rng.uniform(size=(B, 1))
        elif kind == "binary_flat":
            yt, yp = rng.integers(0, 2, (B,)), rng.uniform(size=(B,))
        elif kind == "logits":
            yt, yp = rng.integers(0, 2, (B, C)), rng.normal(size=(B, C))
        elif kind == "cat":
            yt, yp = np.eye(C)[rng.integers(0, C, B)], _softmax(rng.normal(size=(B, C)))
        elif kind == "sparse":
            yt, yp = rng.integers(0, C, (B,)), _softmax(rng.normal(size=(B, C)))
        elif kind == "sparse_col":
            yt, yp = rng.integers(0, C, (B, 1)), _softmax(rng.normal(size=(B, C)))
        elif kind == "labels":
            yt, yp = rng.integers(0, C, (B,)), rng.integers(0, C, (B,))
        elif kind == "onehot_scores":
            yt, yp = np.eye(C)[rng.integers(0, C, B)], rng.uniform(size=(B, C))
        elif kind == "hinge":
            yt, yp = rng.choice([-1.0, 1.0], (B, C)), rng.normal(size=(B, C))
        else:
            raise ValueError(kind)
        sw = rng.uniform(0, 2, (B,))
        out.append((np.asarray(yt, "float32"), np.asarray(yp, "float32"), sw.astype("float32")))
    return out


# IoU metrics have an int dtype by default: sample weights are cast (Keras warns on float).
_INT_WEIGHT = {"IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU"}


def _run(metric, batches, weighted):
    for yt, yp, sw in batches:
        if weighted:
            metric.update_state(yt, yp, sample_weight=sw)
        else:
            metric.update_state(yt, yp)
    return np.asarray(metric.result())


def check_metric_against_keras(name, kwargs, kind):
    batches = _batches(kind)
    if name in _INT_WEIGHT:
        batches = [(yt, yp, np.round(sw).astype("int32")) for yt, yp, sw in batches]
    for weighted in (False, True):
        ours = getattr(metrics, name)(**kwargs)
        ref = getattr(keras.metrics, name)(**kwargs)
        got = _run(ours, batches, weighted)
        want = _run(ref, batches, weighted)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"weighted={weighted}")
        # Variables: same names, shapes and values.
        assert [v.name for v in ours.variables] == [v.name for v in ref.variables]
        for a, b in zip(ours.variables, ref.variables):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)
    # Reset, then one batch again.
    ours.reset_state()
    ref.reset_state()
    for v in ours.variables:
        assert not np.any(np.asarray(v))
    np.testing.assert_allclose(_run(ours, batches[:1], False), _run(ref, batches[:1], False), rtol=1e-5, atol=1e-6)
    # Config: same keys and values as Keras (names may differ by auto-numbering), round trip.
    cfg, ref_cfg = ours.get_config(), ref.get_config()
    assert set(cfg) == set(ref_cfg)
    for key in cfg:
        if key in ("name", "label_weights"):
            continue
        assert cfg[key] == ref_cfg[key], key
    back = type(ours).from_config(cfg)
    assert back.get_config() == cfg


