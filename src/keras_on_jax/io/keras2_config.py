"""Model configs in Keras 2 (tf-keras 2.x) terms, for whole-model legacy `.h5` files.

`keras2_model_config(model)` returns the `model_config` tf-keras 2.21 would write for the
same architecture (spec sections 4.2, 4.7, 5.3): layer entries with only `class_name` /
`config` (plus `name` / `inbound_nodes` in a Functional model), `batch_input_shape` on
InputLayers, plain dtype strings, list-format `inbound_nodes`, positive list `axis` for
BatchNormalization, and Keras 2's extra keys where Keras 3 also accepts them.

The file must stay loadable by Keras 3's legacy reader as well, so Keras-2-only keys that
Keras 3 constructors reject (`time_major`, `groups` of transposed/depthwise/separable
convolutions, `batch_input_shape` on non-input layers) are left out: tf-keras uses its
defaults for them.

A layer with no Keras 2 equivalent (an unlisted class, a non-default Keras-3-only
argument, a mixed/quantized dtype policy) keeps its Keras 3 legacy entry; the rest of the
model is still written in Keras 2 terms. Where the whole model cannot be said in Keras 2
terms in a way both readers understand (a subclassed model, a Functional model that calls
a nested model, whose node numbering differs between Keras 2 and 3, calls with tensor
keyword arguments or several positional arguments), `keras2_model_config` returns None
and the caller writes the Keras 3 form.
"""

from __future__ import annotations

import copy

from keras_on_jax import serialization

KERAS2_VERSION = "2.21.0"


class _LayerFallback(Exception):
    """This layer has no Keras 2 form: keep its Keras 3 legacy entry."""


class _ModelFallback(Exception):
    """The model has no Keras 2 form both readers accept: write Keras 3's."""


_PLAIN_DTYPES = {"float16", "float32", "float64", "bfloat16", "int8", "int16", "int32",
                 "int64", "uint8", "uint16", "uint32", "uint64", "bool", "string",
                 "complex64", "complex128"}

_NO_DEFAULT = object()
_QUANT = {"quantization_config": None, "lora_rank": None, "lora_alpha": None}
_RNN_DROP = {"zero_output_for_mask": False}
# class name -> (Keras-3-only keys dropped when they hold the given default,
#                Keras 2 keys added when absent (Keras 3 accepts them too))
_K2_LAYERS = {
    "InputLayer": ({}, {"ragged": False}),
    "Dense": (_QUANT, {"activity_regularizer": None}),
    "Embedding": (_QUANT, {"activity_regularizer": None, "input_length": None}),
    "LSTM": (_RNN_DROP, {"activity_regularizer": None, "implementation": 2}),
    "GRU": (_RNN_DROP, {"activity_regularizer": None, "implementation": 2}),
    "SimpleRNN": (_RNN_DROP, {"activity_regularizer": None}),
    "BatchNormalization": ({"renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99,
                            "synchronized": False}, {}),
    "LayerNormalization": ({"rms_scaling": False}, {}),
    "Bidirectional": ({}, {}),
    "TimeDistributed": ({}, {}),
}
# Same key sets in tf-keras 2.21 and Keras 3.15 (spec 4.7), or Keras-2-only keys that
# tf-keras defaults (`groups`).
for _name in ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
              "Conv3DTranspose", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
              "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
              "AveragePooling2D", "AveragePooling3D", "GlobalMaxPooling1D",
              "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D",
              "GlobalAveragePooling2D", "GlobalAveragePooling3D", "Flatten", "Reshape",
              "Dropout", "Activation", "ReLU", "Softmax", "Add", "Subtract", "Multiply",
              "Average", "Maximum", "Minimum", "Concatenate", "ZeroPadding2D", "UpSampling2D",
              "Rescaling"):
    _K2_LAYERS.setdefault(_name, ({}, {}))
# Keys of initializer configs new in Keras 3 (dropped when null).
_INIT_DROP = {"input_axes": None, "output_axes": None}


def _is_builtin(env):
    module = env.get("module")
    return isinstance(module, str) and module.split(".")[0] == "keras"


def _dtype(value):
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, dict) and value.get("class_name") in ("DTypePolicy", "FloatDTypePolicy"):
        name = (value.get("config") or {}).get("name")
        if name in _PLAIN_DTYPES:
            return name
    raise _LayerFallback  # mixed / quantized policies: Keras 3 cannot read Keras 2's `Policy`


