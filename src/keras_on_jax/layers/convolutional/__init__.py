"""Convolution layers (Keras's `keras.layers.Conv*`, plus their `Convolution*` aliases)."""

from keras_on_jax.layers.convolutional.base_conv import Conv1D, Conv2D, Conv3D
from keras_on_jax.layers.convolutional.base_conv_transpose import (
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
)
from keras_on_jax.layers.convolutional.base_depthwise_conv import (
    DepthwiseConv1D,
    DepthwiseConv2D,
)
from keras_on_jax.layers.convolutional.base_separable_conv import (
    SeparableConv1D,
    SeparableConv2D,
)

Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D

__all__ = [
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    "Convolution1D", "Convolution2D", "Convolution3D", "Convolution1DTranspose",
    "Convolution2DTranspose", "Convolution3DTranspose", "SeparableConvolution1D",
    "SeparableConvolution2D",
]
