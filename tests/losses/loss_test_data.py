"""Loss test data shared by the loss tests: small targets and predictions of each kind,
seeded by the kind's name."""

import numpy as np

B, C = 6, 4


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _data(kind, from_logits=False):
    rng = np.random.default_rng(sum(map(ord, kind)))
    if kind == "reg":
        return rng.uniform(0.1, 2, (B, C)).astype("float32"), rng.uniform(0.1, 2, (B, C)).astype("float32")
    if kind == "binary":
        yt = rng.integers(0, 2, (B, C)).astype("float32")
        logits = rng.normal(size=(B, C)).astype("float32")
        return yt, logits if from_logits else (1 / (1 + np.exp(-logits))).astype("float32")
    if kind == "binary1":
        yt = rng.integers(0, 2, (B,)).astype("float32")
        return yt, rng.uniform(0.05, 0.95, (B, 1)).astype("float32")
    if kind == "cat":
        yt = np.eye(C, dtype="float32")[rng.integers(0, C, B)]
        logits = rng.normal(size=(B, C)).astype("float32")
        return yt, logits if from_logits else _softmax(logits).astype("float32")
    if kind == "sparse":
        yt = rng.integers(0, C, (B,)).astype("int32")
        logits = rng.normal(size=(B, C)).astype("float32")
        return yt, logits if from_logits else _softmax(logits).astype("float32")
    if kind == "sparse_col":
        yt = rng.integers(0, C, (B, 1)).astype("int32")
        logits = rng.normal(size=(B, C)).astype("float32")
        return yt, _softmax(logits).astype("float32")
    if kind == "hinge":
        return rng.choice([-1.0, 1.0], (B, C)).astype("float32"), rng.normal(size=(B, C)).astype("float32")
    if kind == "seg":
        return rng.integers(0, 2, (B, 3, 3, 1)).astype("float32"), rng.uniform(size=(B, 3, 3, 1)).astype("float32")
    raise ValueError(kind)
