"""Dtype names and helpers shared by the package."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import config

_ALIASES = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "int": "int32",
    "long": "int64",
    "bool_": "bool",
}


def standardize_dtype(dtype) -> str:
    """Return the canonical string name of a dtype (`None` means `floatx()`)."""
    if dtype is None:
        return config.floatx()
    if hasattr(dtype, "name") and not isinstance(dtype, str):
        name = dtype.name
    elif isinstance(dtype, str):
        name = dtype
    elif dtype is float:
        return "float32"
    elif dtype is int:
        return "int32"
    elif dtype is bool:
        return "bool"
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError as e:
            raise ValueError(f"Invalid dtype: {dtype!r}") from e
    name = _ALIASES.get(name, name)
    if name in ("string", "str", "object", "bytes_", "str_"):
        return "string"  # host-side text inputs (StringLookup, TextVectorization)
    try:
        jnp.dtype(name)
    except TypeError as e:
        raise ValueError(f"Invalid dtype: {dtype!r}") from e
    return name


def is_float_dtype(dtype) -> bool:
    return jnp.issubdtype(jnp.dtype(standardize_dtype(dtype)), jnp.floating)


def is_int_dtype(dtype) -> bool:
    return jnp.issubdtype(jnp.dtype(standardize_dtype(dtype)), jnp.integer)


def result_type(*dtypes) -> str:
    return standardize_dtype(jnp.result_type(*[jnp.dtype(standardize_dtype(d)) for d in dtypes]))
