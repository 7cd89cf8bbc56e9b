"""Import aliases for the drop-in runner: `keras` (and, without TensorFlow, `tensorflow`).

`install()` adds a meta-path finder so that `import keras`, `import keras.layers`,
`from keras.optimizers import schedules`, ... resolve to keras_on_jax (and Keras 3's private
`keras.src.<x>` to `keras_on_jax.<x>`, for libraries that import it). Where TensorFlow
is not installed, `import tensorflow as tf` gives a small module exposing the FAQ's
TensorFlow spellings mapped to this package (`tf.keras`, `tf.distribute`, `tf.device`,
`tf.random.set_seed`, `tf.GradientTape`, `tf.function`, `tf.config`, `tf.tpu`, and for the
keras-io guides a NumPy `tf.data.Dataset`, `tf.TensorSpec`, dtype names and a few array
ops); any other `tf.*` name raises an error that names it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

_PREFIX = "keras_on_jax"


class _KerasAliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == "keras.src":
            return importlib.machinery.ModuleSpec(fullname, self, origin="keras-src-shim",
                                                  is_package=True)
        if fullname == "keras" or fullname.startswith("keras."):
            # `keras.src.<x>` (Keras 3's private tree, imported by some libraries, e.g.
            # keras-tuner's `from keras.src.ops import *`) maps to `keras_on_jax.<x>`.
            tail = fullname[len("keras.src"):] if fullname.startswith("keras.src.") else \
                fullname[len("keras"):]
            real = _PREFIX + tail
            if importlib.util.find_spec(real) is None:
                return None
            return importlib.machinery.ModuleSpec(fullname, self, origin=real)
        if fullname == "tensorflow" and _tensorflow_missing():
            return importlib.machinery.ModuleSpec(fullname, self, origin="tensorflow-shim")
        if fullname == "tensorflow.keras" or fullname.startswith("tensorflow.keras."):
            # `from tensorflow.keras import layers` under the shim: keras_on_jax's modules.
            tf = sys.modules.get("tensorflow")
            if getattr(tf, "__version__", None) != "keras_on_jax-shim":
                return None
            real = _PREFIX + fullname[len("tensorflow.keras"):]
            if importlib.util.find_spec(real) is None:
                return None
            return importlib.machinery.ModuleSpec(fullname, self, origin=real)
        return None

    def create_module(self, spec):
        if spec.origin == "tensorflow-shim":
            return _make_tensorflow_shim()
        if spec.origin == "keras-src-shim":
            return _KerasSrc("keras.src")
        return importlib.import_module(spec.origin)

    def exec_module(self, module):
        pass


class _KerasSrc(types.ModuleType):
    """`keras.src`: a package whose attributes and submodules are keras_on_jax's."""

    __path__ = []

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        import keras_on_jax

        try:
            return getattr(keras_on_jax, attr)
        except AttributeError:
            raise AttributeError(
                f"`keras.src.{attr}` is not provided by keras_on_jax (it maps `keras.src.<x>` "
                "to `keras_on_jax.<x>`, and `keras_on_jax` has no attribute "
                f"{attr!r})."
            ) from None


def _tensorflow_missing():
    for finder in sys.meta_path:
        if isinstance(finder, _KerasAliasFinder):
            continue
        find = getattr(finder, "find_spec", None)
        if find is not None and find("tensorflow", None) is not None:
            return False
    return True


class _NotProvided(types.ModuleType):
    """A namespace whose unknown attributes raise a clear error."""

    def __init__(self, name, mapping):
        super().__init__(name)
        self._mapping = mapping

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        if attr in self._mapping:
            value = self._mapping[attr]
            value = value() if callable(value) and getattr(value, "_lazy", False) else value
            setattr(self, attr, value)
            return value
        raise AttributeError(
            f"`{self.__name__}.{attr}` is not provided by keras_on_jax (TensorFlow is not "
            "installed; only the Keras FAQ's TensorFlow symbols are mapped to this package)."
        )


