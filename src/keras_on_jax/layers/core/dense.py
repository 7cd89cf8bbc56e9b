"""`Dense`: `activation(dot(inputs, kernel) + bias)`."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax import activations, constraints, initializers, regularizers
from keras_on_jax.layers.core.lora import LoRAMixin
from keras_on_jax.layers.core.quantized_dense import DenseQuantization
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer


class Dense(DenseQuantization, LoRAMixin, Layer):
    """A densely-connected layer.

    Args:
        units: positive int, the output size.
        activation: activation function (default: none).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (`"glorot_uniform"`, `"zeros"`).
        kernel_regularizer, bias_regularizer, activity_regularizer: regularizers.
        kernel_constraint, bias_constraint: constraints.
        lora_rank, lora_alpha: enable LoRA at build time (see `enable_lora`).
        quantization_config: the config the layer was quantized with (see `quantize`).

    Input shape: `(batch_size, ..., input_dim)`.
    Output shape: `(batch_size, ..., units)`.
    """

    _quantizable = True

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                f"Dense(units=...) expects a positive int. Received: units={units!r}"
            )
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._init_lora(lora_rank, lora_alpha)
        self._init_quantization(quantization_config)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        input_dim = input_shape[-1]
        kernel_shape = (input_dim, self.units)
        mode = self.quantization_mode
        if mode:
            self.quantized_build(kernel_shape, mode, self.quantization_config)
        if mode not in ("int8", "int4"):
            self._kernel = self.add_weight(
                name="kernel", shape=kernel_shape, initializer=self.kernel_initializer,
                regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
            )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.units,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True
        if self.lora_rank:
            self.enable_lora(self.lora_rank, self.lora_alpha)

    @property
    def kernel(self):
        """The kernel: a Variable, or with LoRA the merged (or int4-unpacked) array."""
        if not self.built:
            raise AttributeError("You must build the layer before accessing `kernel`.")
        return self._lora_merged(self._stored_kernel())

    def call(self, inputs, training=None):
        if self.lora_enabled:
            x = self._lora_einsum("...i,ij->...j", inputs, self._kernel)
        else:
            x = jnp.matmul(inputs, self._kernel.value)
        if self.bias is not None:
            x = x + self.bias.value
        if self.activation is not None:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[:-1]), self.units)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            **self._quantization_config_entry(),
            **self._lora_config(),
        })
        return config
