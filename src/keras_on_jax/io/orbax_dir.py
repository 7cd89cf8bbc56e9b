"""Model checkpoint folders (a path without extension): config + Orbax state.

```
my_model/
  config.json        the model config with its compile config (as in `.keras`)
  metadata.json      {"keras_version", "date_saved", "format": "keras_on_jax.checkpoint", "step"}
  state/             an Orbax checkpoint of {"weights": {<walk path>: {"0": array, ...}},
                     "optimizer": {...}, "step": int}
```

Weights are keyed by the same object paths as `.weights.h5`, so the state is independent
of variable names. The folder is written under a hidden temporary name and renamed into
place; the previous folder stays intact until the new one is complete.

The second half of this module reads (and builds the state of) Keras 3's own Orbax layout,
written by `keras.callbacks.OrbaxCheckpoint` (see the comment there).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import warnings

import numpy as np

from keras_on_jax.backend import limits
from keras_on_jax.io import files, guard, keras_archive, weights_h5
from keras_on_jax.training.compile_config import build_model_optimizer

FORMAT = "keras_on_jax.checkpoint"
STATE = "state"


def is_checkpoint_dir(path):
    meta = os.path.join(path, "metadata.json")
    if not os.path.exists(meta) or not os.path.isdir(os.path.join(path, STATE)):
        return False
    try:
        return guard.read_json_file(meta).get("format") == FORMAT
    except (ValueError, AttributeError):
        return False


def _state_tree(model):
    data = weights_h5.collect_weights(model)
    weights, optimizer = {}, {}
    opt = getattr(model, "optimizer", None)
    for path, entry in data.items():
        target = weights
        if opt is not None and path == "optimizer":
            optimizer = {k: np.asarray(v) for k, v in entry["vars"].items()}
            continue
        if entry["vars"]:
            target[path or "__root__"] = {k: np.asarray(v) for k, v in entry["vars"].items()}
    step = int(np.asarray(opt.iterations.numpy())) if opt is not None and hasattr(opt, "iterations") else 0
    tree = {"weights": weights, "step": np.asarray(step, dtype=np.int64)}
    if optimizer:
        tree["optimizer"] = optimizer
    return tree, step


def _checkpointer():
    import orbax.checkpoint as ocp

    return ocp.PyTreeCheckpointer()


def save_model_dir(model, filepath):
    config = keras_archive.model_config_json(model)
    tree, step = _state_tree(model)
    # Orbax keys must not contain "/": encode walk paths.
    encoded = dict(tree)
    encoded["weights"] = {k.replace("/", "|"): v for k, v in tree["weights"].items()}
    with files.atomic_dir(filepath) as tmp:
        with open(os.path.join(tmp, "config.json"), "w") as f:
            f.write(config)
        _checkpointer().save(os.path.join(os.path.abspath(tmp), STATE), encoded)
        with open(os.path.join(tmp, "metadata.json"), "w") as f:
            json.dump({"keras_version": weights_h5.KERAS_VERSION,
                       "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                       "format": FORMAT, "step": step}, f)


def check_declared_sizes(tree, where):
    """Refuse a checkpoint whose arrays (as its metadata declares them: `.shape`/`.dtype`
    leaves of nested dicts) could not be held in memory, before Orbax allocates them."""
    import jax.numpy as jnp

    if not isinstance(tree, dict):
        raise ValueError(f"Cannot read the checkpoint {where}: its metadata is missing or "
                         f"corrupted (found {type(tree).__name__}).")
    total = 0
    stack = [((), tree)]
    while stack:
        keys, node = stack.pop()
        if isinstance(node, dict):
            stack.extend((keys + (k,), v) for k, v in node.items())
            continue
        shape, dtype = getattr(node, "shape", None), getattr(node, "dtype", None)
        if shape is None or dtype is None:
            continue
        name = "/".join(map(str, keys))
        try:
            shape = tuple(int(d) for d in shape)
            itemsize = jnp.dtype(dtype).itemsize
        except (TypeError, ValueError) as e:
            raise ValueError(f"The checkpoint {where} declares an invalid array {name!r}: "
                             f"shape {shape}, dtype {dtype} ({e}).") from None
        limits.check_array_size(shape, itemsize, f"array {name!r} of the checkpoint {where}")
        total += math.prod(shape) * itemsize
    limits.check_total_size(total, f"The checkpoint {where}")


def _unreadable_state(path, e):
    return ValueError(f"Cannot read the checkpoint state in {path!r}: it is missing, "
                      f"truncated or corrupted ({type(e).__name__}: {e}).")


def _restore(path):
    state = os.path.join(os.path.abspath(path), STATE)
    try:
        metadata = _checkpointer().metadata(state)
    except Exception as e:  # noqa: BLE001 - Orbax/TensorStore raise many kinds
        raise _unreadable_state(path, e) from None
    item = getattr(metadata, "item_metadata", metadata)
    check_declared_sizes(getattr(item, "tree", item), repr(path))
    try:
        tree = _checkpointer().restore(state)
    except Exception as e:  # noqa: BLE001
        raise _unreadable_state(path, e) from None
    weights = {k.replace("|", "/"): v for k, v in dict(tree.get("weights", {})).items()}
    if "__root__" in weights:
        weights[""] = weights.pop("__root__")
    return weights, dict(tree.get("optimizer", {}) or {}), tree.get("step")


def _apply(model, path, weights, optimizer_state, skip_mismatch=False):
    def lookup(p):
        if p == "optimizer":
            return {k: np.asarray(v) for k, v in optimizer_state.items()} if optimizer_state else None
        vals = weights.get(p)
        return {k: np.asarray(v) for k, v in vals.items()} if vals is not None else None

    weights_h5.read_weights(model, lookup, path, skip_mismatch)


def load_model_dir(path, custom_objects=None, compile=True, safe_mode=True):
    cpath = os.path.join(path, "config.json")
    config = guard.read_json_file(cpath, "the model config")
    guard.check_config(config, cpath)
    model = keras_archive.config_to_model(config, custom_objects, compile, safe_mode)
    weights, opt_state, _ = _restore(path)
    if not compile:
        opt_state = {}
    _apply(model, path, weights, opt_state)
    return model


def load_weights_dir(model, path, skip_mismatch=False):
    weights, opt_state, _ = _restore(path)
    if getattr(model, "optimizer", None) is not None and opt_state:
        build_model_optimizer(model)
    else:
        opt_state = {}
    _apply(model, path, weights, opt_state, skip_mismatch)


def checkpoint_step(path):
    """The training step stored in a checkpoint folder."""
    try:
        return int(guard.read_json_file(os.path.join(path, "metadata.json")).get("step", 0))
    except (ValueError, TypeError, AttributeError):
        warnings.warn(f"Checkpoint folder {path!r} has no readable metadata.json.", stacklevel=2)
        return 0


# ---------------------------------------------------------------------------------------
# Keras 3's `OrbaxCheckpoint` layout (orbax.checkpoint.v1, one folder per step):
#
#   <directory>/<step>/_CHECKPOINT_METADATA, commit_success.txt
#                     pytree/        {"trainable_variables", "non_trainable_variables",
#                                     "optimizer_variables", "metrics_variables"}: nested
#                                     dicts keyed by the parts of each `variable.path`
#                     model_config/  {"config": <the model's config.json string>}
#                     assets/        nested dict mirroring `assets/` (uint8 arrays), if any
#
# `save_weights_only=True` writes only `pytree` with the first two keys.
# ---------------------------------------------------------------------------------------
STATE_KEYS = ("trainable_variables", "non_trainable_variables", "optimizer_variables",
              "metrics_variables")
_STEP_METADATA = "_CHECKPOINT_METADATA"


def _ocp():
    import orbax.checkpoint as ocp

    return ocp.v1


def keras_state_tree(model, host=False):
    """`model.get_state_tree()` as Keras 3 builds it (jax arrays, or NumPy with `host`)."""
    from keras_on_jax.models import state_tree

    return state_tree.get_state_tree(model, "numpy_array" if host else "backend_tensor")


def _flatten(tree, prefix=""):
    from keras_on_jax.models import state_tree

    return state_tree.flatten(tree, prefix)


def _without_model_name(path, name, key):
    if not name:
        return path
    if key == "optimizer_variables":
        # "<optimizer name>/<model>_<layer>_<weight>_<slot>": the optimizer's name differs
        # between sessions too ("adam" / "adam_1"), so it is left out.
        last = path.rpartition("/")[2]
        return last[len(name) + 1:] if last.startswith(name + "_") else last
    return path[len(name) + 1:] if path.startswith(name + "/") else path


def set_keras_state_tree(model, tree, skip_mismatch=False, where=""):
    """Assign a Keras 3 state tree to the model's variables by `variable.path` (paths the
    model lacks are ignored, as in Keras's `set_state_tree`)."""
    opt = getattr(model, "optimizer", None)
    groups = {
        "trainable_variables": lambda: model.trainable_variables,
        "non_trainable_variables": lambda: model.non_trainable_variables,
        "optimizer_variables": lambda: opt.variables if opt is not None else [],
        "metrics_variables": lambda: getattr(model, "metrics_variables", None) or [],
    }
    name = getattr(model, "name", None) or ""
    assignments = []  # checked first, assigned after: a failed load changes nothing
    for key, sub in tree.items():
        if key not in groups:
            raise ValueError(f"Unknown variable group {key!r} in the Orbax checkpoint{where}. "
                             f"Expected some of {list(STATE_KEYS)}.")
        variables = list(groups[key]())
        by_path = {v.path: v for v in variables}
        by_short = {}
        for v in variables:
            by_short.setdefault(_without_model_name(v.path, name, key), []).append(v)
        for path, value in _flatten(dict(sub)).items():
            var = by_path.get(path)
            if var is None:
                # A Sequential built from its config (as `load_model` builds it) names its
                # variables without the model's name ("d1/kernel", where the model that
                # was saved had "seq/d1/kernel"), and a new optimizer may be "adam_1"
                # where the saved one was "adam": match on the path without them.
                found = by_short.get(_without_model_name(path, name, key), [])
                if len(found) != 1:
                    continue
                var = found[0]
            shape = tuple(np.shape(value))
            if shape != tuple(var.shape):
                if skip_mismatch:
                    warnings.warn(f"Skipping variable {path!r} ({key}) while loading the Orbax "
                                  f"checkpoint{where}: the model's shape is {tuple(var.shape)}, "
                                  f"the checkpoint's is {shape}.", stacklevel=3)
                    continue
                raise ValueError(f"Cannot load variable {path!r} ({key}) from the Orbax "
                                 f"checkpoint{where}: the model expects shape "
                                 f"{tuple(var.shape)}, the checkpoint has shape {shape}.")
            assignments.append((var, value))
    for var, value in assignments:
        var.assign(value)


