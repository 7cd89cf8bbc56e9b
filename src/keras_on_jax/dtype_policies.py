"""keras.dtype_policies: DTypePolicy and friends."""

from keras_on_jax.backend.dtype_policies import DTypePolicy as DTypePolicy
from keras_on_jax.backend.dtype_policies import FloatDTypePolicy as FloatDTypePolicy
from keras_on_jax.backend.dtype_policies import get as get


def serialize(policy):
    return {"module": "keras", "class_name": "DTypePolicy",
            "config": policy.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    return get(config)
