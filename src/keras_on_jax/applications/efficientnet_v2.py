"""keras.applications.efficientnet_v2: EfficientNetV2B0 ... B3, S, M and L."""

import copy
import math

from keras_on_jax import layers
from keras_on_jax.applications import imagenet_utils
from keras_on_jax.backend import config
from keras_on_jax.layers.preprocessing.normalization import Normalization
from keras_on_jax.layers.preprocessing.rescaling import Rescaling
from keras_on_jax.models import Functional

BASE_WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                     "efficientnet_v2/")
WEIGHTS_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}


def _s(conv_type, num_repeat, input_filters, output_filters, expand_ratio, se_ratio, strides):
    """One stage's arguments (all EfficientNetV2 stages use 3x3 kernels)."""
    return {"kernel_size": 3, "num_repeat": num_repeat, "input_filters": input_filters,
            "output_filters": output_filters, "expand_ratio": expand_ratio,
            "se_ratio": se_ratio, "strides": strides, "conv_type": conv_type}


# conv_type 1: FusedMBConvBlock, 0: MBConvBlock.
_B_ARGS = [
    _s(1, 1, 32, 16, 1, 0, 1), _s(1, 2, 16, 32, 4, 0, 2), _s(1, 2, 32, 48, 4, 0, 2),
    _s(0, 3, 48, 96, 4, 0.25, 2), _s(0, 5, 96, 112, 6, 0.25, 1),
    _s(0, 8, 112, 192, 6, 0.25, 2),
]
DEFAULT_BLOCKS_ARGS = {
    "efficientnetv2-s": [
        _s(1, 2, 24, 24, 1, 0.0, 1), _s(1, 4, 24, 48, 4, 0.0, 2), _s(1, 4, 48, 64, 4, 0, 2),
        _s(0, 6, 64, 128, 4, 0.25, 2), _s(0, 9, 128, 160, 6, 0.25, 1),
        _s(0, 15, 160, 256, 6, 0.25, 2),
    ],
    "efficientnetv2-m": [
        _s(1, 3, 24, 24, 1, 0, 1), _s(1, 5, 24, 48, 4, 0, 2), _s(1, 5, 48, 80, 4, 0, 2),
        _s(0, 7, 80, 160, 4, 0.25, 2), _s(0, 14, 160, 176, 6, 0.25, 1),
        _s(0, 18, 176, 304, 6, 0.25, 2), _s(0, 5, 304, 512, 6, 0.25, 1),
    ],
    "efficientnetv2-l": [
        _s(1, 4, 32, 32, 1, 0, 1), _s(1, 7, 32, 64, 4, 0, 2), _s(1, 7, 64, 96, 4, 0, 2),
        _s(0, 10, 96, 192, 4, 0.25, 2), _s(0, 19, 192, 224, 6, 0.25, 1),
        _s(0, 25, 224, 384, 6, 0.25, 2), _s(0, 7, 384, 640, 6, 0.25, 1),
    ],
    "efficientnetv2-b0": copy.deepcopy(_B_ARGS),
    "efficientnetv2-b1": copy.deepcopy(_B_ARGS),
    "efficientnetv2-b2": copy.deepcopy(_B_ARGS),
    "efficientnetv2-b3": copy.deepcopy(_B_ARGS),
}
CONV_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                           "config": {"scale": 2.0, "mode": "fan_out",
                                      "distribution": "truncated_normal"}}
DENSE_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                            "config": {"scale": 1.0 / 3.0, "mode": "fan_out",
                                       "distribution": "uniform"}}


def round_filters(filters, width_coefficient, min_depth, depth_divisor):
    """Round number of filters based on depth multiplier."""
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    new_filters = max(minimum_depth,
                      int(filters + depth_divisor / 2) // depth_divisor * depth_divisor)
    return int(new_filters)


def round_repeats(repeats, depth_coefficient):
    """Round number of repeats based on depth multiplier."""
    return int(math.ceil(depth_coefficient * repeats))


def _bn(x, bn_momentum, name):
    bn_axis = 3 if config.image_data_format() == "channels_last" else 1
    return layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=name)(x)


def _conv(x, filters, kernel_size, strides, name):
    return layers.Conv2D(filters, kernel_size, strides=strides,
                         kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                         data_format=config.image_data_format(), use_bias=False,
                         name=name)(x)


