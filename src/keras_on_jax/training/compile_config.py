"""A model's `compile_config`: written into saved files, compiled again on load.

Keras 3 writes the arguments of `compile()` (optimizer, loss, metrics, ...) beside the
model's config; loading compiles the model with them and builds the optimizer so its
saved variables can be restored. The serialization core reaches this through the
trainer's hooks (`Trainer._saved_compile_config`, `Trainer._compile_from_saved_config`);
the file formats in `io/` call it directly.
"""

from __future__ import annotations

import inspect
import types

from keras_on_jax import serialization

_K2_OPTIMIZER_KEYS = ("jit_compile", "is_legacy_optimizer", "decay")


def _overrides_trainer(model, method):
    """True when `type(model).<method>` is a user's override of the trainer's default."""
    from keras_on_jax.training.trainer import Trainer

    fn = getattr(type(model), method, None)
    return fn is not None and fn is not getattr(Trainer, method, None)


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------
def serialize_compile_config(model):
    """The model's `compile_config` as Keras 3 writes it (optimizer always an envelope)."""
    config = model.get_compile_config()
    if not config or not getattr(model, "compiled", False):
        return {}
    if _overrides_trainer(model, "get_compile_config"):
        # A user's `get_compile_config()` may return live objects: Keras 3 serializes
        # whatever it returns, and hands it back to the user's `compile_from_config()`.
        return serialization.serialize_keras_object(config)
    config = dict(config)
    out = {}
    opt = getattr(model, "optimizer", None)
    if opt is not None:
        out["optimizer"] = serialization.serialize_keras_object(opt)
    elif config.get("optimizer") is not None:
        out["optimizer"] = serialization.serialize_keras_object(config["optimizer"])
    for key in ("loss", "loss_weights", "metrics", "weighted_metrics"):
        out[key] = _serialize_compile_value(config.get(key))
    out["run_eagerly"] = bool(config.get("run_eagerly", False))
    out["steps_per_execution"] = config.get("steps_per_execution", 1)
    jit = getattr(model, "jit_compile", config.get("jit_compile", True))
    out["jit_compile"] = bool(jit) if jit != "auto" else True
    return out


def _serialize_compile_value(value):
    if isinstance(value, types.FunctionType):
        # Built-in losses/metrics given as functions: Keras writes their name.
        mod = getattr(value, "__module__", "") or ""
        if mod.startswith("keras_on_jax.") and not serialization.is_registered(value):
            return value.__name__
    if isinstance(value, (list, tuple)):
        return [_serialize_compile_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _serialize_compile_value(v) for k, v in value.items()}
    return serialization.serialize_keras_object(value)


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------
def deserialize_optimizer(config, custom_objects=None):
    from keras_on_jax import optimizers

    if config is None or isinstance(config, str):
        return optimizers.get(config) if config else None
    config = dict(config)
    class_name = str(config.get("class_name", ""))
    inner = dict(config.get("config") or {})
    for key in _K2_OPTIMIZER_KEYS:
        inner.pop(key, None)
    if isinstance(inner.get("learning_rate"), dict):
        inner["learning_rate"] = serialization.deserialize_envelope(inner["learning_rate"],
                                                                    custom_objects or {})
    if "lr" in inner and "learning_rate" not in inner:
        inner["learning_rate"] = inner.pop("lr")
    reg = config.get("registered_name")
    custom = None
    for key in (reg, class_name):
        if key and ">" in key and key.split(">")[0] == "Custom":
            continue  # Keras 2 writes built-ins as "Custom>Adam"
        if key:
            custom = serialization.get_registered_object(key, custom_objects)
            if custom is not None:
                break
    if custom is not None:
        return custom.from_config(inner)
    bare = class_name.split(">")[-1]
    cls = optimizers.ALL_OBJECTS_DICT.get(bare.lower())
    if cls is None:
        raise ValueError(f"Could not interpret optimizer identifier: {class_name!r}")
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        inner = {k: v for k, v in inner.items() if k in params}
    return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)


def _deserialize_compile_value(value, custom_objects):
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        return serialization.deserialize_envelope(value, custom_objects)
    if isinstance(value, list):
        return [_deserialize_compile_value(v, custom_objects) for v in value]
    if isinstance(value, dict):
        return {k: _deserialize_compile_value(v, custom_objects) for k, v in value.items()}
    return value


def compile_model_from_config(model, config, custom_objects=None, build_optimizer=True):
    """`model.compile(...)` from a saved `compile_config` (Keras 3 or Keras 2 flavour)."""
    if not config:
        return
    if _overrides_trainer(model, "compile_from_config"):
        # Keras 3 calls the model's own `compile_from_config(config)` with the saved dict.
        model.compile_from_config(config)
        if build_optimizer and getattr(model, "built", False) and getattr(model, "optimizer", None) is not None:
            build_model_optimizer(model)
        return
    config = dict(config)
    opt = config.get("optimizer")
    optimizer = deserialize_optimizer(opt, custom_objects) if opt is not None else "rmsprop"
    kwargs = {}
    for key in ("loss", "loss_weights", "metrics", "weighted_metrics"):
        if config.get(key) is not None:
            kwargs[key] = _deserialize_compile_value(config[key], custom_objects or {})
    for key in ("run_eagerly", "steps_per_execution", "jit_compile"):
        if config.get(key) is not None:
            kwargs[key] = config[key]
    model.compile(optimizer=optimizer, **kwargs)
    # Record what compile() was given, so saving again writes the same config.
    cc = getattr(model, "_compile_config", None)
    if isinstance(cc, dict):
        cc["optimizer"] = optimizer if isinstance(optimizer, str) else None
    if build_optimizer and getattr(model, "built", False):
        build_model_optimizer(model)


def build_model_optimizer(model):
    """Create the optimizer's variables over the model's trainable variables (Keras order)."""
    opt = getattr(model, "optimizer", None)
    if opt is None or getattr(opt, "built", False):
        return
    getter = getattr(model, "_trainable_for_step", None)
    variables = getter() if getter is not None else model.trainable_variables
    opt.build(list(variables))
