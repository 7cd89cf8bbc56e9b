"""`GradientTape`: TensorFlow's tape API on JAX.

JAX has no global tape: gradients come from transforming a pure function. Two mechanisms
provide one.

**Inside the trainer's step** (a `train_step(self, data)` / `test_step` override run by
`fit` / `evaluate`, jitted or `run_eagerly`), the user's step is a function the trainer can
call again (`replay_root`). `tape.gradient(target, variables)` re-runs the step from its
start, under the same initial state, as a pure function of additive zero "deltas" added to
reads of the source variables only while that tape records, stops at the same gradient call
and returns its target; `jax.vjp` with respect to the deltas gives TensorFlow's gradients
whatever arithmetic connects the target to the Keras calls (`jax.numpy`, Python operators,
array methods). Reads before the tape opened (or inside `stop_recording`) stay constant;
earlier gradient calls of the step are reused as constants unless a tape being
differentiated was recording when they ran, in which case they are recomputed
differentiably (nested tapes: gradients of gradients). A re-run restores everything it
touches: variables live in a fresh `StatelessScope` (seed generators, BatchNorm statistics,
metrics, optimizer slots), and the layers' `add_loss` lists and call contexts are put back.
XLA's common-subexpression elimination merges the re-run's forward pass with the step's.

**Everywhere else** (eager custom loops, a user's own `jax.jit`), the tape records: every
*outermost* call of a Keras `Layer`, a `Loss` object or loss function, a `keras.ops`
function, an activation, `model.compiled_loss(...)`, `model.compute_loss(...)` and
`layer.losses`, and, while a tape is entered, the Python operators (`+ - * / // % ** @`,
unary `-`, `abs`, indexing) and common methods (`sum`, `mean`, `reshape`, ...) of arrays,
tracers and Variables whose operands the tape knows (recorded outputs, watched arrays,
Variables). A node holds the callable, its arguments, its output and, for a layer, the
values of its variables just before it ran (seed generator states, BatchNorm statistics,
weights). `tape.gradient` builds a pure function of the source values that re-executes the
nodes the target depends on, in order, under a `StatelessScope` (sources mapped to the given
values, every other variable of a layer node to its recorded value, so a replayed `Dropout`
draws the same mask), and differentiates it with `jax.vjp`. A `gradient` taken while
other tapes record is itself recorded on them, as a node that redoes that replay from the
outer replay's values, so nested tapes give gradients of gradients. Gradients with respect
to watched arrays (`tape.watch(x)`) always use this path, also inside the trainer's step.
An eager loop records the same nodes every step: after a few steps the replay and its vjp
run as one compiled program per recorded structure (`training/compiled_tape.py`).

Inside `keras_on_jax.function` the function is re-runnable like the trainer's step, so
the first mechanism applies there.

A `jax.numpy` function called directly on recorded values outside the trainer's step cannot
be connected: `gradient` then raises a `ValueError` that says so and points to `keras.ops`
functions or the JAX style (`jax.value_and_grad` over `model.stateless_call`).
"""

from __future__ import annotations

import contextlib
import functools
import operator
import sys
import threading
import types

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import scopes
from keras_on_jax.backend.variables import Variable

_LOCAL = threading.local()


def _state():
    st = getattr(_LOCAL, "state", None)
    if st is None:
        st = _LOCAL.state = types.SimpleNamespace(tapes=[], depth=0, run=None)
    return st


def _call_context():
    from keras_on_jax.layers import layer as layer_module

    return layer_module._CALL_CONTEXT


def _refresh():
    """Arm the recording hook iff some recording tape sits at the current call depth."""
    st = _state()
    active = any(t._recording and t._depth == st.depth for t in st.tapes)
    _call_context().tape_record = _record if active else None


class _Deeper:
    """Calls made inside this context are nested (not outermost) for the active tapes."""

    def __enter__(self):
        _state().depth += 1
        _refresh()
        return self

    def __exit__(self, *exc):
        _state().depth -= 1
        _refresh()
        return False


# ---- structure helpers -------------------------------------------------------------------------
def _is_array(x):
    return isinstance(x, jax.Array)


def _leaves(structure):
    """Array leaves of nested lists / tuples / dicts (Variables and other objects skipped)."""
    out = []

    def walk(x):
        if _is_array(x):
            out.append(x)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)

    walk(structure)
    return out


def _objects(structure, cls):
    out = []

    def walk(x):
        if isinstance(x, cls):
            out.append(x)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)

    walk(structure)
    return out


def _substitute(structure, env):
    """Replace array leaves whose id is in `env` by the recomputed values."""
    if isinstance(structure, (jax.Array, np.ndarray)):
        entry = env.get(id(structure))
        return structure if entry is None else entry
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*(_substitute(v, env) for v in structure))
    if isinstance(structure, (list, tuple)):
        return type(structure)(_substitute(v, env) for v in structure)
    if isinstance(structure, dict):
        return type(structure)((k, _substitute(v, env)) for k, v in structure.items())
    return structure


def _bind(recorded, new, env, protected):
    """Map the ids of the recorded output leaves to the recomputed ones."""
    rec_leaves = _leaves(recorded)
    new_leaves = _leaves(new)
    if len(rec_leaves) != len(new_leaves):
        raise RuntimeError(
            "GradientTape: a recorded call returned a different structure when replayed "
            f"({len(rec_leaves)} arrays recorded, {len(new_leaves)} recomputed)."
        )
    for r, n in zip(rec_leaves, new_leaves):
        if id(r) not in protected:
            env[id(r)] = n


