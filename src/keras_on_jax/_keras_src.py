"""The names of Keras 3's private `keras.src` tree that Keras libraries import, mapped here.

KerasHub, keras-tuner and other libraries (and scripts whose editor auto-completed an
import) reach into `keras.src.*`. Under `python -m keras_on_jax` those imports resolve here,
and `keras_on_jax.src.*` spells the same paths without the runner. This is a compatibility
surface, not a copy of Keras's tree. A path `keras.src.<p>` resolves to:

1. `TABLE[p]` when listed: `"pkg.module"` (a module) or `"pkg.module:attr"` (an object);
2. else, when `TABLE` lists paths below `p`, a namespace holding those, falling back to the
   attributes of the module `keras_on_jax.<p>` where one exists (`keras.src.saving` holds
   the listed `saving_lib` and `serialization_lib`, and `load_model` from
   `keras_on_jax.saving`);
3. else the module `keras_on_jax.<p>` itself, where Keras's layout and ours agree
   (`keras.src.ops`, `keras.src.layers.layer`, `keras.src.utils.sequence_utils`, ...).

Anything else raises an error naming the `keras.src` path.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

_PREFIX = "keras_on_jax"
_ROOT = "keras_on_jax.src"

# Keras 3 path (below `keras.src`) -> where it lives here. Kept to what libraries use;
# `tests/test_keras_src.py` checks that every entry resolves and works.
TABLE = {
    # KerasHub 0.32
    "saving.serialization_lib": "keras_on_jax.serialization",
    "saving.saving_lib.H5IOStore": "keras_on_jax.io.h5_store:H5IOStore",
    "backend.get_keras_mask": "keras_on_jax.layers.layer:get_keras_mask",
    "backend.set_keras_mask": "keras_on_jax.layers.layer:set_keras_mask",
    "utils.backend_utils.in_grain_data_pipeline":
        "keras_on_jax.backend.scopes:in_grain_data_pipeline",
    "trainers.data_adapters.data_adapter_utils.class_weight_to_sample_weights":
        "keras_on_jax.training.data_adapters:class_weight_to_sample_weights",
    "losses.losses.LossFunctionWrapper": "keras_on_jax.losses.losses:LossFunctionWrapper",
    "distribution.distribution_lib": "keras_on_jax.distribute.distribution_lib",
    # keras-tuner 1.4 (`from keras.src.ops import *`), keras-cv
    "ops": "keras_on_jax.ops",
    "utils.image_utils.smart_resize": "keras_on_jax.utils.image_utils:smart_resize",
    # Editors' auto-imports seen in user scripts
    "saving.saving_api": "keras_on_jax.io.saving_api",
    "backend.common.keras_tensor.KerasTensor": "keras_on_jax.backend.keras_tensor:KerasTensor",
    "models.functional.Functional": "keras_on_jax.models.functional:Functional",
    "utils.sequence_utils.pad_sequences": "keras_on_jax.utils.sequence_utils:pad_sequences",
}

_RESOLVED = {}
_MISSING = object()


def _load(target):
    module_name, _, attr = target.partition(":")
    obj = importlib.import_module(module_name)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


def _our_module(path):
    """The module `keras_on_jax.<path>`, or None."""
    name = f"{_PREFIX}.{path}"
    if name in sys.modules:
        return sys.modules[name]
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, AttributeError, ValueError):  # a parent that is not a package
        return None
    return None if spec is None else importlib.import_module(name)


def resolve(path):
    """What `keras.src.<path>` is here (a module, a namespace or an object), or None."""
    obj = _RESOLVED.get(path, _MISSING)
    if obj is not _MISSING:
        return obj
    if path in TABLE:
        obj = _load(TABLE[path])
    elif any(key.startswith(path + ".") for key in TABLE):
        obj = _Namespace(path)
    else:
        obj = _our_module(path)
    if obj is not None:
        _RESOLVED[path] = obj
    return obj


def _not_provided(path):
    return AttributeError(
        f"`keras.src.{path}` is not provided by keras_on_jax (Keras 3's private `keras.src` "
        "tree maps to keras_on_jax's own modules and to the names listed in "
        "keras_on_jax/_keras_src.py)."
    )


def child(parent, name):
    """`keras.src.<parent>.<name>`: what the path resolves to, else an attribute of our
    module for `parent`."""
    path = f"{parent}.{name}" if parent else name
    obj = resolve(path)
    if obj is not None:
        return obj
    ours = _our_module(parent) if parent else sys.modules[_PREFIX]
    if ours is not None and hasattr(ours, name):
        return getattr(ours, name)
    raise _not_provided(path)


def _public_names(parent):
    names = {key[len(parent) + 1:].split(".")[0] if parent else key.split(".")[0]
             for key in TABLE if not parent or key.startswith(parent + ".")}
    ours = _our_module(parent) if parent else sys.modules[_PREFIX]
    if ours is not None:
        names |= {n for n in dir(ours) if not n.startswith("_")}
    return sorted(names)


class _Namespace(types.ModuleType):
    """`keras.src.<path>` where the table lists names below it (`keras.src.saving`)."""

    def __init__(self, path):
        super().__init__(f"{_ROOT}.{path}")
        self.__path__ = []  # a package: its listed submodules import
        self._keras_src_path = path

    def __getattr__(self, name):
        if name == "__all__":
            return _public_names(self._keras_src_path)
        if name.startswith("__"):
            raise AttributeError(name)
        value = child(self._keras_src_path, name)
        setattr(self, name, value)
        return value

    def __dir__(self):
        return _public_names(self._keras_src_path)


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of `keras_on_jax.src.<path>` (under the runner, `keras.src.<path>` too)."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(_ROOT + "."):
            return None
        rel = fullname[len(_ROOT) + 1:]
        obj = resolve(rel)
        if not isinstance(obj, types.ModuleType):
            return None
        return importlib.machinery.ModuleSpec(fullname, self, origin=rel,
                                              is_package=hasattr(obj, "__path__"))

    def create_module(self, spec):
        return resolve(spec.origin)

    def exec_module(self, module):
        pass


_FINDER = _Finder()


def install():
    """Let `import keras_on_jax.src.<path>` resolve here (called by `keras_on_jax.src`)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.append(_FINDER)
