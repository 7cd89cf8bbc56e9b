"""keras.applications.vgg19."""

from keras_on_jax.applications import imagenet_utils
from keras_on_jax.applications._vgg import build_vgg

WEIGHTS_HASHES = ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg19"):
    """Instantiates the VGG19 model."""
    return build_vgg((2, 2, 4, 4, 4), "vgg19", WEIGHTS_HASHES, include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation, name)


preprocess_input, decode_predictions = imagenet_utils.module_functions("caffe", __name__)
