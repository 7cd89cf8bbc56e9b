"""Legacy HDF5 files (`.h5` / `.hdf5`): whole models and weights-only (spec section 4).

Weights are order-keyed: `layer_names` lists `model.layers`, and each layer group lists
its `weight_names` (trainable weights first, then non-trainable, computed at save time).
Reading accepts files written by Keras 2 (tf-keras) and Keras 3: str/bytes/fixed/vlen
strings, chunked `layer_names0`, `layer_names1`, ... attributes, Keras 2 configs
(translated), Keras 2 optimizer state (int64 iteration, no learning-rate variable).
"""

from __future__ import annotations

import json
import warnings

import h5py
import numpy as np

from keras_on_jax import serialization
from keras_on_jax.io import files, guard, keras2_config, weights_h5
from keras_on_jax.training.compile_config import (
    build_model_optimizer,
    compile_model_from_config,
    serialize_compile_config,
)

HDF5_OBJECT_HEADER_LIMIT = 64512


# ---------------------------------------------------------------------------------------
# attributes
# ---------------------------------------------------------------------------------------
def _decode(x):
    if isinstance(x, (bytes, np.bytes_)):
        return bytes(x).decode("utf-8")
    return str(x)


# Strings (fixed or variable length) and numbers are all these files hold in attributes.
# The type is checked before the value is read: HDF5 crashes reading some damaged types.
_ATTRIBUTE_TYPES = (h5py.h5t.TypeStringID, h5py.h5t.TypeIntegerID, h5py.h5t.TypeFloatID)


def read_attribute(group, name, default=None):
    """`group.attrs[name]` (or `default` if absent), its HDF5 type checked first."""
    if name not in group.attrs:
        return default
    kind = group.attrs.get_id(name).get_type()
    if not isinstance(kind, _ATTRIBUTE_TYPES):
        raise ValueError(f"The HDF5 attribute {name!r} of {group.name!r} should hold strings "
                         f"or numbers, found HDF5 type {type(kind).__name__}.")
    return group.attrs[name]


def load_attribute(group, name):
    """A (possibly chunked) list attribute as a list of str."""
    if name in group.attrs:
        value = read_attribute(group, name)
        if isinstance(value, (str, bytes, np.bytes_)):
            return [_decode(value)]
        arr = np.asarray(value)
        if arr.size == 0:
            return []
        return [_decode(v) for v in arr.tolist()]
    out, i = [], 0
    while f"{name}{i}" in group.attrs:
        arr = np.asarray(read_attribute(group, f"{name}{i}"))
        out.extend(_decode(v) for v in arr.tolist() if arr.size)
        i += 1
    return out


def save_attribute(group, name, values):
    values = [v.encode("utf8") if isinstance(v, str) else v for v in values]
    if not values:
        group.attrs[name] = np.asarray([])
        return
    data = np.asarray(values)
    if data.nbytes > HDF5_OBJECT_HEADER_LIMIT:
        n = 1
        while True:
            chunks = np.array_split(data, n)
            if all(c.nbytes <= HDF5_OBJECT_HEADER_LIMIT for c in chunks):
                break
            n += 1
        for i, chunk in enumerate(chunks):
            group.attrs[f"{name}{i}"] = chunk
        return
    group.attrs.create(name, values, dtype=h5py.string_dtype("ascii"))


def _root_str(f, name):
    value = read_attribute(f, name)
    return None if value is None else _decode(value)


# ---------------------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------------------
def legacy_weights(layer):
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _weight_names(layer, weights):
    names, seen = [], set()
    for i, v in enumerate(weights):
        path = getattr(v, "path", None) or f"{layer.name}/{v.name}"
        if not path.startswith(layer.name + "/"):
            path = f"{layer.name}/{path.split('/')[-1]}"
        if path in seen:
            path = f"{path}_{i}"
        seen.add(path)
        names.append(path)
    return names


def _model_layers(model):
    return list(model.layers)


