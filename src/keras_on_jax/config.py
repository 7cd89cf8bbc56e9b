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
from keras_on_jax.backend.limits import max_model_bytes as max_model_bytes
from keras_on_jax.backend.limits import max_variable_bytes as max_variable_bytes
from keras_on_jax.backend.limits import set_max_model_bytes as set_max_model_bytes
from keras_on_jax.backend.limits import set_max_variable_bytes as set_max_variable_bytes



def enable_unsafe_deserialization():
    """Allow loading Lambda bytecode from files in this process (see `safe_mode`)."""
    from keras_on_jax.serialization import enable_unsafe_deserialization as enable

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



# ---- debugging caps on fit (Keras's KERAS_MAX_EPOCHS / KERAS_MAX_STEPS_PER_EPOCH) ----------
def _env_int(name):
    import os

    value = os.environ.get(name)
    return int(value) if value else None


_MAX_EPOCHS = _env_int("KERAS_MAX_EPOCHS")
_MAX_STEPS_PER_EPOCH = _env_int("KERAS_MAX_STEPS_PER_EPOCH")


def set_max_epochs(max_epochs):
    """Cap the number of epochs of every `fit()` (debugging; `None` removes the cap).

    Also set by the `KERAS_MAX_EPOCHS` environment variable.
    """
    global _MAX_EPOCHS
    _MAX_EPOCHS = max_epochs


def max_epochs():
    """The cap set by `set_max_epochs` / `KERAS_MAX_EPOCHS`, or `None`."""
    return _MAX_EPOCHS


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Cap the steps of one epoch of `fit()`, `evaluate()` and `predict()` (debugging).

    Also set by the `KERAS_MAX_STEPS_PER_EPOCH` environment variable.
    """
    global _MAX_STEPS_PER_EPOCH
    _MAX_STEPS_PER_EPOCH = max_steps_per_epoch


def max_steps_per_epoch():
    """The cap set by `set_max_steps_per_epoch` / `KERAS_MAX_STEPS_PER_EPOCH`, or `None`."""
    return _MAX_STEPS_PER_EPOCH


# ---- attention, tracebacks, NNX, backend ----------------------------------------------------
# Keras's switch, kept with Keras's values (None: attempt where supported; False: never).
# Attention layers here compute one XLA program (einsum, masked softmax in float32,
# einsum) whatever the switch says: no hand-written flash kernel is selected by it.
_FLASH_ATTENTION = None


def enable_flash_attention():
    """Keras's default: attention may use a flash kernel where one applies (see above)."""
    global _FLASH_ATTENTION
    _FLASH_ATTENTION = None


def disable_flash_attention():
    """Attention layers never use a flash kernel."""
    global _FLASH_ATTENTION
    _FLASH_ATTENTION = False


def is_flash_attention_enabled():
    """`False` once disabled, otherwise `None` (enabled where supported), as in Keras."""
    return _FLASH_ATTENTION


def enable_traceback_filtering():
    """Hide JAX's internal frames from tracebacks (JAX's `jax_traceback_filtering="auto"`)."""
    import jax

    jax.config.update("jax_traceback_filtering", "auto")


def disable_traceback_filtering():
    """Show full tracebacks, JAX's internal frames included."""
    import jax

    jax.config.update("jax_traceback_filtering", "off")


def is_traceback_filtering_enabled():
    import jax

    return jax.config.jax_traceback_filtering != "off"


def is_nnx_enabled():
    """Always `True` here: every layer is a Flax NNX module (Keras 3 makes this opt-in)."""
    return True


def set_backend(backend):
    """Keras's backend switch. This package runs on JAX only: `"jax"` is accepted (nothing
    to reload), any other backend is an error."""
    if backend != "jax":
        raise ValueError(
            "keras_on_jax runs on the JAX backend only; use real Keras for "
            f"'{backend}'. Received: backend={backend!r}"
        )
