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
"""

from __future__ import annotations

import datetime
import json
import os
import warnings

import numpy as np

from keras_on_jax.io import files, keras_archive, serialization, weights_h5

FORMAT = "keras_on_jax.checkpoint"
STATE = "state"


def is_checkpoint_dir(path):
    meta = os.path.join(path, "metadata.json")
    if not os.path.exists(meta) or not os.path.isdir(os.path.join(path, STATE)):
        return False
    try:
        with open(meta) as f:
            return json.load(f).get("format") == FORMAT
    except (OSError, ValueError):
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


def _restore(path):
    try:
        tree = _checkpointer().restore(os.path.join(os.path.abspath(path), STATE))
    except Exception as e:
        raise ValueError(f"Cannot read the checkpoint state in {path!r}: it is missing, "
                         f"truncated or corrupted ({type(e).__name__}: {e}).") from None
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
    try:
        with open(cpath) as f:
            config = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"Cannot read the model config {cpath!r}: {e}") from None
    model = keras_archive.config_to_model(config, custom_objects, compile, safe_mode)
    weights, opt_state, _ = _restore(path)
    if not compile:
        opt_state = {}
    _apply(model, path, weights, opt_state)
    return model


def load_weights_dir(model, path, skip_mismatch=False):
    weights, opt_state, _ = _restore(path)
    if getattr(model, "optimizer", None) is not None and opt_state:
        serialization.build_model_optimizer(model)
    else:
        opt_state = {}
    _apply(model, path, weights, opt_state, skip_mismatch)


def checkpoint_step(path):
    """The training step stored in a checkpoint folder."""
    try:
        with open(os.path.join(path, "metadata.json")) as f:
            return int(json.load(f).get("step", 0))
    except (OSError, ValueError):
        warnings.warn(f"Checkpoint folder {path!r} has no readable metadata.json.", stacklevel=2)
        return 0