def write_model_weights(model, group, keras_version=None, backend="jax"):
    layers = _model_layers(model)
    save_attribute(group, "layer_names", [l.name for l in layers])
    group.attrs["backend"] = backend.encode()
    group.attrs["keras_version"] = (keras_version or weights_h5.KERAS_VERSION).encode()
    for layer in layers:
        g = group.create_group(layer.name)
        weights = legacy_weights(layer)
        names = _weight_names(layer, weights)
        save_attribute(g, "weight_names", names)
        for name, v in zip(names, weights):
            weights_h5._write_dataset(g, name, np.asarray(v.numpy()))
    top = group.create_group("top_level_model_weights")
    own = list(model._own_variables())
    names = [f"{model.name}/{v.name}" for v in own]
    save_attribute(top, "weight_names", names)
    for name, v in zip(names, own):
        weights_h5._write_dataset(top, name, np.asarray(v.numpy()))


def _read_values(group, weight_names):
    return [weights_h5._read_dataset(group[n]) for n in weight_names]


def load_weights_from_group(model, f, filepath, by_name=False, skip_mismatch=False):
    layer_names = load_attribute(f, "layer_names")
    file_layers = []
    for name in layer_names:
        if name not in f:
            raise ValueError(f"Weights file {filepath!r} lists layer {name!r} in `layer_names` "
                             "but has no group for it (corrupted file).")
        g = f[name]
        wn = load_attribute(g, "weight_names")
        file_layers.append((name, g, wn))
    layers = _model_layers(model)
    if by_name:
        by = {}
        for layer in layers:
            by.setdefault(layer.name, []).append(layer)
        for name, g, wn in file_layers:
            for layer in by.get(name, []):
                _assign_layer(layer, _read_values(g, wn), wn, filepath, skip_mismatch,
                              by_name=True, index=layers.index(layer))
        return
    model_layers = [l for l in layers if legacy_weights(l)]
    filled = [(n, g, wn) for n, g, wn in file_layers if wn]
    if len(model_layers) != len(filled):
        raise ValueError(
            f"Layer count mismatch when loading weights from file {filepath!r}. Model expected "
            f"{len(model_layers)} layers with weights ({[l.name for l in model_layers]}), found "
            f"{len(filled)} saved layers with weights ({[n for n, _, _ in filled]})."
        )
    for k, (layer, (name, g, wn)) in enumerate(zip(model_layers, filled)):
        _assign_layer(layer, _read_values(g, wn), wn, filepath, skip_mismatch, by_name=False,
                      index=k)
    if "top_level_model_weights" in f:
        g = f["top_level_model_weights"]
        wn = load_attribute(g, "weight_names")
        own = list(model._own_variables())
        if wn and len(wn) == len(own):
            for v, val in zip(own, _read_values(g, wn)):
                v.assign(val)


def _assign_layer(layer, values, names, filepath, skip_mismatch, by_name, index):
    weights = legacy_weights(layer)
    if len(weights) != len(values):
        msg = (f"Weight count mismatch for layer #{index} (named {layer.name} in the current "
               f"model) in {filepath!r}: the layer expects {len(weights)} weights, but the saved "
               f"weights have {len(values)} elements ({names}).")
        if skip_mismatch:
            warnings.warn(f"Skipping loading of weights for layer #{index} (named {layer.name}): {msg}",
                          stacklevel=4)
            return
        raise ValueError(msg)
    for v, val, name in zip(weights, values, names):
        if tuple(v.shape) != tuple(np.shape(val)):
            msg = (f"Shape mismatch in layer #{index} (named {layer.name}) for weight {name}. "
                   f"Weight expects shape {tuple(v.shape)}. Received saved weight with shape "
                   f"{tuple(np.shape(val))} (file {filepath!r}).")
            if skip_mismatch:
                warnings.warn(f"Skipping loading weights for layer #{index} (named {layer.name}) "
                              f"due to mismatch in shape for weight {name}. {msg}", stacklevel=4)
                continue
            raise ValueError(msg)
        v.assign(np.asarray(val).astype(v.dtype) if str(v.dtype) != "bfloat16" else val)


def is_legacy_h5(filepath):
    f = weights_h5.open_h5(filepath)
    try:
        return ("layer_names" in f.attrs or "layer_names0" in f.attrs or "model_weights" in f
                or "model_config" in f.attrs)
    finally:
        f.close()


