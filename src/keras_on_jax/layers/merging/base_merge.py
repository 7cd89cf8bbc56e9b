"""The merge layers: combine a list of tensors into one.

Inputs of different ranks are aligned by inserting axes after the batch axis; masks
(boolean, one per time step) are merged with a logical OR, as in Keras.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from keras_on_jax.backend import config as _config
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.layers.layer import Layer, get_keras_mask, set_keras_mask


def _is_symbolic(x):
    return isinstance(x, KerasTensor)


def _input_masks(inputs, mask):
    """The masks of `inputs`: `mask` when given, else those attached to the tensors.

    (The base Layer only forwards masks to layers whose `call` takes `mask`; merge
    layers read them off their inputs, as Keras's `Layer.__call__` does.)
    """
    if mask is None or not isinstance(mask, (list, tuple)):
        if not isinstance(inputs, (list, tuple)):
            return None
        mask = [get_keras_mask(x) for x in inputs]
    return list(mask)


class Merge(Layer):
    """Base class of the merge layers (`Add`, `Concatenate`, `Dot`, ...)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._reshape_required = False

    def _merge_function(self, inputs):
        raise NotImplementedError

    def _apply_merge_op_and_or_mask(self, op_fn, inputs):
        output = None
        output_mask = None
        for x in inputs:
            mask = get_keras_mask(x)
            if mask is not None:
                mask = jnp.broadcast_to(jnp.expand_dims(mask, -1), jnp.shape(x))
            if output is None:
                output, output_mask = x, mask
                continue
            if mask is not None:
                x = jnp.where(mask, x, output)
            if output_mask is not None:
                output = jnp.where(output_mask, output, x)
            if mask is not None and output_mask is not None:
                output_mask = jnp.logical_or(output_mask, mask)
            else:
                output_mask = None
            output = op_fn(output, x)
        if output_mask is not None:
            set_keras_mask(output, jnp.any(output_mask, axis=-1))
        return output

    @staticmethod
    def _compute_elemwise_op_output_shape(shape1, shape2):
        if shape1 is None or shape2 is None:
            return None
        if len(shape1) < len(shape2):
            return Merge._compute_elemwise_op_output_shape(shape2, shape1)
        if not shape2:
            return tuple(shape1)
        out = list(shape1[: len(shape1) - len(shape2)])
        for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
            if i is None or j is None:
                out.append(None)
            elif i == 1:
                out.append(j)
            elif j == 1:
                out.append(i)
            elif i != j:
                raise ValueError(
                    f"Inputs have incompatible shapes. Received shapes {tuple(shape1)} and "
                    f"{tuple(shape2)}"
                )
            else:
                out.append(i)
        return tuple(out)

    def _check_list(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(
                input_shape[0], (tuple, list)):
            raise ValueError(
                f"A merge layer ({type(self).__name__}) should be called on a list of inputs. "
                f"Received: input_shape={input_shape} (not a list of shapes)"
            )

    def build(self, input_shape):
        self._check_list(input_shape)
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                "Cannot merge tensors with different batch sizes. Received tensors with "
                f"shapes {list(input_shape)}"
            )
        output_shape = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            output_shape = self._compute_elemwise_op_output_shape(output_shape,
                                                                  tuple(shape[1:]))
        self._reshape_required = len({len(s) for s in input_shape}) != 1
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A merge layer ({type(self).__name__}) should be called on a list of inputs. "
                f"Received: inputs={inputs} (not a list of tensors)"
            )
        if self._reshape_required:
            max_ndim = max(jnp.ndim(x) for x in inputs)
            reshaped = []
            for x in inputs:
                mask = get_keras_mask(x)
                y = x
                for _ in range(max_ndim - jnp.ndim(x)):
                    y = jnp.expand_dims(y, 1)
                if mask is not None and y is not x:
                    set_keras_mask(y, mask)
                reshaped.append(y)
            inputs = reshaped
        return self._merge_function(list(inputs))

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        output_shape = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            output_shape = self._compute_elemwise_op_output_shape(output_shape,
                                                                  tuple(shape[1:]))
        batch_sizes = {s[0] for s in input_shape if s is not None} - {None}
        batch = next(iter(batch_sizes)) if len(batch_sizes) == 1 else None
        return (batch, *output_shape)

    def compute_mask(self, inputs, mask=None):
        masks = _input_masks(inputs, mask)
        if masks is None or any(m is None for m in masks):
            return None
        if len(masks) != len(inputs):
            raise ValueError(
                "The lists `inputs` and `mask` should have the same length. Received: "
                f"{len(inputs)} inputs and {len(masks)} masks."
            )
        if any(_is_symbolic(m) for m in masks):
            return KerasTensor(masks[0].shape, dtype="bool")
        out = masks[0]
        for m in masks[1:]:
            out = jnp.logical_or(out, m)
        return out

    def get_config(self):
        return super().get_config()


