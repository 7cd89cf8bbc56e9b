"""keras.applications: Keras 3's pretrained-model families, with Keras's layer names,
weight shapes and weight order (Keras's published `.h5` weight files load as they are).

`weights="imagenet"` looks for the published file under `<keras home>/models/` and
downloads it (with its published hash) when it is missing.
"""

from keras_on_jax.applications import convnext as convnext
from keras_on_jax.applications import densenet as densenet
from keras_on_jax.applications import efficientnet as efficientnet
from keras_on_jax.applications import efficientnet_v2 as efficientnet_v2
from keras_on_jax.applications import imagenet_utils as imagenet_utils
from keras_on_jax.applications import inception_resnet_v2 as inception_resnet_v2
from keras_on_jax.applications import inception_v3 as inception_v3
from keras_on_jax.applications import mobilenet as mobilenet
from keras_on_jax.applications import mobilenet_v2 as mobilenet_v2
from keras_on_jax.applications import mobilenet_v3 as mobilenet_v3
from keras_on_jax.applications import nasnet as nasnet
from keras_on_jax.applications import resnet as resnet
from keras_on_jax.applications import resnet50 as resnet50
from keras_on_jax.applications import resnet_v2 as resnet_v2
from keras_on_jax.applications import vgg16 as vgg16
from keras_on_jax.applications import vgg19 as vgg19
from keras_on_jax.applications import xception as xception
from keras_on_jax.applications.convnext import ConvNeXtBase as ConvNeXtBase
from keras_on_jax.applications.convnext import ConvNeXtLarge as ConvNeXtLarge
from keras_on_jax.applications.convnext import ConvNeXtSmall as ConvNeXtSmall
from keras_on_jax.applications.convnext import ConvNeXtTiny as ConvNeXtTiny
from keras_on_jax.applications.convnext import ConvNeXtXLarge as ConvNeXtXLarge
from keras_on_jax.applications.densenet import DenseNet121 as DenseNet121
from keras_on_jax.applications.densenet import DenseNet169 as DenseNet169
from keras_on_jax.applications.densenet import DenseNet201 as DenseNet201
from keras_on_jax.applications.efficientnet import EfficientNetB0 as EfficientNetB0
from keras_on_jax.applications.efficientnet import EfficientNetB1 as EfficientNetB1
from keras_on_jax.applications.efficientnet import EfficientNetB2 as EfficientNetB2
from keras_on_jax.applications.efficientnet import EfficientNetB3 as EfficientNetB3
from keras_on_jax.applications.efficientnet import EfficientNetB4 as EfficientNetB4
from keras_on_jax.applications.efficientnet import EfficientNetB5 as EfficientNetB5
from keras_on_jax.applications.efficientnet import EfficientNetB6 as EfficientNetB6
from keras_on_jax.applications.efficientnet import EfficientNetB7 as EfficientNetB7
from keras_on_jax.applications.efficientnet_v2 import EfficientNetV2B0 as EfficientNetV2B0
from keras_on_jax.applications.efficientnet_v2 import EfficientNetV2B1 as EfficientNetV2B1
from keras_on_jax.applications.efficientnet_v2 import EfficientNetV2B2 as EfficientNetV2B2
from keras_on_jax.applications.efficientnet_v2 import EfficientNetV2B3 as EfficientNetV2B3
from keras_on_jax.applications.efficientnet_v2 import EfficientNetV2L as EfficientNetV2L
from keras_on_jax.applications.efficientnet_v2 import EfficientNetV2M as EfficientNetV2M
from keras_on_jax.applications.efficientnet_v2 import EfficientNetV2S as EfficientNetV2S
from keras_on_jax.applications.inception_resnet_v2 import (
    InceptionResNetV2 as InceptionResNetV2,
)
from keras_on_jax.applications.inception_v3 import InceptionV3 as InceptionV3
from keras_on_jax.applications.mobilenet import MobileNet as MobileNet
from keras_on_jax.applications.mobilenet_v2 import MobileNetV2 as MobileNetV2
from keras_on_jax.applications.mobilenet_v3 import MobileNetV3Large as MobileNetV3Large
from keras_on_jax.applications.mobilenet_v3 import MobileNetV3Small as MobileNetV3Small
from keras_on_jax.applications.nasnet import NASNetLarge as NASNetLarge
from keras_on_jax.applications.nasnet import NASNetMobile as NASNetMobile
from keras_on_jax.applications.resnet import ResNet50 as ResNet50
from keras_on_jax.applications.resnet import ResNet101 as ResNet101
from keras_on_jax.applications.resnet import ResNet152 as ResNet152
from keras_on_jax.applications.resnet_v2 import ResNet50V2 as ResNet50V2
from keras_on_jax.applications.resnet_v2 import ResNet101V2 as ResNet101V2
from keras_on_jax.applications.resnet_v2 import ResNet152V2 as ResNet152V2
from keras_on_jax.applications.vgg16 import VGG16 as VGG16
from keras_on_jax.applications.vgg19 import VGG19 as VGG19
from keras_on_jax.applications.xception import Xception as Xception
