"""The package version, and the Keras API version it implements."""

__version__ = "0.1.0"

# The Keras 3 release whose API this package implements. `keras_on_jax.version()` reports
# it (libraries such as keras-tuner check `keras.version().startswith("3.")` to pick the
# Keras 3 code path); `keras_on_jax.__version__` stays the project's own version.
KERAS_API_VERSION = "3.15.1"


def version():
    """The Keras API version this package implements (e.g. `"3.15.1"`)."""
    return KERAS_API_VERSION
