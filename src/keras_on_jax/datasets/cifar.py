"""CIFAR batch files (Python pickles of a dict of a NumPy array and lists), read with a
restricted unpickler."""

from __future__ import annotations

from keras_on_jax.datasets._npz_utils import RestrictedUnpickler


def load_batch(fpath, label_key="labels"):
    """`(data (N, 3, 32, 32) uint8, labels list)` from one CIFAR batch file."""
    with open(fpath, "rb") as f:
        d = RestrictedUnpickler(f, encoding="bytes").load()
    if not isinstance(d, dict):
        raise ValueError(f"Expected a CIFAR batch file holding a dict; {fpath} holds a "
                         f"{type(d).__name__}.")
    d = {(k.decode("utf8") if isinstance(k, bytes) else k): v for k, v in d.items()}
    data = d["data"]
    labels = d[label_key]
    data = data.reshape(data.shape[0], 3, 32, 32)
    return data, labels
