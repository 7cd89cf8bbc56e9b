"""`model.quantize(mode, config=None, filters=None)`: quantize every layer that can be."""

from __future__ import annotations

import re
import warnings

from keras_on_jax.layers.layer import QuantizationNotSupported
from keras_on_jax.quantizers.quantization_config import validate_and_resolve_config


def should_quantize_layer(layer, filters):
    """Whether `filters` (a regex, a list of regexes or a predicate) selects `layer`."""
    if filters is None:
        return True
    if isinstance(filters, str):
        return bool(re.search(filters, layer.name))
    if isinstance(filters, (list, tuple)):
        return any(re.search(p, layer.name) for p in filters)
    return bool(filters(layer))


def quantize_model(model, mode=None, config=None, filters=None, **kwargs):
    type_check = kwargs.pop("type_check", True)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments passed to {type(model).__name__}: "
                         f"{kwargs}")
    if filters is not None and not (isinstance(filters, (str, list, tuple)) or callable(filters)):
        raise ValueError("The `filters` argument must be a regex string, a list of regex "
                         f"strings, or a callable. Received: {type(filters)}")
    config = validate_and_resolve_config(mode, config)  # unknown / absent modes fail here
    modified = False
    for layer in model._flatten_layers():
        if len(layer._flatten_layers()) != 1 or not should_quantize_layer(layer, filters):
            continue
        try:
            layer.quantize(config.mode, type_check=type_check, config=config)
            modified = True
        except QuantizationNotSupported as e:
            # As Keras: a layer that cannot be quantized is left as it is, with a warning
            # (here only for layers that hold weights: the others have nothing to do).
            if layer.weights:
                warnings.warn(str(e), stacklevel=3)
    if modified:
        model.train_function = model.test_function = model.predict_function = None
