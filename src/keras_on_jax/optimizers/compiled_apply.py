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

from keras_on_jax.backend import scopes, stateful_jit


def _eligible(optimizer, grads):
    from keras_on_jax.backend.variables import Variable
    from keras_on_jax.optimizers.schedules import learning_rate_schedule

    if not scopes.is_plain() or not stateful_jit.is_builtin(optimizer):
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
    key = (tuple(stateful_jit.Ident(v) for v in variables),
           tuple(None if g is None else (g.shape, g.dtype, g.weak_type) for g in grads),
           stateful_jit.scalar_attributes(optimizer))
    cache = stateful_jit.program_cache(optimizer, size=16)

    def make_program():
        present = [g is not None for g in grads]
        trainable = list(variables)

        def update(arrays):
            it = iter(arrays)
            optimizer._apply_filtered([next(it) if p else None for p in present], trainable)

        return stateful_jit.StatefulJit(update, read=optimizer.variables, written=trainable)

    out = cache.run(key, make_program, [g for g in grads if g is not None])
    return out is not stateful_jit.NOT_COMPILED
