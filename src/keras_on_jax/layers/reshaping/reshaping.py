"""Reshaping layers: Reshape, Flatten, Permute, RepeatVector, Cropping*, UpSampling*,
ZeroPadding*."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from keras_on_jax.backend import config as _config
from keras_on_jax.layers.convolutional._utils import standardize_tuple
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer


# ---- Reshape ------------------------------------------------------------------------------
def _resolve_target_shape(input_shape, target_shape):
    """Fill the one `-1` of `target_shape` from `input_shape` (None when unknown)."""
    unknown = [i for i, d in enumerate(target_shape) if d == -1]
    if len(unknown) > 1:
        raise ValueError(
            "There must be at most one unknown dimension (-1) in target_shape. "
            f"Received: target_shape={target_shape}."
        )
    if not unknown:
        if None not in input_shape:
            if math.prod(input_shape) != math.prod(target_shape):
                raise ValueError(
                    "The total size of the tensor must be unchanged. Received: "
                    f"input_shape={tuple(input_shape)}, target_shape={tuple(target_shape)}"
                )
        return tuple(target_shape)
    out = list(target_shape)
    if None in input_shape:
        out[unknown[0]] = None
        return tuple(out)
    known = math.prod(d for d in target_shape if d != -1)
    total = math.prod(input_shape)
    if known == 0 or total % known != 0:
        raise ValueError(
            "The total size of the tensor must be unchanged. Received: "
            f"input_shape={tuple(input_shape)}, target_shape={tuple(target_shape)}"
        )
    out[unknown[0]] = total // known
    return tuple(out)


class Reshape(Layer):
    """Reshape the non-batch dimensions to `target_shape` (which may hold one `-1`)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        for d in target_shape:
            if not isinstance(d, int) or (d <= 0 and d != -1):
                raise ValueError(
                    "Reshape(target_shape=...) expects positive ints and at most one -1. "
                    f"Received: target_shape={target_shape}"
                )
        if target_shape.count(-1) > 1:
            raise ValueError(
                "There must be at most one unknown dimension (-1) in target_shape. "
                f"Received: target_shape={target_shape}"
            )
        self.target_shape = target_shape
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *_resolve_target_shape(tuple(input_shape)[1:], self.target_shape))

    def call(self, inputs):
        shape = _resolve_target_shape(tuple(inputs.shape)[1:], self.target_shape)
        return jnp.reshape(inputs, (inputs.shape[0], *shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Flatten(Layer):
    """Flatten all non-batch dimensions (channels_first inputs are moved to channels_last
    first, so that the order matches a channels_last model)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _config.standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self._channels_first = self.data_format == "channels_first"

    def call(self, inputs):
        rank = inputs.ndim
        if self._channels_first and rank > 1:
            inputs = jnp.transpose(inputs, (0, *range(2, rank), 1))
        return jnp.reshape(inputs, (inputs.shape[0], math.prod(inputs.shape[1:])))

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape)[1:]
        if not rest:
            flat = 1
        elif any(d is None for d in rest):
            flat = None
        else:
            flat = math.prod(rest)
        return (input_shape[0], flat)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Permute(Layer):
    """Permute the non-batch dimensions; `dims` is 1-indexed (e.g. `(2, 1)`)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices "
                f"in `dims` must be consecutive and start from 1. Received dims={dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def call(self, inputs):
        return jnp.transpose(inputs, (0, *self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeat a `(batch, features)` input `n` times: `(batch, n, features)`."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs):
        return jnp.repeat(inputs[:, None, :], self.n, axis=1)

    def get_config(self):
        return {**super().get_config(), "n": self.n}


# ---- Cropping / ZeroPadding ---------------------------------------------------------------
_ORDINALS = ("1st", "2nd", "3rd")


def _pairs(value, rank, what):
    """int, tuple of `rank` ints, or tuple of `rank` pairs -> tuple of `rank` pairs."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{what}` cannot be negative. Received: {what}={value}.")
        return ((value, value),) * rank
    if hasattr(value, "__len__"):
        if len(value) != rank:
            raise ValueError(
                f"`{what}` should have {rank} elements. Received: {what}={value}."
            )
        return tuple(
            standardize_tuple(v, 2, f"{_ORDINALS[i]} entry of {what}", allow_zero=True)
            for i, v in enumerate(value)
        )
    raise ValueError(
        f"`{what}` should be either an int, a tuple of {rank} ints, or a tuple of {rank} "
        f"tuples of 2 ints. Received: {what}={value}."
    )


def _spatial_axes(rank, data_format):
    return tuple(range(1, rank + 1)) if data_format == "channels_last" else tuple(
        range(2, rank + 2))


class _Cropping(Layer):
    _rank = 2

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _config.standardize_data_format(data_format)
        self.cropping = _pairs(cropping, self._rank, "cropping")
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def _axes(self):
        return _spatial_axes(self._rank, self.data_format)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, (a, b) in zip(self._axes(), self.cropping):
            if out[axis] is not None:
                out[axis] -= a + b
                if out[axis] <= 0:
                    raise ValueError(
                        "Values in `cropping` argument should be smaller than the "
                        "corresponding spatial dimension of the input. Received: "
                        f"input_shape={tuple(input_shape)}, cropping={self.cropping}"
                    )
        return tuple(out)

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)
        index = [slice(None)] * inputs.ndim
        for axis, (a, b) in zip(self._axes(), self.cropping):
            index[axis] = slice(a, inputs.shape[axis] - b)
        return inputs[tuple(index)]

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}


class Cropping1D(_Cropping):
    """Crop `(start, end)` steps from the time axis of a `(batch, steps, features)` input."""

    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        Layer.__init__(self, **kwargs)
        self.data_format = "channels_last"
        self.cropping = standardize_tuple(cropping, 2, "cropping", allow_zero=True)
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape):
        saved = self.cropping
        self.cropping = (saved,)
        try:
            return super().compute_output_shape(input_shape)
        finally:
            self.cropping = saved

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)
        return inputs[:, self.cropping[0]: inputs.shape[1] - self.cropping[1], :]

    def get_config(self):
        return {**Layer.get_config(self), "cropping": self.cropping}


class Cropping2D(_Cropping):
    """Crop `((top, bottom), (left, right))` from the spatial axes of images."""

    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crop the three spatial axes of volumes."""

    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)


class _ZeroPadding(Layer):
    _rank = 2

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _config.standardize_data_format(data_format)
        self.padding = _pairs(padding, self._rank, "padding")
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def _pad_pairs(self):
        return self.padding

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, (a, b) in zip(_spatial_axes(self._rank, self.data_format),
                                self._pad_pairs()):
            if out[axis] is not None:
                out[axis] += a + b
        return tuple(out)

    def call(self, inputs):
        pads = [(0, 0)] * inputs.ndim
        for axis, pair in zip(_spatial_axes(self._rank, self.data_format), self._pad_pairs()):
            pads[axis] = tuple(pair)
        return jnp.pad(inputs, pads)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """Pad the time axis with zeros: `padding` is an int or `(left, right)`."""

    _rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        Layer.__init__(self, **kwargs)
        self.data_format = _config.standardize_data_format(data_format)
        self.padding = standardize_tuple(padding, 2, "padding", allow_zero=True)
        self.input_spec = InputSpec(ndim=3)

    def _pad_pairs(self):
        return (self.padding,)


class ZeroPadding2D(_ZeroPadding):
    """Pad rows and columns of images with zeros."""

    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Pad the three spatial axes of volumes with zeros."""

    _rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


# ---- UpSampling -----------------------------------------------------------------------------
class UpSampling1D(Layer):
    """Repeat each time step `size` times."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}.")
        if size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: size={size}")
        self.size = size
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else self.size * input_shape[1]
        return (input_shape[0], steps, input_shape[2])

    def call(self, inputs):
        return jnp.repeat(inputs, self.size, axis=1)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


_RESIZE_METHODS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


class UpSampling2D(Layer):
    """Upsample images by `size`: `interpolation="nearest"` repeats rows and columns,
    other values (`"bilinear"`, ...) resize with `jax.image.resize`."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = _config.standardize_data_format(data_format)
        self.size = standardize_tuple(size, 2, "size")
        self.interpolation = interpolation.lower()
        if self.interpolation not in _RESIZE_METHODS:
            raise ValueError(
                f"UpSampling2D(interpolation=...) must be one of {_RESIZE_METHODS}. "
                f"Received: interpolation={interpolation!r}"
            )
        self.input_spec = InputSpec(ndim=4)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, f in zip(_spatial_axes(2, self.data_format), self.size):
            if out[axis] is not None:
                out[axis] *= f
        return tuple(out)

    def call(self, inputs):
        x = inputs
        if self.data_format == "channels_first":
            x = jnp.transpose(x, (0, 2, 3, 1))
        if self.interpolation == "nearest":
            x = jnp.repeat(x, self.size[0], axis=1)
            x = jnp.repeat(x, self.size[1], axis=2)
        else:
            n, h, w, c = x.shape
            x = jax.image.resize(x, (n, h * self.size[0], w * self.size[1], c),
                                 method=self.interpolation, antialias=False)
        if self.data_format == "channels_first":
            x = jnp.transpose(x, (0, 3, 1, 2))
        return x

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


class UpSampling3D(Layer):
    """Repeat the three spatial axes of volumes by `size`."""

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _config.standardize_data_format(data_format)
        self.size = standardize_tuple(size, 3, "size")
        self.input_spec = InputSpec(ndim=5)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, f in zip(_spatial_axes(3, self.data_format), self.size):
            if out[axis] is not None:
                out[axis] *= f
        return tuple(out)

    def call(self, inputs):
        x = inputs
        for axis, f in zip(_spatial_axes(3, self.data_format), self.size):
            x = jnp.repeat(x, f, axis=axis)
        return x

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}