def _is_step_dir(path):
    return os.path.isfile(os.path.join(path, _STEP_METADATA)) and os.path.isdir(
        os.path.join(path, "pytree"))


def is_keras_orbax_checkpoint(path):
    """A Keras 3 `OrbaxCheckpoint` folder (steps inside) or one of its step folders. Our own
    checkpoint folders (`is_checkpoint_dir`) are not."""
    if not os.path.isdir(path) or is_checkpoint_dir(path):
        return False
    if _is_step_dir(path):
        return True
    try:
        contents = os.listdir(path)
    except OSError:
        return False
    if {"orbax.checkpoint", "pytree.orbax-checkpoint", "checkpoint_metadata"} & set(contents):
        return True
    return any(".orbax-checkpoint-tmp" in name
               or (name.isdigit() and os.path.isdir(os.path.join(path, name)))
               for name in contents)


def latest_keras_orbax_step(path):
    """The folder of the newest complete step (or `path` itself if it is a step folder)."""
    if _is_step_dir(path):
        return path
    steps = [int(n) for n in os.listdir(path)
             if n.isdigit() and _is_step_dir(os.path.join(path, n))]
    if not steps:
        raise ValueError(f"No valid checkpoints found in {path}: expected step folders "
                         f"(named by their step number) holding a complete Orbax checkpoint.")
    return os.path.join(path, str(max(steps)))


