"""Preprocessing layers (no TensorFlow), plus RMSNormalization and adaptive pooling.

Numeric layers (Rescaling, Resizing, the image augmentation layers, Normalization,
Discretization's bucketing, CategoryEncoding, RMSNormalization, adaptive pooling) are pure
jax.numpy and run inside the compiled step. String/vocabulary layers (StringLookup,
IntegerLookup, TextVectorization, Hashing, HashedCrossing) run on the host (NumPy) outside the
compiled step: apply them to the data before the model.
"""

from keras_on_jax.layers.preprocessing.adaptive_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from keras_on_jax.layers.preprocessing.audio import MelSpectrogram, STFTSpectrogram
from keras_on_jax.layers.preprocessing.category_encoding import CategoryEncoding
from keras_on_jax.layers.preprocessing.discretization import Discretization
from keras_on_jax.layers.preprocessing.hashed_crossing import HashedCrossing
from keras_on_jax.layers.preprocessing.hashing import Hashing
from keras_on_jax.layers.preprocessing.image import (
    CenterCrop,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Resizing,
)
from keras_on_jax.layers.preprocessing.image_augmentation import (
    AugMix,
    AutoContrast,
    CutMix,
    Equalization,
    MixUp,
    Pipeline,
    RandAugment,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomErasing,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPerspective,
    RandomPosterization,
    RandomSaturation,
    RandomSharpness,
    RandomShear,
    Solarization,
)
from keras_on_jax.layers.preprocessing.image_augmentation_extra import (
    ContrastLimitedAdaptiveHistogramEqualization,
    RandomElasticTransform,
)
from keras_on_jax.layers.preprocessing.index_lookup import IntegerLookup, StringLookup
from keras_on_jax.layers.preprocessing.normalization import Normalization
from keras_on_jax.layers.preprocessing.rescaling import Rescaling
from keras_on_jax.layers.preprocessing.rms_normalization import RMSNormalization
from keras_on_jax.layers.preprocessing.text_vectorization import TextVectorization

__all__ = [
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
    "CategoryEncoding", "CenterCrop", "Discretization", "HashedCrossing", "Hashing",
    "IntegerLookup", "Normalization", "RMSNormalization", "RandomBrightness",
    "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation", "RandomTranslation",
    "RandomZoom", "Rescaling", "Resizing", "StringLookup", "TextVectorization",
    # audio
    "MelSpectrogram",
    "STFTSpectrogram",
    # image_augmentation
    "AugMix",
    "AutoContrast",
    "CutMix",
    "Equalization",
    "MixUp",
    "Pipeline",
    "RandAugment",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomErasing",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPerspective",
    "RandomPosterization",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "Solarization",
    # image_augmentation_extra
    "ContrastLimitedAdaptiveHistogramEqualization",
    "RandomElasticTransform",
]
