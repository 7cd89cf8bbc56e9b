"""`keras_on_jax.src`: the names of Keras 3's private `keras.src` tree that libraries use.

`keras_on_jax.src.saving.serialization_lib`, `keras_on_jax.src.backend.get_keras_mask`, ...
resolve as listed in `keras_on_jax/_keras_src.py`; under `python -m keras_on_jax` this
module is `keras.src`.
"""

from keras_on_jax import _keras_src

__path__ = []  # a package: `import keras_on_jax.src.saving.serialization_lib` resolves
_keras_src.install()


def __getattr__(name):
    if name == "__all__":
        return _keras_src._public_names("")
    if name.startswith("__"):
        raise AttributeError(name)
    value = _keras_src.child("", name)
    globals()[name] = value
    return value


def __dir__():
    return _keras_src._public_names("")
