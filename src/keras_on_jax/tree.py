"""keras.tree: nested-structure utilities, as thin aliases over `jax.tree`."""

import jax as _jax


def flatten(structure):
    return _jax.tree.leaves(structure, is_leaf=lambda x: x is None)


def map_structure(func, *structures):
    return _jax.tree.map(func, *structures, is_leaf=lambda x: x is None)


def pack_sequence_as(structure, flat_sequence):
    treedef = _jax.tree.structure(structure, is_leaf=lambda x: x is None)
    return _jax.tree.unflatten(treedef, list(flat_sequence))


def is_nested(structure):
    return isinstance(structure, (list, tuple, dict))


def assert_same_structure(a, b, check_types=True):
    sa = _jax.tree.structure(a, is_leaf=lambda x: x is None)
    sb = _jax.tree.structure(b, is_leaf=lambda x: x is None)
    if sa != sb:
        raise ValueError(f"The two structures don't have the same nested structure: {sa} vs {sb}")


def flatten_with_path(structure):
    out = []
    for path, leaf in _jax.tree_util.tree_flatten_with_path(structure, is_leaf=lambda x: x is None)[0]:
        out.append((tuple(getattr(k, "key", getattr(k, "idx", k)) for k in path), leaf))
    return out


def map_shape_structure(func, structure):
    def is_shape(x):
        return isinstance(x, tuple) and all(d is None or isinstance(d, int) for d in x)

    return _jax.tree.map(func, structure, is_leaf=is_shape)
