"""keras.dtype_policies: float, mixed and quantized dtype policies, and policy maps."""

from keras_on_jax.backend.dtype_policies import AWQDTypePolicy as AWQDTypePolicy
from keras_on_jax.backend.dtype_policies import DTypePolicy as DTypePolicy
from keras_on_jax.backend.dtype_policies import DTypePolicyMap as DTypePolicyMap
from keras_on_jax.backend.dtype_policies import FloatDTypePolicy as FloatDTypePolicy
from keras_on_jax.backend.dtype_policies import GPTQDTypePolicy as GPTQDTypePolicy
from keras_on_jax.backend.dtype_policies import Int4DTypePolicy as Int4DTypePolicy
from keras_on_jax.backend.dtype_policies import QuantizedDTypePolicy as QuantizedDTypePolicy
from keras_on_jax.backend.dtype_policies import (
    QuantizedFloat8DTypePolicy as QuantizedFloat8DTypePolicy,
)
from keras_on_jax.backend.dtype_policies import deserialize as deserialize
from keras_on_jax.backend.dtype_policies import get as get
from keras_on_jax.backend.dtype_policies import serialize as serialize