def load_weights_h5(model, filepath, by_name=False, skip_mismatch=False):
    f = weights_h5.open_h5(filepath, "legacy HDF5 file", strings=True)
    try:
        weights_h5._check_no_links(f, filepath)
        root = f["model_weights"] if ("layer_names" not in f.attrs and "layer_names0" not in f.attrs
                                      and "model_weights" in f) else f
        try:
            load_weights_from_group(model, root, filepath, by_name, skip_mismatch)
        except (OSError, KeyError, RuntimeError) as e:
            raise ValueError(f"Legacy weights file {filepath!r} is corrupted or truncated: {e}") from None
    finally:
        f.close()


def save_weights_h5(model, filepath):
    with files.atomic_path(filepath) as tmp:
        with h5py.File(tmp, "w") as f:
            write_model_weights(model, f)


# ---------------------------------------------------------------------------------------
# whole model
# ---------------------------------------------------------------------------------------
def save_model_h5(model, filepath, include_optimizer=True):
    """Write a whole-model legacy file, its config in Keras 2 terms where it can be said so.

    tf-keras 2 then loads the whole model, and Keras 3 loads it through its legacy reader;
    otherwise (see `keras2_config`) the config is Keras 3's legacy form and tf-keras loads
    the weights only.
    """
    model_config = keras2_config.keras2_model_config(model)
    keras2 = model_config is not None
    if not keras2:
        model_config = keras2_config.keras3_legacy_model_config(model)
    training_config = None
    if include_optimizer and getattr(model, "compiled", False) and model.optimizer is not None:
        cc = serialize_compile_config(model)
        opt = cc.pop("optimizer", None)
        training_config = dict(cc)
        # Keras 3's legacy reader cannot compile the short aliases ("mse"): write full names.
        training_config["loss"] = _full_loss_names(training_config.get("loss"))
        if opt is not None:
            training_config["optimizer_config"] = {"class_name": opt["class_name"],
                                                   "config": opt["config"]}
            if keras2:
                training_config["optimizer_config"] = keras2_config.keras2_optimizer_config(
                    training_config["optimizer_config"])
    version = keras2_config.KERAS2_VERSION if keras2 else weights_h5.KERAS_VERSION
    backend = "tensorflow" if keras2 else "jax"
    with files.atomic_path(filepath) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["keras_version"] = version
            f.attrs["backend"] = backend
            f.attrs["model_config"] = json.dumps(model_config).encode("utf8")
            if training_config is not None:
                f.attrs["training_config"] = json.dumps(training_config).encode("utf8")
            write_model_weights(model, f.create_group("model_weights"), version, backend)
            if training_config is not None and model.optimizer.variables:
                g = f.create_group("optimizer_weights")
                variables = list(model.optimizer.variables)
                names, seen = [], set()
                for i, v in enumerate(variables):
                    n = getattr(v, "path", None) or f"{model.optimizer.name}/{v.name}"
                    if n in seen:
                        n = f"{n}_{i}"
                    seen.add(n)
                    names.append(n)
                save_attribute(g, "weight_names", names)
                for n, v in zip(names, variables):
                    weights_h5._write_dataset(g, n, np.asarray(v.numpy()))


_LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
                 "mape": "mean_absolute_percentage_error",
                 "msle": "mean_squared_logarithmic_error"}


def _full_loss_names(loss):
    if isinstance(loss, str):
        return _LOSS_ALIASES.get(loss, loss)
    if isinstance(loss, list):
        return [_full_loss_names(v) for v in loss]
    if isinstance(loss, dict) and not ("class_name" in loss and "config" in loss):
        return {k: _full_loss_names(v) for k, v in loss.items()}
    return loss


def _k2_metrics(value):
    """Keras 2 stores resolved metrics (`MeanMetricWrapper` envelopes): keep their names."""
    if isinstance(value, list):
        out = [_k2_metrics(v) for v in value]
        return [v for v in out if v is not None]
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        cfg = value.get("config") or {}
        if value["class_name"] == "MeanMetricWrapper":
            fn = cfg.get("fn")
            return fn if isinstance(fn, str) else cfg.get("name")
        return value
    if isinstance(value, dict):
        return {k: _k2_metrics(v) for k, v in value.items()}
    return value


