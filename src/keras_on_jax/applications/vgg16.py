"""keras.applications.vgg16."""

from keras_on_jax.applications import imagenet_utils
from keras_on_jax.applications._vgg import build_vgg

WEIGHTS_HASHES = ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc")


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):
    """Instantiates the VGG16 model."""
    return build_vgg((2, 2, 3, 3, 3), "vgg16", WEIGHTS_HASHES, include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation, name)


preprocess_input, decode_predictions = imagenet_utils.module_functions("caffe", __name__)
