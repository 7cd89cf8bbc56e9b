"""keras.applications.inception_resnet_v2: InceptionResNetV2."""

from keras_on_jax import layers
from keras_on_jax.applications import imagenet_utils
from keras_on_jax.backend import config
from keras_on_jax.serialization import register_keras_serializable
from keras_on_jax.layers.layer import Layer
from keras_on_jax.models import Functional

BASE_WEIGHT_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                   "inception_resnet_v2/")
_FILES = {
    True: ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
           "e693bd0210a403b3192acc6073ad2e96"),
    False: ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "d19885ff4a710c122648d3b5c3b684e4"),
}


def _channel_axis():
    return 1 if config.image_data_format() == "channels_first" else 3


def InceptionResNetV2(include_top=True, weights="imagenet", input_tensor=None,
                      input_shape=None, pooling=None, classes=1000,
                      classifier_activation="softmax", name="inception_resnet_v2"):
    """Instantiates the Inception-ResNet v2 architecture.

    Inputs are expected preprocessed by
    `keras.applications.inception_resnet_v2.preprocess_input` (pixels scaled to [-1, 1]).
    """
    imagenet_utils._check_weights_arg(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=75, data_format=config.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = imagenet_utils._make_input(input_tensor, input_shape)
    ca = _channel_axis()

    # Stem: 35 x 35 x 192
    x = conv2d_bn(img_input, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)

    # Mixed 5b (Inception-A): 35 x 35 x 320
    b0 = conv2d_bn(x, 96, 1)
    b1 = conv2d_bn(conv2d_bn(x, 48, 1), 64, 5)
    b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1), 96, 3), 96, 3)
    bp = conv2d_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1)
    x = layers.Concatenate(axis=ca, name="mixed_5b")([b0, b1, b2, bp])

    for block_idx in range(1, 11):  # 10x block35 (Inception-ResNet-A)
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=block_idx)

    # Mixed 6a (Reduction-A): 17 x 17 x 1088
    b0 = conv2d_bn(x, 384, 3, strides=2, padding="valid")
    b1 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 256, 3), 384, 3, strides=2,
                   padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=ca, name="mixed_6a")([b0, b1, bp])

    for block_idx in range(1, 21):  # 20x block17 (Inception-ResNet-B)
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=block_idx)

    # Mixed 7a (Reduction-B): 8 x 8 x 2080
    b0 = conv2d_bn(conv2d_bn(x, 256, 1), 384, 3, strides=2, padding="valid")
    b1 = conv2d_bn(conv2d_bn(x, 256, 1), 288, 3, strides=2, padding="valid")
    b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 288, 3), 320, 3, strides=2,
                   padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=ca, name="mixed_7a")([b0, b1, b2, bp])

    for block_idx in range(1, 10):  # 10x block8 (Inception-ResNet-C)
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=block_idx)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8",
                               block_idx=10)

    x = conv2d_bn(x, 1536, 1, name="conv_7b")  # 8 x 8 x 1536

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    model = Functional(imagenet_utils._model_inputs(input_tensor, img_input), x, name=name)
    fname, file_hash = _FILES[bool(include_top)]
    return imagenet_utils._load(model, weights, fname, BASE_WEIGHT_URL + fname, file_hash)


def conv2d_bn(x, filters, kernel_size, strides=1, padding="same", activation="relu",
              use_bias=False, name=None):
    """Conv2D, then BatchNormalization (without scale, when there is no bias), then the
    activation; the BN and activation layers are named `name + '_bn'` and `name + '_ac'`."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      use_bias=use_bias, name=name)(x)
    if not use_bias:
        bn_name = None if name is None else f"{name}_bn"
        x = layers.BatchNormalization(axis=_channel_axis(), scale=False, name=bn_name)(x)
    if activation is not None:
        ac_name = None if name is None else f"{name}_ac"
        x = layers.Activation(activation, name=ac_name)(x)
    return x


@register_keras_serializable(package="keras_on_jax.applications")
class CustomScaleLayer(Layer):
    """`inputs[0] + inputs[1] * scale`: the scaled residual sum of an Inception-ResNet
    block."""

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def get_config(self):
        config_ = super().get_config()
        config_.update({"scale": self.scale})
        return config_

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale


_BRANCHES = {
    # block type: branches, each a list of (filters, kernel_size) convs applied in turn
    "block35": [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]],
    "block17": [[(192, 1)], [(128, 1), (160, [1, 7]), (192, [7, 1])]],
    "block8": [[(192, 1)], [(192, 1), (224, [1, 3]), (256, [3, 1])]],
}


def inception_resnet_block(x, scale, block_type, block_idx, activation="relu"):
    """An Inception-ResNet block: `activation(x + scale * residual(x))`, with layers named
    `f'{block_type}_{block_idx}_...'`."""
    if block_type not in _BRANCHES:
        raise ValueError("Unknown Inception-ResNet block type. Expects \"block35\", "
                         f"\"block17\" or \"block8\", but got: {block_type}")
    branches = []
    for convs in _BRANCHES[block_type]:
        b = x
        for filters, kernel_size in convs:
            b = conv2d_bn(b, filters, kernel_size)
        branches.append(b)
    block_name = f"{block_type}_{block_idx}"
    ca = _channel_axis()
    mixed = layers.Concatenate(axis=ca, name=f"{block_name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[ca], 1, activation=None, use_bias=True,
                   name=f"{block_name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{block_name}_ac")(x)
    return x


preprocess_input, decode_predictions = imagenet_utils.module_functions("tf", __name__)
