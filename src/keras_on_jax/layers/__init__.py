"""keras.layers: every layer family, plus the Layer base and InputSpec."""

from keras_on_jax.layers.core import Dense as Dense
from keras_on_jax.layers.core import EinsumDense as EinsumDense
from keras_on_jax.layers.core import Embedding as Embedding
from keras_on_jax.layers.core import ReversibleEmbedding as ReversibleEmbedding
from keras_on_jax.layers.core import Identity as Identity
from keras_on_jax.layers.core import Input as Input
from keras_on_jax.layers.core import InputLayer as InputLayer
from keras_on_jax.layers.core.jax_layer import FlaxLayer as FlaxLayer
from keras_on_jax.layers.core.jax_layer import JaxLayer as JaxLayer
from keras_on_jax.layers.core import Lambda as Lambda
from keras_on_jax.layers.core import Masking as Masking
from keras_on_jax.layers.core import Wrapper as Wrapper
from keras_on_jax.layers.activations import Activation as Activation
from keras_on_jax.layers.activations import ELU as ELU
from keras_on_jax.layers.activations import LeakyReLU as LeakyReLU
from keras_on_jax.layers.activations import PReLU as PReLU
from keras_on_jax.layers.activations import ReLU as ReLU
from keras_on_jax.layers.activations import Softmax as Softmax
from keras_on_jax.layers.attention import AdditiveAttention as AdditiveAttention
from keras_on_jax.layers.attention import Attention as Attention
from keras_on_jax.layers.attention import GroupQueryAttention as GroupQueryAttention
from keras_on_jax.layers.attention import GroupedQueryAttention as GroupedQueryAttention
from keras_on_jax.layers.attention import MultiHeadAttention as MultiHeadAttention
from keras_on_jax.layers.convolutional import Conv1D as Conv1D
from keras_on_jax.layers.convolutional import Conv1DTranspose as Conv1DTranspose
from keras_on_jax.layers.convolutional import Conv2D as Conv2D
from keras_on_jax.layers.convolutional import Conv2DTranspose as Conv2DTranspose
from keras_on_jax.layers.convolutional import Conv3D as Conv3D
from keras_on_jax.layers.convolutional import Conv3DTranspose as Conv3DTranspose
from keras_on_jax.layers.convolutional import Convolution1D as Convolution1D
from keras_on_jax.layers.convolutional import Convolution1DTranspose as Convolution1DTranspose
from keras_on_jax.layers.convolutional import Convolution2D as Convolution2D
from keras_on_jax.layers.convolutional import Convolution2DTranspose as Convolution2DTranspose
from keras_on_jax.layers.convolutional import Convolution3D as Convolution3D
from keras_on_jax.layers.convolutional import Convolution3DTranspose as Convolution3DTranspose
from keras_on_jax.layers.convolutional import DepthwiseConv1D as DepthwiseConv1D
from keras_on_jax.layers.convolutional import DepthwiseConv2D as DepthwiseConv2D
from keras_on_jax.layers.convolutional import SeparableConv1D as SeparableConv1D
from keras_on_jax.layers.convolutional import SeparableConv2D as SeparableConv2D
from keras_on_jax.layers.convolutional import SeparableConvolution1D as SeparableConvolution1D
from keras_on_jax.layers.convolutional import SeparableConvolution2D as SeparableConvolution2D
from keras_on_jax.layers.merging import Add as Add
from keras_on_jax.layers.merging import Average as Average
from keras_on_jax.layers.merging import Concatenate as Concatenate
from keras_on_jax.layers.merging import Dot as Dot
from keras_on_jax.layers.merging import Maximum as Maximum
from keras_on_jax.layers.merging import Minimum as Minimum
from keras_on_jax.layers.merging import Multiply as Multiply
from keras_on_jax.layers.merging import Subtract as Subtract
from keras_on_jax.layers.merging import add as add
from keras_on_jax.layers.merging import average as average
from keras_on_jax.layers.merging import concatenate as concatenate
from keras_on_jax.layers.merging import dot as dot
from keras_on_jax.layers.merging import maximum as maximum
from keras_on_jax.layers.merging import minimum as minimum
from keras_on_jax.layers.merging import multiply as multiply
from keras_on_jax.layers.merging import subtract as subtract
from keras_on_jax.layers.normalization import BatchNormalization as BatchNormalization
from keras_on_jax.layers.normalization import GroupNormalization as GroupNormalization
from keras_on_jax.layers.normalization import LayerNormalization as LayerNormalization
from keras_on_jax.layers.normalization import SpectralNormalization as SpectralNormalization
from keras_on_jax.layers.normalization import UnitNormalization as UnitNormalization
from keras_on_jax.layers.pooling import AveragePooling1D as AveragePooling1D
from keras_on_jax.layers.pooling import AveragePooling2D as AveragePooling2D
from keras_on_jax.layers.pooling import AveragePooling3D as AveragePooling3D
from keras_on_jax.layers.pooling import AvgPool1D as AvgPool1D
from keras_on_jax.layers.pooling import AvgPool2D as AvgPool2D
from keras_on_jax.layers.pooling import AvgPool3D as AvgPool3D
from keras_on_jax.layers.pooling import GlobalAveragePooling1D as GlobalAveragePooling1D
from keras_on_jax.layers.pooling import GlobalAveragePooling2D as GlobalAveragePooling2D
from keras_on_jax.layers.pooling import GlobalAveragePooling3D as GlobalAveragePooling3D
from keras_on_jax.layers.pooling import GlobalAvgPool1D as GlobalAvgPool1D
from keras_on_jax.layers.pooling import GlobalAvgPool2D as GlobalAvgPool2D
from keras_on_jax.layers.pooling import GlobalAvgPool3D as GlobalAvgPool3D
from keras_on_jax.layers.pooling import GlobalMaxPool1D as GlobalMaxPool1D
from keras_on_jax.layers.pooling import GlobalMaxPool2D as GlobalMaxPool2D
from keras_on_jax.layers.pooling import GlobalMaxPool3D as GlobalMaxPool3D
from keras_on_jax.layers.pooling import GlobalMaxPooling1D as GlobalMaxPooling1D
from keras_on_jax.layers.pooling import GlobalMaxPooling2D as GlobalMaxPooling2D
from keras_on_jax.layers.pooling import GlobalMaxPooling3D as GlobalMaxPooling3D
from keras_on_jax.layers.pooling import MaxPool1D as MaxPool1D
from keras_on_jax.layers.pooling import MaxPool2D as MaxPool2D
from keras_on_jax.layers.pooling import MaxPool3D as MaxPool3D
from keras_on_jax.layers.pooling import MaxPooling1D as MaxPooling1D
from keras_on_jax.layers.pooling import MaxPooling2D as MaxPooling2D
from keras_on_jax.layers.pooling import MaxPooling3D as MaxPooling3D
from keras_on_jax.layers.regularization import ActivityRegularization as ActivityRegularization
from keras_on_jax.layers.regularization import AlphaDropout as AlphaDropout
from keras_on_jax.layers.regularization import Dropout as Dropout
from keras_on_jax.layers.regularization import GaussianDropout as GaussianDropout
from keras_on_jax.layers.regularization import GaussianNoise as GaussianNoise
from keras_on_jax.layers.regularization import SpatialDropout1D as SpatialDropout1D
from keras_on_jax.layers.regularization import SpatialDropout2D as SpatialDropout2D
from keras_on_jax.layers.regularization import SpatialDropout3D as SpatialDropout3D
from keras_on_jax.layers.reshaping import Cropping1D as Cropping1D
from keras_on_jax.layers.reshaping import Cropping2D as Cropping2D
from keras_on_jax.layers.reshaping import Cropping3D as Cropping3D
from keras_on_jax.layers.reshaping import Flatten as Flatten
from keras_on_jax.layers.reshaping import Permute as Permute
from keras_on_jax.layers.reshaping import RepeatVector as RepeatVector
from keras_on_jax.layers.reshaping import Reshape as Reshape
from keras_on_jax.layers.reshaping import UpSampling1D as UpSampling1D
from keras_on_jax.layers.reshaping import UpSampling2D as UpSampling2D
from keras_on_jax.layers.reshaping import UpSampling3D as UpSampling3D
from keras_on_jax.layers.reshaping import ZeroPadding1D as ZeroPadding1D
from keras_on_jax.layers.reshaping import ZeroPadding2D as ZeroPadding2D
from keras_on_jax.layers.reshaping import ZeroPadding3D as ZeroPadding3D
from keras_on_jax.layers.rnn import Bidirectional as Bidirectional
from keras_on_jax.layers.rnn import ConvLSTM1D as ConvLSTM1D
from keras_on_jax.layers.rnn import ConvLSTM2D as ConvLSTM2D
from keras_on_jax.layers.rnn import ConvLSTM3D as ConvLSTM3D
from keras_on_jax.layers.rnn import GRU as GRU
from keras_on_jax.layers.rnn import GRUCell as GRUCell
from keras_on_jax.layers.rnn import LSTM as LSTM
from keras_on_jax.layers.rnn import LSTMCell as LSTMCell
from keras_on_jax.layers.rnn import RNN as RNN
from keras_on_jax.layers.rnn import SimpleRNN as SimpleRNN
from keras_on_jax.layers.rnn import SimpleRNNCell as SimpleRNNCell
from keras_on_jax.layers.rnn import StackedRNNCells as StackedRNNCells
from keras_on_jax.layers.rnn import TimeDistributed as TimeDistributed
from keras_on_jax.layers.preprocessing import AdaptiveAveragePooling1D as AdaptiveAveragePooling1D
from keras_on_jax.layers.preprocessing import AdaptiveAveragePooling2D as AdaptiveAveragePooling2D
from keras_on_jax.layers.preprocessing import AdaptiveAveragePooling3D as AdaptiveAveragePooling3D
from keras_on_jax.layers.preprocessing import AdaptiveMaxPooling1D as AdaptiveMaxPooling1D
from keras_on_jax.layers.preprocessing import AdaptiveMaxPooling2D as AdaptiveMaxPooling2D
from keras_on_jax.layers.preprocessing import AdaptiveMaxPooling3D as AdaptiveMaxPooling3D
from keras_on_jax.layers.preprocessing import CategoryEncoding as CategoryEncoding
from keras_on_jax.layers.preprocessing import CenterCrop as CenterCrop
from keras_on_jax.layers.preprocessing import Discretization as Discretization
from keras_on_jax.layers.preprocessing import HashedCrossing as HashedCrossing
from keras_on_jax.layers.preprocessing import Hashing as Hashing
from keras_on_jax.layers.preprocessing import IntegerLookup as IntegerLookup
from keras_on_jax.layers.preprocessing import Normalization as Normalization
from keras_on_jax.layers.preprocessing import RMSNormalization as RMSNormalization
from keras_on_jax.layers.preprocessing import RandomBrightness as RandomBrightness
from keras_on_jax.layers.preprocessing import RandomContrast as RandomContrast
from keras_on_jax.layers.preprocessing import RandomCrop as RandomCrop
from keras_on_jax.layers.preprocessing import RandomFlip as RandomFlip
from keras_on_jax.layers.preprocessing import RandomRotation as RandomRotation
from keras_on_jax.layers.preprocessing import RandomTranslation as RandomTranslation
from keras_on_jax.layers.preprocessing import RandomZoom as RandomZoom
from keras_on_jax.layers.preprocessing import Rescaling as Rescaling
from keras_on_jax.layers.preprocessing import Resizing as Resizing
from keras_on_jax.layers.preprocessing import StringLookup as StringLookup
from keras_on_jax.layers.preprocessing import TextVectorization as TextVectorization
from keras_on_jax.layers.preprocessing import AugMix as AugMix
from keras_on_jax.layers.preprocessing import AutoContrast as AutoContrast
from keras_on_jax.layers.preprocessing import CutMix as CutMix
from keras_on_jax.layers.preprocessing import Equalization as Equalization
from keras_on_jax.layers.preprocessing import MixUp as MixUp
from keras_on_jax.layers.preprocessing import Pipeline as Pipeline
from keras_on_jax.layers.preprocessing import RandAugment as RandAugment
from keras_on_jax.layers.preprocessing import RandomColorDegeneration as RandomColorDegeneration
from keras_on_jax.layers.preprocessing import RandomColorJitter as RandomColorJitter
from keras_on_jax.layers.preprocessing import RandomErasing as RandomErasing
from keras_on_jax.layers.preprocessing import RandomGaussianBlur as RandomGaussianBlur
from keras_on_jax.layers.preprocessing import RandomElasticTransform as RandomElasticTransform
from keras_on_jax.layers.preprocessing import (
    ContrastLimitedAdaptiveHistogramEqualization as ContrastLimitedAdaptiveHistogramEqualization,
)
from keras_on_jax.layers.preprocessing import RandomGrayscale as RandomGrayscale
from keras_on_jax.layers.preprocessing import RandomHue as RandomHue
from keras_on_jax.layers.preprocessing import RandomInvert as RandomInvert
from keras_on_jax.layers.preprocessing import RandomPerspective as RandomPerspective
from keras_on_jax.layers.preprocessing import RandomPosterization as RandomPosterization
from keras_on_jax.layers.preprocessing import RandomSaturation as RandomSaturation
from keras_on_jax.layers.preprocessing import RandomSharpness as RandomSharpness
from keras_on_jax.layers.preprocessing import RandomShear as RandomShear
from keras_on_jax.layers.preprocessing import Solarization as Solarization
from keras_on_jax.layers.input_spec import InputSpec as InputSpec
from keras_on_jax.layers.layer import Layer as Layer


def serialize(layer):
    """A layer's Keras 3 config envelope."""
    from keras_on_jax.io.serialization import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """A layer from its Keras config envelope."""
    from keras_on_jax.io.serialization import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects)
