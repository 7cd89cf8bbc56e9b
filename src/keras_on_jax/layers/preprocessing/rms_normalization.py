"""`RMSNormalization`: `x * rsqrt(mean(x**2, axis) + epsilon) * scale`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from keras_on_jax.layers.layer import Layer


class RMSNormalization(Layer):
    """Root-mean-square layer normalization (`keras.layers.RMSNormalization`).

    `outputs = inputs * rsqrt(mean(square(inputs), axis) + epsilon) * scale`, computed in at
    least float32. `scale` (initialized to ones) has the shape of the normalized axes.

    Args:
        axis: int or list of ints, the axes to normalize over (default -1).
        epsilon: small float added to the mean square (default 1e-6).
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon

    def build(self, input_shape):
        if isinstance(self.axis, (list, tuple)):
            self.axis = sorted(self.axis)
            shape = tuple(input_shape[d] for d in self.axis)
        else:
            shape = (input_shape[self.axis],)
            self.axis = [self.axis]
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")
        self.built = True

    def call(self, x):
        x = jnp.asarray(x)
        original = x.dtype
        compute = jnp.result_type(x.dtype, jnp.float32)
        x = x.astype(compute)
        if x.ndim == 0:
            x = x[None]
        axis = tuple(self.axis) if isinstance(self.axis, (list, tuple)) else self.axis
        rrms = jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=axis, keepdims=True) + self.epsilon)
        scale = self.scale.value.astype(compute)
        axes = [a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,))]
        if axes != list(range(x.ndim - len(axes), x.ndim)):
            # Non-trailing axes: place `scale` on its axes (Keras only broadcasts trailing).
            scale = jnp.reshape(scale, [x.shape[d] if d in axes else 1 for d in range(x.ndim)])
        return (x * rrms * scale).astype(original)

    def compute_output_shape(self, input_shape):
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        for axis in axes:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise ValueError(f"RMSNormalization: axis {axis} is out of bounds for input "
                                 f"shape {input_shape}. Received: axis={self.axis}")
        return tuple(input_shape)

    def get_config(self):
        base = super().get_config()
        base.update({"axis": self.axis, "epsilon": self.epsilon})
        return base
