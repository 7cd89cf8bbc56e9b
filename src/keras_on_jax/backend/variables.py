"""`Variable`: a Flax NNX variable that speaks Keras.

One identity serves both worlds: `nnx.state(layer)` and `nnx.split` see these variables,
and Keras code sees `.assign`, `.numpy()`, `.value`, `.path`, `.trainable`.

Reads go through `get_value`, which honours the active `StatelessScope` (the compiled step
substitutes traced values) and `AutocastScope` (mixed precision). Writes go through
`assign`, which records into the scope when one is active.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from keras_on_jax.backend import dtypes, limits, scopes

_MISSING = object()

# Where a new variable's initial value goes: `placer(value, path) -> value`, installed by
# `distribute/context.py` when it loads (the active distribution's layout). The backend
# knows no strategy; with no placer installed no distribution can be active.
_variable_placer = None


def set_variable_placer(placer):
    """Install the function that places every new variable's initial value (None: none)."""
    global _variable_placer
    _variable_placer = placer


def _standardize_shape(shape):
    if shape is None:
        raise ValueError("A shape is required when `initializer` is callable.")
    if isinstance(shape, int):
        shape = (shape,)
    return tuple(int(d) for d in shape)


class Variable(nnx.Variable):
    """A Keras variable held as an NNX variable.

    Args:
        initializer: an initial value (array-like) or a callable
            `initializer(shape, dtype)`.
        shape: the shape; required when `initializer` is callable.
        dtype: the variable dtype (default: `keras.config.floatx()`).
        trainable: whether gradients flow to it in `fit`.
        autocast: whether floating values are read in the layer's compute dtype
            under mixed precision.
        name: the variable name (e.g. `"kernel"`).
    """

    __slots__ = ()

    def __init__(
        self,
        initializer,
        shape=None,
        dtype=None,
        trainable=True,
        autocast=True,
        aggregation="none",
        synchronization="auto",
        name=None,
        path=None,
        **metadata,
    ):
        if name is None:
            name = "variable"
        if scopes.in_spec_tracing() or scopes.in_compiled_trace():
            raise scopes.VariableCreatedWhileTracing(name)
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                f"Argument `name` must be a string without '/'. Received: name={name!r}"
            )
        if path is None:
            prefix = scopes.current_path()
            path = f"{prefix}/{name}" if prefix else name
        if callable(initializer):
            shape = _standardize_shape(shape)
            dtype = dtypes.standardize_dtype(dtype)
            # Refused before allocating: XLA aborts the process when memory runs out.
            limits.check_variable_size(shape, dtype, path)
            value = initializer(shape, dtype=dtype)
        else:
            if dtype is None and hasattr(initializer, "dtype"):
                dtype = dtypes.standardize_dtype(initializer.dtype)
            else:
                dtype = dtypes.standardize_dtype(dtype)
            value = initializer
        value = jnp.asarray(value, dtype=dtype)
        if shape is not None and tuple(value.shape) != _standardize_shape(shape):
            raise ValueError(
                f"Initial value for variable '{name}' has shape {tuple(value.shape)}, "
                f"expected {tuple(shape)}."
            )
        if _variable_placer is not None:  # the active distribution's layout, if any
            value = _variable_placer(value, path)
        super().__init__(
            value,
            keras_name=name,
            keras_path=path,
            keras_trainable=bool(trainable),
            keras_autocast=bool(autocast),
            aggregation=aggregation,
            synchronization=synchronization,
            **metadata,
        )

    # ---- Keras attributes -------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.get_metadata("keras_name")

    @property
    def path(self) -> str:
        return self.get_metadata("keras_path")

    def _set_path(self, path: str) -> None:
        self.set_metadata("keras_path", path)

    @property
    def trainable(self) -> bool:
        return self.get_metadata("keras_trainable")

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self.set_metadata("keras_trainable", bool(value))

    @property
    def constraint(self):
        return self.get_metadata("keras_constraint", None)

    @property
    def overwrite_with_gradient(self) -> bool:
        return self.get_metadata("keras_overwrite_with_gradient", False)

    @property
    def regularizer(self):
        return self.get_metadata("keras_regularizer", None)

    @property
    def autocast(self) -> bool:
        return self.get_metadata("keras_autocast")

    @property
    def aggregation(self) -> str:
        """How a distributed update combines replicas (`"none"`, `"mean"`, `"sum"`,
        `"only_first_replica"`)."""
        return self.get_metadata("aggregation", "none")

    @property
    def synchronization(self) -> str:
        return self.get_metadata("synchronization", "auto")

    @property
    def dtype(self) -> str:
        return dtypes.standardize_dtype(self.get_raw_value().dtype)

    @property
    def shape(self) -> tuple:
        return tuple(self.get_raw_value().shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    # ---- reading ------------------------------------------------------------------------
    def get_value(self, *, index=_MISSING):
        value = None
        scope = scopes.get_stateless_scope()
        if scope is not None:
            value = scope.get_current_value(self)
        if value is None:
            value = self.get_raw_value()
        autocast = scopes.get_autocast_scope()
        if (
            autocast is not None
            and self.autocast
            and autocast.dtype != self.dtype
            and jnp.issubdtype(value.dtype, jnp.floating)
        ):
            value = value.astype(autocast.dtype)
        if index is not _MISSING:
            value = value[index]
        return value

    @property
    def _value(self):
        """The stored array itself, as Keras 3's `Variable._value` (libraries read it: KerasHub
        frees it with `._value.delete()` before loading new weights into the variable)."""
        return self.get_raw_value()

    @property
    def value(self):
        return self.get_value()

    @value.setter
    def value(self, new_value):
        self.assign(new_value)

    def numpy(self) -> np.ndarray:
        return np.array(self.get_value())

    def __array__(self, dtype=None, copy=None):
        out = np.asarray(self.get_value())
        return out.astype(dtype) if dtype is not None else out

    # ---- writing ------------------------------------------------------------------------
    def _convert(self, value):
        value = jnp.asarray(value, dtype=self.dtype)
        if tuple(value.shape) != self.shape:
            raise ValueError(
                f"The shape of the target variable and the shape of the target value in "
                f"`variable.assign(value)` must match. variable.path={self.path}, "
                f"variable.shape={self.shape}, Received: value.shape={tuple(value.shape)}."
            )
        return value

    def assign(self, value):
        if isinstance(value, Variable):
            value = value.get_value()
        value = self._convert(value)
        scope = scopes.get_stateless_scope()
        if scope is not None:
            scope.add_update(self, value)
        else:
            self.set_raw_value(_keep_placement(value, self.get_raw_value()))
        return value

    def assign_add(self, value):
        return self.assign(self.get_value() + jnp.asarray(value, dtype=self.dtype))

    def assign_sub(self, value):
        return self.assign(self.get_value() - jnp.asarray(value, dtype=self.dtype))

    # nnx's in-place operators write through set_value; route them through assign.
    def set_value(self, value, *, index=_MISSING):
        if index is not _MISSING:
            value = self.get_value().at[index].set(value)
        self.assign(value)

    def __setitem__(self, key, value):
        self.set_value(value, index=key)

    def __repr__(self) -> str:
        return (
            f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
            f"value={np.asarray(self.get_raw_value())}>"
        )

    __str__ = __repr__

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        # Keras variables compare elementwise, like arrays.
        if isinstance(other, Variable):
            other = other.get_value()
        return self.get_value() == other

    def __bool__(self):
        return bool(self.get_value())


# Keras variables have no in-place arithmetic: `v += 1` rebinds `v` to an array, as in
# Keras 3. (NNX raises for these; we restore the Keras behaviour.)
for _name in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor"):
    def _make(op):
        def method(self, other):
            if isinstance(other, Variable):
                other = other.get_value()
            return getattr(self.get_value(), op)(other)
        return method

    setattr(Variable, f"__i{_name}__", _make(f"__{_name}__"))


def assign_values(variables, values):
    """Assign `values[i]` to `variables[i]` after checking every shape first, so that a
    mismatch leaves all of them unchanged (what loading saved weights relies on)."""
    values = list(values)
    for v, value in zip(variables, values):
        if tuple(np.shape(value)) != tuple(v.shape):
            raise ValueError(
                f"The shape of the target variable and the shape of the target value in "
                f"`variable.assign(value)` must match. variable.shape={tuple(v.shape)}, "
                f"Received: value.shape={tuple(np.shape(value))}. Target variable: {v.path}"
            )
    for v, value in zip(variables, values):
        v.assign(np.asarray(value).astype(v.dtype) if v.dtype != "bfloat16" else value)


def set_raw_values(variables, values):
    """`variable.set_raw_value(value)` for each pair: how compiled programs write their
    results back, on every step. (Flax's trace-level check runs on each write; its
    bypass is a private keyword, which this package does not use.)"""
    for v, value in zip(variables, values):
        v.set_raw_value(value)


def is_variable(x) -> bool:
    return isinstance(x, Variable)


def convert_to_tensor(x, dtype=None):
    if isinstance(x, Variable):
        x = x.get_value()
    if dtype is not None:
        return jnp.asarray(x, dtype=dtypes.standardize_dtype(dtype))
    return jnp.asarray(x)


def _keep_placement(value, current):
    """`value` on the devices (and sharding) of the variable's current value, so that
    `assign` / `set_weights` keep a variable where `keras.device(...)` or a distribution
    put it. A value already committed to devices (a restored sharded checkpoint) keeps
    the placement it was given."""
    if isinstance(value, jax.core.Tracer) or isinstance(current, jax.core.Tracer):
        return value
    if getattr(value, "committed", False):
        return value
    target = getattr(current, "sharding", None)
    if target is None or getattr(value, "sharding", None) == target:
        return value
    return jax.device_put(value, target)