class Add(Merge):
    """Element-wise sum of a list of inputs (of broadcast-compatible shapes)."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = jnp.add(out, x)
        return out


class Subtract(Merge):
    """`inputs[0] - inputs[1]`, for exactly two inputs."""

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                "A `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: input_shape={list(input_shape)}"
            )

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(
                "A `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: {len(inputs)} inputs"
            )
        return jnp.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """Element-wise product; masked positions count as 1 (and 0 in a fully masked output)."""

    def _merge_function(self, inputs):
        masks = [get_keras_mask(x) for x in inputs]
        has_output_mask = all(m is not None for m in masks)
        output = None
        output_mask = None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = jnp.broadcast_to(jnp.expand_dims(mask, -1), jnp.shape(x))
                x = jnp.where(mask, x, jnp.asarray(1, x.dtype))
                if has_output_mask:
                    output_mask = mask if output_mask is None else jnp.logical_or(output_mask,
                                                                                  mask)
            output = x if output is None else jnp.multiply(output, x)
        if has_output_mask:
            output = jnp.where(output_mask, output, jnp.asarray(0, output.dtype))
            set_keras_mask(output, jnp.any(output_mask, axis=-1))
        return output


class Average(Merge):
    """Element-wise mean of a list of inputs."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = jnp.add(out, x)
        return out / len(inputs)


class Maximum(Merge):
    """Element-wise maximum of a list of inputs."""

    def _merge_function(self, inputs):
        return self._apply_merge_op_and_or_mask(jnp.maximum, inputs)


class Minimum(Merge):
    """Element-wise minimum of a list of inputs."""

    def _merge_function(self, inputs):
        return self._apply_merge_op_and_or_mask(jnp.minimum, inputs)


