"""Thread-local scopes that let Keras-style stateful code run inside pure JAX functions.

`StatelessScope` maps Variables to substitute values: inside it, reading a Variable gives
the substitute (a tracer under `jax.jit`), and `assign` records the new value in the scope
instead of mutating the Variable. This is how one compiled step runs ordinary Keras layer,
metric and optimizer code over a pytree of state.
"""

from __future__ import annotations

import inspect
import os
import sys
import threading

_LOCAL = threading.local()


def _stack(name):
    stack = getattr(_LOCAL, name, None)
    if stack is None:
        stack = []
        setattr(_LOCAL, name, stack)
    return stack


class StatelessScope:
    """Substitute values for Variables; collect assignments instead of mutating.

    Args:
        state_mapping: iterable of `(variable, value)` pairs.
        collect_losses: when True, `add_loss` calls inside the scope are collected in
            `self.losses` (used by the compiled step).
    """

    def __init__(self, state_mapping=(), collect_losses=False):
        from keras_on_jax.backend.variables import Variable

        self._values = {}
        for variable, value in state_mapping:
            if isinstance(value, Variable):
                # A Variable given as a value (the JAX guides pass `model.trainable_variables`
                # through `jax.jit`, which rebuilds them around tracers): use its array.
                value = value.value
            self._values[id(variable)] = value
        self._variables = {}
        self.collect_losses = collect_losses
        self.losses = []
        self._parent = None

    def get_current_value(self, variable):
        value = self._values.get(id(variable))
        if value is None and self._parent is not None:
            return self._parent.get_current_value(variable)
        return value

    def add_update(self, variable, value):
        self._values[id(variable)] = value
        self._variables[id(variable)] = variable

    def updated_variables(self):
        return list(self._variables.values())

    def __enter__(self):
        stack = _stack("stateless")
        self._parent = stack[-1] if stack else None
        stack.append(self)
        return self

    def __exit__(self, *exc):
        _stack("stateless").pop()
        return False


def get_stateless_scope() -> StatelessScope | None:
    stack = _stack("stateless")
    return stack[-1] if stack else None


def in_stateless_scope() -> bool:
    return bool(_stack("stateless"))


class AutocastScope:
    """Inside it, floating-point Variables with `autocast=True` read as `dtype`."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __enter__(self):
        _stack("autocast").append(self)
        return self

    def __exit__(self, *exc):
        _stack("autocast").pop()
        return False


def get_autocast_scope() -> AutocastScope | None:
    stack = _stack("autocast")
    return stack[-1] if stack else None


class NameScope:
    """A name scope: variables created inside get `"<scope>/<name>"` paths."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        _stack("names").append(self.name)
        return self

    def __exit__(self, *exc):
        _stack("names").pop()
        return False


def current_path() -> str:
    return "/".join(_stack("names"))


class SymbolicScope:
    """Active while a layer is called on KerasTensors to infer output specs."""

    def __enter__(self):
        _stack("symbolic").append(self)
        return self

    def __exit__(self, *exc):
        _stack("symbolic").pop()
        return False


def in_symbolic_scope() -> bool:
    return bool(_stack("symbolic"))


class VariableCreatedWhileTracing(Exception):
    """Raised when a layer creates weights while its output shape is being traced.

    The caller then builds the layer eagerly on concrete zeros (outside any trace) and
    traces again: NNX variables must be created outside JAX transformations.
    """


class OptimizerBuiltWhileTracing(Exception):
    """Raised when an optimizer would create its slot variables inside the compiled step.

    A custom `train_step` may call an optimizer of its own (the FAQ's GAN keeps a
    `d_optimizer` and a `g_optimizer`) that is first used there. The trainer then builds
    it eagerly on `variables`, adds its state to the step's state, and traces again.
    """

    def __init__(self, optimizer, variables):
        super().__init__(f"optimizer {optimizer.name!r} must be built before the step is traced")
        self.optimizer = optimizer
        self.variables = variables


class StepTracingScope:
    """Active while the trainer traces (or eagerly runs) one train/test/predict step."""

    def __enter__(self):
        _stack("step_tracing").append(self)
        return self

    def __exit__(self, *exc):
        _stack("step_tracing").pop()
        return False


def in_step_tracing() -> bool:
    return bool(_stack("step_tracing"))


class SpecTracingScope:
    """Active while output specs are inferred by tracing (jax.eval_shape)."""

    def __enter__(self):
        _stack("spec_tracing").append(self)
        return self

    def __exit__(self, *exc):
        _stack("spec_tracing").pop()
        return False


def in_spec_tracing() -> bool:
    return bool(_stack("spec_tracing"))


class CompiledTraceScope:
    """Active while `backend.stateful_jit` traces a Python function into one program.

    Variables cannot be born inside that trace (their value would be a tracer): creating
    one raises `VariableCreatedWhileTracing`, and the caller runs that call eagerly.
    """

    def __enter__(self):
        _stack("compiled_trace").append(self)
        return self

    def __exit__(self, *exc):
        _stack("compiled_trace").pop()
        return False


def in_compiled_trace() -> bool:
    return bool(_stack("compiled_trace"))


_NOT_PLAIN = ("stateless", "symbolic", "autocast", "spec_tracing", "step_tracing",
              "compiled_trace")


def is_plain() -> bool:
    """No scope of this module is active: code runs eagerly on concrete values."""
    active = _LOCAL.__dict__  # (this thread's stacks; checked on every compiled call)
    for name in _NOT_PLAIN:
        if active.get(name):
            return False
    return True


class LayerCallLog:
    """Records the layers called (as outermost layer calls) while it is active.

    A layer's outermost call resets the `add_loss` lists of the layers under it; the log
    keeps what they held before (`restore()` puts it back) and can report the layers
    whose lists the calls filled (`called_layers()`). Used by code that runs layer calls
    inside a trace or a re-run, whose loss tensors must not outlive it.
    """

    def __init__(self):
        self._saved = []

    def note(self, layer):
        self._saved.extend((sub, sub._losses) for sub in layer._flatten_layers())

    def called_layers(self):
        out, seen = [], set()
        for layer, _ in self._saved:
            if id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
        return out

    def restore(self):
        for layer, losses in reversed(self._saved):
            layer._losses = losses

    def __enter__(self):
        _stack("layer_call_log").append(self)
        return self

    def __exit__(self, *exc):
        _stack("layer_call_log").pop()
        return False


def note_outer_layer_call(layer):
    """Called by `Layer` before an outermost call resets its layers' `add_loss` lists."""
    logs = getattr(_LOCAL, "layer_call_log", None)
    if logs:
        for log in logs:
            log.note(layer)


def in_grain_data_pipeline() -> bool:
    """Whether the caller runs inside a Grain pipeline (a dataset's `map` or a
    `DataLoader` worker), where preprocessing should produce NumPy on the host."""
    if "grain" not in sys.modules:  # the common case, without walking the stack
        return False
    markers = (os.path.join("grain", "_src", "python", "dataset"),
               os.path.join("grain", "_src", "python", "data_loader"))
    frame = inspect.currentframe()
    while frame is not None:
        if any(marker in frame.f_code.co_filename for marker in markers):
            return True
        frame = frame.f_back
    return False