def _abstract_pytree(step_path):
    """ShapeDtypeStructs on this process's first device: restores do not depend on the
    devices the checkpoint was written from."""
    import jax

    try:
        meta = _ocp().metadata(step_path, checkpointable_name="pytree").metadata
    except Exception as e:  # noqa: BLE001 - Orbax/TensorStore raise many kinds
        raise ValueError(f"Cannot read the Orbax checkpoint {step_path!r}: its metadata is "
                         f"missing or corrupted ({type(e).__name__}: {e}).") from None
    check_declared_sizes(meta, repr(step_path))
    sharding = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])

    def convert(node):
        if isinstance(node, dict):
            return {k: convert(v) for k, v in node.items()}
        if hasattr(node, "shape") and hasattr(node, "dtype"):
            return jax.ShapeDtypeStruct(tuple(node.shape), node.dtype, sharding=sharding)
        return node

    return convert(dict(meta))


def _load_checkpointables(step_path, request):
    try:
        return _ocp().load_checkpointables(step_path, request)
    except Exception as e:
        raise ValueError(f"Cannot read the Orbax checkpoint {step_path!r}: it is incomplete "
                         f"or corrupted ({type(e).__name__}: {e}).") from None


def _saved_keys(step_path):
    return {n for n in os.listdir(step_path) if os.path.isdir(os.path.join(step_path, n))}


