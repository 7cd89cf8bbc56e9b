"""Quantization configs: which quantizers `layer.quantize(mode, config=...)` uses."""

from __future__ import annotations

from keras_on_jax.backend.dtype_policies import (
    QUANTIZATION_MODES,
    DTypePolicyMap,
    Int4DTypePolicy,
)

# Modes of Keras 3.15 this package implements; the others raise a ValueError naming them.
IMPLEMENTED_MODES = ("int8", "int4", "float8")


class QuantizationConfig:
    """Base class of quantization configs (a `mode` plus weight/activation quantizers).

    Args:
        weight_quantizer: the quantizer of the weights (None: the layer's default).
        activation_quantizer: the quantizer of the inputs (None: weight-only).
    """

    def __init__(self, weight_quantizer=None, activation_quantizer=None):
        self.weight_quantizer = weight_quantizer
        self.activation_quantizer = activation_quantizer

    @property
    def mode(self):
        raise ValueError(
            f"{type(self).__name__} has no quantization mode: use Int8QuantizationConfig, "
            "Int4QuantizationConfig or Float8QuantizationConfig (or a subclass defining "
            "`mode`)."
        )

    def get_config(self):
        from keras_on_jax.quantizers import serialize

        return {"weight_quantizer": serialize(self.weight_quantizer),
                "activation_quantizer": serialize(self.activation_quantizer)}

    @classmethod
    def from_config(cls, config):
        from keras_on_jax.quantizers import deserialize

        return cls(weight_quantizer=deserialize(config.get("weight_quantizer")),
                   activation_quantizer=deserialize(config.get("activation_quantizer")))

    @staticmethod
    def weight_quantizer_or_default(config, default):
        if config is not None and config.weight_quantizer is not None:
            return config.weight_quantizer
        return default

    @staticmethod
    def activation_quantizer_or_default(config, default):
        if config is not None:
            return config.activation_quantizer
        return default


class Int8QuantizationConfig(QuantizationConfig):
    """int8 weights (abs-max per output channel) and, by default, int8 inputs."""

    def __init__(self, weight_quantizer=None, activation_quantizer="default"):
        from keras_on_jax.quantizers.quantizers import AbsMaxQuantizer

        if activation_quantizer == "default":
            activation_quantizer = AbsMaxQuantizer()
        super().__init__(weight_quantizer, activation_quantizer)
        if weight_quantizer is not None and weight_quantizer.output_dtype != "int8":
            raise ValueError(
                "Int8QuantizationConfig requires a weight_quantizer with output_dtype='int8'. "
                f"Received: output_dtype={weight_quantizer.output_dtype}"
            )

    @property
    def mode(self):
        return "int8"


class Int4QuantizationConfig(QuantizationConfig):
    """int4 weights, packed two per byte; weight-only by default.

    Args:
        block_size: rows per group for sub-channel (asymmetric, zero-point) quantization;
            None or -1 for one scale per output channel. Default 128.
    """

    def __init__(self, weight_quantizer=None, activation_quantizer="default", block_size=128):
        if activation_quantizer == "default":
            activation_quantizer = None
        super().__init__(weight_quantizer, activation_quantizer)
        if block_size is not None and block_size != -1 and block_size <= 0:
            raise ValueError("block_size must be None, -1, or a positive integer. "
                             f"Received: block_size={block_size}")
        self.block_size = block_size
        if block_size is not None and block_size > 0 and (
                weight_quantizer is not None or activation_quantizer is not None):
            raise ValueError(
                "Int4 sub-channel quantization (block_size > 0) does not support custom "
                "quantizers. Either set block_size to None or -1 for per-channel "
                "quantization, or remove the custom quantizer arguments. Received: "
                f"block_size={block_size}"
            )
        if weight_quantizer is not None:
            if tuple(weight_quantizer.value_range) != (-8, 7):
                raise ValueError("Int4QuantizationConfig requires a weight_quantizer with "
                                 "value_range=(-8, 7). Received: "
                                 f"value_range={weight_quantizer.value_range}")
            if weight_quantizer.output_dtype != "int8":
                raise ValueError("Int4QuantizationConfig requires a weight_quantizer with "
                                 "output_dtype='int8'. Received: "
                                 f"output_dtype={weight_quantizer.output_dtype}")

    @property
    def mode(self):
        return "int4"

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}

    @classmethod
    def from_config(cls, config):
        from keras_on_jax.quantizers import deserialize

        return cls(weight_quantizer=deserialize(config.get("weight_quantizer")),
                   activation_quantizer=deserialize(config.get("activation_quantizer")),
                   block_size=config.get("block_size"))


class Float8QuantizationConfig(QuantizationConfig):
    """float8 training (delayed scaling); takes no custom quantizers."""

    def __init__(self):
        super().__init__(None, None)

    @property
    def mode(self):
        return "float8"

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls()


def _check_mode(mode):
    if mode is not None and mode not in QUANTIZATION_MODES:
        raise ValueError(f"Invalid quantization mode. Expected one of {QUANTIZATION_MODES}. "
                         f"Received: mode={mode}")
    if mode is not None and mode not in IMPLEMENTED_MODES:
        raise ValueError(
            f"Quantization mode '{mode}' (Keras 3's calibrated {mode.upper()}) is not "
            f"available in keras_on_jax; the modes implemented are {IMPLEMENTED_MODES}."
        )


def validate_and_resolve_config(mode, config):
    """The config to quantize with: `config`, or the default one of `mode`."""
    if isinstance(config, str):
        mode, config = config, None
    _check_mode(mode)
    if config is None:
        defaults = {"int8": Int8QuantizationConfig, "int4": Int4QuantizationConfig,
                    "float8": Float8QuantizationConfig}
        if mode is None:
            raise ValueError("You must provide either `mode` or `config` to `quantize`.")
        config = defaults[mode]()
    elif not isinstance(config, QuantizationConfig):
        raise ValueError("Argument `config` must be an instance of `QuantizationConfig`. "
                         f"Received: config={config} (of type {type(config)})")
    if mode is not None and config.mode != mode:
        raise ValueError(f"Contradictory arguments: mode='{mode}' but "
                         f"config.mode='{config.mode}'")
    _check_mode(config.mode)
    return config


def get_block_size_for_layer(layer, config):
    """The int4 block size: from `config`, else from the layer's (Int4) dtype policy;
    None means one scale per output channel."""
    if config is not None and isinstance(config, Int4QuantizationConfig):
        return config.block_size
    policy = layer.dtype_policy
    if isinstance(policy, DTypePolicyMap):
        policy = policy[layer.path]
    if isinstance(policy, Int4DTypePolicy):
        return None if policy.block_size == -1 else policy.block_size
    return None
