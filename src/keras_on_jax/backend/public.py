"""The public `keras.backend` names (Keras 3): dtype helpers, config, clear_session."""

from keras_on_jax.backend.config import backend as backend
from keras_on_jax.backend.config import epsilon as epsilon
from keras_on_jax.backend.config import floatx as floatx
from keras_on_jax.backend.config import image_data_format as image_data_format
from keras_on_jax.backend.config import set_epsilon as set_epsilon
from keras_on_jax.backend.config import set_floatx as set_floatx
from keras_on_jax.backend.config import set_image_data_format as set_image_data_format
from keras_on_jax.backend.dtypes import is_float_dtype as is_float_dtype
from keras_on_jax.backend.dtypes import is_int_dtype as is_int_dtype
from keras_on_jax.backend.dtypes import result_type as result_type
from keras_on_jax.backend.dtypes import standardize_dtype as standardize_dtype
from keras_on_jax.backend.keras_tensor import is_keras_tensor as is_keras_tensor
from keras_on_jax.backend.naming import auto_name as _auto_name


def get_uid(prefix=""):
    """A unique integer per prefix: 1, 2, 3, ..."""
    name = _auto_name(f"uid:{prefix}")
    return 1 if name == f"uid:{prefix}" else int(name.rsplit("_", 1)[1]) + 1


def clear_session(free_memory=True):
    """Reset layer-name counters and release compiled functions and dropped buffers."""
    import gc

    import jax

    from keras_on_jax.backend import random as backend_random
    from keras_on_jax.backend.naming import reset_names

    reset_names()
    backend_random.reset_global_seed_generator()
    if free_memory:
        gc.collect()
        jax.clear_caches()


def get_value(x):
    """`tf.keras.backend.get_value` (Keras 3's `keras._tf_keras` legacy backend): `x` as
    NumPy (a Variable or array), or `x` unchanged when it is not a tensor."""
    import jax
    import numpy as np

    from keras_on_jax.backend.variables import Variable

    if isinstance(x, (Variable, jax.Array)):
        return np.asarray(x)
    return x


def set_value(x, value):
    """`tf.keras.backend.set_value` (legacy): `x.assign(value)` in `x`'s dtype."""
    import numpy as np

    if not hasattr(x, "assign"):
        raise TypeError(f"`set_value` expects a Variable as `x`. Received: x={x!r} of "
                        f"type {type(x).__name__}")
    x.assign(np.asarray(value, dtype=x.dtype))