def _outer_source_ids():
    """Ids of the Variables mapped by enclosing tape replays (see `GradientTape._build`)."""
    ids = set()
    scope = scopes.get_stateless_scope()
    while scope is not None:
        ids |= getattr(scope, "_tape_source_ids", set())
        scope = scope._parent
    return ids


def _raw_current(variable):
    """The variable's current value in the active scope, without autocasting."""
    scope = scopes.get_stateless_scope()
    value = scope.get_current_value(variable) if scope is not None else None
    return variable.get_raw_value() if value is None else value


def _any_symbolic(structure):
    from keras_on_jax.backend.keras_tensor import KerasTensor

    return bool(_objects(structure, KerasTensor))


# ---- recording -------------------------------------------------------------------------------------
class _Node:
    __slots__ = ("fn", "args", "kwargs", "output", "extras", "layer", "snapshot")

    def __init__(self, fn, args, kwargs, output, extras=(), layer=None, snapshot=()):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.output = output
        self.extras = list(extras)
        self.layer = layer
        self.snapshot = list(snapshot)


def _record(target, args, kwargs):
    """The hook: run `target(*args, **kwargs)` as an outermost call and record it."""
    from keras_on_jax.layers.layer import Layer

    st = _state()
    tapes = [t for t in st.tapes if t._recording and t._depth == st.depth]
    if not tapes or _any_symbolic((args, kwargs)):
        with _Deeper():
            return target(*args, **kwargs)
    if isinstance(target, Layer):
        layers = target._flatten_layers()
        snapshot = [(v, _raw_current(v)) for v in target.variables]
        scope = scopes.get_stateless_scope()
        collect = scope is not None and scope.collect_losses
        n0 = len(scope.losses) if collect else 0
        with _Deeper():
            output = target(*args, **kwargs)
        if collect:
            extras = list(scope.losses[n0:])
        else:
            extras = [loss for layer in layers for loss in layer._losses]
        node = _Node(target, args, kwargs, output, extras, layer=target, snapshot=snapshot)
    else:
        with _Deeper():
            output = target(*args, **kwargs)
        if not _leaves(output):
            return output
        node = _Node(target, args, kwargs, output)
    known = [id(x) for x in _leaves(node.output) + _leaves(node.extras)]
    for tape in tapes:
        tape._nodes.append(node)
        tape._known.update(known)
    return output


_WRAPPERS = {}  # id(original) -> (original, wrapper): aliases share one wrapper


def _recording_wrapper(fn):
    if getattr(fn, "_tape_original", None) is not None:
        return fn
    cached = _WRAPPERS.get(id(fn))
    if cached is not None and cached[0] is fn:
        return cached[1]
    context = _call_context()

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        record = getattr(context, "tape_record", None)
        if record is None:
            return fn(*args, **kwargs)
        return record(fn, args, kwargs)

    wrapper._tape_original = fn
    _WRAPPERS[id(fn)] = (fn, wrapper)
    return wrapper


_INSTALLED = False
# Ops whose results are not differentiable values or that only inspect their input.
_NOT_RECORDED = frozenset({
    "convert_to_numpy", "is_tensor", "shape", "dtype", "result_type", "custom_gradient",
    "is_float_dtype", "is_int_dtype", "standardize_dtype",
})


def _wrap_module_functions(module, names=None, package_prefix="keras_on_jax."):
    wrapped = {}
    for name in list(names if names is not None else dir(module)):
        if name.startswith("_") or name in _NOT_RECORDED:
            continue
        fn = getattr(module, name, None)
        if not isinstance(fn, types.FunctionType):
            continue
        if not (fn.__module__ or "").startswith(package_prefix):
            continue
        new = _recording_wrapper(fn)
        setattr(module, name, new)
        wrapped[name] = new
    return wrapped


def _replace_in_registries(module, by_original):
    """Point a module's name registries (dicts, sets, tuples, lists) at the wrappers."""
    for attr, value in list(vars(module).items()):
        if isinstance(value, dict):
            for k, v in list(value.items()):
                if id(v) in by_original:
                    value[k] = by_original[id(v)]
            for k, v in list(value.items()):
                if id(k) in by_original:  # function-keyed tables answer for both
                    value[by_original[id(k)]] = v
        elif isinstance(value, set):
            hits = [v for v in value if id(v) in by_original]
            ids = [v for v in value if isinstance(v, int) and v in by_original]
            for v in hits:
                value.discard(v)
                value.add(by_original[id(v)])
            for v in ids:  # sets of ids (e.g. activations._BUILTIN_IDS)
                value.add(id(by_original[v]))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if id(v) in by_original:
                    value[i] = by_original[id(v)]
        elif isinstance(value, tuple) and any(id(v) in by_original for v in value):
            setattr(module, attr, tuple(by_original.get(id(v), v) for v in value))


