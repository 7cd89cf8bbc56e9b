"""Symbolic tensors and graph nodes: what a Functional model is built from.

A `KerasTensor` carries a shape (None for unknown sizes) and a dtype; calling a layer on
KerasTensors records a `Node` (the layer, its call arguments, its outputs) and returns new
KerasTensors whose `_keras_history` points back at that node.
"""

from __future__ import annotations

import jax
import numpy as np

from keras_on_jax.backend import dtypes


class KerasTensor:
    """A symbolic tensor: shape, dtype and where it came from."""

    def __init__(self, shape, dtype="float32", sparse=False, name=None, record_history=True):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtypes.standardize_dtype(dtype)
        self.sparse = sparse
        self.name = name
        self._keras_history = None
        self._keras_mask = None

    @property
    def ndim(self):
        return len(self.shape)

    def reshape(self, newshape):
        return _OPS.reshape(self, newshape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __jax_array__(self):
        raise ValueError(
            "A KerasTensor is symbolic: it cannot be converted to a JAX array. You are "
            "probably calling a JAX/NumPy function on the output of `keras.Input()` while "
            "building a Functional model. Wrap the computation in a layer (for example a "
            "`keras.layers.Lambda`) or use `keras.ops` functions."
        )

    def __array__(self, *args, **kwargs):
        self.__jax_array__()

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a Python bool.")

    def __hash__(self):
        return id(self)

    # Arithmetic on KerasTensors builds the graph through keras.ops.
    def _op(name):  # noqa: N805
        def method(self, *args):
            return getattr(_OPS, name)(self, *args)

        return method

    def _rop(name):  # noqa: N805
        def method(self, other):
            return getattr(_OPS, name)(other, self)

        return method

    __add__ = _op("add")
    __radd__ = _rop("add")
    __sub__ = _op("subtract")
    __rsub__ = _rop("subtract")
    __mul__ = _op("multiply")
    __rmul__ = _rop("multiply")
    __truediv__ = _op("divide")
    __rtruediv__ = _rop("divide")
    __matmul__ = _op("matmul")
    __rmatmul__ = _rop("matmul")
    __pow__ = _op("power")
    __neg__ = _op("negative")
    __abs__ = _op("abs")
    __lt__ = _op("less")
    __gt__ = _op("greater")
    __le__ = _op("less_equal")
    __ge__ = _op("greater_equal")

    def __getitem__(self, key):
        return _OPS.get_item(self, key)

    del _op, _rop


# `keras.ops` installs itself here when it is imported (by `import keras_on_jax`), so
# that the backend imports nothing above it.
_OPS = None


def set_ops_module(module):
    global _OPS
    _OPS = module


def is_keras_tensor(x) -> bool:
    return isinstance(x, KerasTensor)


def any_symbolic(structure) -> bool:
    return any(isinstance(x, KerasTensor) for x in jax.tree.leaves(structure, is_leaf=is_keras_tensor))


class Node:
    """One call of a layer on symbolic inputs."""

    def __init__(self, operation, call_args=(), call_kwargs=None, outputs=None):
        self.operation = operation
        self.call_args = call_args
        self.call_kwargs = call_kwargs or {}
        self.outputs = outputs
        flat_out = tree_flatten(outputs)
        self.input_tensors = [x for x in tree_flatten((call_args, self.call_kwargs)) if isinstance(x, KerasTensor)]
        self.output_tensors = [x for x in flat_out if isinstance(x, KerasTensor)]
        node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._keras_history = (operation, node_index, i)
        for t in self.input_tensors:
            if t._keras_history is not None:
                t._keras_history[0]._outbound_nodes.append(self)

    @property
    def parent_nodes(self):
        parents = []
        for t in self.input_tensors:
            if t._keras_history is not None:
                layer, node_index, _ = t._keras_history
                parents.append(layer._inbound_nodes[node_index])
        return parents

    @property
    def is_input(self):
        return not self.input_tensors


def tree_flatten(structure):
    """Flatten nested lists/tuples/dicts, keeping KerasTensors and arrays as leaves."""
    return jax.tree.leaves(structure, is_leaf=lambda x: isinstance(x, KerasTensor) or x is None)


def shape_dtype_of(x):
    if isinstance(x, KerasTensor):
        return x.shape, x.dtype
    x = np.asarray(x) if not hasattr(x, "shape") else x
    return tuple(x.shape), dtypes.standardize_dtype(x.dtype)