def assets_to_dict(model):
    """The model's assets as Keras 3 stores them in a checkpoint: a nested dict mirroring
    the `assets/` folder, whose leaves are the files' bytes as uint8 arrays (None if none)."""
    import tempfile

    with tempfile.TemporaryDirectory() as root:
        keras_archive.save_assets(model, root)
        out = {}
        for dirpath, _, filenames in os.walk(root):
            for name in filenames:
                full = os.path.join(dirpath, name)
                node = out
                for part in os.path.relpath(dirpath, root).split(os.sep):
                    if part != ".":
                        node = node.setdefault(part, {})
                with open(full, "rb") as f:
                    node[name] = np.frombuffer(f.read(), dtype=np.uint8)
    return out or None


def _assets_from_dict(model, assets):
    import tempfile

    if not assets:
        return

    def write(node, d):
        for name, value in node.items():
            if name in ("", ".", "..") or "/" in name or "\\" in name:
                raise ValueError(f"Invalid asset name {name!r} in the Orbax checkpoint.")
            target = os.path.join(d, name)
            if isinstance(value, dict):
                os.makedirs(target, exist_ok=True)
                write(value, target)
            else:
                with open(target, "wb") as f:
                    f.write(np.asarray(value, dtype=np.uint8).tobytes())

    with tempfile.TemporaryDirectory() as root:
        write(dict(assets), root)
        keras_archive.load_assets(model, root)


def load_keras_orbax_model(path, custom_objects=None, compile=True, safe_mode=True):
    """`load_model` of a Keras 3 `OrbaxCheckpoint` folder: its latest step."""
    step_path = latest_keras_orbax_step(path)
    saved = _saved_keys(step_path)
    if "model_config" not in saved:
        raise ValueError(f"Checkpoint {step_path!r} does not contain model configuration. "
                         "This checkpoint may have been saved with save_weights_only=True: "
                         "build the model and call `model.load_weights()` instead.")
    config = _load_checkpointables(step_path, {"model_config": None})["model_config"]["config"]
    if not isinstance(config, (str, bytes)):
        raise ValueError(f"The model config in {step_path!r} should be a JSON string, found "
                         f"{type(config).__name__}.")
    config = guard.parse_json(config, step_path, "The model config")
    guard.check_config(config, step_path)
    model = keras_archive.config_to_model(config, custom_objects, compile, safe_mode)
    request = {"pytree": _abstract_pytree(step_path)}
    if "assets" in saved:
        request["assets"] = None
    loaded = _load_checkpointables(step_path, request)
    tree = {k: v for k, v in dict(loaded["pytree"]).items() if k in STATE_KEYS}
    if not compile:
        tree.pop("optimizer_variables", None)
    set_keras_state_tree(model, tree, where=f" {step_path!r}")
    _assets_from_dict(model, loaded.get("assets"))
    return model


def load_keras_orbax_weights(model, path, skip_mismatch=False):
    """`model.load_weights` of a Keras 3 `OrbaxCheckpoint` folder (latest step) or step."""
    step_path = latest_keras_orbax_step(path)
    tree = dict(_load_checkpointables(step_path, {"pytree": _abstract_pytree(step_path)})["pytree"])
    if getattr(model, "optimizer", None) is not None and tree.get("optimizer_variables"):
        build_model_optimizer(model)
    set_keras_state_tree(model, tree, skip_mismatch, where=f" {step_path!r}")
