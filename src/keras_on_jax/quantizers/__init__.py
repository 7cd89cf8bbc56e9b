"""keras.quantizers: quantization configs, quantizers and the functions behind them."""

from __future__ import annotations

import inspect

from keras_on_jax.backend.naming import to_snake_case
from keras_on_jax.quantizers.quantization_config import (
    Float8QuantizationConfig as Float8QuantizationConfig,
)
from keras_on_jax.quantizers.quantization_config import (
    Int4QuantizationConfig as Int4QuantizationConfig,
)
from keras_on_jax.quantizers.quantization_config import (
    Int8QuantizationConfig as Int8QuantizationConfig,
)
from keras_on_jax.quantizers.quantization_config import (
    QuantizationConfig as QuantizationConfig,
)
from keras_on_jax.quantizers.quantizers import AbsMaxQuantizer as AbsMaxQuantizer
from keras_on_jax.quantizers.quantizers import Quantizer as Quantizer
from keras_on_jax.quantizers.quantizers import abs_max_quantize as abs_max_quantize
from keras_on_jax.quantizers.quantizers import (
    abs_max_quantize_grouped_with_zero_point as abs_max_quantize_grouped_with_zero_point,
)
from keras_on_jax.quantizers.quantizers import (
    compute_float8_amax_history as compute_float8_amax_history,
)
from keras_on_jax.quantizers.quantizers import compute_float8_scale as compute_float8_scale
from keras_on_jax.quantizers.quantizers import (
    fake_quant_with_min_max_vars as fake_quant_with_min_max_vars,
)
from keras_on_jax.quantizers.quantizers import pack_int4 as pack_int4
from keras_on_jax.quantizers.quantizers import (
    quantize_and_dequantize as quantize_and_dequantize,
)
from keras_on_jax.quantizers.quantizers import unpack_int4 as unpack_int4

ALL_OBJECTS = (Quantizer, AbsMaxQuantizer, QuantizationConfig, Int8QuantizationConfig,
               Int4QuantizationConfig, Float8QuantizationConfig)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})


def serialize(quantizer):
    """The Keras 3 dict of a quantizer or quantization config (None stays None)."""
    if quantizer is None:
        return None
    if type(quantizer) in ALL_OBJECTS:
        config = {k: list(v) if isinstance(v, tuple) else v
                  for k, v in quantizer.get_config().items()}
        return {"module": "keras.quantizers", "class_name": type(quantizer).__name__,
                "config": config, "registered_name": None}
    from keras_on_jax import serialization  # user-defined classes: the general path

    return serialization.serialize_keras_object(quantizer)


def deserialize(config, custom_objects=None):
    """A quantizer or quantization config from its Keras 3 dict."""
    if config is None:
        return None
    cls = ALL_OBJECTS_DICT.get(config.get("class_name")) if isinstance(config, dict) else None
    if cls is not None and config.get("module") in (None, "keras.quantizers",
                                                    "keras.src.quantizers"):
        inner = dict(config.get("config") or {})
        if "value_range" in inner:
            inner["value_range"] = tuple(inner["value_range"])
        return cls.from_config(inner)
    from keras_on_jax import serialization

    return serialization.deserialize_keras_object(config, custom_objects=custom_objects)


def get(identifier, **kwargs):
    """A quantizer from a dict, a class name or an instance (None stays None)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj(**kwargs) if inspect.isclass(obj) else obj
    raise ValueError(f"Could not interpret quantizer identifier: {identifier}")
