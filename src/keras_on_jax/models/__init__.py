"""keras.models: Model, Sequential, Functional, and the save/load/clone entry points."""

from keras_on_jax.io.saving_api import load_model as load_model
from keras_on_jax.io.saving_api import model_from_json as model_from_json
from keras_on_jax.io.saving_api import save_model as save_model
from keras_on_jax.models.cloning import clone_model as clone_model
from keras_on_jax.models.functional import Functional as Functional
from keras_on_jax.models.model import Model as Model
from keras_on_jax.models.sequential import Sequential as Sequential
