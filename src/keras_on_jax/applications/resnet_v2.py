"""keras.applications.resnet_v2: ResNet50V2/101V2/152V2 (pre-activation ResNets)."""

from keras_on_jax.applications import imagenet_utils
from keras_on_jax.applications.resnet import ResNet, stack_residual_blocks_v2


def _v2(depths):
    def stack_fn(x):
        x = stack_residual_blocks_v2(x, 64, depths[0], name="conv2")
        x = stack_residual_blocks_v2(x, 128, depths[1], name="conv3")
        x = stack_residual_blocks_v2(x, 256, depths[2], name="conv4")
        return stack_residual_blocks_v2(x, 512, depths[3], stride1=1, name="conv5")

    return stack_fn


def _make(depths, weights_name, doc):
    def fn(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
           pooling=None, classes=1000, classifier_activation="softmax", name=weights_name):
        return ResNet(_v2(depths), True, True, include_top=include_top, weights=weights,
                      input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                      classes=classes, classifier_activation=classifier_activation, name=name,
                      weights_name=weights_name)

    fn.__doc__ = doc
    return fn


ResNet50V2 = _make([3, 4, 6, 3], "resnet50v2", "Instantiates the ResNet50V2 architecture.")
ResNet50V2.__name__ = ResNet50V2.__qualname__ = "ResNet50V2"
ResNet101V2 = _make([3, 4, 23, 3], "resnet101v2", "Instantiates the ResNet101V2 architecture.")
ResNet101V2.__name__ = ResNet101V2.__qualname__ = "ResNet101V2"
ResNet152V2 = _make([3, 8, 36, 3], "resnet152v2", "Instantiates the ResNet152V2 architecture.")
ResNet152V2.__name__ = ResNet152V2.__qualname__ = "ResNet152V2"


preprocess_input, decode_predictions = imagenet_utils.module_functions("tf", __name__)
