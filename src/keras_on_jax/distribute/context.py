"""The active distribution: set by a strategy's `scope()` or `keras.distribution`.

The trainer asks `current()` before each compiled call and, when one is active, lets it
place the state (`distribute_state`) and the batch (`distribute_batch`) on its devices.
New variables reach it through the backend's variable placer, installed below: the
backend itself knows no distribution.
"""

from __future__ import annotations

import contextlib
import threading

import jax
import jax.numpy as jnp

from keras_on_jax.backend import variables as _variables

_STATE = threading.local()
_GLOBAL = [None]


def current():
    stack = getattr(_STATE, "stack", None)
    if stack:
        return stack[-1]
    return _GLOBAL[0]


def set_global(distribution):
    _GLOBAL[0] = distribution


def push(distribution):
    stack = getattr(_STATE, "stack", None)
    if stack is None:
        stack = []
        _STATE.stack = stack
    stack.append(distribution)


def pop():
    _STATE.stack.pop()


def get_global():
    """The distribution set with `set_global` (ignoring scopes), or None."""
    return _GLOBAL[0]


def _place_new_variable(value, path):
    """A new variable's initial value laid out by the active distribution, if it has one."""
    dist = current()
    if dist is not None and hasattr(dist, "distribute_variable"):
        return dist.distribute_variable(value, path)
    return value


_variables.set_variable_placer(_place_new_variable)


# ---- padded batches (TPUStrategy): the rows of a step that are real --------------------------
class PaddedBatch(tuple):
    """`(x, y, sample_weight)` of a batch padded to a fixed size, plus which rows are real.

    It unpacks like the plain tuple. `sample_weight` is scaled (`size / real` on the real
    rows, 0 on the padding) so that a mean over the padded batch equals the mean over the
    real rows; `valid` is 1.0 for a real row, 0.0 for a padding row; `raw_sample_weight` is
    the user's sample weight (or `valid` when there is none) times `valid`, unscaled.
    The compiled step unwraps it with `step_data`, which makes the padding visible to
    `padding()` (losses, metrics, BatchNormalization) while the step is traced.
    """

    def __new__(cls, data, valid, raw_sample_weight):
        self = super().__new__(cls, data)
        self.valid = valid
        self.raw_sample_weight = raw_sample_weight
        return self


def _flatten_padded(batch):
    return (*tuple(batch), batch.valid, batch.raw_sample_weight), None


def _unflatten_padded(_, children):
    children = tuple(children)
    return PaddedBatch(children[:3], children[3], children[4])


jax.tree_util.register_pytree_node(PaddedBatch, _flatten_padded, _unflatten_padded)


class StepPadding:
    """The padding of the step being traced (see `PaddedBatch`)."""

    def __init__(self, batch):
        self.valid = batch.valid
        self.size = int(batch.valid.shape[0])
        self.num_rows = jnp.sum(batch.valid)
        self.raw_sample_weight = batch.raw_sample_weight
        self.padded_sample_weight = batch[2]

    def row_mask_for(self, x):
        """`valid` when `x`'s first axis is the padded batch axis, else None."""
        shape = getattr(x, "shape", None)
        if shape is None or len(shape) == 0 or shape[0] != self.size:
            return None
        return self.valid


def padding():
    """The `StepPadding` of the step being traced, or None when its batch is not padded."""
    return getattr(_STATE, "padding", None)


@contextlib.contextmanager
def step_data(data):
    """Unwrap a `PaddedBatch` for the duration of one step (see `padding()`)."""
    if not isinstance(data, PaddedBatch):
        yield data
        return
    previous = padding()
    _STATE.padding = StepPadding(data)
    try:
        yield tuple(data)
    finally:
        _STATE.padding = previous
