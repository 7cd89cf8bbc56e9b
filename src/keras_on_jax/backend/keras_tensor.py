"""Symbolic tensors and graph nodes: what a Functional model is built from.

A `KerasTensor` carries a shape (None for unknown sizes) and a dtype; calling a layer or
an op (`keras.ops.*`, Python operators, slicing) on KerasTensors records a `Node` (the
operation, its call arguments, its outputs) and returns new KerasTensors whose
`_keras_history` points back at that node.

`backend/` imports nothing above it: the operators reach the op machinery of
`keras_on_jax.ops` through `set_operator_dispatch`, which `ops/operation.py` calls when it
is imported (it always is: `keras_on_jax/__init__.py` imports `ops`).
"""

from __future__ import annotations

import collections

import jax
import numpy as np

from keras_on_jax.backend import dtypes, naming

# (class_name, args, config) -> KerasTensor: installed by keras_on_jax.ops.operation.
_OPERATOR_DISPATCH = None


def set_operator_dispatch(fn):
    """Install how a KerasTensor operator (`x + y`, `x[0]`, ...) builds its op node."""
    global _OPERATOR_DISPATCH
    _OPERATOR_DISPATCH = fn


def _symbolic_op(class_name, *args, **config):
    return _OPERATOR_DISPATCH(class_name, args, config)


def _standardize_shape(shape):
    if shape is None or not hasattr(shape, "__iter__"):
        raise ValueError(f"Cannot convert '{shape}' to a shape.")
    out = []
    for d in shape:
        if d is None or jax.export.is_symbolic_dim(d):
            out.append(None)
            continue
        if isinstance(d, (str, float)):
            raise ValueError(
                f"Cannot convert '{shape}' to a shape. Found invalid dimension '{d}' of "
                f"type '{type(d)}'."
            )
        d = int(d)
        if d < 0:
            raise ValueError(
                f"Cannot convert '{shape}' to a shape. Negative dimensions are not allowed."
            )
        out.append(d)
    return tuple(out)


class KerasTensor:
    """A symbolic tensor: shape, dtype and the operation call it came from.

    Calling a layer, a `keras.ops` function, a Python operator or an index on
    KerasTensors returns KerasTensors of the inferred shape and dtype (a "symbolic
    call"); a Functional model is the graph these calls record.

    Args:
        shape: a tuple of ints and None (unknown sizes).
        dtype: the dtype name (default "float32").
        sparse / ragged: whether the tensor stands for a sparse / ragged one.
        record_history: whether ops called on it record graph nodes.
        name: a name (unique by default, as Keras makes them).
    """

    def __init__(self, shape, dtype="float32", sparse=False, ragged=False,
                 record_history=True, name=None, **kwargs):
        ragged_rank = kwargs.pop("ragged_rank", None)
        row_splits_dtype = kwargs.pop("row_splits_dtype", None)
        if kwargs:
            raise TypeError(f"Unexpected keyword arguments: {', '.join(kwargs)}")
        self._shape = _standardize_shape(shape)
        self._dtype = dtypes.standardize_dtype(dtype)
        self._sparse = bool(sparse)
        self._ragged = bool(ragged)
        if self._sparse and self._ragged:
            raise ValueError(
                "KerasTensor cannot have `sparse=True` and `ragged=True` at the same time."
            )
        self._ragged_rank = int(ragged_rank) if ragged_rank is not None else None
        self._row_splits_dtype = (
            dtypes.standardize_dtype(row_splits_dtype) if row_splits_dtype is not None else None
        )
        self.name = name or naming.auto_name("keras_tensor")
        self.record_history = record_history
        self._keras_history = None
        self._keras_mask = None

    # Immutable, as in Keras: a new shape or dtype is a new KerasTensor.
    def _immutable(attr):  # noqa: N805
        def getter(self):
            return getattr(self, "_" + attr)

        def setter(self, value):
            raise AttributeError(
                f"The `{attr}` attribute of KerasTensor is immutable. One should create a "
                "new instance of KerasTensor for this."
            )

        return property(getter, setter)

    shape = _immutable("shape")
    dtype = _immutable("dtype")
    sparse = _immutable("sparse")
    ragged = _immutable("ragged")
    ragged_rank = _immutable("ragged_rank")
    row_splits_dtype = _immutable("row_splits_dtype")
    del _immutable

    @property
    def ndim(self):
        return len(self._shape)

    def reshape(self, newshape):
        return _symbolic_op("Reshape", self, newshape=newshape)

    def squeeze(self, axis=None):
        return _symbolic_op("Squeeze", self, axis=axis)

    def __repr__(self):
        return (
            f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse={self.sparse}, "
            f"ragged={self.ragged}, name={self.name}>"
        )

    # ---- a placeholder has no value ------------------------------------------------------
    def __jax_array__(self):
        raise ValueError(
            "A KerasTensor cannot be used as input to a JAX function. A KerasTensor is a "
            "symbolic placeholder for a shape and dtype, used when constructing Keras "
            "Functional models or Keras Functions. You can only use it as input to a Keras "
            "layer or a Keras operation (from the namespaces `keras.layers` and "
            "`keras.ops`). Wrap the JAX computation in a layer (a `call` method, or a "
            "`keras.layers.Lambda`)."
        )

    def __array__(self, *args, **kwargs):
        raise ValueError(
            "A KerasTensor is symbolic: it's a placeholder for a shape an a dtype. It "
            "doesn't have any actual numerical value. You cannot convert it to a NumPy array."
        )

    def __int__(self):
        raise ValueError(
            "A KerasTensor is symbolic: it's a placeholder for a shape an a dtype. It "
            "doesn't have any actual numerical value. You cannot convert it to an int."
        )

    def __float__(self):
        raise ValueError(
            "A KerasTensor is symbolic: it's a placeholder for a shape an a dtype. It "
            "doesn't have any actual numerical value. You cannot convert it to a float."
        )

    def __iter__(self):
        raise NotImplementedError("Iterating over a symbolic KerasTensor is not supported.")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a boolean.")

    def __hash__(self):
        return id(self)

    # NumPy arrays and scalars defer to our reflected operators (`np.ones(3) + x`,
    # `np.sqrt(8.0) * x` are op nodes) instead of trying to convert a placeholder.
    __array_ufunc__ = None

    # ---- operators: each one is a Keras op node ------------------------------------------
    # Keras 3 maps `/` to TrueDivide, `~` `&` `|` `^` to the logical ops, and leaves `==`
    # as identity (so KerasTensors stay usable as dict keys); `!=` is NotEqual.
    def _binary(class_name, reflected=False):  # noqa: N805
        if reflected:
            def method(self, other):
                return _symbolic_op(class_name, other, self)
        else:
            def method(self, other):
                return _symbolic_op(class_name, self, other)
        return method

    def _unary(class_name):  # noqa: N805
        def method(self):
            return _symbolic_op(class_name, self)
        return method

    __add__, __radd__ = _binary("Add"), _binary("Add", True)
    __sub__, __rsub__ = _binary("Subtract"), _binary("Subtract", True)
    __mul__, __rmul__ = _binary("Multiply"), _binary("Multiply", True)
    __matmul__, __rmatmul__ = _binary("Matmul"), _binary("Matmul", True)
    __truediv__, __rtruediv__ = _binary("TrueDivide"), _binary("TrueDivide", True)
    __div__, __rdiv__ = _binary("Divide"), _binary("Divide", True)
    __floordiv__, __rfloordiv__ = _binary("FloorDivide"), _binary("FloorDivide", True)
    __mod__, __rmod__ = _binary("Mod"), _binary("Mod", True)
    __pow__, __rpow__ = _binary("Power"), _binary("Power", True)
    __and__, __rand__ = _binary("LogicalAnd"), _binary("LogicalAnd", True)
    __or__, __ror__ = _binary("LogicalOr"), _binary("LogicalOr", True)
    __xor__, __rxor__ = _binary("LogicalXor"), _binary("LogicalXor", True)
    __lt__, __le__ = _binary("Less"), _binary("LessEqual")
    __gt__, __ge__ = _binary("Greater"), _binary("GreaterEqual")
    __ne__ = _binary("NotEqual")
    __neg__, __abs__, __invert__ = _unary("Negative"), _unary("Absolute"), _unary("LogicalNot")
    del _binary, _unary

    def __getitem__(self, key):
        return _symbolic_op("GetItem", self, key)

    def __round__(self, ndigits=None):
        return _symbolic_op("Round", self, decimals=ndigits or 0)