def load_model_h5(filepath, custom_objects=None, compile=True, safe_mode=True):
    f = weights_h5.open_h5(filepath, "legacy HDF5 model file", strings=True)
    try:
        weights_h5._check_no_links(f, filepath)
        raw = read_attribute(f, "model_config")
        if raw is None:
            raise ValueError(f"No model config found in the file at {filepath!r} (it may be a "
                             "weights-only file: build the model and use `load_weights`).")
        model_config = guard.parse_json(_decode(raw), filepath, "The model_config")
        guard.check_config(model_config, filepath, "The model_config")
        keras_version = _root_str(f, "keras_version") or "1"
        is_k2 = not keras_version.startswith("3")
        with serialization.SafeModeScope(safe_mode):
            model = serialization.deserialize_keras_object(
                model_config, custom_objects=custom_objects, safe_mode=safe_mode)
        root = f["model_weights"] if "model_weights" in f else f
        try:
            load_weights_from_group(model, root, filepath)
        except (OSError, KeyError, RuntimeError) as e:
            raise ValueError(f"Legacy model file {filepath!r} is corrupted or truncated: {e}") from None
        raw_tc = read_attribute(f, "training_config")
        if compile and raw_tc is not None:
            tc = guard.parse_json(_decode(raw_tc), filepath, "The training_config")
            if not isinstance(tc, dict):
                raise ValueError(f"The training_config in {filepath!r} should be a JSON "
                                 f"object, found {type(tc).__name__}.")
            cc = {k: tc.get(k) for k in ("loss", "loss_weights", "metrics", "weighted_metrics",
                                         "run_eagerly", "steps_per_execution", "jit_compile")}
            if is_k2:
                cc["metrics"] = _k2_metrics(cc.get("metrics"))
                cc["weighted_metrics"] = _k2_metrics(cc.get("weighted_metrics"))
                if isinstance(cc["metrics"], list) and cc["metrics"] and all(isinstance(m, list) for m in cc["metrics"]):
                    # per-output lists: flatten single-output form
                    cc["metrics"] = cc["metrics"][0] if len(cc["metrics"]) == 1 else cc["metrics"]
                if isinstance(cc.get("weighted_metrics"), list) and cc["weighted_metrics"] and all(
                        isinstance(m, list) for m in cc["weighted_metrics"]):
                    cc["weighted_metrics"] = cc["weighted_metrics"][0] if len(cc["weighted_metrics"]) == 1 else None
                for key in ("run_eagerly", "steps_per_execution", "jit_compile"):
                    cc.pop(key, None)
            cc["optimizer"] = tc.get("optimizer_config")
            try:
                compile_model_from_config(model, cc, custom_objects)
            except Exception as e:
                warnings.warn(f"Could not compile the model loaded from {filepath!r} from its "
                              f"training config ({e}); it is returned uncompiled.", stacklevel=2)
                return model
            if "optimizer_weights" in f and model.optimizer is not None:
                _load_optimizer_weights(model, f["optimizer_weights"], filepath)
        return model
    finally:
        f.close()


def _load_optimizer_weights(model, group, filepath):
    names = load_attribute(group, "weight_names")
    values = _read_values(group, names)
    opt = model.optimizer
    build_model_optimizer(model)
    variables = list(opt.variables)
    if len(values) == len(variables) and all(
            tuple(np.shape(a)) == tuple(v.shape) for a, v in zip(values, variables)):
        for v, a in zip(variables, values):
            v.assign(np.asarray(a).astype(v.dtype))
        return
    # Keras 2: iteration (int64) + slots, no learning-rate variable.
    if len(values) == len(variables) - 1 and len(variables) >= 2:
        mapping = [variables[0]] + variables[2:]
        if all(tuple(np.shape(a)) == tuple(v.shape) for a, v in zip(values, mapping)):
            for v, a in zip(mapping, values):
                v.assign(np.asarray(a).astype(v.dtype))
            return
    warnings.warn(
        f"Error in loading the saved optimizer state from {filepath!r}: the optimizer has "
        f"{len(variables)} variables, the file has {len(values)}. The optimizer starts fresh.",
        stacklevel=3,
    )
