"""The `Loss` base class and the reduction helpers Keras 3 uses for losses and metrics."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.backend import config, dtype_policies, naming, stateful_jit
from keras_on_jax.backend.variables import Variable

_ALLOWED_REDUCTIONS = (
    "sum_over_batch_size",
    "sum",
    None,
    "none",
    "mean",
    "mean_with_sample_weight",
)


def _to_array(x, dtype=None):
    """Convert array-likes and Variables to a jax array, optionally casting."""
    if isinstance(x, Variable):
        x = x.get_value()
    if dtype is not None:
        return jnp.asarray(x, dtype=dtype)
    return jnp.asarray(x)


def _map_structure(fn, *structs):
    first = structs[0]
    if isinstance(first, dict):
        return {k: _map_structure(fn, *[s[k] for s in structs]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_map_structure(fn, *items) for items in zip(*structs))
    return fn(*structs)


class Loss:
    """Loss base class.

    Args:
        name: optional name for the loss instance (default: the snake-cased class name,
            made unique).
        reduction: one of `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"`, `"none"` or `None`.
        dtype: the dtype of the loss computations (default `keras.config.floatx()`); a
            dtype policy contributes its compute dtype.

    Subclasses implement `call(y_true, y_pred)` returning the per-sample losses.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or naming.auto_name(naming.to_snake_case(self.__class__.__name__))
        self.reduction = standardize_reduction(reduction)
        self._dtype_policy = dtype_policies.get(dtype or config.floatx())
        self._dtype = self._dtype_policy.compute_dtype

    @property
    def dtype(self):
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        # Called eagerly again with the same shapes: one compiled program (stateful_jit).
        out = stateful_jit.call_method(self, Loss._compute, y_true, y_pred, sample_weight)
        if out is stateful_jit.NOT_COMPILED:
            out = self._compute(y_true, y_pred, sample_weight)
        return out

    def _compute(self, y_true, y_pred, sample_weight=None):
        y_pred = _map_structure(lambda x: _to_array(x, self.dtype), y_pred)
        y_true = _map_structure(lambda x: _to_array(x, self.dtype), y_true)
        losses, mask = self._call_with_mask(y_true, y_pred)
        return reduce_weighted_values(
            losses,
            sample_weight=sample_weight,
            mask=mask,
            reduction=self.reduction,
            dtype=self.dtype,
        )

    def _call_with_mask(self, y_true, y_pred):
        """Return `(losses, mask)`; `mask` (or None) plays the role of Keras's
        `_keras_mask` on the loss values (e.g. `ignore_class`)."""
        return self.call(y_true, y_pred), None

    def call(self, y_true, y_pred):
        raise NotImplementedError(
            f"Loss subclass {self.__class__.__name__} must implement `call(y_true, y_pred)`."
        )

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _obj_type(self):
        return "Loss"


def standardize_reduction(reduction):
    if reduction not in _ALLOWED_REDUCTIONS:
        raise ValueError(
            "Invalid value for argument `reduction`. Expected one of "
            f"{set(_ALLOWED_REDUCTIONS)}. Received: reduction={reduction}"
        )
    return reduction


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Squeeze/expand the last dim of one input if the ranks differ by exactly 1."""
    x1_rank = len(x1.shape)
    x2_rank = len(x2.shape)
    if x1_rank == x2_rank:
        return x1, x2
    if x1_rank == x2_rank + 1 and x1.shape[-1] == 1:
        if x2_rank == 1 and expand_rank_1:
            x2 = jnp.expand_dims(x2, axis=-1)
        else:
            x1 = jnp.squeeze(x1, axis=-1)
    if x2_rank == x1_rank + 1 and x2.shape[-1] == 1:
        if x1_rank == 1 and expand_rank_1:
            x1 = jnp.expand_dims(x1, axis=-1)
        else:
            x2 = jnp.squeeze(x2, axis=-1)
    return x1, x2


def _divide_no_nan(x, y):
    safe_y = jnp.where(y == 0, jnp.ones_like(y), y)
    return jnp.where(y == 0, jnp.zeros_like(x * safe_y), x / safe_y)


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    if (
        reduction is None
        or reduction == "none"
        or tuple(values.shape) == ()
        or tuple(values.shape) == (0,)
    ):
        return values
    loss = jnp.sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = jnp.sum(sample_weight).astype(loss.dtype)
        else:
            divisor = jnp.asarray(int(values.size), dtype=loss.dtype)
        loss = _divide_no_nan(loss, divisor)
    return loss


def reduce_weighted_values(
    values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None
):
    reduction = standardize_reduction(reduction)
    values = _to_array(values, dtype)
    if sample_weight is not None:
        sample_weight = _to_array(sample_weight, dtype)
    if mask is not None:
        mask = _to_array(mask, dtype)
    sample_weight = apply_mask(sample_weight, mask, dtype=values.dtype, reduction=reduction)
    if sample_weight is not None:
        sample_weight = sample_weight.astype(values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


def apply_mask(sample_weight, mask, dtype, reduction):
    """Merge a mask into the sample weights, as Keras 3 does."""
    if mask is None:
        return sample_weight
    mask = _to_array(mask)
    if reduction in ("mean", "sum_over_batch_size"):
        total = jnp.asarray(int(mask.size), dtype=dtype)
        valid = jnp.sum(mask.astype(dtype))
        mask_weight = _divide_no_nan(total, valid)
        float_mask = jnp.where(mask.astype(bool), mask_weight, jnp.zeros((), dtype))
    else:
        float_mask = mask.astype(dtype)
    if sample_weight is not None:
        sample_weight = _to_array(sample_weight, dtype)
        float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
        sample_weight = sample_weight * float_mask
    else:
        sample_weight = float_mask
    return sample_weight


def scale_loss_for_distribution(value):
    """Identity on JAX (Keras only rescales under `tf.distribute`)."""
    return value


def unscale_loss_for_distribution(value):
    """Identity on JAX (Keras only rescales under `tf.distribute`)."""
    return value
