"""`keras.distribution` (Keras 3's API) on `jax.sharding`."""

from keras_on_jax.distribute.distribution_lib import DataParallel as DataParallel
from keras_on_jax.distribute.distribution_lib import DeviceMesh as DeviceMesh
from keras_on_jax.distribute.distribution_lib import Distribution as Distribution
from keras_on_jax.distribute.distribution_lib import LayoutMap as LayoutMap
from keras_on_jax.distribute.distribution_lib import ModelParallel as ModelParallel
from keras_on_jax.distribute.distribution_lib import TensorLayout as TensorLayout
from keras_on_jax.distribute.distribution_lib import distribute_tensor as distribute_tensor
from keras_on_jax.distribute.distribution_lib import distribution as distribution
from keras_on_jax.distribute.distribution_lib import initialize as initialize
from keras_on_jax.distribute.distribution_lib import list_devices as list_devices
from keras_on_jax.distribute.distribution_lib import set_distribution as set_distribution
