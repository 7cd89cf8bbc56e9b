"""Small utilities: seeding, one-hot encoding, normalization, clearing state."""

from __future__ import annotations

import random

import numpy as np

# One function for `keras.utils.clear_session` and `keras.backend.clear_session`, as in
# Keras 3; it resets backend state only, so it lives in the backend.
from keras_on_jax.backend.public import clear_session as clear_session


def set_random_seed(seed):
    """Seed Python's `random`, NumPy and this package's generators with one integer."""
    if not isinstance(seed, (int, np.integer)):
        raise ValueError(
            f"Expected `seed` argument to be an integer. Received: seed={seed} (of type {type(seed)})"
        )
    from keras_on_jax.backend import random as backend_random

    random.seed(seed)
    np.random.seed(seed)
    backend_random.reset_global_seed_generator()
    backend_random.global_seed_generator()


def to_categorical(x, num_classes=None):
    """One-hot encode integer class labels (`num_classes` default: max label + 1)."""
    x = np.array(x, dtype="int64")
    input_shape = x.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    x = x.reshape(-1)
    if num_classes is None:
        num_classes = int(np.max(x)) + 1
    out = np.zeros((x.shape[0], num_classes), dtype="float32")
    out[np.arange(x.shape[0]), x] = 1
    return out.reshape(input_shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Normalize an array along `axis` to unit `order`-norm."""
    x = np.asarray(x, dtype="float32") if not hasattr(x, "dtype") else x
    import jax.numpy as jnp

    norm = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    out = x / jnp.where(norm == 0, 1, norm)
    return np.asarray(out) if isinstance(x, np.ndarray) else out


def get_source_inputs(tensor):
    """The `keras.Input` tensors a symbolic tensor was computed from."""
    from keras_on_jax.backend.keras_tensor import KerasTensor

    if not isinstance(tensor, KerasTensor) or tensor._keras_history is None:
        return [tensor]
    layer, node_index, _ = tensor._keras_history
    node = layer._inbound_nodes[node_index]
    if node.is_input:
        return [tensor]
    out = []
    for t in node.input_tensors:
        for s in get_source_inputs(t):
            if all(s is not o for o in out):
                out.append(s)
    return out
