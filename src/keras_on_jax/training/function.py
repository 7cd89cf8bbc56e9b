"""`keras_on_jax.function`: TensorFlow's `tf.function` on JAX (`tf.function` under the runner).

```python
@keras.function  # or @tf.function under `python -m keras_on_jax`
def train_step(x, y):
    with keras.GradientTape() as tape:
        logits = model(x, training=True)
        loss_value = loss_fn(y, logits)
    grads = tape.gradient(loss_value, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))
    train_acc_metric.update_state(y, logits)
    return loss_value
```

A `Function` traces the Python function once per signature and runs it as one `jax.jit`
program (`backend.stateful_jit`): every Keras Variable the function reads or assigns
(weights, optimizer slots and counters, metric totals, seed generator states, BatchNorm
statistics) is found while tracing and threaded in and out of the program, the assigned
ones donated, and their new values are written back after each call. The function's own
code is ordinary stateful Keras code: a `GradientTape` inside differentiates a re-run of
the function (`gradient_tape.replay_root`), so any arithmetic, nested tapes included, is
differentiable.

TensorFlow's rules, where JAX allows them:
- Python side effects (`print`, appending to a list) happen while tracing, not per call.
- A new signature traces again: array arguments by shape and dtype, Python numbers and
  strings by value, other objects by identity. `experimental_get_tracing_count()`
  counts the traces.
- Tensors returned come back as arrays; Python values returned are those of the trace.
- Called inside another compiled function (or `fit`'s step, or a `jax.jit`), it runs
  inline as part of that program.

Differences (also in docs/differences.md): there is no AutoGraph, so Python control flow
on traced values raises an error that points to `keras.ops.cond` / `while_loop`; a
compiled program has static shapes, so `reduce_retracing=True` and an `input_signature`
with `None` dimensions still compile one program per concrete shape; a call that first
creates Variables (a model built on its first call) runs eagerly, and the next call traces.
"""

from __future__ import annotations

import functools
import types
import weakref
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import scopes, stateful_jit
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.layers.layer import _CALL_CONTEXT

_RUN_EAGERLY = [False]

_TRACER_ERRORS = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerArrayConversionError,
    jax.errors.TracerIntegerConversionError,
    jax.errors.TracerBoolConversionError,
)


def run_functions_eagerly(run_eagerly):
    """`tf.config.run_functions_eagerly`: run every `function` as plain Python (to debug)."""
    _RUN_EAGERLY[0] = bool(run_eagerly)


def functions_run_eagerly():
    """`tf.config.functions_run_eagerly`."""
    return _RUN_EAGERLY[0]


class TensorSpec:
    """The shape and dtype of an argument in `function(input_signature=[...])`.

    Args:
        shape: a tuple; `None` marks a dimension of any size.
        dtype: the dtype (default `"float32"`).
        name: an optional name.
    """

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = None if shape is None else tuple(None if d is None else int(d) for d in shape)
        self.dtype = _dtype_name(dtype)
        self.name = name

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype}, name={self.name!r})"


def _dtype_name(dtype):
    from keras_on_jax.backend import dtypes

    return dtypes.standardize_dtype(getattr(dtype, "name", dtype))


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_implements=None,
             experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None,
             experimental_follow_type_hints=None):
    """Compile a Python function that uses Keras objects into one JAX program per
    signature (TensorFlow's `tf.function`; see the module docstring).

    Usable as `function(fn)`, `@function` and `@function(...)`, also on methods.

    Args:
        func: the function to compile.
        input_signature: optional list of `TensorSpec`s (or objects with `shape` and
            `dtype`) for the positional arguments: arguments are checked against it and
            converted to its dtypes.
        autograph: accepted; there is no AutoGraph (Python control flow runs at trace
            time, see docs/differences.md).
        jit_compile: accepted; the program is always compiled by XLA.
        reduce_retracing: accepted; XLA programs have static shapes, so each new shape
            still traces (see docs/differences.md).
        experimental_relax_shapes: the older name of `reduce_retracing`.

    Returns:
        A `Function` (or a decorator returning one when `func` is None).
    """
    if experimental_relax_shapes is not None:
        reduce_retracing = experimental_relax_shapes
    options = dict(input_signature=input_signature, jit_compile=jit_compile,
                   reduce_retracing=bool(reduce_retracing))
    if func is None:
        return functools.partial(_decorate, options=options)
    return _decorate(func, options)


