"""Dtype policies: the variable dtype and the compute dtype of a layer.

`"mixed_float16"` and `"mixed_bfloat16"` keep variables in float32 and compute in the
half type, as Keras does. Quantized policies (`"int8_from_float32"`, `"int4/128_from_..."`,
`"float8_from_mixed_bfloat16"`, ...) also name the layer's quantization mode; a
`DTypePolicyMap` maps layer paths to policies (KerasHub writes one for quantized models).
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping

from keras_on_jax.backend import config, dtypes

_GLOBAL_POLICY = None
QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")


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

    @staticmethod
    def _parse_name(name):
        """`(compute_dtype, variable_dtype)` of a float policy name."""
        policy = DTypePolicy(name)
        return policy._compute_dtype, policy._variable_dtype

    @property
    def name(self) -> str:
        return self._name

    @property
    def quantization_mode(self):
        """The quantization mode (`"int8"`, ...), None for a float policy."""
        return None

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
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<{type(self).__name__} "{self._name}">'


FloatDTypePolicy = DTypePolicy
Policy = DTypePolicy


class QuantizedDTypePolicy(DTypePolicy):
    """A policy for a quantized layer: `QuantizedDTypePolicy("int8", "float32")` is
    `"int8_from_float32"` (the source policy gives the compute and variable dtypes)."""

    def __init__(self, mode, source_name=None):
        if source_name is None:
            source_name = global_policy().name
        if mode not in QUANTIZATION_MODES:
            raise ValueError(
                f"Invalid quantization mode. Expected one of {QUANTIZATION_MODES}. "
                f"Received: mode={mode}"
            )
        self._compute_dtype, self._variable_dtype = self._parse_name(source_name)
        if self._compute_dtype == "float16" and mode == "int8":
            raise ValueError(
                f"Quantization mode='{mode}' doesn't work well with compute_dtype='float16'."
            )
        self._name = f"{mode}_from_{source_name}"
        self._source_name = source_name
        self._quantization_mode = mode

    @property
    def quantization_mode(self):
        return self._quantization_mode

    def get_config(self):
        return {"mode": self._quantization_mode, "source_name": self._source_name}


class QuantizedFloat8DTypePolicy(QuantizedDTypePolicy):
    """`"float8_from_<source>"`: float8 training keeps `amax_history_length` past maxima."""

    default_amax_history_length = 1024

    def __init__(self, mode, source_name=None, amax_history_length=1024):
        super().__init__(mode, source_name)
        if not isinstance(amax_history_length, int):
            raise TypeError("`amax_history_length` must be an integer. "
                            f"Received: amax_history_length={amax_history_length}")
        self._amax_history_length = amax_history_length

    @property
    def amax_history_length(self):
        return self._amax_history_length

    def get_config(self):
        return {**super().get_config(), "amax_history_length": self._amax_history_length}


class _ParametrizedQuantizedPolicy(QuantizedDTypePolicy):
    """A policy whose mode carries integer parameters: `"<mode>/<p1>[/<p2>]"`."""

    _MODE = ""
    _PARAMS = ()

    def __init__(self, mode, source_name=None):
        parts = mode.split("/") if isinstance(mode, str) else []
        expected = "'" + "/".join([self._MODE] + [f"<{p}>" for p in self._PARAMS]) + "'"
        if len(parts) != len(self._PARAMS) + 1 or parts[0] != self._MODE:
            raise ValueError(f"Invalid mode for {type(self).__name__}. Expected format "
                             f"{expected}, but got '{mode}'.")
        try:
            values = [int(p) for p in parts[1:]]
        except ValueError:
            raise ValueError(
                f"Invalid mode for {type(self).__name__}. The parameters must be integers. "
                f"Expected format {expected}, but got '{mode}'.") from None
        for param, value in zip(self._PARAMS, values):
            self._check(param, value, mode)
            setattr(self, param, value)
        super().__init__(self._MODE, source_name)
        self.mode = self._MODE
        self._name = f"{mode}_from_{source_name}"

    def _check(self, param, value, mode):
        if value < -1 or value == 0:
            raise ValueError(f"Invalid {param} in mode. Supported values are -1 or a "
                             f"positive integer, but got {value} from '{mode}'.")

    def get_config(self):
        mode = "/".join([self._MODE] + [str(getattr(self, p)) for p in self._PARAMS])
        return {**super().get_config(), "mode": mode}


class Int4DTypePolicy(_ParametrizedQuantizedPolicy):
    """`"int4/<block_size>_from_<source>"`: block_size -1 is per-channel int4."""

    _MODE = "int4"
    _PARAMS = ("block_size",)


class GPTQDTypePolicy(_ParametrizedQuantizedPolicy):
    """`"gptq/<weight_bits>/<group_size>_from_<source>"`."""

    _MODE = "gptq"
    _PARAMS = ("weight_bits", "group_size")

    def _check(self, param, value, mode):
        if param == "weight_bits" and value not in (2, 3, 4, 8):
            raise ValueError("Invalid weight_bits in mode. Supported values are 2, 3, 4, "
                             f"and 8, but got {value} from '{mode}'.")
        if param == "group_size":
            super()._check(param, value, mode)


class AWQDTypePolicy(GPTQDTypePolicy):
    """`"awq/4/<group_size>_from_<source>"`."""

    _MODE = "awq"

    def _check(self, param, value, mode):
        if param == "weight_bits" and value != 4:
            raise ValueError("Invalid weight_bits in mode. AWQ only supports 4-bit "
                             f"quantization, but got {value} from '{mode}'.")
        super()._check(param, value, mode)


class DTypePolicyMap(DTypePolicy, MutableMapping):
    """Maps layer paths (exact, or regular expressions matched in full) to policies.

    Args:
        default_policy: the policy of paths that match no key (default: the global one).
        policy_map: an optional dict of path -> policy.
    """

    def __init__(self, default_policy=None, policy_map=None):
        if isinstance(default_policy, DTypePolicyMap):
            raise ValueError("`default_policy` cannot be a `DTypePolicyMap`.")
        if policy_map is not None and not isinstance(policy_map, dict):
            raise TypeError("If specified, `policy_map` must be a dict. "
                            f"Received: policy_map={policy_map} of type {type(policy_map)}")
        self._default_policy_arg = default_policy
        self._default_policy = get(default_policy)
        self._policy_map = {k: get(v) for k, v in (policy_map or {}).items()}

    @property
    def name(self):
        return f"map_{self.default_policy.name}"

    @property
    def default_policy(self):
        return self._default_policy

    @property
    def variable_dtype(self):
        return self.default_policy.variable_dtype

    @property
    def compute_dtype(self):
        return self.default_policy.compute_dtype

    @property
    def quantization_mode(self):
        return self.default_policy.quantization_mode

    def __getitem__(self, key):
        if key in self._policy_map:
            return self._policy_map[key]
        matches = [p for p in self._policy_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(
                f"Path '{key}' matches multiple dtype policy specification keys: {matches}. "
                "Please make sure each path only matches at most one dtype policy "
                "specification key in the DTypePolicyMap."
            )
        return self._policy_map[matches[0]] if matches else self.default_policy

    def __setitem__(self, key, policy):
        if key in self._policy_map:
            raise ValueError(f"{key} already exist in the DTypePolicyMap with value "
                             f"{self._policy_map[key]}. Please make sure to not use "
                             "duplicated keys.")
        try:
            policy = get(policy)
        except Exception:
            raise ValueError("Cannot interpret the assigned value by "
                             f"`keras.dtype_policies.get`. Received: {policy} of type "
                             f"{type(policy)}") from None
        self._policy_map[key] = policy

    def __delitem__(self, key):
        return self._policy_map.pop(key)

    def __contains__(self, key):
        return key in self._policy_map

    def __len__(self):
        return len(self._policy_map)

    def __iter__(self):
        return iter(self._policy_map)

    def __eq__(self, other):
        return isinstance(other, DTypePolicyMap) and other.get_config() == self.get_config()

    def __hash__(self):
        return id(self)

    def get_config(self):
        policies = dict(self._policy_map)
        if self._default_policy_arg is None:
            # As Keras: without a default, the entries defer their source dtype to the
            # global policy of the session that loads them (names written as null).
            def anonymous(policy):
                config = policy.get_config()
                if "source_name" in config:
                    config["source_name"] = None
                elif "name" in config:
                    config["name"] = None
                return config
        else:
            def anonymous(policy):
                return policy.get_config()
        return {
            "default_policy": serialize(self._default_policy_arg)
            if isinstance(self._default_policy_arg, DTypePolicy) else self._default_policy_arg,
            "policy_map": {k: _envelope(v, anonymous(v)) for k, v in policies.items()},
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["policy_map"] = {k: get(v) for k, v in (config.get("policy_map") or {}).items()}
        return cls(**config)

    def __repr__(self):
        mapping = [(k, v.name) for k, v in self._policy_map.items()]
        return (f"<DTypePolicyMap at {hex(id(self))} default_policy="
                f"{self._default_policy.name}, mapping={mapping}>")


_CLASSES = {cls.__name__: cls for cls in (
    DTypePolicy, QuantizedDTypePolicy, QuantizedFloat8DTypePolicy, Int4DTypePolicy,
    GPTQDTypePolicy, AWQDTypePolicy, DTypePolicyMap)}
_CLASSES["FloatDTypePolicy"] = DTypePolicy
_CLASSES["Policy"] = DTypePolicy


def _envelope(policy, config):
    # Keras writes the float policy under `keras`, the others under `keras.dtype_policies`.
    module = "keras" if type(policy) is DTypePolicy else "keras.dtype_policies"
    return {"module": module, "class_name": type(policy).__name__, "config": config,
            "registered_name": None}


def serialize(policy):
    """The Keras 3 dict of a policy (`keras.dtype_policies.serialize`)."""
    return _envelope(policy, policy.get_config())


def deserialize(config, custom_objects=None):
    """A policy from its Keras 3 dict (`keras.dtype_policies.deserialize`)."""
    class_name = config.get("class_name")
    cls = _CLASSES.get(class_name)
    if cls is None:
        raise ValueError(f"Unknown dtype policy class_name={class_name!r}. Expected one of "
                         f"{sorted(_CLASSES)}.")
    inner = dict(config.get("config") or {})
    if cls is not DTypePolicyMap and inner.get("source_name", "") is None:
        inner["source_name"] = global_policy().name
    if cls is DTypePolicy and inner.get("name", "") is None:
        inner["name"] = global_policy().name
    return cls.from_config(inner)


def _quantized_by_name(name):
    mode, sep, source = name.partition("_from_")
    if not sep or "_from_" in source:
        raise ValueError("Cannot convert `policy` into a valid pair (`mode`, `source_name`) "
                         f"to instantiate `QuantizedDTypePolicy`. Received: policy={name}")
    if mode.startswith("int4/"):
        return Int4DTypePolicy(mode, source)
    if mode.startswith("gptq"):
        return GPTQDTypePolicy(mode, source)
    if mode.startswith("awq"):
        return AWQDTypePolicy(mode, source)
    if mode == "float8":
        return QuantizedFloat8DTypePolicy(mode, source)
    return QuantizedDTypePolicy(mode, source)


def get(identifier) -> DTypePolicy:
    """A policy from a name (`"mixed_float16"`, `"int8_from_float32"`), a dict or a dtype."""
    if identifier is None:
        return global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        if "class_name" in identifier:
            return deserialize(identifier)
        return DTypePolicy(identifier.get("name"))
    if isinstance(identifier, str):
        if identifier.startswith(QUANTIZATION_MODES):
            return _quantized_by_name(identifier)
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(dtypes.standardize_dtype(identifier))
    except (TypeError, ValueError):
        raise ValueError("Cannot interpret `dtype` argument. Expected a string or an "
                         f"instance of DTypePolicy. Received: dtype={identifier}") from None


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
