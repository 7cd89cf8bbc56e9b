"""keras_on_jax: the Keras API on JAX.

`import keras_on_jax as keras` gives the same top-level names as Keras 3; the engine is
JAX (Flax NNX variables, Optax optimizers, Orbax and h5py files). Heavier subpackages
(applications, datasets, distribution, preprocessing, ...) load on first access.
"""

import importlib as _importlib

from keras_on_jax.backend import config as _config

_config.load_config()

# Tell the serialization core which package holds each public Keras module, before any
# of them is imported (the core itself names no package above the backend).
from keras_on_jax import _keras_modules  # noqa: E402,F401

from keras_on_jax import activations as activations  # noqa: E402
from keras_on_jax import backend as backend  # noqa: E402
from keras_on_jax import config as config  # noqa: E402
from keras_on_jax import constraints as constraints  # noqa: E402
from keras_on_jax import initializers as initializers  # noqa: E402
from keras_on_jax import layers as layers  # noqa: E402
from keras_on_jax import models as models  # noqa: E402
from keras_on_jax import ops as ops  # noqa: E402
from keras_on_jax import regularizers as regularizers  # noqa: E402
from keras_on_jax.backend.dtype_policies import DTypePolicy as DTypePolicy  # noqa: E402
from keras_on_jax.backend.dtype_policies import FloatDTypePolicy as FloatDTypePolicy  # noqa: E402
from keras_on_jax.backend.keras_tensor import KerasTensor as KerasTensor  # noqa: E402
from keras_on_jax.backend.remat import RematScope as RematScope  # noqa: E402
from keras_on_jax.backend.remat import remat as remat  # noqa: E402
from keras_on_jax.backend.scopes import NameScope as name_scope  # noqa: E402
from keras_on_jax.backend.scopes import StatelessScope as StatelessScope  # noqa: E402
from keras_on_jax.backend.scopes import SymbolicScope as SymbolicScope  # noqa: E402
from keras_on_jax.backend.variables import Variable as Variable  # noqa: E402
from keras_on_jax.constraints import Constraint as Constraint  # noqa: E402
from keras_on_jax.initializers import Initializer as Initializer  # noqa: E402
from keras_on_jax.layers import Input as Input  # noqa: E402
from keras_on_jax.layers import InputSpec as InputSpec  # noqa: E402
from keras_on_jax.layers import Layer as Layer  # noqa: E402
from keras_on_jax.models import Model as Model  # noqa: E402
from keras_on_jax.models import Sequential as Sequential  # noqa: E402
from keras_on_jax.ops.function import Function as Function  # noqa: E402
from keras_on_jax.ops.operation import Operation as Operation  # noqa: E402
from keras_on_jax.regularizers import Regularizer as Regularizer  # noqa: E402
from keras_on_jax.version import __version__ as __version__  # noqa: E402
from keras_on_jax.version import version as version  # noqa: E402

from keras_on_jax.training import gradient_tape as _gradient_tape  # noqa: E402
from keras_on_jax.training.gradient_tape import GradientTape as GradientTape  # noqa: E402

_gradient_tape.install_recording_hooks()

_LAZY_MODULES = {
    "applications", "callbacks", "datasets", "distribute", "distribution", "dtype_policies",
    "export", "losses", "metrics", "mixed_precision", "optimizers", "preprocessing",
    "quantizers", "random", "saving", "tree", "utils",
}
_LAZY_ATTRS = {
    "Loss": ("keras_on_jax.losses", "Loss"),
    "Metric": ("keras_on_jax.metrics", "Metric"),
    "Optimizer": ("keras_on_jax.optimizers", "Optimizer"),
    "Quantizer": ("keras_on_jax.quantizers", "Quantizer"),
    "device": ("keras_on_jax.distribute", "device"),
    "function": ("keras_on_jax.training.function", "function"),
}


def __getattr__(name):
    if name == "src":  # Keras 3's private names that libraries use (see _keras_src.py)
        return _importlib.import_module("keras_on_jax.src")
    if name in _LAZY_MODULES:
        module = _importlib.import_module(f"keras_on_jax.{name}")
        globals()[name] = module
        return module
    if name in _LAZY_ATTRS:
        module_name, attr = _LAZY_ATTRS[name]
        value = getattr(_importlib.import_module(module_name), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_on_jax' has no attribute '{name}'")


def __dir__():
    return sorted(list(globals()) + list(_LAZY_MODULES) + list(_LAZY_ATTRS))


# `from keras import *` (keras-tuner does it) must also bring the lazily loaded names.
# Internal subpackages (`io`, `serialization`, `training`) are not part of the Keras namespace.
__all__ = sorted(({n for n in globals() if not n.startswith("_")} - {"io", "serialization", "training"})
                 | _LAZY_MODULES | set(_LAZY_ATTRS))