def _squeeze_excite(x, input_filters, filters, se_ratio, activation, name):
    filters_se = max(1, int(input_filters * se_ratio))
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    channels_last = config.image_data_format() == "channels_last"
    se = layers.Reshape((1, 1, filters) if channels_last else (filters, 1, 1),
                        name=f"{name}se_reshape")(se)
    se = layers.Conv2D(filters_se, 1, padding="same", activation=activation,
                       kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid",
                       kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}se_expand")(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def _residual(x, inputs, strides, input_filters, output_filters, survival_probability, name):
    if strides == 1 and input_filters == output_filters:
        if survival_probability:
            # Keras passes the value as the Dropout *rate*; kept for weight/graph parity.
            x = layers.Dropout(survival_probability, noise_shape=(None, 1, 1, 1),
                               name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def _block_name(name):
    if name is None:
        from keras_on_jax.backend import get_uid

        return get_uid("block0")
    return name


def MBConvBlock(input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1,
                se_ratio=0.0, bn_momentum=0.9, activation="swish", survival_probability=0.8,
                name=None):
    """MBConv block: Mobile Inverted Residual Bottleneck."""
    name = _block_name(name)

    def apply(inputs):
        filters = input_filters * expand_ratio
        if expand_ratio != 1:
            x = _conv(inputs, filters, 1, 1, f"{name}expand_conv")
            x = _bn(x, bn_momentum, f"{name}expand_bn")
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        else:
            x = inputs
        x = layers.DepthwiseConv2D(kernel_size, strides=strides,
                                   depthwise_initializer=CONV_KERNEL_INITIALIZER,
                                   padding="same", data_format=config.image_data_format(),
                                   use_bias=False, name=f"{name}dwconv2")(x)
        x = _bn(x, bn_momentum, f"{name}bn")
        x = layers.Activation(activation, name=f"{name}activation")(x)
        if 0 < se_ratio <= 1:
            x = _squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        x = _conv(x, output_filters, 1, 1, f"{name}project_conv")
        x = _bn(x, bn_momentum, f"{name}project_bn")
        return _residual(x, inputs, strides, input_filters, output_filters,
                         survival_probability, name)

    return apply


def FusedMBConvBlock(input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1,
                     se_ratio=0.0, bn_momentum=0.9, activation="swish",
                     survival_probability=0.8, name=None):
    """Fuses the proj conv1x1 and depthwise_conv into a conv2d."""
    name = _block_name(name)

    def apply(inputs):
        filters = input_filters * expand_ratio
        if expand_ratio != 1:
            x = _conv(inputs, filters, kernel_size, strides, f"{name}expand_conv")
            x = _bn(x, bn_momentum, f"{name}expand_bn")
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        else:
            x = inputs
        if 0 < se_ratio <= 1:
            x = _squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        fused = expand_ratio == 1
        x = layers.Conv2D(output_filters, kernel_size if fused else 1,
                          strides=strides if fused else 1,
                          kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                          use_bias=False, name=f"{name}project_conv")(x)
        x = _bn(x, bn_momentum, f"{name}project_bn")
        if fused:
            x = layers.Activation(activation, name=f"{name}project_activation")(x)
        return _residual(x, inputs, strides, input_filters, output_filters,
                         survival_probability, name)

    return apply


def EfficientNetV2(width_coefficient, depth_coefficient, default_size, dropout_rate=0.2,
                   drop_connect_rate=0.2, depth_divisor=8, min_depth=8, bn_momentum=0.9,
                   activation="swish", blocks_args="default", name="efficientnetv2",
                   include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                   pooling=None, classes=1000, classifier_activation="softmax",
                   include_preprocessing=True, weights_name=None):
    """Instantiates the EfficientNetV2 architecture using given scaling coefficients."""
    if blocks_args == "default":
        if name not in DEFAULT_BLOCKS_ARGS:
            raise ValueError("EfficientNetV2: with `blocks_args='default'`, `name` selects the "
                             f"blocks and must be one of {sorted(DEFAULT_BLOCKS_ARGS)}. "
                             f"Received: name={name!r}")
        blocks_args = DEFAULT_BLOCKS_ARGS[name]
    imagenet_utils._check_weights_arg(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=config.image_data_format(), require_flatten=include_top, weights=weights)
    img_input = imagenet_utils._make_input(input_tensor, input_shape)
    bn_axis = 3 if config.image_data_format() == "channels_last" else 1

    def rf(filters):
        return round_filters(filters, width_coefficient=width_coefficient,
                             min_depth=min_depth, depth_divisor=depth_divisor)

    x = img_input
    if include_preprocessing:
        num_channels = input_shape[bn_axis - 1]
        if name.split("-")[-1].startswith("b") and num_channels == 3:
            x = Rescaling(scale=1.0 / 255)(x)
            x = Normalization(mean=[0.485, 0.456, 0.406],
                              variance=[0.229**2, 0.224**2, 0.225**2], axis=bn_axis)(x)
        else:
            x = Rescaling(scale=1.0 / 128.0, offset=-1)(x)

    x = _conv(x, rf(blocks_args[0]["input_filters"]), 3, 2, "stem_conv")
    x = _bn(x, bn_momentum, "stem_bn")
    x = layers.Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(args["num_repeat"] for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["num_repeat"] <= 0:
            raise ValueError("The number of repeats in `EfficientNetV2` must be > 0. "
                             f"Received: num_repeat={args['num_repeat']}")
        args["input_filters"] = rf(args["input_filters"])
        args["output_filters"] = rf(args["output_filters"])
        block = {0: MBConvBlock, 1: FusedMBConvBlock}[args.pop("conv_type")]
        repeats = round_repeats(args.pop("num_repeat"), depth_coefficient=depth_coefficient)
        for j in range(repeats):
            if j > 0:
                args["strides"] = 1
                args["input_filters"] = args["output_filters"]
            x = block(activation=activation, bn_momentum=bn_momentum,
                      survival_probability=drop_connect_rate * b / blocks,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)(x)
            b += 1

    x = _conv(x, rf(1280), 1, 1, "top_conv")
    x = _bn(x, bn_momentum, "top_bn")
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation,
                         kernel_initializer=DENSE_KERNEL_INITIALIZER,
                         bias_initializer="zeros", name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = Functional(imagenet_utils._model_inputs(input_tensor, img_input), x, name=name)
    if weights == "imagenet":
        suffix, h = ((".h5", WEIGHTS_HASHES[weights_name][0]) if include_top
                     else ("_notop.h5", WEIGHTS_HASHES[weights_name][1]))
        fname = name + suffix
        return imagenet_utils._load(model, weights, fname, BASE_WEIGHTS_PATH + fname, h)
    return imagenet_utils._load(model, weights, None, None)


def _variant(fn_name, width, depth, size, model_name, weights_name):
    def fn(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
           pooling=None, classes=1000, classifier_activation="softmax",
           include_preprocessing=True, name=model_name):
        return EfficientNetV2(width_coefficient=width, depth_coefficient=depth,
                              default_size=size, name=name, include_top=include_top,
                              weights=weights, input_tensor=input_tensor,
                              input_shape=input_shape, pooling=pooling, classes=classes,
                              classifier_activation=classifier_activation,
                              include_preprocessing=include_preprocessing,
                              weights_name=weights_name)

    fn.__name__ = fn.__qualname__ = fn_name
    fn.__doc__ = (f"Instantiates the {fn_name} architecture.\n\n"
                  "Preprocessing (rescaling of [0, 255] pixels) is part of the model unless "
                  "`include_preprocessing=False`, in which case inputs are expected in "
                  "[-1, 1].")
    return fn


EfficientNetV2B0 = _variant("EfficientNetV2B0", 1.0, 1.0, 224, "efficientnetv2-b0", "b0")
EfficientNetV2B1 = _variant("EfficientNetV2B1", 1.0, 1.1, 240, "efficientnetv2-b1", "b1")
EfficientNetV2B2 = _variant("EfficientNetV2B2", 1.1, 1.2, 260, "efficientnetv2-b2", "b2")
EfficientNetV2B3 = _variant("EfficientNetV2B3", 1.2, 1.4, 300, "efficientnetv2-b3", "b3")
EfficientNetV2S = _variant("EfficientNetV2S", 1.0, 1.0, 384, "efficientnetv2-s", "-s")
EfficientNetV2M = _variant("EfficientNetV2M", 1.0, 1.0, 480, "efficientnetv2-m", "-m")
EfficientNetV2L = _variant("EfficientNetV2L", 1.0, 1.0, 480, "efficientnetv2-l", "-l")


def preprocess_input(x, data_format=None):
    """A placeholder method for backward compatibility: EfficientNetV2 models include their
    preprocessing (`Rescaling`, and `Normalization` for the B variants); this returns `x`
    unchanged."""
    return x


def decode_predictions(preds, top=5):
    return imagenet_utils.decode_predictions(preds, top=top)


decode_predictions.__doc__ = imagenet_utils.decode_predictions.__doc__