def install_recording_hooks():
    """Wrap the public functions of `keras.ops`, `keras.losses` and `keras.activations`
    (and the compiled-loss entry points) so that active tapes record them. Idempotent.

    With no active tape a wrapped function costs one thread-local attribute read.
    """
    global _INSTALLED
    if _INSTALLED:
        return
    _INSTALLED = True
    import importlib

    from keras_on_jax import activations, losses, ops
    from keras_on_jax.layers.layer import Layer
    from keras_on_jax.losses.loss import Loss
    from keras_on_jax.training import compile_utils, trainer

    # keras.ops: the package namespace and each submodule's namespace.
    for sub in ("core", "numpy", "nn", "math", "linalg", "image", "einops"):
        try:
            module = importlib.import_module(f"keras_on_jax.ops.{sub}")
        except ImportError:
            continue
        _wrap_module_functions(module, getattr(module, "__all__", None))
    for name in dir(ops):
        fn = getattr(ops, name)
        origin = getattr(fn, "__module__", None) or ""
        if (isinstance(fn, types.FunctionType) and not name.startswith("_")
                and origin.startswith("keras_on_jax.ops") and name not in _NOT_RECORDED):
            setattr(ops, name, _recording_wrapper(fn))

    # keras.losses functions and Loss objects; keras.activations. The registries that
    # resolve names (`get`, `deserialize`) hand out the same wrapped functions, so that
    # `losses.get("huber") is losses.huber` still holds.
    # keras.metrics is already loaded (compile_utils' CompileMetrics is a Metric) and holds
    # the loss functions it imported by value: its namespaces are pointed at them too.
    metric_modules = [m for n, m in list(sys.modules.items())
                      if n == "keras_on_jax.metrics" or n.startswith("keras_on_jax.metrics.")]
    for package in (losses, activations):
        wrapped = _wrap_module_functions(package, getattr(package, "__all__", None))
        by_original = {id(fn._tape_original): fn for fn in wrapped.values()}
        for module in {package, *metric_modules,
                       *(importlib.import_module(fn._tape_original.__module__)
                         for fn in wrapped.values())}:
            for name, fn in wrapped.items():
                if getattr(module, name, None) is fn._tape_original:
                    setattr(module, name, fn)
            _replace_in_registries(module, by_original)
    Loss.__call__ = _recording_wrapper(Loss.__call__)

    # model.compiled_loss(...), model.compute_loss(...), layer.losses.
    compile_utils.CompileLoss.__call__ = _recording_wrapper(compile_utils.CompileLoss.__call__)
    tracked = getattr(trainer, "_TrackedCompileLoss", None)
    if tracked is not None:
        tracked.__call__ = _recording_wrapper(tracked.__call__)
    trainer.Trainer.compute_loss = _recording_wrapper(trainer.Trainer.compute_loss)
    losses_prop = Layer.__dict__.get("losses")
    if isinstance(losses_prop, property) and losses_prop.fget is not None:
        Layer.losses = property(_recording_wrapper(losses_prop.fget), doc=losses_prop.__doc__)



# ---- Python arithmetic on recorded values ----------------------------------------------------------
# While a tape records, the Python operators (`+ - * / // % ** @`, unary `- + abs`,
# indexing) and the common reduction/reshape methods of arrays, tracers and Variables are
# recorded when an operand is a value the tape knows (a recorded output, a watched array, a
# Variable). So `loss += sum(model.losses)` or `0.5 * a + b` connect. Functions of
# `jax.numpy` called directly on recorded values are not seen (use `keras.ops`).
_BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
    "pow": operator.pow, "matmul": operator.matmul,
}
_UNARY = {"neg": operator.neg, "pos": operator.pos, "abs": operator.abs}
_METHODS = ("sum", "mean", "reshape", "transpose", "squeeze", "max", "min", "prod", "std",
            "var", "astype", "ravel", "flatten", "clip", "dot", "swapaxes", "cumsum")
_ARITH_PATCHES = []  # (class, name, original, wrapper), built once
_ARITH_USERS = [0]  # tapes entered and not exited (all threads); patches are on while > 0
_ARITH_LOCK = threading.Lock()


