"""`Discretization`: bucketize continuous features by bin boundaries (given or adapted)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import config
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.layers.layer import Layer
from keras_on_jax.layers.preprocessing._encoding import (
    OUTPUT_MODES,
    encode_categorical_inputs,
    encoded_shape,
)


class Discretization(Layer):
    """Buckets continuous features by ranges (`keras.layers.Discretization`).

    The bucketing runs in the compiled step (`jnp.digitize`); `adapt` runs on the host and
    computes approximate quantile boundaries exactly as Keras 3 does (the same summary /
    merge / compress algorithm), so adapted boundaries match real Keras.

    Args:
        bin_boundaries: sorted list of boundaries; `[0., 1., 2.]` gives buckets
            `(-inf, 0.)`, `[0., 1.)`, `[1., 2.)`, `[2., +inf)`.
        num_bins: number of bins to compute with `adapt` (instead of `bin_boundaries`).
        epsilon: error tolerance of the quantile approximation used by `adapt`.
        output_mode: `"int"` (default), `"one_hot"`, `"multi_hot"` or `"count"`.
        sparse: must be False.
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, dtype=None, name=None):
        super().__init__(name=name, dtype=dtype)
        if sparse:
            raise ValueError("Discretization: `sparse=True` is not supported by keras_on_jax. "
                             "Received: sparse=True")
        if output_mode not in OUTPUT_MODES:
            raise ValueError(
                f"Discretization: invalid value for argument output_mode. Expected one of "
                f"{OUTPUT_MODES}. Received: output_mode={output_mode!r}")
        if num_bins is not None and num_bins < 0:
            raise ValueError("Discretization: `num_bins` must be greater than or equal to 0. "
                             f"Received: `num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                "Discretization: both `num_bins` and `bin_boundaries` should not be set. "
                f"Received: `num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("Discretization: you need to set either `num_bins` or "
                             "`bin_boundaries`.")
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self.summary = None if bin_boundaries else np.array([[], []], dtype="float32")

    @property
    def input_dtype(self):
        return config.floatx()

    @property
    def output_dtype(self):
        return self.compute_dtype if self.output_mode != "int" else "int32"

    def adapt(self, data, steps=None):
        """Compute bin boundaries from quantiles of `data` (an array, or any iterable of
        batches; `steps` limits the number of batches read from an iterable)."""
        if self.num_bins is None:
            raise ValueError(
                "Cannot adapt a Discretization layer that has been initialized with "
                "`bin_boundaries`, use `num_bins` instead.")
        self.reset_state()
        if hasattr(data, "__iter__") and not isinstance(data, np.ndarray) and not hasattr(data, "__array__"):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                if isinstance(batch, tuple):
                    batch = batch[0]
                self.update_state(batch)
        else:
            self.update_state(data)
        self.finalize_state()

    def update_state(self, data):
        data = np.array(data).astype("float32")
        self.summary = _merge_summaries(_summarize(data, self.epsilon), self.summary,
                                        self.epsilon)

    def finalize_state(self):
        if self.num_bins is None:
            return
        self.bin_boundaries = _compress_summary(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def reset_state(self):
        if self.num_bins is None:
            return
        self.summary = np.array([[], []], dtype="float32")

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(
                "Discretization: you need to either pass the `bin_boundaries` argument at "
                "construction time or call `adapt(dataset)` before you can start using the "
                "`Discretization` layer.")
        x = jnp.asarray(inputs)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(self.input_dtype)
        indices = jnp.digitize(x, jnp.asarray(self.bin_boundaries, dtype=x.dtype))
        return encode_categorical_inputs(indices, self.output_mode,
                                         len(self.bin_boundaries) + 1, self.output_dtype)

    def compute_output_shape(self, input_shape):
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        return encoded_shape(input_shape, self.output_mode, depth)

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.output_dtype)

    def get_config(self):
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config_):
        config_ = dict(config_)
        if config_.get("bin_boundaries") is not None and config_.get("num_bins") is not None:
            boundaries = config_.pop("bin_boundaries")
            layer = cls(**config_)
            layer.bin_boundaries = boundaries
            return layer
        return cls(**config_)


def _summarize(values, epsilon):
    values = np.sort(np.reshape(values, [-1]))
    num_buckets = 1.0 / epsilon
    step = max(np.size(values) / num_buckets, 1)
    start = step - 1
    boundaries = values[int(start)::int(step)]
    weights = np.ones_like(boundaries) * step
    return np.stack([boundaries, weights])


def _merge_summaries(prev_summary, next_summary, epsilon):
    merged = np.concatenate((prev_summary, next_summary), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return _compress_summary(merged, epsilon)


def _compress_summary(summary, epsilon):
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")
