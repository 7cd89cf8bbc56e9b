"""The core every other part stands on: config, Variable, scopes, dtypes, seeds."""

from keras_on_jax.backend import config, dtype_policies, dtypes, naming, scopes
from keras_on_jax.backend.config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from keras_on_jax.backend.dtypes import standardize_dtype
from keras_on_jax.backend.random import SeedGenerator
from keras_on_jax.backend.scopes import StatelessScope
from keras_on_jax.backend.variables import Variable, convert_to_tensor, is_variable
from keras_on_jax.backend.public import clear_session as clear_session
from keras_on_jax.backend.public import get_uid as get_uid
from keras_on_jax.backend.public import get_value as get_value
from keras_on_jax.backend.public import set_value as set_value
from keras_on_jax.backend.public import is_float_dtype as is_float_dtype
from keras_on_jax.backend.public import is_int_dtype as is_int_dtype
from keras_on_jax.backend.public import is_keras_tensor as is_keras_tensor
from keras_on_jax.backend.public import result_type as result_type
