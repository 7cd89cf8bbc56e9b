"""Base of the preprocessing layers that run on the host (NumPy), outside the compiled step."""

from __future__ import annotations

import jax
import numpy as np

from keras_on_jax.backend.keras_tensor import any_symbolic
from keras_on_jax.layers.layer import Layer


def to_numpy_input(inputs, name):
    """NumPy view of a host-layer input (Python lists, NumPy arrays, concrete JAX arrays)."""
    if isinstance(inputs, jax.core.Tracer):
        raise TypeError(
            f"Layer '{name}' runs on the host (NumPy) and cannot be called inside a "
            "compiled (jit-traced) function. Apply it to the data before the model, e.g. "
            "`x = layer(raw)` then `model.fit(x, ...)`."
        )
    if isinstance(inputs, np.ndarray):
        return inputs
    if isinstance(inputs, jax.Array):
        return np.asarray(inputs)
    if isinstance(inputs, (str, bytes)):
        return np.asarray(inputs, dtype=object)
    arr = np.asarray(inputs, dtype=object) if _has_strings(inputs) else np.asarray(inputs)
    return arr


def _has_strings(x):
    if isinstance(x, (str, bytes)):
        return True
    if isinstance(x, (list, tuple)):
        return any(_has_strings(v) for v in x[:1]) if x else False
    return False


def to_str_array(arr, encoding="utf-8"):
    """An object array of Python `str` from str/bytes/object arrays."""
    arr = np.asarray(arr)
    if arr.dtype.kind == "U":
        return arr.astype(object)
    out = np.empty(arr.shape, dtype=object)
    flat_in = arr.reshape(-1)
    flat_out = out.reshape(-1)
    for i, v in enumerate(flat_in):
        flat_out[i] = v.decode(encoding) if isinstance(v, bytes) else str(v)
    return out


class HostLayer(Layer):
    """A layer whose `call` runs eagerly on NumPy values.

    Calling it on a `KerasTensor` records the layer in a Functional graph (shapes from
    `compute_output_spec`); calling it on data runs `call` directly (no JAX tracing).
    Inside a jit-compiled function it raises a clear error.

    `_runs_on_host = True` marks it for the trainer: when such layers lead a Functional or
    Sequential model (their inputs are model inputs, e.g. `keras.Input(dtype="string")`),
    `fit`/`evaluate`/`predict` and the `*_on_batch` methods run them on each batch on the
    host (`Model._host_preprocess`) and feed their numeric outputs to the compiled step.
    """

    _runs_on_host = True

    def __call__(self, inputs, *args, **kwargs):
        if any_symbolic((inputs, args, kwargs)):
            return super().__call__(inputs, *args, **kwargs)
        kwargs.pop("training", None)
        kwargs.pop("mask", None)
        if not self.built:
            self.build(None)
            self.built = True
        return self.call(inputs, *args, **kwargs)
