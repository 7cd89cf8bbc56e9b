"""keras_on_jax: the Keras API on JAX.

`import keras_on_jax as keras` gives the same top-level names as Keras 3; the engine is
JAX (Flax NNX variables, Optax optimizers, Orbax and h5py files).
"""

from keras_on_jax.backend import config as _config

_config.load_config()

from keras_on_jax import activations as activations  # noqa: E402
from keras_on_jax import callbacks as callbacks  # noqa: E402
from keras_on_jax import config as config  # noqa: E402
from keras_on_jax import constraints as constraints  # noqa: E402
from keras_on_jax import initializers as initializers  # noqa: E402
from keras_on_jax import layers as layers  # noqa: E402
from keras_on_jax import losses as losses  # noqa: E402
from keras_on_jax import metrics as metrics  # noqa: E402
from keras_on_jax import models as models  # noqa: E402
from keras_on_jax import ops as ops  # noqa: E402
from keras_on_jax import optimizers as optimizers  # noqa: E402
from keras_on_jax import random as random  # noqa: E402
from keras_on_jax import regularizers as regularizers  # noqa: E402
from keras_on_jax import utils as utils  # noqa: E402
from keras_on_jax.backend.dtype_policies import DTypePolicy as DTypePolicy  # noqa: E402
from keras_on_jax.backend.variables import Variable as Variable  # noqa: E402
from keras_on_jax.layers import Input as Input  # noqa: E402
from keras_on_jax.layers import InputSpec as InputSpec  # noqa: E402
from keras_on_jax.layers import Layer as Layer  # noqa: E402
from keras_on_jax.models import Model as Model  # noqa: E402
from keras_on_jax.models import Sequential as Sequential  # noqa: E402
from keras_on_jax.backend.keras_tensor import KerasTensor as KerasTensor  # noqa: E402
from keras_on_jax.version import __version__ as __version__  # noqa: E402
from keras_on_jax.version import version as version  # noqa: E402
