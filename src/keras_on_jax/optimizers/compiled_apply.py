"""An eager `optimizer.apply(grads, variables)` as one compiled update over all variables.

Eagerly, the update runs a few array operations per variable and per slot, each its own
dispatch. When a built-in optimizer is applied again to the same variables with gradients
of the same shapes, the update runs instead as one `backend.stateful_jit` program traced
from the same Python code (`Optimizer._apply_filtered`): the variables, slots, iteration
counter and learning rate are threaded through it and written back.

Hyperparameters held as Python numbers (`beta_1`, `clipnorm`, ...) are constants of the
program: it is keyed on their values, so changing one compiles a new program. A learning
rate given as a plain callable (read on every step) keeps the eager path, as do
optimizers defined outside keras_on_jax (their Python code may have side effects) and
calls inside a trace or a stateless scope (the enclosing program threads the state).
"""

from __future__ import annotations

import jax

from keras_on_jax.backend import scopes
from keras_on_jax.backend.stateful_jit import StatefulJit

_SCALARS = (bool, int, float, str, type(None))
_FAILED = object()


def _hyperparameters(optimizer):
    return tuple((k, v) for k, v in vars(optimizer).items() if isinstance(v, _SCALARS))


def _eligible(optimizer, grads):
    from keras_on_jax.backend.variables import Variable
    from keras_on_jax.optimizers.schedules import learning_rate_schedule

    if not type(optimizer).__module__.startswith("keras_on_jax.") or not scopes.is_plain():
        return False
    lr = getattr(optimizer, "_learning_rate", None)
    if callable(lr) and not isinstance(lr, (Variable, learning_rate_schedule.LearningRateSchedule)):
        return False
    return all(g is None or (isinstance(g, jax.Array) and not isinstance(g, jax.core.Tracer))
               for g in grads)


def run(optimizer, grads, variables):
    """Apply through the compiled program; False when the caller must apply eagerly."""
    if not _eligible(optimizer, grads):
        return False
    key = (tuple(id(v) for v in variables),
           tuple(None if g is None else (g.shape, g.dtype, g.weak_type) for g in grads),
           _hyperparameters(optimizer))
    cache = optimizer.__dict__.setdefault("_compiled_applies", {})
    program = cache.get(key, ())
    if program == ():
        cache[key] = None  # the first apply of a signature runs eagerly
        return False
    if program is _FAILED:
        return False
    if program is None:
        variables = list(variables)
        present = [g is not None for g in grads]

        def update(arrays):
            it = iter(arrays)
            optimizer._apply_filtered([next(it) if p else None for p in present], variables)

        program = StatefulJit(update, read=optimizer.variables, written=variables)
        cache[key] = program
    try:
        program([g for g in grads if g is not None])
    except Exception:
        cache[key] = _FAILED
        return False
    return True