def _decorate(func, options):
    if not callable(func):
        raise TypeError(
            f"`function` expects a callable to compile. Received: {func!r} of type "
            f"{type(func).__name__}"
        )
    return Function(func, **options)


class Function:
    """A compiled Python function (what `function` returns); call it like the original."""

    def __init__(self, python_function, input_signature=None, jit_compile=None,
                 reduce_retracing=False):
        self._python_function = python_function
        self._input_signature = None if input_signature is None else list(input_signature)
        self._jit_compile = jit_compile
        self._reduce_retracing = reduce_retracing
        self._programs = {}  # signature key -> StatefulJit
        self._fast_programs = {}  # `_array_key` -> the same programs
        self._bound = weakref.WeakKeyDictionary()  # instance -> Function (methods)
        functools.update_wrapper(self, python_function)

    @property
    def python_function(self):
        return self._python_function

    @property
    def input_signature(self):
        return self._input_signature

    def experimental_get_tracing_count(self):
        """How many times the function was traced (one per signature, as in TF)."""
        return sum(program.traces for program in self._programs.values())

    def __get__(self, instance, owner):
        if instance is None:
            return self
        bound = self._bound.get(instance)
        if bound is None:
            bound = Function(types.MethodType(self._python_function, instance),
                             input_signature=self._input_signature,
                             jit_compile=self._jit_compile,
                             reduce_retracing=self._reduce_retracing)
            self._bound[instance] = bound
        return bound

    def __repr__(self):
        name = getattr(self._python_function, "__qualname__", repr(self._python_function))
        return f"<keras_on_jax.function {name}>"

    # ---- calling --------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if not kwargs and self._input_signature is None:
            # The common call, every argument a concrete array: keyed on shapes and
            # dtypes alone, without flattening the arguments as `signature` does.
            fast_key = _array_key(args)
            if fast_key is not None and _compiles_here():
                program = self._fast_programs.get(fast_key)
                if program is not None:
                    return self._run(program, list(args), args, kwargs)
        else:
            fast_key = None
            if self._input_signature is not None:
                args = self._check_signature(args, kwargs)
        signature = None
        if _compiles_here():
            signature = stateful_jit.signature(args, kwargs, objects=True)
        if signature is None or any(type(x) not in stateful_jit._PLAIN_TYPES
                                    and isinstance(x, Iterator) for x in signature[2][1]):
            # Plain Python: on request; inside an enclosing trace (a scope, tracers or
            # KerasTensors among the arguments), as part of that program; while an eager
            # GradientTape records (it records the calls inside); or given an iterator,
            # whose `next()` must run on every call.
            return self._python_function(*args, **kwargs)
        key, dynamic, template = signature
        program = self._programs.get(key)
        if program is None:
            program = self._new_program(template)
            self._programs[key] = program
        if fast_key is not None and len(dynamic) == len(args):  # (no non-numeric array)
            self._fast_programs[fast_key] = program
        return self._run(program, dynamic, args, kwargs)

    def _run(self, program, dynamic, args, kwargs):
        while True:
            try:
                return program(dynamic)
            except scopes.OptimizerBuiltWhileTracing as e:
                # An optimizer first used inside the function: its slots are made now,
                # outside the trace (as `apply` would make them), and it traces again.
                with scopes.NameScope(e.optimizer.name):
                    e.optimizer.build(e.variables)
                e.optimizer.built = True
            except scopes.VariableCreatedWhileTracing:
                # A layer built by this call (a model's first call): Variables cannot be
                # born in a trace, so this call runs eagerly; the next one traces.
                return self._python_function(*args, **kwargs)
            except _TRACER_ERRORS as e:
                raise _control_flow_error(self._python_function, e) from e

    def _new_program(self, template):
        python_function = self._python_function
        read, written = [], []
        for other in self._programs.values():  # what earlier signatures touched
            read += other.read
            written += other.written

        def traced(values, mapping):
            from keras_on_jax.training.gradient_tape import replay_root

            a, k = stateful_jit.rebuild(template, values)
            variables = [v for v, _ in mapping]
            initial = [x for _, x in mapping]
            # A GradientTape inside differentiates a re-run of the function from its
            # start (see gradient_tape.replay_root).
            with scopes.StepTracingScope(), \
                    replay_root(lambda: python_function(*a, **k), variables, initial):
                return python_function(*a, **k)

        return stateful_jit.StatefulJit(traced, donate=True, read=read, written=written,
                                        pass_state=True)

    def _check_signature(self, args, kwargs):
        specs = self._input_signature
        if kwargs or len(args) != len(specs):
            raise TypeError(
                f"{self._name()} was defined with an input_signature of {len(specs)} "
                f"positional argument(s); received {len(args)} positional and keyword "
                f"argument(s) {sorted(kwargs)}."
            )
        out = []
        for i, (value, spec) in enumerate(zip(args, specs)):
            if isinstance(value, (KerasTensor, jax.core.Tracer)):
                out.append(value)
                continue
            shape = getattr(spec, "shape", None)
            shape = None if shape is None else tuple(shape)
            compatible = shape is None or (len(np.shape(value)) == len(shape) and all(
                d is None or d == s for d, s in zip(shape, np.shape(value))))
            if not compatible:
                raise ValueError(
                    f"{self._name()}: argument {i} does not match the input_signature. "
                    f"Expected shape {shape} (None: any size), received shape "
                    f"{tuple(np.shape(value))}."
                )
            out.append(jnp.asarray(value, dtype=_dtype_name(getattr(spec, "dtype", "float32"))))
        return tuple(out)

    def _name(self):
        return f"Function `{getattr(self._python_function, '__name__', 'function')}`"