class _Swapped:
    """`fn(b, a)`: a reflected operator (`a.__radd__(b)` is `b + a`)."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, a, b):
        return self.fn(b, a)


class _MethodCall:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __call__(self, x, *args, **kwargs):
        return getattr(x, self.name)(*args, **kwargs)


def _record_arith(fn, args, kwargs, out):
    st = _state()
    tapes = [t for t in st.tapes if t._recording and t._depth == st.depth]
    if not tapes or not _leaves(out):
        return
    operands = (args, kwargs)
    ids = {id(x) for x in _leaves(operands)}
    has_variable = bool(_objects(operands, Variable))
    hit = [t for t in tapes if has_variable or ids & t._known]
    if not hit:
        return
    node = _Node(fn, args, kwargs, out)
    known = [id(x) for x in _leaves(out)]
    for tape in hit:
        tape._nodes.append(node)
        tape._known.update(known)


def _patch_operator(cls, name, fn):
    original = getattr(cls, name, None)
    if original is None:
        return
    context = _call_context()

    def op(self, *args):
        out = original(self, *args)
        if getattr(context, "tape_record", None) is not None and out is not NotImplemented:
            if isinstance(fn, _Swapped):
                _record_arith(fn.fn, (args[0], self), {}, out)
            else:
                _record_arith(fn, (self, *args), {}, out)
        return out

    op.__name__ = name
    _ARITH_PATCHES.append((cls, name, original, op))


def _patch_method(cls, name):
    original = getattr(cls, name, None)
    if original is None or not callable(original):
        return
    context = _call_context()
    caller = _MethodCall(name)

    def method(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        if getattr(context, "tape_record", None) is not None:
            _record_arith(caller, (self, *args), kwargs, out)
        return out

    method.__name__ = name
    _ARITH_PATCHES.append((cls, name, original, method))


def _arithmetic_hooks(on):
    """Record operators on arrays, tracers and Variables while some tape is entered.

    The operators are wrapped when the first tape (in any thread) is entered and restored
    when the last one exits, so code that uses no tape pays nothing.
    """
    with _ARITH_LOCK:
        if not _ARITH_PATCHES:
            _build_arithmetic_patches()
        before = _ARITH_USERS[0]
        _ARITH_USERS[0] = max(0, before + (1 if on else -1))
        if (before == 0) != (_ARITH_USERS[0] == 0):
            for cls, name, original, wrapper in _ARITH_PATCHES:
                setattr(cls, name, wrapper if on else original)


def _build_arithmetic_patches():
    from jax._src import core
    from jax._src.array import ArrayImpl as array_cls
    for cls in (array_cls, core.Tracer, Variable):
        for name, fn in _BINARY.items():
            _patch_operator(cls, f"__{name}__", fn)
            _patch_operator(cls, f"__r{name}__", _Swapped(fn))
        for name, fn in _UNARY.items():
            _patch_operator(cls, f"__{name}__", fn)
        _patch_operator(cls, "__getitem__", operator.getitem)
    for name in _METHODS:
        _patch_method(array_cls, name)


# ---- re-running the trainer's step (any arithmetic, inside the compiled step) -----------------------
# Inside the trainer's step the user's `train_step` is a function the trainer can call again.
# `tape.gradient(target, variables)` there re-runs the step from its start, under the same
# initial state, as a pure function of additive zero "deltas" that are added to reads of the
# source variables only while that tape records; the re-run stops at the same gradient call
# and returns its target. The derivative with respect to the deltas is TensorFlow's gradient
# (reads before the tape opened, or while it does not record, stay constant), whatever the
# arithmetic between the recorded calls (`jax.numpy`, Python operators, NumPy-style methods).
# Earlier gradient calls of the step are reused as constants, unless a tape being
# differentiated was recording when they ran (nested tapes): then they are recomputed, so
# gradients of gradients work.
class _StopReplay(BaseException):
    """Raised at the gradient call a re-run stops at (passes through `except Exception`)."""

    def __init__(self, run, target):
        super().__init__()
        self.run = run
        self.target = target


class _Root:
    def __init__(self, fn, variables, values, model):
        self.fn = fn
        self.variables = list(variables)
        self.values = list(values)
        self.model = model
        self.scope_stacks = {name: list(value) for name, value in vars(scopes._LOCAL).items()
                             if isinstance(value, list)}
        self.call_stack = list(getattr(_call_context(), "stack", None) or [])
        self.results = {}


class _Run:
    """One execution of a root's step: the first (primary) or a re-run (`stop_at` set)."""

    def __init__(self, root, stop_at=None, tape_index=None, injections=()):
        self.root = root
        self.stop_at = stop_at
        self.tape_index = tape_index
        self.injections = list(injections)  # (tape index, {id(var): delta}, ids read)
        self.tapes = []
        self.calls = 0

    def tape_recording(self, index):
        return index < len(self.tapes) and self.tapes[index]._recording

    def live(self):
        """Whether a tape being differentiated by this re-run records now."""
        return any(self.tape_recording(index) for index, _, _ in self.injections)


@contextlib.contextmanager
def replay_root(fn, variables, values, model=None):
    """Mark `fn()` (run next, under a scope mapping `variables` to `values`) as re-runnable.

    Used by the trainer around the user's stateful `train_step(data)`.
    """
    st = _state()
    saved = st.run
    st.run = _Run(_Root(fn, variables, values, model))
    try:
        yield
    finally:
        st.run = saved


_GET_VALUE = {}  # "original" / "hooked": Variable.get_value, hooked only during re-runs


def _hooked_get_value():
    if _GET_VALUE:
        return _GET_VALUE["hooked"]
    original = Variable.get_value

    def get_value(self, *args, **kwargs):
        st = getattr(_LOCAL, "state", None)
        run = st.run if st is not None else None
        if run is None or not run.injections:
            return original(self, *args, **kwargs)
        total = None
        for index, deltas, read in run.injections:
            delta = deltas.get(id(self))
            if delta is not None and run.tape_recording(index):
                read.add(id(self))
                total = delta if total is None else total + delta
        if total is None:
            return original(self, *args, **kwargs)
        with scopes.StatelessScope([(self, _raw_current(self) + total)]):
            return original(self, *args, **kwargs)

    _GET_VALUE.update(original=original, hooked=get_value)
    return get_value


