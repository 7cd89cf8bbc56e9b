"""`Conv1D`, `Conv2D`, `Conv3D`: N-d convolutions on `jax.lax.conv_general_dilated`."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from keras_on_jax.layers.convolutional import _utils
from keras_on_jax.layers.convolutional._common import ConvLayer
from keras_on_jax.layers.core.lora import LoRAMixin
from keras_on_jax.layers.input_spec import InputSpec


class BaseConv(LoRAMixin, ConvLayer):
    """Shared implementation of the N-d convolution layers (Keras's `BaseConv`).

    The kernel has shape `(*kernel_size, input_channels // groups, filters)`.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, locals(), allow_causal=rank == 1,
                         activity_regularizer=activity_regularizer, **kwargs)
        self._init_lora(lora_rank, lora_alpha)
        self.filters = filters
        self.groups = groups
        if filters is not None and (not isinstance(filters, int) or filters <= 0):
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={filters}."
            )
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(
                f"The number of groups must be a positive integer. Received: groups={groups}."
            )
        if filters is not None and filters % groups != 0:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={groups}, filters={filters}."
            )
        self._check_strides_and_dilation()

    def build(self, input_shape):
        channel_axis = -1 if self.data_format == "channels_last" else 1
        input_channel = input_shape[channel_axis]
        if input_channel is None:
            raise ValueError(
                f"Layer '{self.name}': the channel dimension of the inputs should be defined. "
                f"Received input_shape={tuple(input_shape)}"
            )
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={channel_axis: input_channel})
        if input_channel % self.groups != 0:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of "
                f"groups. Received groups={self.groups}, but the input has {input_channel} "
                f"channels (full input shape is {tuple(input_shape)})."
            )
        self.compute_output_shape(input_shape)
        self._kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (input_channel // self.groups, self.filters),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint, trainable=True,
        )
        self._add_bias(self.filters)
        self.built = True
        if self.lora_rank:
            self.enable_lora(self.lora_rank, lora_alpha=self.lora_alpha)

    @property
    def kernel(self):
        """The kernel: a Variable, or with LoRA the merged array."""
        if not self.built:
            raise AttributeError("You must build the layer before accessing `kernel`.")
        return self._lora_merged(self._kernel)

    def save_own_variables(self, store):
        """As any layer; with LoRA, the merged kernel and the bias (what Keras writes)."""
        if not self.built:
            return
        if not self.lora_enabled:
            return super().save_own_variables(store)
        values = [self.kernel] + ([self.bias] if self.use_bias else [])
        for i, value in enumerate(values):
            store[str(i)] = np.asarray(getattr(value, "value", value))

    def load_own_variables(self, store):
        if not self.lora_enabled and len(store.keys()) == len(self._own_variables()):
            return super().load_own_variables(store)
        targets = [self._kernel] + ([self.bias] if self.use_bias else [])
        if len(store.keys()) != len(targets):
            raise ValueError(f"Layer '{self.name}' expected {len(targets)} variables, but "
                             f"received {len(store.keys())} variables during loading. "
                             f"Expected: {[v.name for v in targets]}")
        for i, variable in enumerate(targets):
            variable.assign(store[str(i)])
        self._reset_lora()

    def convolution_op(self, inputs, kernel):
        return _utils.conv(inputs, kernel, self.strides, self.padding, self.data_format,
                           self.dilation_rate)

    def call(self, inputs):
        kernel = self.kernel
        return self._bias_and_activation(
            self.convolution_op(inputs, getattr(kernel, "value", kernel)))

    def compute_output_shape(self, input_shape):
        return _utils.conv_output_shape(
            input_shape, self.filters, self.kernel_size, self.strides, self.padding,
            self.data_format, self.dilation_rate,
        )

    def _arguments_config(self):
        return {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            **self._lora_config(),
        }


class Conv1D(BaseConv):
    """1D convolution (temporal convolution).

    `padding` may be `"valid"`, `"same"` or `"causal"` (left padding by
    `dilation_rate * (kernel_size - 1)`, so that output `t` depends on inputs `<= t`).
    Input shape: `(batch, steps, channels)` (channels_last) or `(batch, channels, steps)`.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(
            rank=1, filters=filters, kernel_size=kernel_size, strides=strides,
            padding=padding, data_format=data_format, dilation_rate=dilation_rate,
            groups=groups, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )

    def _compute_causal_padding(self):
        left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
        if self.data_format == "channels_last":
            return [(0, 0), (left, 0), (0, 0)]
        return [(0, 0), (0, 0), (left, 0)]

    def convolution_op(self, inputs, kernel):
        padding = self.padding
        if padding == "causal":
            inputs = jnp.pad(inputs, self._compute_causal_padding())
            padding = "valid"
        return _utils.conv(inputs, kernel, self.strides, padding, self.data_format,
                           self.dilation_rate)


def _make_conv(rank, name, doc):
    def __init__(self, filters, kernel_size, strides=(1,) * rank, padding="valid",
                 data_format=None, dilation_rate=(1,) * rank, groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        BaseConv.__init__(
            self, rank=rank, filters=filters, kernel_size=kernel_size, strides=strides,
            padding=padding, data_format=data_format, dilation_rate=dilation_rate,
            groups=groups, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )

    return type(name, (BaseConv,), {"__init__": __init__, "__doc__": doc,
                                    "__module__": __name__})


Conv2D = _make_conv(2, "Conv2D", """2D convolution (spatial convolution over images).

    Kernel shape `(kh, kw, in_channels // groups, filters)`. Input shape
    `(batch, height, width, channels)` (channels_last) or `(batch, channels, height, width)`.
    """)
Conv3D = _make_conv(3, "Conv3D", """3D convolution (spatial convolution over volumes).

    Kernel shape `(kd, kh, kw, in_channels // groups, filters)`.
    """)
