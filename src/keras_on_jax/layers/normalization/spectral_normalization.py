"""`SpectralNormalization`: constrains the spectral norm of a wrapped layer's kernel."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from keras_on_jax import initializers
from keras_on_jax.backend import config as backend_config
from keras_on_jax.layers.core.wrapper import Wrapper
from keras_on_jax.layers.input_spec import InputSpec


def _l2_normalize(x):
    # keras.ops.normalize(x, axis=None, order=2) with the default epsilon.
    square_sum = jnp.sum(jnp.square(x), keepdims=True)
    return x * jnp.minimum(jax.lax.rsqrt(square_sum), 1.0 / backend_config.epsilon())


class SpectralNormalization(Wrapper):
    """Divides the wrapped layer's `kernel` (or `embeddings`) by its spectral norm,
    estimated by power iteration while training.

    The power-iteration vector `vector_u` is a non-trainable weight updated through
    `assign`, so it advances inside the compiled training step.

    Args:
        layer: a layer with a `kernel` or `embeddings` attribute.
        power_iterations: number of power iterations per training step (default 1).
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError(
                "`power_iterations` should be greater than zero. Received: "
                f"`power_iterations={power_iterations}`"
            )
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        if getattr(self.layer, "kernel", None) is not None:
            kernel = self.layer.kernel
        elif getattr(self.layer, "embeddings", None) is not None:
            kernel = self.layer.embeddings
        else:
            raise ValueError(
                f"{type(self.layer).__name__} object has no attribute 'kernel' nor "
                "'embeddings'"
            )
        # Keras tracks the wrapped kernel as this layer's own weight, before vector_u.
        if kernel.trainable:
            self._trainable_variables.append(kernel)
        else:
            self._non_trainable_variables.append(kernel)
        object.__setattr__(self, "kernel", kernel)
        self.kernel_shape = tuple(kernel.shape)
        self.vector_u = self.add_weight(
            shape=(1, self.kernel_shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02),
            trainable=False, name="vector_u", dtype=kernel.dtype,
        )
        self.built = True

    def call(self, inputs, training=False):
        if training:
            kernel = self.kernel.value
            new_u, new_kernel = jax.lax.cond(
                jnp.all(kernel == 0),
                lambda: (self.vector_u.value, kernel),
                self.normalized_weights,
            )
            self.vector_u.assign(new_u)
            self.kernel.assign(new_kernel)
        output = self.layer(inputs)
        return output.astype(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def normalized_weights(self):
        """Return `(new vector_u, kernel / sigma)` from `power_iterations` iterations."""
        kernel = self.kernel.value
        weights = jnp.reshape(kernel, (-1, self.kernel_shape[-1]))
        vector_u = self.vector_u.value
        vector_v = None
        for _ in range(self.power_iterations):
            vector_v = _l2_normalize(jnp.matmul(vector_u, weights.T))
            vector_u = _l2_normalize(jnp.matmul(vector_v, weights))
        vector_u = jax.lax.stop_gradient(vector_u)
        vector_v = jax.lax.stop_gradient(vector_v)
        sigma = jnp.matmul(jnp.matmul(vector_v, weights), vector_u.T)
        new_kernel = jnp.reshape(kernel / sigma, self.kernel_shape)
        return vector_u.astype(self.vector_u.dtype), new_kernel.astype(self.kernel.dtype)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
