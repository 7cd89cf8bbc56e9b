"""`keras.ops`: the Keras 3 op set as thin functions over `jax.numpy`, `jax.nn` and `jax.lax`.

Submodules mirror Keras: `ops.numpy`, `ops.nn`, `ops.linalg`, `ops.image`, `ops.math`,
`ops.core`. Every public name of `keras.ops` is importable from here.
"""

from keras_on_jax.ops import core, image, linalg, math, nn, numpy
from keras_on_jax.ops.core import *  # noqa: F401,F403
from keras_on_jax.ops.einops import rearrange  # noqa: F401
from keras_on_jax.ops.linalg import *  # noqa: F401,F403
from keras_on_jax.ops.math import *  # noqa: F401,F403
from keras_on_jax.ops.nn import *  # noqa: F401,F403
from keras_on_jax.ops.numpy import *  # noqa: F401,F403  (numpy last: `tanh` etc. as in Keras)

import sys as _sys  # noqa: E402

from keras_on_jax.backend import keras_tensor as _keras_tensor  # noqa: E402

# Arithmetic on symbolic KerasTensors dispatches to these ops.
_keras_tensor.set_ops_module(_sys.modules[__name__])
