"""Dtype policies: the variable dtype and the compute dtype of a layer.

`"mixed_float16"` and `"mixed_bfloat16"` keep variables in float32 and compute in the
half type, as Keras does.
"""

from __future__ import annotations

from keras_on_jax.backend import config, dtypes

_GLOBAL_POLICY = None


class DTypePolicy:
    """A dtype policy: `DTypePolicy("mixed_float16")`, `DTypePolicy("float32")`, ..."""

    def __init__(self, name=None):
        if name is None:
            name = config.floatx()
        if not isinstance(name, str):
            raise TypeError(f"'name' must be a string, such as 'mixed_float16'. Received: {name!r}")
        self._name = name
        if name in ("mixed_float16", "mixed_bfloat16"):
            self._compute_dtype = name.split("_")[1]
            self._variable_dtype = "float32"
        else:
            try:
                dtype = dtypes.standardize_dtype(name)
            except ValueError as e:
                raise ValueError(
                    f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies "
                    "include 'mixed_float16', 'mixed_bfloat16', and the name of any float dtype "
                    "such as 'float32'."
                ) from e
            self._compute_dtype = dtype
            self._variable_dtype = dtype

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._variable_dtype

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy
Policy = DTypePolicy


def get(identifier) -> DTypePolicy:
    if identifier is None:
        return global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        cfg = identifier.get("config", identifier)
        return DTypePolicy(cfg.get("name"))
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    return DTypePolicy(dtypes.standardize_dtype(identifier))


def set_global_policy(policy) -> None:
    global _GLOBAL_POLICY
    if policy is None:
        _GLOBAL_POLICY = None
        return
    _GLOBAL_POLICY = get(policy)


def global_policy() -> DTypePolicy:
    if _GLOBAL_POLICY is None:
        return DTypePolicy(config.floatx())
    return _GLOBAL_POLICY
