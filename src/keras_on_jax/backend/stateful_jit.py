"""One `jax.jit` program for Python code that reads and writes Keras Variables.

`StatefulJit(fn)` compiles `fn(dynamic)` (`dynamic`: a pytree of arrays) into a jitted
function of `dynamic` and of the values of every Variable `fn` touches, and on each call
writes the new values back into those Variables. Which Variables those are is found by
tracing: the trace runs under a `StatelessScope` that maps the Variables known so far to
the program's inputs and notes any other Variable read or assigned; when it finds new
ones, the trace is dropped and `fn` is traced again with them as inputs (at most a few
times: the set only grows). Variables only read are plain inputs; Variables assigned are
inputs and outputs, donated when `donate=True` (unless something else holds their
buffer, see `_donatable`).

Used by `keras_on_jax.function` (`tf.function`), by eager calls of built-in layers and
models, by an optimizer's eager `apply`, and by eager `GradientTape.gradient`: the same
ordinary Keras code that runs eagerly runs here, traced once per signature.

Layer calls in the trace fill the layers' `add_loss` lists with tracers; the program
returns those losses and puts them back into the lists as arrays after each call.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Iterable

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import scopes
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.backend.variables import Variable, set_raw_values

_MAX_DISCOVERY_TRACES = 8
_CONTAINERS = (list, tuple, dict, str, bytes, jax.Array, np.ndarray)
_PLAIN_TYPES = {list, tuple, dict, str, bytes, int, float, bool, type(None), np.ndarray}


class _Rediscover(Exception):
    """Raised at the end of a trace that touched Variables the program did not know."""


class _DiscoveryScope(scopes.StatelessScope):
    """The outermost scope of a trace: notes reads of Variables it does not map."""

    def __init__(self, mapping):
        super().__init__(mapping)
        self.unknown = {}

    def get_current_value(self, variable):
        value = self._values.get(id(variable))
        if value is None:
            self.unknown.setdefault(id(variable), variable)
            return variable.get_raw_value()
        return value


def is_static_leaf(x):
    """Leaves of a call's structure that are not arrays to trace: Variables (an NNX
    pytree, but passed and returned as themselves) and iterables that are not containers
    (iterators, generators, `range`), which JAX would otherwise warn about."""
    if type(x) in _PLAIN_TYPES:  # the common case, without the slower ABC checks
        return False
    if isinstance(x, jax.Array):
        if not isinstance(x, jax.core.Tracer):
            _PLAIN_TYPES.add(type(x))  # the concrete array class (no array made at import:
        return False  # that would start the XLA backend before `jax.distributed`)
    return isinstance(x, Variable) or (
        isinstance(x, Iterable) and not isinstance(x, _CONTAINERS))


def _refcounts(values):
    # References to each buffer: its Variable, the list, the call's argument; anything
    # above what a fresh Variable's buffer shows is someone else's.
    return list(map(sys.getrefcount, values))


def _refcount_baseline():
    probe = Variable(jnp.zeros(()), name="probe")
    return _refcounts([probe.get_raw_value()])[0]


_BASELINE = []  # the references a buffer held by its Variable only shows (`_refcounts`)
_raw_value = Variable.get_raw_value  # (mapped over the Variables on every call)


def _donatable(values):
    """Copy values that must not be donated: a buffer referenced from anywhere but its
    Variable and the list of values. That covers a buffer the user holds (an array read
    with `variable.value` stays valid, as a tensor read from a TensorFlow variable
    does), a buffer also passed elsewhere in the call (an argument that is a Variable's
    array, a read-only Variable sharing it) and two Variables sharing one buffer: each
    holder adds a reference. Runs on every call, so the common case is one C-level pass."""
    if not _BASELINE:
        _BASELINE.append(_refcount_baseline())
    limit = _BASELINE[0]
    counts = _refcounts(values)
    if max(counts) > limit:
        for i, count in enumerate(counts):
            if count > limit:
                values[i] = jnp.copy(values[i])
    return values


class StatefulJit:
    """A jitted program of `fn(dynamic)` threading the Variables it touches.

    Args:
        fn: `fn(dynamic)`, or `fn(dynamic, mapping)` with `pass_state=True` (`mapping`:
            the `(variable, traced_value)` pairs the trace starts from).
        donate: donate the buffers of the Variables the program assigns.
        read / written: Variables expected to be read / assigned (a first guess; a trace
            that touches others is redone).
    """

    def __init__(self, fn, *, donate=False, read=(), written=(), pass_state=False):
        self._fn = fn
        self._donate = donate
        self._pass_state = pass_state
        self.written = _unique(written)
        written_ids = {id(v) for v in self.written}
        self.read = [v for v in _unique(read) if id(v) not in written_ids]
        self._jitted = None
        self._out = None  # (treedef, leaves with None where an array goes)
        self._loss_layers = []  # (layer, number of losses) filled by the last trace
        self.traces = 0  # completed traces

    def __call__(self, dynamic):
        """Run the program on `dynamic` (a list of arrays), writing the Variables back."""
        for _ in range(_MAX_DISCOVERY_TRACES):
            jitted = self._jitted
            if jitted is None:
                jitted = self._jitted = jax.jit(
                    self._body, donate_argnums=(1,) if self._donate else ())
            ro = list(map(_raw_value, self.read))
            rw = list(map(_raw_value, self.written))
            if self._donate and rw:
                rw = _donatable(rw)
            try:
                arrays, new_rw, losses = jitted(ro, rw, dynamic)
            except _Rediscover:
                self._jitted = None
                continue
            set_raw_values(self.written, new_rw)
            if self._loss_layers:
                self._set_losses(losses)
            treedef, leaves = self._out
            if leaves is None:  # only arrays returned (see `_body`)
                return treedef.unflatten(arrays)
            it = iter(arrays)
            return treedef.unflatten([next(it) if x is None else x for x in leaves])
        raise RuntimeError(
            "keras_on_jax: a compiled function kept touching new Variables on each trace "
            f"({_MAX_DISCOVERY_TRACES} traces); it must read and write the same Variables "
            "each time it is traced."
        )

    def _set_losses(self, losses):
        start = 0
        for layer, n in self._loss_layers:
            if n or layer._losses:  # (an empty list stays as it is)
                layer._losses = list(losses[start:start + n])
            start += n

    def _body(self, ro, rw, dynamic):
        mapping = list(zip(self.read, ro)) + list(zip(self.written, rw))
        log = scopes.LayerCallLog()
        try:
            with _DiscoveryScope(mapping) as scope, scopes.CompiledTraceScope(), log:
                out = self._fn(dynamic, mapping) if self._pass_state else self._fn(dynamic)
        except BaseException:
            log.restore()
            raise
        known = {id(v) for v in self.written}
        new_written = [v for v in scope.updated_variables() if id(v) not in known]
        known.update(id(v) for v in self.read)
        new_read = [v for k, v in scope.unknown.items() if k not in known]
        if new_written or new_read:
            log.restore()
            written_ids = {id(v) for v in new_written}
            self.read = [v for v in self.read if id(v) not in written_ids]
            self.read += [v for v in new_read if id(v) not in written_ids]
            self.written += new_written
            raise _Rediscover()
        new_rw = [scope.get_current_value(v) for v in self.written]
        leaves, treedef = jax.tree.flatten(out, is_leaf=is_static_leaf)
        arrays = [x for x in leaves if isinstance(x, jax.Array)]
        statics = [None if isinstance(x, jax.Array) else x for x in leaves]
        self._out = (treedef, None if len(arrays) == len(leaves) else statics)
        losses, loss_layers = [], []
        for layer in log.called_layers():
            # Every called layer's list is set after each call (emptied by the call, or
            # holding what the call added), as an eager call leaves it.
            values = [jnp.asarray(loss) for loss in layer._losses]
            loss_layers.append((layer, len(values)))
            losses.extend(values)
        self._loss_layers = loss_layers
        self.traces += 1
        return arrays, new_rw, losses


def _unique(variables):
    out, seen = [], set()
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


# ---- signatures and per-signature program caches -------------------------------------------
_SCALARS = (bool, int, float, complex, str, bytes, type(None))


class Ident:
    """An object compared by identity inside a key (and kept alive by it)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self):
        return id(self.obj)

    def __eq__(self, other):
        return isinstance(other, Ident) and other.obj is self.obj


