"""`Conv1DTranspose`, `Conv2DTranspose`, `Conv3DTranspose` on `jax.lax.conv_transpose`.

The kernel has shape `(*kernel_size, filters, input_channels)`. Keras's output size:
`padding="valid"`: `(n - 1) * s + k + output_padding` (output_padding defaulting to
`max(k, s) - k`); `padding="same"`: `n * s`, or `(n - 1) * s + k % 2 + output_padding`
when `output_padding` is given (k being the dilated kernel size).
"""

from __future__ import annotations

from keras_on_jax.layers.convolutional import _utils
from keras_on_jax.layers.convolutional._common import ConvLayer


class BaseConvTranspose(ConvLayer):
    """Shared implementation of the transposed convolution layers."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, locals(),
                         activity_regularizer=activity_regularizer, **kwargs)
        self.filters = filters
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = _utils.standardize_tuple(
                output_padding, rank, "output_padding", allow_zero=True)
        if filters is not None and (not isinstance(filters, int) or filters <= 0):
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={filters}."
            )
        if self.output_padding is not None:
            for i, (op, s) in enumerate(zip(self.output_padding, self.strides)):
                if op >= s:
                    raise ValueError(
                        "`output_padding` must be strictly less than `strides` for all "
                        f"dimensions. At dimension {i}, `output_padding` is {op} but "
                        f"`strides` is {s}. Received: output_padding={self.output_padding}, "
                        f"strides={self.strides}"
                    )
        self._check_strides_and_dilation()

    def build(self, input_shape):
        input_channel = self._pin_input_channel(input_shape)
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (self.filters, input_channel),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint, trainable=True,
        )
        self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        outputs = _utils.conv_transpose(
            inputs, self.kernel.value, self.strides, self.padding, self.output_padding,
            self.data_format, self.dilation_rate,
        )
        return self._bias_and_activation(outputs)

    def compute_output_shape(self, input_shape):
        return _utils.conv_transpose_output_shape(
            input_shape, self.filters, self.kernel_size, self.strides, self.padding,
            self.output_padding, self.data_format, self.dilation_rate,
        )

    def _arguments_config(self):
        return {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
        }


def _make(rank, name, doc):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        BaseConvTranspose.__init__(
            self, rank=rank, filters=filters, kernel_size=kernel_size, strides=strides,
            padding=padding, output_padding=output_padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )

    return type(name, (BaseConvTranspose,), {"__init__": __init__, "__doc__": doc,
                                             "__module__": __name__})


Conv1DTranspose = _make(1, "Conv1DTranspose", "1D transposed convolution (deconvolution).")
Conv2DTranspose = _make(2, "Conv2DTranspose", "2D transposed convolution (deconvolution).")
Conv3DTranspose = _make(3, "Conv3DTranspose", "3D transposed convolution (deconvolution).")