def _rerun(parent, stop_at, tape_index, injections):
    """Run the root's step again from its start until gradient call `stop_at`; its target."""
    root = parent.root
    run = _Run(root, stop_at, tape_index, injections)
    st = _state()
    context = _call_context()
    saved_state = (st.tapes, st.depth, st.run)
    saved_stacks = {name: value for name, value in vars(scopes._LOCAL).items()
                    if isinstance(value, list)}
    saved_call_stack = getattr(context, "stack", None)
    layers = root.model._flatten_layers() if root.model is not None else []
    saved_losses = [(layer, layer._losses) for layer in layers]
    hooked = _hooked_get_value()
    saved_get_value = Variable.get_value
    Variable.get_value = hooked
    try:
        for name in saved_stacks:
            setattr(scopes._LOCAL, name, list(root.scope_stacks.get(name, [])))
        context.stack = list(root.call_stack)
        st.tapes, st.depth, st.run = [], 0, run
        _refresh()
        # The re-run's layer calls refill `add_loss` lists: put back what the step had.
        with scopes.StatelessScope(list(zip(root.variables, root.values))), \
                scopes.LayerCallLog() as call_log:
            try:
                root.fn()
            finally:
                call_log.restore()
    except _StopReplay as stop:
        if stop.run is not run:
            raise
        return stop.target
    finally:
        for name, value in saved_stacks.items():
            setattr(scopes._LOCAL, name, value)
        context.stack = saved_call_stack if saved_call_stack is not None else []
        st.tapes, st.depth, st.run = saved_state
        for layer, value in saved_losses:
            layer._losses = value
        Variable.get_value = saved_get_value
        _refresh()
    raise RuntimeError(
        "GradientTape: `train_step` was re-run to compute `tape.gradient` (gradient call "
        f"#{stop_at + 1} of the step) but finished without reaching that call. The step must "
        "make the same tape and gradient calls each time it runs for the same data (no "
        "Python-side state that changes its control flow)."
    )

# ---- the tape ------------------------------------------------------------------------------------------
def _unconnected_mode(value):
    value = getattr(value, "value", value)
    value = str(value).lower()
    if value not in ("none", "zero"):
        raise ValueError(
            "Argument `unconnected_gradients` must be 'none' or 'zero'. "
            f"Received: unconnected_gradients={value!r}"
        )
    return value


def _is_source_leaf(x):
    return isinstance(x, Variable) or _is_array(x) or isinstance(x, (np.ndarray, np.generic))