class Concatenate(Merge):
    """Concatenate a list of inputs along `axis` (default: the last one)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True
        self._reshape_required = False

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(
                input_shape[0], (tuple, list)):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of at least 1 input. "
                f"Received: input_shape={input_shape}"
            )
        ranks = {len(s) for s in input_shape}
        err = ("A `Concatenate` layer requires inputs with matching shapes except for the "
               f"concatenation axis. Received: input_shape={list(input_shape)}")
        if len(ranks) != 1:
            raise ValueError(err)
        (rank,) = ranks
        axis = self.axis % rank
        for i in range(rank):
            if i == axis:
                continue
            dims = {s[i] for s in input_shape if s[i] is not None}
            if len(dims) > 1:
                raise ValueError(err)
        self.built = True

    def call(self, inputs):
        return jnp.concatenate(list(inputs), axis=self.axis)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(
                input_shape[0], (tuple, list)):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of inputs. "
                f"Received: input_shape={input_shape}"
            )
        out = list(input_shape[0])
        for shape in input_shape[1:]:
            if out[self.axis] is None or shape[self.axis] is None:
                out[self.axis] = None
                break
            out[self.axis] += shape[self.axis]
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        masks = _input_masks(inputs, mask)
        if masks is None or all(m is None for m in masks):
            return None
        if len(masks) != len(inputs):
            raise ValueError(
                "The lists `inputs` and `mask` should have the same length. Received: "
                f"{len(inputs)} inputs and {len(masks)} masks."
            )
        if any(_is_symbolic(x) for x in inputs):
            shape = self.compute_output_shape([tuple(x.shape) for x in inputs])
            return KerasTensor(shape[:-1], dtype="bool")
        full = []
        for x, m in zip(inputs, masks):
            if m is None:
                full.append(jnp.ones(jnp.shape(x), bool))
            elif jnp.ndim(m) < jnp.ndim(x):
                full.append(jnp.broadcast_to(jnp.expand_dims(m, -1), jnp.shape(x)))
            else:
                full.append(jnp.asarray(m, bool))
        return jnp.any(jnp.concatenate(full, axis=self.axis), axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _l2_normalize(x, axis):
    square_sum = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
    inv_norm = jnp.minimum(jax.lax.rsqrt(square_sum), 1.0 / _config.epsilon())
    return x * inv_norm


def batch_dot(x, y, axes):
    """Batched dot product of `x` and `y` over `axes = (axis_of_x, axis_of_y)`."""
    x_ndim, y_ndim = jnp.ndim(x), jnp.ndim(y)
    if x_ndim < 2 or y_ndim < 2:
        raise ValueError(
            "Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes "
            f"{jnp.shape(x)} and {jnp.shape(y)}."
        )
    a0, a1 = axes
    if 0 in (a0, a1):
        raise ValueError(
            "Cannot perform batch_dot over axis 0. If your inputs are not batched, add a "
            "dummy batch dimension to your inputs using keras.ops.expand_dims(x, 0)"
        )
    if x.shape[a0] != y.shape[a1]:
        raise ValueError(
            f"Cannot do batch_dot on inputs with shapes {x.shape} and {y.shape} with "
            f"axes={list(axes)}. x.shape[{a0}] != y.shape[{a1}] ({x.shape[a0]} != "
            f"{y.shape[a1]})."
        )
    out = jax.lax.dot_general(x, y, (((a0,), (a1,)), ((0,), (0,))))
    if x_ndim == 2 and y_ndim == 2:
        out = jnp.expand_dims(out, -1)
    return out


class Dot(Merge):
    """Batched dot product of two inputs along `axes` (an int or a pair of ints);
    `normalize=True` L2-normalizes both along those axes first (cosine proximity)."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(
                    "Invalid type for argument `axes`: it should be a list or an int. "
                    f"Received: axes={axes}"
                )
            if len(axes) != 2:
                raise ValueError(
                    "Invalid format for argument `axes`: it should contain two elements. "
                    f"Received: axes={axes}"
                )
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError(
                    "Invalid format for argument `axes`: list elements should be integers. "
                    f"Received: axes={axes}"
                )
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True
        self._reshape_required = False

    def _resolve_axes(self, rank1, rank2):
        if isinstance(self.axes, int):
            if self.axes < 0:
                return [self.axes % rank1, self.axes % rank2]
            return [self.axes] * 2
        return [a % r if a < 0 else a for a, r in zip(self.axes, (rank1, rank2))]

    def build(self, input_shape):
        if not isinstance(input_shape[0], (tuple, list)) or len(input_shape) != 2:
            raise ValueError(
                "A `Dot` layer should be called on a list of 2 inputs. "
                f"Received: input_shape={input_shape}"
            )
        shape1, shape2 = input_shape
        axes = self._resolve_axes(len(shape1), len(shape2))
        if shape1[axes[0]] != shape2[axes[1]]:
            raise ValueError(
                f"Incompatible input shapes: axis values {shape1[axes[0]]} (at axis "
                f"{axes[0]}) != {shape2[axes[1]]} (at axis {axes[1]}). Full input shapes: "
                f"{tuple(shape1)}, {tuple(shape2)}"
            )
        self.built = True

    def call(self, inputs):
        if len(inputs) != 2:
            raise ValueError(
                f"A `Dot` layer should be called on exactly 2 inputs. Received: {len(inputs)}"
            )
        x1, x2 = inputs
        axes = self._resolve_axes(jnp.ndim(x1), jnp.ndim(x2))
        if self.normalize:
            x1 = _l2_normalize(x1, axes[0])
            x2 = _l2_normalize(x2, axes[1])
        return batch_dot(x1, x2, axes)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 2:
            raise ValueError(
                "A `Dot` layer should be called on a list of 2 inputs. "
                f"Received: input_shape={input_shape}"
            )
        shape1, shape2 = list(input_shape[0]), list(input_shape[1])
        axes = self._resolve_axes(len(shape1), len(shape2))
        shape1.pop(axes[0])
        shape2.pop(axes[1])
        shape2.pop(0)
        out = shape1 + shape2
        if len(out) == 1:
            out += [1]
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def add(inputs, **kwargs):
    """Functional form of `Add`: `add([x1, x2, ...])`."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of `Subtract`: `subtract([x1, x2])`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of `Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of `Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of `Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of `Minimum`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """Functional form of `Dot`."""
    return Dot(axes=axes, **kwargs)(inputs)
