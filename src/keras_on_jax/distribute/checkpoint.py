"""Sharded checkpoints through Orbax: each device writes its own shards.

`save_sharded(model, directory)` writes the model's variables keyed by path;
`restore_sharded(model, directory)` reads them into `model` with the shardings its
variables have now (or the active distribution gives them), so a checkpoint saved on 8
devices restores on 1, 2 or any other mesh.
"""

from __future__ import annotations

import os

import jax
import numpy as np

from keras_on_jax.distribute import context


def _variables(model):
    variables = list(model.variables)
    seen = {}
    for v in variables:
        if v.path in seen:
            raise ValueError(
                f"Cannot save a sharded checkpoint of {model.name!r}: two variables share the "
                f"path {v.path!r}."
            )
        seen[v.path] = v
    return seen


def _nest(flat):
    """{"a/b/c": x} -> {"a": {"b": {"c": x}}} (Orbax names files by tree keys)."""
    tree = {}
    for path, value in flat.items():
        node = tree
        parts = path.split("/")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ValueError(f"Variable path {path!r} clashes with another variable path.")
        node[parts[-1]] = value
    return tree


def _flatten(tree, prefix=""):
    out = {}
    for k, v in tree.items():
        key = f"{prefix}/{k}" if prefix else k
        if isinstance(v, dict):
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


def _checkpointer():
    import orbax.checkpoint as ocp

    return ocp.StandardCheckpointer()


def save_sharded(model, directory, overwrite=True):
    """Write every variable of `model` (keyed by path) to the Orbax directory `directory`."""
    directory = os.path.abspath(os.fspath(directory))
    flat = {path: v.get_raw_value() for path, v in _variables(model).items()}
    dist = context.current()
    if dist is not None:
        vars_ = _variables(model)
        placed = dist.distribute_state(list(vars_.values()), list(flat.values()))
        flat = dict(zip(flat.keys(), placed))
    ckptr = _checkpointer()
    ckptr.save(directory, _nest(flat), force=overwrite)
    ckptr.wait_until_finished()
    ckptr.close()


def restore_sharded(model, directory):
    """Read the checkpoint in `directory` into `model`'s variables, sharded as they are now
    (the active distribution's layouts when one is active)."""
    directory = os.path.abspath(os.fspath(directory))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"No sharded checkpoint at {directory!r}.")
    variables = _variables(model)
    current = {path: v.get_raw_value() for path, v in variables.items()}
    dist = context.current()
    if dist is not None:
        placed = dist.distribute_state(list(variables.values()), list(current.values()))
        current = dict(zip(current.keys(), placed))
    ckptr = _checkpointer()
    try:
        saved = _flatten(ckptr.metadata(directory).item_metadata.tree
                         if hasattr(ckptr.metadata(directory), "item_metadata")
                         else ckptr.metadata(directory))
    except Exception:
        saved = None
    if saved is not None:
        missing = sorted(set(current) - set(saved))
        unexpected = sorted(set(saved) - set(current))
        if missing or unexpected:
            raise ValueError(
                f"The checkpoint at {directory!r} does not match model {model.name!r}: "
                f"missing variables {missing}, unexpected variables {unexpected}."
            )

    def target(x):
        sharding = getattr(x, "sharding", None)
        if sharding is None:
            sharding = jax.sharding.SingleDeviceSharding(jax.devices()[0])
        return jax.ShapeDtypeStruct(np.shape(x), x.dtype, sharding=sharding)

    abstract = _nest({k: target(x) for k, x in current.items()})
    restored = _flatten(ckptr.restore(directory, abstract))
    ckptr.close()
    for path, v in variables.items():
        value = restored[path]
        if tuple(value.shape) != tuple(v.shape):
            raise ValueError(
                f"Variable {path!r} has shape {tuple(v.shape)} in the model but "
                f"{tuple(value.shape)} in the checkpoint."
            )
        v.assign(value)
