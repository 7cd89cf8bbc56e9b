"""Keras 2 -> Keras 3 layer configs (spec section 4.7).

Keras 2 files carry keys that Keras 3 constructors reject or spell differently
(`batch_input_shape`, `time_major`, Lambda bytecode as a list, ...). The serialization
core calls `Layer._translate_keras2_config(config)` before `from_config`; this module
holds the table of those keys.
"""

from __future__ import annotations

import inspect

_K2_DROP = {
    "LSTM": ("time_major",), "GRU": ("time_major",), "SimpleRNN": ("time_major",),
    "ConvLSTM2D": ("time_major",), "Embedding": ("input_length",),
    "MultiHeadAttention": ("query_shape", "key_shape", "value_shape", "softmax_robust_masking"),
}
_K2_GROUPS = ("Conv2DTranspose", "Conv1DTranspose", "Conv3DTranspose", "DepthwiseConv2D",
              "DepthwiseConv1D", "SeparableConv2D", "SeparableConv1D")


def translate_layer_config(cls, config, base):
    """Drop/translate the Keras-2-only keys Keras 3 constructors reject.

    `base` is the Layer base class: the constructor arguments of `cls` are collected
    from its MRO up to it.
    """
    name = getattr(cls, "__name__", "")
    if not isinstance(config, dict):
        return config
    changed = None

    def c():
        nonlocal changed
        if changed is None:
            changed = dict(config)
        return changed

    if name == "InputLayer" and "batch_input_shape" in config:
        cfg = c()
        cfg["batch_shape"] = cfg.pop("batch_input_shape")
    for key in _K2_DROP.get(name, ()):
        if key in config:
            c().pop(key)
    if name in _K2_GROUPS and config.get("groups", 1) == 1 and "groups" in config:
        c().pop("groups")
    if name.startswith("SeparableConv"):
        for key in ("kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            if key in config:
                c().pop(key)
    if name in ("BatchNormalization", "LayerNormalization") or "Normalization" in name:
        axis = config.get("axis")
        if isinstance(axis, list) and len(axis) == 1 and name == "BatchNormalization":
            c()["axis"] = axis[0]
    if name == "Lambda" and isinstance(config.get("function"), (list, tuple)) and config.get("function_type") == "lambda":
        cfg = c()
        code, defaults, closure = (list(cfg["function"]) + [None, None])[:3]
        cfg["function"] = {"class_name": "__lambda__", "config": {"value": [code, defaults, closure]}}
        if cfg.get("output_shape_type") == "lambda" and isinstance(cfg.get("output_shape"), (list, tuple)):
            cfg["output_shape"] = {"class_name": "__lambda__", "config": {"value": list(cfg["output_shape"])}}
        for key in ("function_type", "module", "output_shape_type", "output_shape_module"):
            cfg.pop(key, None)
    elif name == "Lambda" and config.get("function_type") == "function" and isinstance(config.get("function"), str):
        cfg = c()
        cfg["function"] = {"module": "builtins", "class_name": "function",
                           "config": cfg["function"], "registered_name": "function"}
        for key in ("function_type", "module", "output_shape_type", "output_shape_module"):
            cfg.pop(key, None)
    # Keys newer Keras versions write with a null value (e.g. Dense `quantization_config`)
    # that this implementation's constructor does not take: a null means "default".
    accepted = _accepted_kwargs(cls, base)
    if accepted is not None:
        for key, value in list(config.items()):
            if value is None and key not in accepted:
                c().pop(key, None)
    return changed if changed is not None else config


def _accepted_kwargs(cls, base):
    """Names any `__init__` in the class's MRO accepts (up to `base`), or None when unknown."""
    names = set()
    if not (isinstance(cls, type) and issubclass(cls, base)):
        return None
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters
        except (TypeError, ValueError):
            return None
        names.update(p for p, v in params.items() if v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL))
        if klass is base:
            break
    names.update({"input_shape", "input_dim", "batch_size", "batch_input_shape", "input_length"})
    return names