def is_keras_tensor(x) -> bool:
    return isinstance(x, KerasTensor)


def any_symbolic(structure) -> bool:
    return any(isinstance(x, KerasTensor) for x in jax.tree.leaves(structure, is_leaf=is_keras_tensor))


def has_symbolic_args(args, kwargs) -> bool:
    """Whether call arguments hold a KerasTensor (at the top level or inside lists,
    tuples and dicts): the check every `keras.ops` function makes before running eagerly.
    Plain loops, not `jax.tree`: it runs on every eager op call."""
    for x in args:
        if isinstance(x, KerasTensor) or (type(x) in _NESTED and contains_keras_tensor(x)):
            return True
    if kwargs:
        for x in kwargs.values():
            if isinstance(x, KerasTensor) or (type(x) in _NESTED and contains_keras_tensor(x)):
                return True
    return False


_NESTED = (list, tuple, dict)


def contains_keras_tensor(x) -> bool:
    """Whether `x` is a KerasTensor or a list / tuple / dict holding one."""
    if isinstance(x, KerasTensor):
        return True
    if type(x) not in _NESTED:
        return False
    return any(contains_keras_tensor(y) for y in (x.values() if type(x) is dict else x))


class KerasHistory(collections.namedtuple("KerasHistory", ["operation", "node_index", "tensor_index"])):
    """Where a KerasTensor comes from: `operation._inbound_nodes[node_index]`'s output
    number `tensor_index`."""

    __slots__ = ()


class Node:
    """One call of an operation (a layer or an op) on symbolic inputs."""

    def __init__(self, operation, call_args=(), call_kwargs=None, outputs=None):
        self.operation = operation
        self.call_args = call_args
        self.call_kwargs = call_kwargs or {}
        self.outputs = outputs
        self.device = None  # the `keras.device(...)` scope of a layer call (set by Layer)
        flat_out = tree_flatten(outputs)
        self.input_tensors = [x for x in tree_flatten((call_args, self.call_kwargs)) if isinstance(x, KerasTensor)]
        self.output_tensors = [x for x in flat_out if isinstance(x, KerasTensor)]
        node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._keras_history = KerasHistory(operation, node_index, i)
        for t in self.input_tensors:
            if t._keras_history is not None:
                t._keras_history[0]._outbound_nodes.append(self)

    def __repr__(self):
        return f"<Node operation={self.operation.name}, id={id(self)}>"

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
