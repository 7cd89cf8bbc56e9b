"""`keras.distribute.experimental`: the names the FAQ uses under `experimental`."""

from keras_on_jax.distribute.strategies import (  # noqa: F401
    MultiWorkerMirroredStrategy as MultiWorkerMirroredStrategy,
)
from keras_on_jax.distribute.strategies import TPUStrategy as TPUStrategy  # noqa: F401
