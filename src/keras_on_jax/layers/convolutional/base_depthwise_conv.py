"""`DepthwiseConv1D`, `DepthwiseConv2D`: one filter set per input channel.

The weight is named `kernel` (as in Keras 3), of shape
`(*kernel_size, input_channels, depth_multiplier)`; the output has
`input_channels * depth_multiplier` channels.
"""

from __future__ import annotations

from keras_on_jax import activations, constraints, initializers, regularizers
from keras_on_jax.backend import config as _config
from keras_on_jax.layers.convolutional import _utils
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer


class BaseDepthwiseConv(Layer):
    """Shared implementation of the depthwise convolution layers."""

    def __init__(self, rank, depth_multiplier, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.depth_multiplier = depth_multiplier
        self.kernel_size = _utils.standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = _utils.standardize_tuple(strides, rank, "strides")
        self.dilation_rate = _utils.standardize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = _utils.standardize_padding(padding)
        self.data_format = _config.standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=rank + 2)
        if depth_multiplier is not None and depth_multiplier <= 0:
            raise ValueError(
                "Invalid value for argument `depth_multiplier`. Expected a strictly positive "
                f"value. Received depth_multiplier={depth_multiplier}."
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    def _input_channel(self, shape):
        return _utils.channels_of(shape, self.data_format)

    def build(self, input_shape):
        channel_axis = -1 if self.data_format == "channels_last" else 1
        input_channel = input_shape[channel_axis]
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={channel_axis: input_channel})
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (input_channel, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint, trainable=True,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.depth_multiplier * input_channel,),
                initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                constraint=self.bias_constraint, trainable=True,
            )
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        outputs = _utils.depthwise_conv(inputs, self.kernel.value, self.strides, self.padding,
                                        self.data_format, self.dilation_rate)
        if self.use_bias:
            outputs = _utils.add_bias(outputs, self.bias.value, self.rank, self.data_format)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        channels = self._input_channel(input_shape)
        return _utils.conv_output_shape(
            input_shape, None if channels is None else self.depth_multiplier * channels,
            self.kernel_size, self.strides, self.padding, self.data_format, self.dilation_rate,
        )

    def get_config(self):
        config = super().get_config()
        config.update({
            "depth_multiplier": self.depth_multiplier,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


def _make(rank, name, doc):
    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        BaseDepthwiseConv.__init__(
            self, rank=rank, depth_multiplier=depth_multiplier, kernel_size=kernel_size,
            strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            depthwise_initializer=depthwise_initializer, bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint, bias_constraint=bias_constraint,
            **kwargs,
        )

    return type(name, (BaseDepthwiseConv,), {"__init__": __init__, "__doc__": doc,
                                             "__module__": __name__})


DepthwiseConv1D = _make(1, "DepthwiseConv1D", "1D depthwise convolution.")
DepthwiseConv2D = _make(2, "DepthwiseConv2D", "2D depthwise convolution.")
