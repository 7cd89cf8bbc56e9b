"""`DepthwiseConv1D`, `DepthwiseConv2D`: one filter set per input channel.

The weight is named `kernel` (as in Keras 3), of shape
`(*kernel_size, input_channels, depth_multiplier)`; the output has
`input_channels * depth_multiplier` channels.
"""

from __future__ import annotations

from keras_on_jax.layers.convolutional import _utils
from keras_on_jax.layers.convolutional._common import ConvLayer


class BaseDepthwiseConv(ConvLayer):
    """Shared implementation of the depthwise convolution layers."""

    _weight_names = ("depthwise", "bias")

    def __init__(self, rank, depth_multiplier, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, locals(),
                         activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = depth_multiplier
        if depth_multiplier is not None and depth_multiplier <= 0:
            raise ValueError(
                "Invalid value for argument `depth_multiplier`. Expected a strictly positive "
                f"value. Received depth_multiplier={depth_multiplier}."
            )
        self._check_strides_and_dilation()

    def _input_channel(self, shape):
        return _utils.channels_of(shape, self.data_format)

    def build(self, input_shape):
        input_channel = self._pin_input_channel(input_shape)
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (input_channel, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint, trainable=True,
        )
        self._add_bias(self.depth_multiplier * input_channel)
        self.built = True

    def call(self, inputs):
        outputs = _utils.depthwise_conv(inputs, self.kernel.value, self.strides, self.padding,
                                        self.data_format, self.dilation_rate)
        return self._bias_and_activation(outputs)

    def compute_output_shape(self, input_shape):
        channels = self._input_channel(input_shape)
        return _utils.conv_output_shape(
            input_shape, None if channels is None else self.depth_multiplier * channels,
            self.kernel_size, self.strides, self.padding, self.data_format, self.dilation_rate,
        )

    def _arguments_config(self):
        return {
            "depth_multiplier": self.depth_multiplier,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
        }


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