def _compiles_here():
    """Whether a call made now may run a compiled program: not on request to run
    functions eagerly, not inside an enclosing trace or scope, not while an eager
    GradientTape records."""
    return (not _RUN_EAGERLY[0] and scopes.is_plain()
            and getattr(_CALL_CONTEXT, "tape_record", None) is None)


_ARRAY_TYPES = []  # the concrete `jax.Array` class, learned from the first argument seen


def _array_key(args):
    """`(shape, dtype)` of each argument when all are concrete arrays (NumPy or JAX),
    else None. A key maps to the program `signature` finds for such arguments."""
    key = []
    for x in args:
        t = type(x)
        if t is np.ndarray:
            key.append((x.shape, x.dtype))
        elif _ARRAY_TYPES and t is _ARRAY_TYPES[0]:
            key.append((x.shape, x.dtype, x.weak_type))
        elif not _ARRAY_TYPES and isinstance(x, jax.Array) and not isinstance(
                x, jax.core.Tracer):
            _ARRAY_TYPES.append(t)
            key.append((x.shape, x.dtype, x.weak_type))
        else:
            return None
    return tuple(key)


def _control_flow_error(python_function, error):
    name = getattr(python_function, "__name__", "function")
    return TypeError(
        f"keras_on_jax.function: `{name}` used a traced array as a Python value (in an "
        "`if` or `while` condition, `bool()`, `int()`, `float()`, `.numpy()` or a NumPy "
        "function). Inside a compiled function arrays have no value yet, and there is no "
        "AutoGraph to turn Python control flow into graph control flow: use "
        "`keras.ops.cond(pred, true_fn, false_fn)` for `if`, `keras.ops.while_loop(cond, "
        "body, loop_vars)` or `keras.ops.fori_loop` for loops, `keras.ops.where` to select "
        "values; or run it eagerly with `tf.config.run_functions_eagerly(True)`. "
        f"(JAX: {type(error).__name__}: {str(error).splitlines()[0]})"
    )
