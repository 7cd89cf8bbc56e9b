"""`LayerNormalization`, `GroupNormalization`, `UnitNormalization`."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp

from keras_on_jax import constraints, initializers, regularizers
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer


def _check_axes(axis, input_shape, message_axis=None):
    axes = [axis] if isinstance(axis, int) else axis
    for a in axes:
        if a >= len(input_shape) or a < -len(input_shape):
            raise ValueError(
                f"Axis {a} is out of bounds for input shape {input_shape}. "
                f"Received: axis={axis if message_axis is None else message_axis}"
            )
    return input_shape


def _moments(x, axes):
    mean = jnp.mean(x, axes, keepdims=True)
    variance = jnp.var(x, axis=axes, keepdims=True)
    return mean, variance


class _NormBase(Layer):
    def _add_gamma_beta(self, shape, gamma, beta):
        self.gamma = None
        self.beta = None
        if gamma:
            self.gamma = self.add_weight(
                name="gamma", shape=shape, initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                trainable=True, autocast=False,
            )
        if beta:
            self.beta = self.add_weight(
                name="beta", shape=shape, initializer=self.beta_initializer,
                regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                trainable=True, autocast=False,
            )

    def _norm_config(self):
        return {
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }

    def _set_norm_args(self, beta_initializer, gamma_initializer, beta_regularizer,
                       gamma_regularizer, beta_constraint, gamma_constraint):
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def compute_output_shape(self, input_shape):
        return _check_axes(self.axis, input_shape)


class LayerNormalization(_NormBase):
    """Normalizes each example over `axis` (mean 0, variance 1), then scales and shifts.

    Args:
        axis: int or list of ints, the axes to normalize (default -1).
        epsilon: added to the variance (1e-3).
        center, scale: whether to learn `beta` / `gamma`.
        rms_scaling: deprecated Keras flag: scale by the inverse standard deviation
            without centering (no `beta`).
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: for the weights.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn(
                "You passed `rms_scaling=True`, which is deprecated. This argument "
                "incorrectly scales the input by the variance, not the root mean square. "
                "To correctly use RMS Normalization, please use "
                "`keras.layers.RMSNormalization` instead.", stacklevel=2,
            )
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(
                "Expected an int or a list/tuple of ints for the argument 'axis', but "
                f"received: {axis!r}"
            )
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.rms_scaling = rms_scaling
        self._set_norm_args(beta_initializer, gamma_initializer, beta_regularizer,
                            gamma_regularizer, beta_constraint, gamma_constraint)
        self.supports_masking = True
        self.autocast = False

    def build(self, input_shape):
        _check_axes(self.axis, input_shape)
        if isinstance(self.axis, (list, tuple)):
            self.axis = sorted(self.axis)
            shape = tuple(input_shape[d] for d in self.axis)
        else:
            shape = (input_shape[self.axis],)
            self.axis = [self.axis]
        self._add_gamma_beta(shape, self.scale or self.rms_scaling,
                             self.center and not self.rms_scaling)
        self.built = True

    def call(self, inputs):
        original = inputs.dtype
        x = inputs.astype(jnp.result_type(inputs.dtype, jnp.float32))
        ndim = x.ndim
        axis = sorted([self.axis] if isinstance(self.axis, int) else self.axis)
        axes = tuple(a % ndim for a in axis)
        bshape = [1] * ndim
        for a in axes:
            bshape[a] = x.shape[a]

        def b(v):
            return None if v is None else jnp.reshape(v.value.astype(x.dtype), bshape)

        gamma, beta = b(self.gamma), b(self.beta)
        if self.rms_scaling:
            inv = jax.lax.rsqrt(jnp.var(x, axis=axes, keepdims=True) + self.epsilon)
            out = x * inv
            if gamma is not None:
                out = out * gamma
        else:
            mean, variance = _moments(x, axes)
            inv = jax.lax.rsqrt(variance + self.epsilon)
            if gamma is not None:
                inv = inv * gamma
            res = -mean * inv
            if beta is not None:
                res = res + beta
            out = x * inv + res
        return out.astype(original).astype(self.compute_dtype)

    def get_config(self):
        config = {
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            **self._norm_config(),
        }
        return {**super().get_config(), **config}


class GroupNormalization(_NormBase):
    """Group normalization: normalizes over groups of channels for each example.

    Args:
        groups: number of groups (the channels must divide into them); -1 for instance
            normalization (one group per channel).
        axis: the channels axis (default -1).
        epsilon, center, scale, and the initializers/regularizers/constraints of
            `gamma`/`beta`: as `LayerNormalization`.
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        if not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(
                "Received an invalid value for argument `groups`, expected a positive "
                f"integer (or `-1` for instance normalization). Received: groups={groups}"
            )
        super().__init__(**kwargs)
        self.supports_masking = True
        self.autocast = False
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self._set_norm_args(beta_initializer, gamma_initializer, beta_regularizer,
                            gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of input tensor should have a defined dimension but "
                f"the layer received an input with shape {input_shape}."
            )
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) cannot be more than the number of "
                f"channels ({dim})."
            )
        if dim % self.groups != 0:
            raise ValueError(
                f"Number of groups ({self.groups}) must be a multiple of the number of "
                f"channels ({dim})."
            )
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        self._add_gamma_beta((dim,), self.scale, self.center)
        self.built = True

    def call(self, inputs):
        shape = inputs.shape
        ndim = len(shape)
        axis = self.axis % ndim
        group_shape = list(shape)
        group_shape[axis] = shape[axis] // self.groups
        group_shape.insert(axis, self.groups)
        x = jnp.reshape(inputs, group_shape)
        in_dtype = x.dtype
        x = x.astype(jnp.result_type(in_dtype, jnp.float32))
        reduction = list(range(1, len(group_shape)))
        reduction.remove(axis)  # the groups axis (at `axis` after insertion)
        bshape = [1] * ndim
        bshape[axis] = shape[axis] // self.groups
        bshape.insert(axis, self.groups)
        mean, variance = _moments(x, tuple(reduction))
        inv = jax.lax.rsqrt(variance + self.epsilon)
        if self.scale:
            inv = inv * jnp.reshape(self.gamma.value, bshape).astype(x.dtype)
        res = -mean * inv
        if self.center:
            res = res + jnp.reshape(self.beta.value, bshape).astype(x.dtype)
        out = (x * inv + res).astype(in_dtype)
        return jnp.reshape(out, shape).astype(self.compute_dtype)

    def get_config(self):
        config = {
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **self._norm_config(),
        }
        return {**super().get_config(), **config}


class UnitNormalization(Layer):
    """Scales each input so that its L2 norm over `axis` is 1.

    Args:
        axis: int or list of ints (default -1).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(
                "Invalid value for `axis` argument: expected an int or a list/tuple of "
                f"ints. Received: axis={axis}"
            )
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        x = inputs
        if x.ndim == 0:
            x = x[None]
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        square_sum = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
        inv_norm = jnp.minimum(jax.lax.rsqrt(square_sum), 1.0 / 1e-12)
        return x * inv_norm

    def compute_output_shape(self, input_shape):
        return _check_axes(self.axis, input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
