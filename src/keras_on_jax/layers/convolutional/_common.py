"""What every convolution layer shares (each of Keras's conv bases repeats it). Not public."""

from __future__ import annotations

from keras_on_jax import activations
from keras_on_jax.backend import config as _config
from keras_on_jax.layers._weight_options import set_weight_options, weight_options_config
from keras_on_jax.layers.convolutional import _utils
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer


class ConvLayer(Layer):
    """The window (`kernel_size`, `strides`, `padding`, `data_format`, `dilation_rate`),
    `activation`, `use_bias`, and the initializer, regularizer and constraint of each
    weight in `_weight_names`, taken from `arguments` (the subclass constructor's
    `locals()`).

    A subclass adds its own arguments and weights, ends its `__init__` with
    `_check_strides_and_dilation()` (after its own checks, Keras's order), and lists its
    own config entries in `_arguments_config()`.
    """

    _weight_names = ("kernel", "bias")

    def __init__(self, rank, kernel_size, strides, padding, data_format, dilation_rate,
                 activation, use_bias, arguments, allow_causal=False,
                 activity_regularizer=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.kernel_size = _utils.standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = _utils.standardize_tuple(strides, rank, "strides")
        self.dilation_rate = _utils.standardize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = _utils.standardize_padding(padding, allow_causal=allow_causal)
        self.data_format = _config.standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_weight_options(self, self._weight_names, arguments)
        self.input_spec = InputSpec(min_ndim=rank + 2)

    def _check_strides_and_dilation(self):
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    def _pin_input_channel(self, input_shape):
        """The inputs' channel count, which `input_spec` then requires."""
        channel_axis = -1 if self.data_format == "channels_last" else 1
        input_channel = input_shape[channel_axis]
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={channel_axis: input_channel})
        return input_channel

    def _add_bias(self, size):
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(size,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                trainable=True,
            )
        else:
            self.bias = None

    def _bias_and_activation(self, outputs):
        if self.use_bias:
            outputs = _utils.add_bias(outputs, self.bias.value, self.rank, self.data_format)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def _arguments_config(self):
        raise NotImplementedError

    def get_config(self):
        return {
            **super().get_config(),
            **self._arguments_config(),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, self._weight_names, activity_regularizer=True),
        }
