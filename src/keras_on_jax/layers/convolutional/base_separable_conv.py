"""`SeparableConv1D`, `SeparableConv2D`: a depthwise convolution then a 1x1 convolution.

Weights: `depthwise_kernel` `(*kernel_size, in_channels, depth_multiplier)`,
`pointwise_kernel` `((1,) * rank, in_channels * depth_multiplier, filters)`, `bias`.
"""

from __future__ import annotations

from keras_on_jax.layers.convolutional import _utils
from keras_on_jax.layers.convolutional._common import ConvLayer


class BaseSeparableConv(ConvLayer):
    """Shared implementation of the separable convolution layers."""

    _weight_names = ("depthwise", "pointwise", "bias")

    def __init__(self, rank, depth_multiplier, filters, kernel_size, strides=1,
                 padding="valid", data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, locals(),
                         activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = depth_multiplier
        self.filters = filters
        if depth_multiplier is not None and depth_multiplier <= 0:
            raise ValueError(
                "Invalid value for argument `depth_multiplier`. Expected a strictly positive "
                f"value. Received depth_multiplier={depth_multiplier}."
            )
        if filters is not None and filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={filters}."
            )
        self._check_strides_and_dilation()

    def build(self, input_shape):
        input_channel = self._pin_input_channel(input_shape)
        self.compute_output_shape(input_shape)
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel",
            shape=self.kernel_size + (input_channel, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint, trainable=True,
        )
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(1,) * self.rank + (self.depth_multiplier * input_channel, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint, trainable=True,
        )
        self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        outputs = _utils.depthwise_conv(inputs, self.depthwise_kernel.value, self.strides,
                                        self.padding, self.data_format, self.dilation_rate)
        outputs = _utils.conv(outputs, self.pointwise_kernel.value, (1,) * self.rank, "valid",
                              self.data_format, self.dilation_rate)
        return self._bias_and_activation(outputs)

    def compute_output_shape(self, input_shape):
        return _utils.conv_output_shape(
            input_shape, self.filters, self.kernel_size, self.strides, self.padding,
            self.data_format, self.dilation_rate,
        )

    def _arguments_config(self):
        return {
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
        }


def _make(rank, name, doc):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        BaseSeparableConv.__init__(
            self, rank=rank, depth_multiplier=depth_multiplier, filters=filters,
            kernel_size=kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            use_bias=use_bias, depthwise_initializer=depthwise_initializer,
            pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            pointwise_regularizer=pointwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            pointwise_constraint=pointwise_constraint, bias_constraint=bias_constraint,
            **kwargs,
        )

    return type(name, (BaseSeparableConv,), {"__init__": __init__, "__doc__": doc,
                                             "__module__": __name__})


SeparableConv1D = _make(1, "SeparableConv1D", "1D separable convolution.")
SeparableConv2D = _make(2, "SeparableConv2D", "2D separable convolution.")
