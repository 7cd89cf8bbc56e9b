"""The serialization core: the registry, serialize/deserialize, safe mode, scopes.

A low room: it imports only `backend/` (and the standard library, NumPy, JAX), so every
config-able object (activations, initializers, ..., layers, models) can use it and none
of them is imported by it. Built-in classes make themselves known (see `namespaces.py`);
models take part through duck-typed hooks (see `keras_object.py`). File formats live in
`io/`; the public `keras.saving` re-exports what users call.
"""

from keras_on_jax.serialization.namespaces import builtin_class as builtin_class
from keras_on_jax.serialization.namespaces import builtin_function as builtin_function
from keras_on_jax.serialization.namespaces import public_module_and_name as public_module_and_name
from keras_on_jax.serialization.namespaces import public_module_of as public_module_of
from keras_on_jax.serialization.namespaces import register_class_resolver as register_class_resolver
from keras_on_jax.serialization.namespaces import register_namespace as register_namespace
from keras_on_jax.serialization.namespaces import register_public_class as register_public_class
from keras_on_jax.serialization.envelopes import array_envelope as array_envelope
from keras_on_jax.serialization.envelopes import array_from_envelope as array_from_envelope
from keras_on_jax.serialization.envelopes import function_envelope as function_envelope
from keras_on_jax.serialization.envelopes import lookup_envelope as lookup_envelope
from keras_on_jax.serialization.envelopes import object_envelope as object_envelope
from keras_on_jax.serialization.package_objects import get_object as get_object
from keras_on_jax.serialization.keras_object import SharedObjectLoadingScope as SharedObjectLoadingScope
from keras_on_jax.serialization.keras_object import deserialize_envelope as deserialize_envelope
from keras_on_jax.serialization.keras_object import deserialize_keras_object as deserialize_keras_object
from keras_on_jax.serialization.keras_object import serialize_keras_object as serialize_keras_object
from keras_on_jax.serialization.registry import CustomObjectScope as CustomObjectScope
from keras_on_jax.serialization.registry import custom_object_scope as custom_object_scope
from keras_on_jax.serialization.registry import get_custom_objects as get_custom_objects
from keras_on_jax.serialization.registry import get_registered_name as get_registered_name
from keras_on_jax.serialization.registry import get_registered_object as get_registered_object
from keras_on_jax.serialization.registry import is_registered as is_registered
from keras_on_jax.serialization.registry import register_keras_serializable as register_keras_serializable
from keras_on_jax.serialization.safe_mode import SafeModeScope as SafeModeScope
from keras_on_jax.serialization.safe_mode import enable_unsafe_deserialization as enable_unsafe_deserialization
from keras_on_jax.serialization.safe_mode import func_dump as func_dump
from keras_on_jax.serialization.safe_mode import func_load as func_load
from keras_on_jax.serialization.safe_mode import in_safe_mode as in_safe_mode
