"""`Sum`, `Mean` and `MeanMetricWrapper`."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.backend import config
from keras_on_jax.losses import loss as loss_module
from keras_on_jax.losses.loss import _divide_no_nan, _to_array
from keras_on_jax.metrics.metric import Metric


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype, mask=None):
    dtype = dtype or config.floatx()
    values = _to_array(values).astype(dtype)
    if sample_weight is not None:
        sample_weight = _to_array(sample_weight, dtype)
        if mask is not None:
            sample_weight = loss_module.apply_mask(sample_weight, mask, dtype=dtype, reduction="sum")
        values, sample_weight = loss_module.squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim = len(sample_weight.shape)
        values_ndim = len(values.shape)
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values_ndim)))
        sample_weight = jnp.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    values_ndim = len(values.shape)
    if values_ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values_ndim)))
    return values, sample_weight


class Sum(Metric):
    """Compute the (weighted) sum of the given values."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(
            values, sample_weight, reduce_fn=jnp.sum, dtype=self.dtype
        )
        self.total.assign_add(jnp.sum(values))

    def reset_state(self):
        self.total.assign(0)

    def result(self):
        return jnp.asarray(self.total.value, dtype=self.dtype)


class Mean(Metric):
    """Compute the (weighted) mean of the given values."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="count")

    def _update_with_mask(self, values, sample_weight=None, mask=None):
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, reduce_fn=jnp.mean, dtype=self.dtype, mask=mask
        )
        self.total.assign_add(jnp.sum(values))
        if sample_weight is not None:
            num_samples = jnp.sum(sample_weight)
        elif len(values.shape) >= 1:
            num_samples = values.shape[0]
        else:
            num_samples = 1
        self.count.assign_add(jnp.asarray(num_samples, dtype=self.dtype))

    def update_state(self, values, sample_weight=None):
        self._update_with_mask(values, sample_weight)

    def reset_state(self):
        self.total.assign(0)
        self.count.assign(0)

    def result(self):
        return _divide_no_nan(self.total.value, jnp.asarray(self.count.value, dtype=self.dtype))


class MeanMetricWrapper(Mean):
    """Wrap a stateless function `fn(y_true, y_pred, **kwargs)` into a `Mean` metric."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        from keras_on_jax import losses

        if self._fn in losses.ALL_OBJECTS or (
            hasattr(self._fn, "__class__") and self._fn.__class__ in losses.ALL_OBJECTS
        ):
            self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        from keras_on_jax.losses.losses import call_with_mask

        values, mask = call_with_mask(self._fn, y_true, y_pred, **self._fn_kwargs)
        # As in Keras, a mask on the values (e.g. `ignore_class`) only enters through the
        # sample weights, i.e. only when `sample_weight` is given.
        return self._update_with_mask(values, sample_weight=sample_weight, mask=mask)

    def get_config(self):
        from keras_on_jax.losses._serialization import serialize_object

        base_config = super().get_config()
        config = {"fn": serialize_object(self._fn, "keras.metrics")}
        config.update(serialize_object(self._fn_kwargs, "keras.metrics"))
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config and not callable(config["fn"]):
            from keras_on_jax.metrics import _deserialize_fn

            config["fn"] = _deserialize_fn(config["fn"])
        return cls(**config)