def _lazy(path):
    def resolve():
        module_name, _, attr = path.rpartition(":")
        module = importlib.import_module(module_name)
        if not attr:
            return module
        obj = module
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj

    resolve._lazy = True
    return resolve


# `tf.float32` & co., for `tf.TensorSpec(..., dtype=tf.float32)`: the dtype names Keras
# takes wherever a dtype goes.
_DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
           "uint8", "uint16", "uint32", "uint64", "bool", "complex64", "complex128")


def _make_tensorflow_shim():
    import keras_on_jax

    tf = _NotProvided("tensorflow", {
        "keras": keras_on_jax,
        "distribute": _lazy("keras_on_jax.distribute:"),
        "device": _lazy("keras_on_jax.distribute.device:tf_device"),
        "device_scope": _lazy("keras_on_jax.distribute.device:tf_device"),
        "GradientTape": _lazy("keras_on_jax.training.gradient_tape:GradientTape"),
        # The tf.keras guide "Writing a training loop from scratch" compiles its steps.
        "function": _lazy("keras_on_jax.training.function:function"),
        "TensorSpec": _lazy("keras_on_jax.training.function:TensorSpec"),
        **{name: name for name in _DTYPES},
        # Array ops of the guides' GAN `train_step`, as `keras.ops` (same arguments).
        "shape": _lazy("keras_on_jax.ops:shape"),
        "concat": _lazy("keras_on_jax.ops:concatenate"),
        "ones": _lazy("keras_on_jax.ops:ones"),
        "zeros": _lazy("keras_on_jax.ops:zeros"),
        # The training-loop guide's activity regularization layer (same arguments).
        "reduce_sum": _lazy("keras_on_jax.ops:sum"),
        "reduce_mean": _lazy("keras_on_jax.ops:mean"),
    })
    tf.__version__ = "keras_on_jax-shim"
    tf.__path__ = []  # a package, so `from tensorflow.keras import layers` resolves
    tf.random = _NotProvided("tensorflow.random", {
        "set_seed": _lazy("keras_on_jax.utils:set_random_seed"),
        # The guides' GAN `train_step` (customizing_what_happens_in_fit); same arguments.
        "normal": _lazy("keras_on_jax.random:normal"),
        "uniform": _lazy("keras_on_jax.random:uniform"),
    })
    tf.config = _NotProvided("tensorflow.config", {
        "experimental_connect_to_cluster": _lazy("keras_on_jax.distribute:experimental_connect_to_cluster"),
        "list_physical_devices": _lazy("keras_on_jax.distribute:list_physical_devices"),
        "run_functions_eagerly": _lazy("keras_on_jax.training.function:run_functions_eagerly"),
        "functions_run_eagerly": _lazy("keras_on_jax.training.function:functions_run_eagerly"),
    })
    tf.data = _NotProvided("tensorflow.data", {
        "Dataset": _lazy("keras_on_jax._tf_data:Dataset"),
        "AUTOTUNE": _lazy("keras_on_jax._tf_data:AUTOTUNE"),
    })
    tf.data.experimental = _NotProvided("tensorflow.data.experimental", {
        "AUTOTUNE": _lazy("keras_on_jax._tf_data:AUTOTUNE"),
    })
    tf.tpu = _NotProvided("tensorflow.tpu", {})
    tf.tpu.experimental = _NotProvided("tensorflow.tpu.experimental", {
        "initialize_tpu_system": _lazy("keras_on_jax.distribute:initialize_tpu_system"),
    })
    return tf


_INSTALLED = False


def install():
    """Make `import keras` (and `import tensorflow` when absent) resolve to this package."""
    global _INSTALLED
    if _INSTALLED:
        return
    sys.meta_path.insert(0, _KerasAliasFinder())
    for name in [n for n in sys.modules if n == "keras" or n.startswith("keras.")]:
        del sys.modules[name]
    _INSTALLED = True
