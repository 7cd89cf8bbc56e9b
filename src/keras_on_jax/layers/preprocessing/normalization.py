"""`Normalization`: `(x - mean) / sqrt(var)`, with `adapt` computing mean and variance."""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import config, scopes
from keras_on_jax.layers.layer import Layer


def _extract_batch(batch):
    """`(x, y)` or `(x, y, sample_weight)` batches: keep `x`."""
    if isinstance(batch, tuple):
        return batch[0]
    return batch


def _is_array(x):
    return isinstance(x, (np.ndarray, jax.Array))


class Normalization(Layer):
    """A preprocessing layer that normalizes continuous features (`keras.layers.Normalization`).

    Shifts and scales inputs into a distribution centered around 0 with standard
    deviation 1: `(input - mean) / sqrt(var)` (or the inverse with `invert=True`). The mean
    and variance are either passed in (`mean=`, `variance=`) or computed by `adapt(data)`
    and then stored as the non-trainable weights `mean`, `variance`, `count` (saved with
    the model's weights). Runs inside the compiled step.

    Args:
        axis: integer, tuple of integers, or None: the axes that keep a separate mean and
            variance (default `-1`, the features); `None` for one scalar mean/variance.
        mean, variance: values to use instead of `adapt`; broadcast to the kept axes.
        invert: apply the inverse transformation (`mean + x * sqrt(var)`).
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.supports_masking = True
        self._build_input_shape = None
        self.mean = None
        self.variance = None
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "Normalization: when setting values directly, both `mean` and `variance` "
                f"must be set. Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "Normalization: when setting values directly, `mean` and `variance` "
                    f"must have the same shape. Received: mean shape {np.shape(mean)} and "
                    f"variance shape {np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    "Normalization: the rank of `mean` must be less than or equal to the "
                    f"number of axes ({len(self.axis)}). Received: mean shape "
                    f"{np.shape(mean)} for axis {self.axis}"
                )

    def build(self, input_shape):
        if input_shape is None:
            return
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        self._build_input_shape = input_shape
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                "Normalization: all `axis` values must be in the range [-ndim, ndim). "
                f"Received inputs with ndim={ndim}, while axis={self.axis}"
            )
        self._keep_axis = tuple(sorted(d if d >= 0 else d + ndim for d in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    "Normalization: all `axis` values to be kept must have a known shape. "
                    f"Received axis={self.axis}, inputs.shape={input_shape}, with unknown "
                    f"axis at index {d}"
                )
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=self._mean_and_var_shape,
                                              initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance",
                                                  shape=self._mean_and_var_shape,
                                                  initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int32",
                                         initializer="zeros", trainable=False)
        else:
            mean = jnp.asarray(self.input_mean)
            variance = jnp.asarray(self.input_variance)
            if mean.ndim == 0:
                mean = jnp.broadcast_to(mean, self._broadcast_shape)
                variance = jnp.broadcast_to(variance, self._broadcast_shape)
            else:
                expanded = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expanded[self._keep_axis[-i]] = mean.shape[-i]
                mean = jnp.broadcast_to(jnp.reshape(mean, expanded), self._broadcast_shape)
                variance = jnp.broadcast_to(jnp.reshape(variance, expanded), self._broadcast_shape)
            self.mean = np.asarray(mean.astype(self.compute_dtype))
            self.variance = np.asarray(variance.astype(self.compute_dtype))
        self.built = True

    def _stats(self):
        if self.input_mean is not None:
            return self.mean, self.variance
        mean = jnp.reshape(self.adapt_mean.value, self._broadcast_shape).astype(self.compute_dtype)
        var = jnp.reshape(self.adapt_variance.value, self._broadcast_shape).astype(self.compute_dtype)
        return mean, var

    def adapt(self, data):
        """Compute the mean and variance of `data` along the non-kept axes.

        Args:
            data: a NumPy/JAX array, or any iterable of batches (a list of arrays, a
                generator, a `PyDataset`-like object, `(x, y)` tuples keep `x`). Each
                element of an iterable is taken to be a batch.
        """
        if _is_array(data):
            input_shape = tuple(data.shape)
        elif hasattr(data, "__getitem__") and hasattr(data, "__len__") and not isinstance(data, (list, tuple)) and hasattr(data, "on_epoch_end"):
            input_shape = tuple(np.shape(_extract_batch(data[0])))
            data = (data[i] for i in range(len(data)))
        elif hasattr(data, "__iter__"):
            it = iter(data)
            first = next(it, None)
            if first is None:
                raise ValueError(
                    "Normalization.adapt() received an empty iterable (no batches). "
                    "Expected at least one batch, e.g. layer.adapt([x])."
                )
            first = _extract_batch(first)
            if not hasattr(first, "shape"):
                first = np.asarray(first)
            input_shape = tuple(first.shape)
            data = itertools.chain([first], it)
        else:
            raise TypeError(
                f"Normalization.adapt(): unsupported data type {type(data)}. Expected a "
                "NumPy/JAX array or an iterable of batches."
            )
        if not self.built:
            with scopes.NameScope(self.name):
                self.build(input_shape)
        else:
            for d in self._keep_axis:
                if input_shape[d] != self._build_input_shape[d]:
                    raise ValueError(
                        f"Normalization: the layer was built with input_shape="
                        f"{self._build_input_shape}, but adapt() is being called with data "
                        f"with an incompatible shape, data.shape={input_shape}"
                    )
        if self.input_mean is not None:
            raise ValueError("Normalization: `adapt` cannot be used when `mean` and "
                             "`variance` were passed to the constructor.")
        if isinstance(data, np.ndarray):
            total_mean = np.mean(data, axis=self._reduce_axis)
            total_var = np.var(data, axis=self._reduce_axis)
        elif isinstance(data, jax.Array):
            total_mean = jnp.mean(data, axis=self._reduce_axis)
            total_var = jnp.var(data, axis=self._reduce_axis)
        else:
            total_mean = jnp.zeros(self._mean_and_var_shape)
            total_var = jnp.zeros(self._mean_and_var_shape)
            total_count = 0
            for batch in data:
                batch = jnp.asarray(np.asarray(_extract_batch(batch)), dtype=self.compute_dtype)
                for d in self._keep_axis:
                    if batch.shape[d] != self._build_input_shape[d]:
                        raise ValueError(
                            "Normalization.adapt() yielded a batch with incompatible shape. "
                            f"Expected {self._build_input_shape}, got {tuple(batch.shape)}."
                        )
                batch_mean = jnp.mean(batch, axis=self._reduce_axis)
                batch_var = jnp.var(batch, axis=self._reduce_axis)
                batch_count = math.prod(batch.shape[d] for d in self._reduce_axis) if self._reduce_axis else 1
                total_count += batch_count
                batch_weight = float(batch_count) / total_count
                existing_weight = 1.0 - batch_weight
                new_mean = total_mean * existing_weight + batch_mean * batch_weight
                total_var = ((total_var + (total_mean - new_mean) ** 2) * existing_weight
                             + (batch_var + (batch_mean - new_mean) ** 2) * batch_weight)
                total_mean = new_mean
        self.adapt_mean.assign(jnp.asarray(total_mean, dtype=self.adapt_mean.dtype))
        self.adapt_variance.assign(jnp.asarray(total_var, dtype=self.adapt_variance.dtype))
        self.finalize_state()

    def finalize_state(self):
        """Kept for Keras compatibility: the statistics are read from the weights at call."""

    def call(self, inputs):
        if not self.built or (self.input_mean is None and not hasattr(self, "adapt_mean")):
            raise ValueError(
                "Normalization: you must call `.build(input_shape)` on the layer before "
                "using it."
            )
        inputs = jnp.asarray(inputs).astype(self.compute_dtype)
        mean, variance = self._stats()
        std = jnp.maximum(jnp.sqrt(variance), config.epsilon())
        if self.invert:
            return mean + inputs * std
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        base = super().get_config()
        base.update({
            "axis": self.axis,
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        })
        return base

    def get_build_config(self):
        if self._build_input_shape:
            return {"input_shape": self._build_input_shape}
        return None

    def build_from_config(self, config_):
        if config_ and not self.built:
            with scopes.NameScope(self.name):
                self.build(tuple(config_["input_shape"]))
