"""`model.get_state_tree()` / `set_state_tree()`: the model's variables as nested dicts.

The four groups (`trainable_variables`, `non_trainable_variables`, `optimizer_variables`,
`metrics_variables`) are keyed by the parts of each `variable.path`, as Keras 3 builds
them; Orbax checkpoints store the same tree.
"""

from __future__ import annotations

import numpy as np

GROUPS = ("trainable_variables", "non_trainable_variables", "optimizer_variables",
          "metrics_variables")
_FORMATS = ("backend_tensor", "numpy_array")


def group_variables(model, group):
    """The variables of one state group of `model`."""
    if group == "trainable_variables":
        return model.trainable_variables
    if group == "non_trainable_variables":
        return model.non_trainable_variables
    if group == "optimizer_variables":
        optimizer = getattr(model, "optimizer", None)
        return optimizer.variables if optimizer is not None else []
    if group == "metrics_variables":
        return getattr(model, "metrics_variables", None) or []
    raise ValueError(f"Unknown variable name: {group}. Expected one of {list(GROUPS)}.")


def nested(variables, value_format="backend_tensor"):
    """`{"dense": {"kernel": value, ...}, ...}` from the variables' paths."""
    if value_format not in _FORMATS:
        raise ValueError("Invalid `value_format` argument. Expected one of "
                         f"{{'numpy_array', 'backend_tensor'}}. Received: "
                         f"value_format={value_format}")
    out, seen = {}, set()
    for v in variables:
        if v.path in seen:
            raise ValueError(
                f"The following variable path is found twice in the model: '{v.path}'. "
                "`get_state_tree()` can only be called when all variable paths are unique. "
                "Make sure to give unique names to your layers (and other objects)."
            )
        seen.add(v.path)
        *parents, leaf = v.path.split("/")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = np.asarray(v.numpy()) if value_format == "numpy_array" else v.value
    return out


def flatten(tree, prefix=""):
    """`{"a/b/c": value}` from a nested dict."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}/"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def get_state_tree(model, value_format="backend_tensor"):
    return {group: nested(group_variables(model, group), value_format) for group in GROUPS}


def set_state_tree(model, state_tree):
    """Assign the values of a state tree by variable path (unknown paths are ignored)."""
    for group, subtree in state_tree.items():
        if group not in GROUPS:
            raise ValueError(f"Unknown variable name: {group}")
        by_path = {}
        for v in group_variables(model, group):
            by_path.setdefault(v.path, []).append(v)
        for path, value in flatten(subtree).items():
            for variable in by_path.get(path, ()):
                variable.assign(value)
