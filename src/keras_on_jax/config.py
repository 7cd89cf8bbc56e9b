"""keras.config: global settings (keras.json values, dtype policy, determinism)."""

from keras_on_jax.backend.config import backend as backend
from keras_on_jax.backend.config import epsilon as epsilon
from keras_on_jax.backend.config import floatx as floatx
from keras_on_jax.backend.config import image_data_format as image_data_format
from keras_on_jax.backend.config import keras_home as keras_home
from keras_on_jax.backend.config import set_epsilon as set_epsilon
from keras_on_jax.backend.config import set_floatx as set_floatx
from keras_on_jax.backend.config import set_image_data_format as set_image_data_format
from keras_on_jax.backend.dtype_policies import global_policy as dtype_policy
from keras_on_jax.backend.dtype_policies import set_global_policy as set_dtype_policy



def enable_unsafe_deserialization():
    """Allow loading Lambda bytecode from files in this process (see `safe_mode`)."""
    from keras_on_jax.io.serialization import enable_unsafe_deserialization as enable

    enable()


def enable_interactive_logging():
    """Print progress and messages to stdout (the default)."""
    from keras_on_jax.utils import io_utils

    io_utils.enable_interactive_logging()


def disable_interactive_logging():
    """Send progress and messages to Python's `logging` instead of stdout."""
    from keras_on_jax.utils import io_utils

    io_utils.disable_interactive_logging()


def is_interactive_logging_enabled():
    from keras_on_jax.utils import io_utils

    return io_utils.is_interactive_logging_enabled()


_DETERMINISTIC = False


def enable_unsafe_deterministic_mode():
    """Make GPU computations deterministic (XLA flag); CPU runs are deterministic already."""
    import os

    global _DETERMINISTIC
    _DETERMINISTIC = True
    flags = os.environ.get("XLA_FLAGS", "")
    if "--xla_gpu_deterministic_ops" not in flags:
        os.environ["XLA_FLAGS"] = (flags + " --xla_gpu_deterministic_ops=true").strip()


def is_unsafe_deterministic_mode_enabled():
    return _DETERMINISTIC

