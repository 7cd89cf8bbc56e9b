"""`GradientTape`: TensorFlow's tape API on JAX, by recording Keras calls and replaying them.

JAX has no global tape: gradients come from transforming a pure function. While a tape is
active, every *outermost* call of a Keras `Layer`, a `Loss` object or loss function, a
`keras.ops` function, an activation, `model.compiled_loss(...)`, `model.compute_loss(...)`
and `layer.losses` is recorded as a node: the callable, its arguments, its output and,
for a layer, the values of its variables just before it ran (seed generator states,
BatchNorm statistics, weights).

`tape.gradient(target, sources)` builds a pure function of the source values that
re-executes the nodes the target depends on, in order, under a `StatelessScope` (sources
mapped to the given values, every other variable of a layer node to its recorded value, so
a replayed `Dropout` draws the same mask), feeding each node the recomputed outputs of
earlier nodes (matched by identity of the recorded output arrays), and returns the
recomputed target. `jax.vjp` of that function at the recorded source values gives the
gradients. This works eagerly (custom loops) and inside the trainer's jitted step, where
the recorded values are tracers.

A target computed by plain Python / `jax.numpy` arithmetic on recorded outputs cannot be
connected (the tape only sees Keras calls): `gradient` then raises a `ValueError` that says
so and points to `keras.ops` functions or the JAX style (`jax.value_and_grad` over
`model.stateless_call`).
"""

from __future__ import annotations

import functools
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
        st = _LOCAL.state = types.SimpleNamespace(tapes=[], depth=0)
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
    if _is_array(structure):
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
    for tape in tapes:
        tape._nodes.append(node)
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
    for package in (losses, activations):
        wrapped = _wrap_module_functions(package, getattr(package, "__all__", None))
        by_original = {id(fn._tape_original): fn for fn in wrapped.values()}
        for module in {package, *(importlib.import_module(fn._tape_original.__module__)
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

    The tape records calls of Keras layers and models, losses, `keras.ops` functions,
    activations and `model.compiled_loss` / `model.compute_loss`; the target must be the
    result of such a call. Variables are watched automatically (unless
    `watch_accessed_variables=False`); arrays must be watched with `tape.watch(x)`.

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

    # ---- context ---------------------------------------------------------------------------
    def __enter__(self):
        if self._entered:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter "
                             "an already-active tape.")
        st = _state()
        self._depth = st.depth
        self._entered = True
        self._recording = True
        st.tapes.append(self)
        _refresh()
        return self

    def __exit__(self, *exc):
        st = _state()
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

    def watch(self, tensor):
        """Watch an array (or a Variable, or a nested structure of them)."""
        for leaf in jax.tree.leaves(tensor, is_leaf=_is_source_leaf):
            if isinstance(leaf, Variable) or _is_array(leaf):
                self._watched[id(leaf)] = leaf
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
                    "`model.compiled_loss` / `model.compute_loss`; plain Python or "
                    "`jax.numpy` arithmetic on their results (e.g. `loss_a + loss_b`, "
                    "`jnp.mean(x)`) is invisible to it. Use `keras.ops` functions for that "
                    "arithmetic (e.g. `keras.ops.add(loss_a, loss_b)`), or write the step in "
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

        def fn(source_values):
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
            touched_layers = {}
            for node in needed:
                if node.layer is not None:
                    for layer in node.layer._flatten_layers():
                        touched_layers.setdefault(id(layer), (layer, list(layer._losses)))
            try:
                with _Deeper(), scopes.StatelessScope(mapping):
                    for node in needed:
                        args = _substitute(node.args, env)
                        kwargs = _substitute(node.kwargs, env)
                        snap = [(v, val) for v, val in node.snapshot if id(v) not in source_var_ids]
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
        self._check_usable()
        mode = _unconnected_mode(unconnected_gradients)
        flat, treedef = self._flat_sources(sources)
        self._used = True
        values = self._initial_values(flat)
        diff = self._differentiable(flat, values)
        fn = self._build(target, flat)
        idx = [i for i, d in enumerate(diff) if d]

        def partial(sub_values):
            full = list(values)
            for i, v in zip(idx, sub_values):
                full[i] = v
            return fn(full)

        primal, vjp = jax.vjp(partial, [values[i] for i in idx])
        if output_gradients is None:
            cotangent = jax.tree.map(jnp.ones_like, primal)
        else:
            cotangent = jax.tree.map(
                lambda p, g: jnp.asarray(g, dtype=p.dtype) * jnp.ones_like(p),
                primal, _substitute_like(primal, output_gradients),
            )
        (grads,) = vjp(cotangent)
        connected = self._connected(target, flat)
        result = [None] * len(flat)
        for i, g in zip(idx, grads):
            result[i] = g if connected[i] else None
        for i, s in enumerate(flat):
            if result[i] is None and mode == "zero":
                result[i] = jnp.zeros(jnp.shape(values[i]), dtype=jnp.result_type(values[i]))
        if not self._persistent:
            self._nodes = []
        return jax.tree.unflatten(treedef, result)

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
        self._check_usable()
        mode = _unconnected_mode(unconnected_gradients)
        flat, treedef = self._flat_sources(sources)
        self._used = True
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