class GradientTape:
    """Record Keras calls to compute gradients, as `tf.GradientTape` does.

    ```python
    with keras.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = loss_fn(y, y_pred)
    grads = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))
    ```

    Inside a `train_step` run by `fit`, any computation of the target works (`jax.numpy`
    included). In eager code the target must come from recorded calls (Keras layers and
    models, losses, `keras.ops` functions, activations, `model.compiled_loss` /
    `model.compute_loss`) and Python operators or array methods on their results.
    Variables are watched automatically (unless `watch_accessed_variables=False`); arrays
    must be watched with `tape.watch(x)`.

    Args:
        persistent: whether `gradient` may be called more than once.
        watch_accessed_variables: whether variables are watched automatically.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = bool(persistent)
        self._watch_accessed_variables = bool(watch_accessed_variables)
        self._nodes = []
        self._watched = {}
        self._recording = False
        self._depth = 0
        self._entered = False
        self._used = False
        self._known = set()  # ids of the values recorded calls produced (and watched arrays)
        self._run = None  # the trainer step's run this tape was entered in, if any
        self._run_index = None

    # ---- context ---------------------------------------------------------------------------
    def __enter__(self):
        if self._entered:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter "
                             "an already-active tape.")
        _arithmetic_hooks(True)
        st = _state()
        self._depth = st.depth
        self._entered = True
        self._recording = True
        self._run = st.run
        if st.run is not None:
            self._run_index = len(st.run.tapes)
            st.run.tapes.append(self)
        st.tapes.append(self)
        _refresh()
        return self

    def __exit__(self, *exc):
        st = _state()
        if self._entered:
            _arithmetic_hooks(False)
        if self in st.tapes:
            st.tapes.remove(self)
        self._entered = False
        self._recording = False
        _refresh()
        return False

    def stop_recording(self):
        """A context in which the tape does not record."""
        tape = self

        class _Stop:
            def __enter__(self):
                if not tape._recording:
                    raise ValueError("Tape.stop_recording() called on a tape that is not recording.")
                tape._recording = False
                _refresh()
                return self

            def __exit__(self, *exc):
                tape._recording = tape._entered
                _refresh()
                return False

        return _Stop()

    def reset(self):
        """Clear what the tape recorded."""
        self._nodes = []
        self._watched = {}
        self._known = set()

    def watch(self, tensor):
        """Watch an array (or a Variable, or a nested structure of them)."""
        for leaf in jax.tree.leaves(tensor, is_leaf=_is_source_leaf):
            if isinstance(leaf, Variable) or _is_array(leaf):
                self._watched[id(leaf)] = leaf
                self._known.add(id(leaf))
            else:
                raise ValueError(
                    "`GradientTape.watch` expects arrays or Variables; received an object of "
                    f"type {type(leaf).__name__}."
                )

    def watched_variables(self):
        out, seen = [], set()
        for leaf in self._watched.values():
            if isinstance(leaf, Variable) and id(leaf) not in seen:
                seen.add(id(leaf))
                out.append(leaf)
        if self._watch_accessed_variables:
            for node in self._nodes:
                for v, _ in node.snapshot:
                    if v.trainable and id(v) not in seen:
                        seen.add(id(v))
                        out.append(v)
        return out

    # ---- gradients -------------------------------------------------------------------------
    def _check_usable(self):
        if self._used and not self._persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients (or jacobians). Create the tape with `persistent=True` to call "
                "`gradient` more than once."
            )

    def _build(self, target, flat_sources):
        """The pure function of the source values that recomputes `target`."""
        target_leaves = _leaves(target)
        if not target_leaves:
            raise ValueError(
                "`GradientTape.gradient` expects `target` to be an array (or a structure of "
                f"arrays) computed while the tape was recording. Received: {target!r}"
            )
        produced = {}
        for node in self._nodes:
            for leaf in _leaves(node.output) + _leaves(node.extras):
                produced[id(leaf)] = node
        array_source_ids = {id(s) for s in flat_sources if _is_array(s)}
        for leaf in target_leaves:
            if id(leaf) not in produced and id(leaf) not in array_source_ids:
                raise ValueError(
                    "GradientTape could not connect the gradient target to the sources: the "
                    f"target (an array of shape {tuple(leaf.shape)}) was not produced by a call "
                    "the tape records. The tape records calls of Keras layers and models, "
                    "`keras.losses`, `keras.ops` functions, activations and "
                    "`model.compiled_loss` / `model.compute_loss`, and Python operators "
                    "and array methods on their results; outside a `train_step` run by "
                    "`fit`, `jax.numpy` functions called on them (e.g. `jnp.mean(x)`) are "
                    "invisible to it. Use `keras.ops` functions for that arithmetic (e.g. "
                    "`keras.ops.mean(x)`), or write the step in "
                    "the JAX style: `jax.value_and_grad` over a function that calls "
                    "`model.stateless_call(trainable_variables, non_trainable_variables, x)`."
                )
        # The nodes the target depends on (data dependencies, and layer state for calls
        # that take a layer, such as `layer.losses` or `model.compute_loss`).
        needed_ids = {id(x) for x in target_leaves}
        needed_layers = set()
        needed = []
        from keras_on_jax.layers.layer import Layer

        for node in reversed(self._nodes):
            out_ids = {id(x) for x in _leaves(node.output) + _leaves(node.extras)}
            take = bool(out_ids & needed_ids) or (
                node.layer is not None and id(node.layer) in needed_layers
            )
            if not take:
                continue
            needed.append(node)
            needed_ids.update(id(x) for x in _leaves((node.args, node.kwargs)))
            for layer in _objects((node.args, node.kwargs), Layer):
                for sub in layer._flatten_layers():
                    needed_layers.add(id(sub))
        needed.reverse()

        def fn(source_values, seed=None):
            env = {}
            mapping = []
            source_var_ids = set()
            for src, val in zip(flat_sources, source_values):
                if isinstance(src, Variable):
                    mapping.append((src, val))
                    source_var_ids.add(id(src))
                else:
                    env[id(src)] = val
            protected = set(env)
            for key, value in (seed or {}).items():
                env.setdefault(key, value)
            # Replayed inside an outer tape's replay (a gradient of a gradient): the outer
            # sources keep the outer's values instead of this tape's recorded snapshots.
            outer_ids = _outer_source_ids()
            touched_layers = {}
            for node in needed:
                if node.layer is not None:
                    for layer in node.layer._flatten_layers():
                        touched_layers.setdefault(id(layer), (layer, list(layer._losses)))
            try:
                with _Deeper(), scopes.StatelessScope(mapping) as scope:
                    scope._tape_source_ids = source_var_ids | outer_ids
                    for node in needed:
                        args = _substitute(node.args, env)
                        kwargs = _substitute(node.kwargs, env)
                        snap = [(v, seed.get(id(val), val) if seed else val)
                                for v, val in node.snapshot
                                if id(v) not in source_var_ids and id(v) not in outer_ids]
                        if node.layer is not None:
                            with scopes.StatelessScope(snap):
                                out = node.fn(*args, **kwargs)
                            extras = [loss for layer in node.layer._flatten_layers()
                                      for loss in layer._losses]
                            _bind(node.extras, extras, env, protected)
                        else:
                            out = node.fn(*args, **kwargs)
                        _bind(node.output, out, env, protected)
                    return _substitute(target, env)
            finally:
                for layer, saved in touched_layers.values():
                    layer._losses = saved

        fn.needed = needed
        return fn

    def _flat_sources(self, sources):
        flat, treedef = jax.tree.flatten(sources, is_leaf=_is_source_leaf)
        for s in flat:
            if not (isinstance(s, Variable) or _is_array(s)):
                raise ValueError(
                    "`GradientTape.gradient` expects `sources` to be Variables or arrays (or a "
                    f"structure of them). Received an element of type {type(s).__name__}: {s!r}"
                )
        return flat, treedef

    def _initial_values(self, flat_sources):
        first_snapshot = {}
        for node in self._nodes:
            for v, val in node.snapshot:
                first_snapshot.setdefault(id(v), val)
        values = []
        for s in flat_sources:
            if isinstance(s, Variable):
                val = first_snapshot.get(id(s))
                values.append(_raw_current(s) if val is None else val)
            else:
                values.append(s)
        return values

    def _differentiable(self, flat_sources, values):
        out = []
        for s, val in zip(flat_sources, values):
            ok = jnp.issubdtype(jnp.result_type(val), jnp.inexact)
            if ok and not self._watch_accessed_variables and id(s) not in self._watched:
                ok = False
            out.append(ok)
        return out

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients="none"):
        """Gradients of `target` (summed over its elements) with respect to `sources`.

        Returns the gradients in the structure of `sources`; an unconnected source gives
        `None` (`unconnected_gradients="none"`) or zeros (`"zero"`).
        """
        return self._compute("gradient", target, sources, output_gradients,
                             unconnected_gradients)

    def _compute(self, kind, target, sources, output_gradients, unconnected_gradients):
        self._check_usable()
        mode = _unconnected_mode(unconnected_gradients)
        flat, treedef = self._flat_sources(sources)
        self._used = True
        st = _state()
        run = self._run if self._run is not None and self._run is st.run else None
        if run is None:
            return self._by_nodes(kind, target, flat, treedef, output_gradients, mode)
        call = run.calls
        run.calls += 1
        if run.stop_at is not None:  # a re-run of the step
            if call == run.stop_at:
                if self._run_index != run.tape_index:
                    raise RuntimeError(
                        "GradientTape: when `train_step` was re-run to compute a gradient, "
                        f"gradient call #{call + 1} came from a different tape (tape "
                        f"#{self._run_index + 1} instead of #{run.tape_index + 1}). The step "
                        "must make the same tape and gradient calls each time it runs."
                    )
                raise _StopReplay(run, target)
            if not run.live() and call in run.root.results:
                if not self._persistent:
                    self._nodes = []
                return run.root.results[call]
        if all(isinstance(s, Variable) for s in flat) and st.depth == self._depth:
            result = self._by_rerun(kind, run, call, target, flat, treedef, output_gradients,
                                    mode)
        else:
            result = self._by_nodes(kind, target, flat, treedef, output_gradients, mode)
        if run.stop_at is None:
            run.root.results[call] = result
        return result

    def _by_rerun(self, kind, run, call, target, flat, treedef, output_gradients, mode):
        """Differentiate a re-run of the trainer's step (see `replay_root`)."""
        unique, position = [], {}
        for s in flat:
            if id(s) not in position:
                position[id(s)] = len(unique)
                unique.append(s)
        values = [_raw_current(v) for v in unique]
        diff = [jnp.issubdtype(jnp.result_type(val), jnp.inexact) and (
                    self._watch_accessed_variables or id(v) in self._watched)
                for v, val in zip(unique, values)]
        idx = [i for i, d in enumerate(diff) if d]
        diff_vars = [unique[i] for i in idx]
        read = set()
        tape_index = self._run_index

        def rerun(deltas):
            read.clear()
            injection = (tape_index, {id(v): d for v, d in zip(diff_vars, deltas)}, read)
            out = _rerun(run, call, tape_index, [*run.injections, injection])
            if not _leaves(out):
                raise ValueError(
                    "`GradientTape.gradient` expects `target` to be an array (or a structure "
                    f"of arrays). Received: {out!r}"
                )
            return jax.tree.map(jnp.asarray, out)

        zeros = [jnp.zeros(jnp.shape(values[i]), jnp.result_type(values[i])) for i in idx]
        if kind == "jacobian":
            derivs = jax.jacrev(rerun)(zeros)
            tshape = tuple(jnp.shape(target))
        else:
            primal, vjp = jax.vjp(rerun, zeros)
            if output_gradients is None:
                cotangent = jax.tree.map(jnp.ones_like, primal)
            else:
                cotangent = jax.tree.map(
                    lambda p, g: jnp.asarray(g, dtype=p.dtype) * jnp.ones_like(p),
                    primal, _substitute_like(primal, output_gradients),
                )
            (derivs,) = vjp(cotangent)
            tshape = ()
        per_unique = [None] * len(unique)
        for i, d in zip(idx, derivs):
            if id(unique[i]) in read:
                per_unique[i] = d
        result = []
        for s in flat:
            i = position[id(s)]
            g = per_unique[i]
            if g is None and mode == "zero":
                g = jnp.zeros(tshape + tuple(jnp.shape(values[i])),
                              dtype=jnp.result_type(values[i]))
            result.append(g)
        if not self._persistent:
            self._nodes = []
        return jax.tree.unflatten(treedef, result)

    def _by_nodes(self, kind, target, flat, treedef, output_gradients, mode):
        if kind == "jacobian":
            return self._jacobian_by_nodes(target, flat, treedef, mode)
        values = self._initial_values(flat)
        diff = self._differentiable(flat, values)
        fn = self._build(target, flat)
        idx = [i for i, d in enumerate(diff) if d]
        connected = self._connected(target, flat)

        def compute(full, seed=None, output_gradients=output_gradients):
            def partial(sub_values):
                current = list(full)
                for i, v in zip(idx, sub_values):
                    current[i] = v
                return fn(current, seed)

            primal, vjp = jax.vjp(partial, [full[i] for i in idx])
            if output_gradients is None:
                cotangent = jax.tree.map(jnp.ones_like, primal)
            else:
                cotangent = jax.tree.map(
                    lambda p, g: jnp.asarray(g, dtype=p.dtype) * jnp.ones_like(p),
                    primal, _substitute_like(primal, output_gradients),
                )
            (grads,) = vjp(cotangent)
            result = [None] * len(flat)
            for i, g in zip(idx, grads):
                result[i] = g if connected[i] else None
            for i in range(len(flat)):
                if result[i] is None and mode == "zero":
                    result[i] = jnp.zeros(jnp.shape(full[i]), dtype=jnp.result_type(full[i]))
            return result

        st = _state()
        outer = [t for t in st.tapes
                 if t is not self and t._recording and t._depth == st.depth]
        result = None
        if not outer:  # eagerly, the same replay as one compiled program
            from keras_on_jax.training import compiled_tape

            result = compiled_tape.gradient(fn, target, flat, values, output_gradients,
                                            (tuple(idx), tuple(connected), mode), compute)
        if result is None:
            result = compute(values)
        if outer:  # a gradient taken while other tapes record: recorded, for second order
            self._record_gradient_node(outer, fn, flat, values, compute, result)
        if not self._persistent:
            self._nodes = []
        return jax.tree.unflatten(treedef, result)

    def _record_gradient_node(self, tapes, fn, flat, values, compute, result):
        """Record this gradient computation as a node on the other recording tapes."""
        produced = {id(x) for node in fn.needed
                    for x in _leaves(node.output) + _leaves(node.extras)}
        array_pos = [i for i, s in enumerate(flat) if not isinstance(s, Variable)]
        skip = produced | {id(flat[i]) for i in array_pos}
        external, seen = [], set()
        for node in fn.needed:
            for leaf in _leaves((node.args, node.kwargs)):
                if id(leaf) not in skip and id(leaf) not in seen:
                    seen.add(id(leaf))
                    external.append(leaf)
        variable_pos = [i for i, s in enumerate(flat) if isinstance(s, Variable)]

        def replay(external_values, source_arrays):
            seed = {id(o): v for o, v in zip(external, external_values)}
            outer_ids = _outer_source_ids()
            full = list(values)
            for i, v in zip(array_pos, source_arrays):
                full[i] = v
            for i in variable_pos:
                if id(flat[i]) in outer_ids:
                    full[i] = _raw_current(flat[i])
            return compute(full, seed)

        replay._tape_fresh = True  # a new closure each step: see compiled_tape
        snapshot = [pair for node in fn.needed for pair in node.snapshot]
        snapshot += [(flat[i], values[i]) for i in variable_pos]
        node = _Node(replay, (list(external), [flat[i] for i in array_pos]), {}, list(result),
                     snapshot=snapshot)
        known = [id(x) for x in _leaves(node.output)]
        for tape in tapes:
            tape._nodes.append(node)
            tape._known.update(known)

    def _connected(self, target, flat_sources):
        """Whether each source reaches the target through the recorded calls."""
        from keras_on_jax.layers.layer import Layer

        reached_ids = {id(x) for x in _leaves(target)}
        reached_vars = set()
        reached_layers = set()
        for node in reversed(self._nodes):
            out_ids = {id(x) for x in _leaves(node.output) + _leaves(node.extras)}
            if not (out_ids & reached_ids or (node.layer is not None and id(node.layer) in reached_layers)):
                continue
            reached_ids.update(id(x) for x in _leaves((node.args, node.kwargs)))
            for v in _objects((node.args, node.kwargs), Variable):
                reached_vars.add(id(v))
            for v, _ in node.snapshot:
                reached_vars.add(id(v))
            for layer in _objects((node.args, node.kwargs), Layer):
                for sub in layer._flatten_layers():
                    reached_layers.add(id(sub))
                for v in layer.variables:
                    reached_vars.add(id(v))
            if node.layer is not None:
                for v in node.layer.variables:
                    reached_vars.add(id(v))
            # Functions (ops, losses) may read Variables passed inside containers or bound
            # through closures: be conservative for Variables found in their arguments.
        out = []
        for s in flat_sources:
            if isinstance(s, Variable):
                # A variable read by a function node's code (not a layer) is only visible
                # through its arguments; anything else counts as not connected.
                out.append(id(s) in reached_vars)
            else:
                out.append(id(s) in reached_ids)
        return out

    def jacobian(self, target, sources, unconnected_gradients="none", parallel_iterations=None,
                 experimental_use_pfor=True):
        """The Jacobian of `target` with respect to each source (shape target + source)."""
        return self._compute("jacobian", target, sources, None, unconnected_gradients)

    def _jacobian_by_nodes(self, target, flat, treedef, mode):
        values = self._initial_values(flat)
        diff = self._differentiable(flat, values)
        fn = self._build(target, flat)
        idx = [i for i, d in enumerate(diff) if d]

        def partial(sub_values):
            full = list(values)
            for i, v in zip(idx, sub_values):
                full[i] = v
            return fn(full)

        jac = jax.jacrev(partial)([values[i] for i in idx])
        connected = self._connected(target, flat)
        tshape = tuple(jnp.shape(target))
        result = [None] * len(flat)
        for i, j in zip(idx, jac):
            result[i] = j if connected[i] else None
        for i in range(len(flat)):
            if result[i] is None and mode == "zero":
                result[i] = jnp.zeros(tshape + tuple(jnp.shape(values[i])),
                                      dtype=jnp.result_type(values[i]))
        if not self._persistent:
            self._nodes = []
        return jax.tree.unflatten(treedef, result)


def _substitute_like(primal, output_gradients):
    if isinstance(primal, (list, tuple)) and isinstance(output_gradients, (list, tuple)):
        return type(primal)(output_gradients)
    return output_gradients