def signature(args, kwargs, objects=False):
    """`(key, dynamic, template)` of a call, or None when it cannot be compiled.

    Concrete arrays (JAX or numeric NumPy) are the program's inputs, keyed by shape and
    dtype; Python scalars are constants keyed by value; other objects (Variables,
    layers, ...) are keyed by identity when `objects=True`, else the call is not
    compiled. A tracer or a KerasTensor is never compiled, nor (without `objects`) an
    array carrying a Keras mask or a non-numeric NumPy array.
    """
    leaves, treedef = jax.tree.flatten((args, kwargs), is_leaf=is_static_leaf)
    key = [treedef]
    dynamic = []
    for x in leaves:
        if isinstance(x, jax.Array):
            if isinstance(x, jax.core.Tracer) or (
                    not objects and getattr(x, "_keras_mask", None) is not None):
                return None
            key.append((x.shape, x.dtype, x.weak_type))
            dynamic.append(x)
        elif isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
            key.append((x.shape, x.dtype))
            dynamic.append(x)
        elif isinstance(x, _SCALARS):
            key.append((type(x), x))
        elif objects and not isinstance(x, KerasTensor):
            key.append(Ident(x))
        else:
            return None
    return tuple(key), dynamic, (treedef, leaves)


def rebuild(template, dynamic):
    """`(args, kwargs)` of a signature's template with `dynamic` in the array places."""
    treedef, leaves = template
    it = iter(dynamic)
    filled = [next(it) if _is_dynamic(x) else x for x in leaves]
    return jax.tree.unflatten(treedef, filled)


