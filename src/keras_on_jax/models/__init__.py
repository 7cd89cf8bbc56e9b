"""keras.models: Model, Sequential, Functional, and the save/load/clone entry points."""

from keras_on_jax.models.functional import Functional as Functional
from keras_on_jax.models.model import Model as Model
from keras_on_jax.models.sequential import Sequential as Sequential
