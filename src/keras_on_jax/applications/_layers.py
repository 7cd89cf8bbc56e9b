"""Small layers the application builders need.

Keras's application code applies `keras.ops` arithmetic directly to symbolic tensors
(`x + 3.0` in MobileNetV3's hard sigmoid, `inputs + layer(x)` in ConvNeXt's blocks). In Keras
those become graph operations that are not `Layer`s and hold no weights; here they are the
weightless `_OpLayer`s below (flagged with `_keras_op = True`), so the weighted layers, their
order and their weights are exactly Keras's.
"""

import jax.numpy as jnp

from keras_on_jax import initializers
from keras_on_jax import random as keras_random
from keras_on_jax.serialization import register_keras_serializable
from keras_on_jax.layers.layer import Layer

_OPS = {
    "add": jnp.add,
    "multiply": jnp.multiply,
}


@register_keras_serializable(package="keras_on_jax.applications")
class _OpLayer(Layer):
    """`op(x, constant)` or `op(x, y)`: stands for a keras.ops call on symbolic tensors."""

    _keras_op = True

    def __init__(self, op, constant=None, **kwargs):
        super().__init__(**kwargs)
        if op not in _OPS:
            raise ValueError(f"_OpLayer: `op` must be one of {sorted(_OPS)}. Received: op={op}")
        self.op = op
        self.constant = constant

    def call(self, inputs):
        fn = _OPS[self.op]
        if self.constant is None:
            a, b = inputs
            return fn(a, b)
        return fn(inputs, jnp.asarray(self.constant, dtype=inputs.dtype))

    def get_config(self):
        config = super().get_config()
        config.update({"op": self.op, "constant": self.constant})
        return config


@register_keras_serializable(package="keras_on_jax.applications")
class StochasticDepth(Layer):
    """Stochastic depth (drop path) as in Keras's ConvNeXt."""

    def __init__(self, drop_path_rate, **kwargs):
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def call(self, x, training=None):
        if training:
            keep_prob = 1 - self.drop_path_rate
            shape = (x.shape[0],) + (1,) * (x.ndim - 1)
            random_tensor = jnp.floor(keep_prob + keras_random.uniform(shape, 0, 1, dtype=x.dtype))
            return (x / keep_prob) * random_tensor
        return x

    def get_config(self):
        config = super().get_config()
        config.update({"drop_path_rate": self.drop_path_rate})
        return config


@register_keras_serializable(package="keras_on_jax.applications")
class LayerScale(Layer):
    """Per-channel learnable scale `x * gamma` as in Keras's ConvNeXt."""

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, _):
        self.gamma = self.add_weight(shape=(self.projection_dim,),
                                     initializer=initializers.Constant(self.init_values),
                                     trainable=True)
        self.built = True

    def call(self, x):
        return x * self.gamma

    def get_config(self):
        config = super().get_config()
        config.update({"init_values": self.init_values, "projection_dim": self.projection_dim})
        return config