def _is_dynamic(x):
    return isinstance(x, jax.Array) or (isinstance(x, np.ndarray) and x.dtype.kind in "biuf")


def scalar_attributes(obj):
    """The Python-number (and string) attributes of `obj`: constants of a program traced
    from its methods, so part of that program's key."""
    return tuple((k, v) for k, v in vars(obj).items() if isinstance(v, _SCALARS))


def is_builtin(obj):
    """Whether `obj`'s class, and every function it holds, comes from keras_on_jax (no
    user Python code to run, so nothing a compiled call could skip)."""
    if not type(obj).__module__.startswith("keras_on_jax."):
        return False
    for value in vars(obj).values():
        if callable(value) and hasattr(value, "__code__") and not (
            getattr(value, "__module__", None) or ""
        ).startswith("keras_on_jax."):
            return False
    return True


NOT_COMPILED = object()
_FAILED = object()


# Eager calls of one signature before it is compiled: a compilation costs as much as
# tens of eager calls, so code that calls something a few times only (a test, a script
# that predicts once) never pays for one; a loop does from its fourth step on.
EAGER_CALLS_BEFORE_COMPILING = 3


class ProgramCache:
    """Compiled programs by signature key.

    The first `EAGER_CALLS_BEFORE_COMPILING` calls of a key run eagerly (`NOT_COMPILED`),
    the next ones run its program. A program whose trace fails marks its key eager for
    good (the eager call then shows the real error, if it is one).
    """

    def __init__(self, size=None):
        self._programs = {}  # key -> eager calls so far (int) | program | _FAILED
        self._size = size

    def run(self, key, make_program, dynamic):
        try:
            program = self._programs.get(key, 0)
        except TypeError:  # an unhashable constant in the key
            return NOT_COMPILED
        if program is _FAILED:
            return NOT_COMPILED
        if isinstance(program, int):
            if program < EAGER_CALLS_BEFORE_COMPILING:
                self._remember(key, program + 1)
                return NOT_COMPILED
            program = make_program()
            self._remember(key, program)
        try:
            return program(dynamic)
        except Exception:
            self._programs[key] = _FAILED
            return NOT_COMPILED

    def _remember(self, key, value):
        if key not in self._programs:
            self._programs[key] = value
            self._evict()
        self._programs[key] = value

    def _evict(self):
        if self._size is not None:
            while len(self._programs) > self._size:
                del self._programs[next(iter(self._programs))]


# Per-object caches live outside the objects (a copied or pickled object carries none).
_OBJECT_CACHES = weakref.WeakKeyDictionary()


def program_cache(obj, size=None):
    """The `ProgramCache` of `obj` (made on first use)."""
    cache = _OBJECT_CACHES.get(obj)
    if cache is None:
        cache = _OBJECT_CACHES[obj] = ProgramCache(size=size)
    return cache


def call_method(obj, method, *args, **kwargs):
    """`method(obj, *args, **kwargs)` through `obj`'s compiled programs, or `NOT_COMPILED`
    (the caller then calls it eagerly).

    For built-in objects with no user code (see `is_builtin`), called eagerly on concrete
    arrays: a loss's `__call__`, for instance. Keyed on the method, the call signature and
    the object's scalar attributes (its constants).
    """
    if not scopes.is_plain() or not is_builtin(obj):
        return NOT_COMPILED
    sig = signature(args, kwargs)
    if sig is None:
        return NOT_COMPILED
    key, dynamic, template = sig
    cache = program_cache(obj, size=32)

    def make_program():
        def run(values):
            a, k = rebuild(template, values)
            return method(obj, *a, **k)

        return StatefulJit(run, read=getattr(obj, "variables", ()))

    return cache.run((method.__name__, scalar_attributes(obj), key), make_program, dynamic)