def _nested_object(value):
    """Initializer/regularizer/constraint envelopes: tf-keras 2.21 writes the same envelope."""
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        if value.get("module") == "keras.initializers" and isinstance(value["config"], dict):
            cfg = dict(value["config"])
            for key, default in _INIT_DROP.items():
                if key in cfg:
                    if cfg[key] != default:
                        raise _LayerFallback
                    cfg.pop(key)
            return {**value, "config": cfg}
        return value
    return value


def _wrapped_layer(env):
    """A layer nested in a wrapper: tf-keras keeps the envelope (module/registered_name)."""
    if not (_is_builtin(env) and env.get("class_name") in _K2_LAYERS):
        raise _LayerFallback
    return {"module": env.get("module"), "class_name": env["class_name"],
            "config": _layer_config(env), "registered_name": env.get("registered_name")}


def _same_but_direction(fwd, bwd):
    def strip(env):
        cfg = {k: v for k, v in (env.get("config") or {}).items() if k not in ("name", "go_backwards")}
        return env.get("class_name"), cfg
    return strip(fwd) == strip(bwd) and bool((bwd.get("config") or {}).get("go_backwards")) != bool(
        (fwd.get("config") or {}).get("go_backwards"))


def _layer_config(env):
    class_name = env["class_name"]
    cfg = dict(env.get("config") or {})
    builtin = _is_builtin(env)
    if builtin:
        if class_name not in _K2_LAYERS:
            raise _LayerFallback
        drop, add = _K2_LAYERS[class_name]
    else:
        drop, add = {}, {}
    for key, default in drop.items():
        if key in cfg:
            if cfg[key] != default:
                raise _LayerFallback
            cfg.pop(key)
    if "dtype" in cfg:
        cfg["dtype"] = _dtype(cfg["dtype"])
    if not builtin:
        return cfg
    for key, value in list(cfg.items()):
        cfg[key] = _nested_object(value)
    if class_name in ("LSTM", "GRU", "SimpleRNN"):
        cfg.pop("seed", None)  # only seeds dropout masks; tf-keras RNNs take no seed
    if class_name == "InputLayer":
        cfg["batch_input_shape"] = cfg.pop("batch_shape", None)
    if class_name == "BatchNormalization" and isinstance(cfg.get("axis"), int):
        shape = (env.get("build_config") or {}).get("input_shape")
        axis = cfg["axis"]
        if isinstance(shape, (list, tuple)):
            axis = axis % len(shape)
        cfg["axis"] = [axis]
    if class_name in ("Bidirectional", "TimeDistributed"):
        cfg["layer"] = _wrapped_layer(cfg["layer"])
        backward = cfg.get("backward_layer")
        if isinstance(backward, dict):
            if _same_but_direction(env["config"]["layer"], backward):
                cfg.pop("backward_layer")
            else:
                cfg["backward_layer"] = _wrapped_layer(backward)
    for key, value in add.items():
        cfg.setdefault(key, value)
    return cfg


def _legacy_entry(env):
    """Keras 3's own legacy entry (module/registered_name dropped, registered name kept)."""
    cls = env["class_name"]
    reg = env.get("registered_name")
    if isinstance(reg, str) and ">" in reg:
        cls = reg
    return {"class_name": cls, "config": _legacy_config(env.get("config"))}


def _legacy_config(config):
    if isinstance(config, dict) and isinstance(config.get("layers"), list):
        config = dict(config)
        out = []
        for entry in config["layers"]:
            if isinstance(entry, dict) and "class_name" in entry:
                new = _legacy_entry(entry)
                for key in ("name", "inbound_nodes"):
                    if key in entry:
                        new[key] = entry[key]
                out.append(new)
            else:
                out.append(entry)
        config["layers"] = out
    return config


def _class_name(env):
    reg = env.get("registered_name")
    if not _is_builtin(env) and isinstance(reg, str) and reg:
        return reg
    return env["class_name"]


def _is_model_env(env):
    return _is_builtin(env) and env.get("class_name") in ("Sequential", "Functional", "Model")


def _layer_entry(env, inside_functional):
    if _is_model_env(env):
        if inside_functional:
            raise _ModelFallback  # Keras 2 numbers a nested model's calls from 1, Keras 3 from 0
        return _model_entry(env)
    try:
        return {"class_name": _class_name(env), "config": _layer_config(env)}
    except _LayerFallback:
        return _legacy_entry(env)


def _sequential_config(cfg):
    entries = [_layer_entry(e, False) for e in cfg.get("layers", [])]
    out = {"name": cfg.get("name"), "layers": entries}
    if cfg.get("build_input_shape") is not None and not (
            entries and entries[0]["class_name"] == "InputLayer"):
        out["build_input_shape"] = cfg["build_input_shape"]
    return out


def _tensor_ref(value):
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = (value.get("config") or {}).get("keras_history")
        if not history:
            raise _ModelFallback
        return [history[0], int(history[1]), int(history[2])]
    return None


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return "class_name" not in value and all(_plain(v) for v in value.values())
    return False


def _k2_node(node):
    if isinstance(node, list):
        return node
    args = node.get("args", [])
    kwargs = node.get("kwargs", {}) or {}
    if len(args) != 1:
        raise _ModelFallback
    first = args[0]
    refs = [_tensor_ref(first)] if _tensor_ref(first) is not None else (
        [_tensor_ref(v) for v in first] if isinstance(first, list) and first else [None])
    if any(r is None for r in refs):
        raise _ModelFallback
    if not _plain(kwargs):
        raise _ModelFallback  # tensors in kwargs: Keras 3's legacy reader passes raw lists
    return [[*r, dict(kwargs)] for r in refs]


def _functional_config(cfg):
    layers = []
    for entry in cfg.get("layers", []):
        new = _layer_entry({k: v for k, v in entry.items() if k not in ("name", "inbound_nodes")},
                           True)
        new["name"] = entry.get("name", (entry.get("config") or {}).get("name"))
        new["inbound_nodes"] = [_k2_node(n) for n in entry.get("inbound_nodes", []) or []]
        layers.append(new)

    def struct(s):
        if (isinstance(s, list) and len(s) == 3 and isinstance(s[0], str)
                and isinstance(s[1], int) and isinstance(s[2], int)):
            return [s]
        if isinstance(s, dict):
            return {k: _refs(v) for k, v in s.items()}
        return _refs(s)

    def _refs(s):
        if isinstance(s, list):
            if len(s) == 3 and isinstance(s[0], str) and isinstance(s[1], int):
                return list(s)
            return [_refs(x) for x in s]
        if isinstance(s, dict):
            raise _ModelFallback
        return s

    return {"name": cfg.get("name"), "trainable": cfg.get("trainable", True), "layers": layers,
            "input_layers": struct(cfg["input_layers"]),
            "output_layers": struct(cfg["output_layers"])}


def _model_entry(env):
    cls = env["class_name"]
    if cls == "Sequential":
        return {"class_name": "Sequential", "config": _sequential_config(env["config"])}
    if cls in ("Functional", "Model") and isinstance(env.get("config"), dict) and "layers" in env["config"]:
        return {"class_name": "Functional", "config": _functional_config(env["config"])}
    raise _ModelFallback


def keras2_model_config(model):
    """`{"class_name", "config"}` in tf-keras 2 terms, or None when only Keras 3's form fits."""
    env = copy.deepcopy(serialization.serialize_keras_object(model))
    if not _is_model_env(env):
        return None
    try:
        return _model_entry(env)
    except _ModelFallback:
        return None


def keras3_legacy_model_config(model):
    """What Keras 3 itself writes as a legacy `.h5` `model_config`."""
    env = serialization.serialize_keras_object(model)
    return _legacy_entry(env)


# Keras 3 optimizer arguments that tf-keras's h5 loader does not know, with their defaults.
# tf-keras compiles an h5 file's optimizer with its legacy classes (there is no
# `is_legacy_optimizer` key: writing one would make Keras 3 reject the file), and those
# accept only `name`, the algorithm's own arguments and `clipnorm` / `clipvalue` /
# `global_clipnorm`; so these keys are left out when at their defaults.
_K3_ONLY_OPTIMIZER_DEFAULTS = {
    "weight_decay": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


def keras2_optimizer_config(opt_config):
    """The optimizer config with Keras-3-only arguments at their defaults left out, so that
    tf-keras and Keras 3 both compile the loaded model."""
    cfg = dict(opt_config.get("config") or {})
    for key, default in _K3_ONLY_OPTIMIZER_DEFAULTS.items():
        if key in cfg and cfg[key] == default:
            cfg.pop(key)
    return {"class_name": opt_config["class_name"], "config": cfg}
