"""`RNN`: the recurrent layer over any cell, and the loop it runs (one `lax.scan`).

The loop reproduces Keras 3's JAX backend `rnn` exactly, masks included: at a masked step
the states keep their previous value and the output is the previous output (or zeros with
`zero_output_for_mask=True`).
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from keras_on_jax import serialization
from keras_on_jax.backend import scopes
from keras_on_jax.backend.variables import Variable
from keras_on_jax.layers.layer import Layer
from keras_on_jax.layers.rnn.dropout_rnn_cell import DropoutRNNCell


# ---- small nest helpers (lists / tuples only; everything else is a leaf) -------------------
def is_nested(x):
    return isinstance(x, (list, tuple))


def flatten(x):
    if is_nested(x):
        out = []
        for v in x:
            out.extend(flatten(v))
        return out
    return [x]


def pack_like(structure, flat):
    flat = list(flat)
    pos = [0]

    def build(s):
        if is_nested(s):
            return type(s)(build(v) for v in s) if isinstance(s, list) else tuple(build(v) for v in s)
        v = flat[pos[0]]
        pos[0] += 1
        return v

    out = build(structure)
    if pos[0] != len(flat):
        raise ValueError(
            f"The RNN cell returned {len(flat)} state tensors, but the initial state has "
            f"{pos[0]}."
        )
    return out


def map_nest(fn, x):
    if is_nested(x):
        return type(x)(map_nest(fn, v) for v in x) if isinstance(x, list) else tuple(map_nest(fn, v) for v in x)
    return fn(x)


def _has_arg(fn, name):
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _expand_to(m, x):
    """Broadcast a `(batch, 1)` boolean mask against `x` of shape `(batch, ...)`."""
    m = jnp.reshape(m[:, 0] if m.ndim > 1 else m, (m.shape[0],) + (1,) * (x.ndim - 1))
    return m


def rnn_loop(step_function, inputs, initial_states, go_backwards=False, mask=None,
             unroll=False, zero_output_for_mask=False, return_all_outputs=True):
    """Run `step_function(x_t, states) -> (output, new_states)` over axis 1 of `inputs`.

    Returns `(last_output, outputs, final_states)` with `outputs` batch-major; with
    `go_backwards` the outputs are in processing (reversed) order, as in Keras.
    """
    inputs = jnp.swapaxes(inputs, 0, 1)
    time_steps = inputs.shape[0]
    if mask is not None:
        mask = jnp.asarray(mask).astype("bool")
        if mask.ndim == 2:
            mask = mask[..., None]
        mask = jnp.swapaxes(mask, 0, 1)

    if unroll:
        if not time_steps:
            raise ValueError("Unrolling requires a fixed number of timesteps.")
        states = initial_states
        outputs = []
        order = range(time_steps - 1, -1, -1) if go_backwards else range(time_steps)
        for i in order:
            output, new_states = step_function(inputs[i], states)
            new_states = pack_like(states, flatten(new_states))
            if mask is not None:
                mask_t = mask[i]
                prev = outputs[-1] if outputs else jnp.zeros_like(output)
                output = jnp.where(_expand_to(mask_t, output), output, prev)
                new_states = pack_like(states, [
                    jnp.where(_expand_to(mask_t, ns), ns, s)
                    for s, ns in zip(flatten(states), flatten(new_states))
                ])
            states = new_states
            if return_all_outputs:
                outputs.append(output)
            else:
                outputs = [output]
        last_output = outputs[-1]
        outputs = jnp.stack(outputs)
        final_states = states
    else:

        def _step(states, x_t, m_t):
            output_t, new_states = step_function(x_t, states)
            new_states = pack_like(states, flatten(new_states))
            if m_t is None:
                return new_states, output_t
            is_masked = jnp.all(jnp.logical_not(m_t), axis=-1)
            if zero_output_for_mask:
                out = jnp.where(_expand_to(is_masked, output_t), jnp.zeros_like(output_t), output_t)
            else:
                output_tm1 = states[0]
                if is_nested(output_tm1):
                    output_tm1 = states[-1][0]
                out = jnp.where(_expand_to(is_masked, output_t), output_tm1, output_t)
            new_states = pack_like(states, [
                jnp.where(_expand_to(is_masked, s), s, ns)
                for s, ns in zip(flatten(states), flatten(new_states))
            ])
            return new_states, out

        xs = (inputs, mask)
        if go_backwards:
            # A forward scan over the reversed sequence (outputs come out in processing
            # order), not `reverse=True`: the same loop, which ONNX export (jax2onnx)
            # converts, while it has no conversion for reverse scans.
            xs = jax.tree.map(lambda a: jnp.flip(a, axis=0), xs)
        scope = scopes.StatelessScope() if not scopes.in_stateless_scope() else _null()
        with scope:
            # Variable reads inside the traced loop body must not mutate anything.
            if return_all_outputs:
                final_states, outputs = lax.scan(
                    lambda states, xs: _step(states, *xs), initial_states, xs)
                last_output = outputs[-1]
            else:
                # Only the last output is wanted: carry it instead of stacking every
                # step's output (the backward pass then has no per-step output cotangents).
                # A cell whose output is its first state (LSTM, GRU, SimpleRNN) needs no
                # extra carry: the last output is the final first state.
                output_is_state = []

                def probe():
                    output_t, new_states = step_function(inputs[0], initial_states)
                    output_is_state.append(output_t is flatten(new_states)[0])
                    return output_t

                with scopes.StatelessScope():
                    spec = jax.eval_shape(probe)
                if output_is_state[0] and not (mask is not None and zero_output_for_mask):
                    final_states, _ = lax.scan(
                        lambda states, xs: (_step(states, *xs)[0], None), initial_states, xs)
                    last_output = flatten(final_states)[0]
                else:
                    (final_states, last_output), _ = lax.scan(
                        lambda carry, xs: (_step(carry[0], *xs), None),
                        (initial_states, jnp.zeros(spec.shape, spec.dtype)), xs)
                outputs = last_output[None]
    outputs = jnp.swapaxes(outputs, 0, 1)
    return last_output, outputs, final_states


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class RNN(Layer):
    """Base class for recurrent layers: runs `cell` over the time axis.

    Args:
        cell: an RNN cell (a layer, or any object with `call(inputs, states)` and
            `state_size`; optional `output_size` and `get_initial_state(batch_size)`), or a
            list of cells (stacked with `StackedRNNCells`).
        return_sequences: return the full output sequence instead of the last output.
        return_state: also return the final states.
        go_backwards: process the sequence backwards (outputs in processing order).
        stateful: carry the final states of batch `i` over as the initial states of the
            next batch (the batch size must be static: `batch_size=` on the first layer,
            `batch_input_shape=`, or `keras.Input(batch_shape=...)`).
        unroll: unroll the loop in Python instead of one `lax.scan`.
        zero_output_for_mask: output zeros (not the previous output) at masked steps.

    Call arguments: `sequences` `(batch, timesteps, ...)`, `initial_state` (list of
    tensors), `mask` `(batch, timesteps)` booleans, `training`.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            from keras_on_jax.layers.rnn.stacked_rnn_cells import StackedRNNCells

            cell = StackedRNNCells(cell)
        if "call" not in dir(cell):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if "state_size" not in dir(cell):
            raise ValueError(
                "The RNN cell should have a `state_size` attribute (single integer or list "
                f"of integers, one integer per RNN state). Received: cell={cell}"
            )
        super().__init__(**kwargs)
        self.zero_output_for_mask = zero_output_for_mask
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.supports_masking = True
        self.input_spec = None
        object.__setattr__(self, "_rnn_states", None)
        self._expected_batch_size = None
        state_size = getattr(self.cell, "state_size", None)
        if state_size is None:
            raise ValueError("state_size must be specified as property on the RNN cell.")
        if not isinstance(state_size, (list, tuple, int)):
            raise ValueError(
                "state_size must be an integer, or a list/tuple of integers (one for each "
                f"state tensor). Received: state_size={state_size!r}"
            )
        if isinstance(state_size, int):
            self.state_size = [state_size]
            self.single_state = True
        else:
            self.state_size = list(state_size)
            self.single_state = False

    # ---- stateful states: kept out of `weights` (as Keras), but in `variables` so the
    # compiled steps thread them.
    @property
    def states(self):
        return self._rnn_states

    @property
    def variables(self):
        out = list(super().variables)
        if self._rnn_states is not None:
            ids = {id(v) for v in out}
            out.extend(v for v in flatten(self._rnn_states) if id(v) not in ids)
        return out

    def _cell_call_has(self, name):
        fn = self.cell.call if hasattr(self.cell, "call") else self.cell
        return _has_arg(fn, name)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch_size = sequences_shape[0]
        length = sequences_shape[1]
        states_shape = []
        for state_size in self.state_size:
            if isinstance(state_size, int):
                states_shape.append((batch_size, state_size))
            elif isinstance(state_size, (list, tuple)):
                states_shape.append([(batch_size, s) for s in state_size])
        output_size = getattr(self.cell, "output_size", None)
        if output_size is None:
            output_size = self.state_size[0]
        if not isinstance(output_size, int):
            raise ValueError(f"output_size must be an integer. Received: {output_size!r}")
        if self.return_sequences:
            output_shape = (batch_size, length, output_size)
        else:
            output_shape = (batch_size, output_size)
        if self.return_state:
            return (output_shape, *states_shape)
        return output_shape

    def compute_mask(self, _, mask):
        if is_nested(mask):
            mask = flatten(mask)[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in flatten(self.state_size)]
        return output_mask

    def build(self, sequences_shape, initial_state_shape=None):
        step_input_shape = (sequences_shape[0],) + tuple(sequences_shape[2:])
        if isinstance(self.cell, Layer) and not self.cell.built:
            with scopes.NameScope(self.cell.name):
                self.cell.build(step_input_shape)
            self.cell.built = True
            self.cell._build_shapes = step_input_shape
        if self.stateful:
            if self._rnn_states is not None:
                self.reset_state()
            else:
                if sequences_shape[0] is None:
                    raise ValueError(
                        "When using `stateful=True` in a RNN, the batch size must be static. "
                        f"Found dynamic batch size: sequence.shape={tuple(sequences_shape)}. "
                        "Pass `batch_size=` to the first layer, or use "
                        "`keras.Input(batch_shape=...)`."
                    )
                self._create_state_variables(sequences_shape[0])
        self.built = True

    def _create_state_variables(self, batch_size):
        path = scopes.current_path()
        ctx = scopes.NameScope(self.name) if not path.endswith(self.name) else _null()
        with ctx:
            states = map_nest(
                lambda value: Variable(np.asarray(value), dtype=self.variable_dtype,
                                       trainable=False, name="rnn_state"),
                self.get_initial_state(batch_size),
            )
        object.__setattr__(self, "_rnn_states", states)
        self._expected_batch_size = int(batch_size)

    def get_initial_state(self, batch_size):
        fn = getattr(self.cell, "get_initial_state", None)
        if fn:
            init_state = fn(batch_size=batch_size)
        else:
            dtype = getattr(self.cell, "compute_dtype", self.compute_dtype)
            return [jnp.zeros((batch_size, d), dtype=dtype) for d in self.state_size]
        if not is_nested(init_state):
            init_state = [init_state]
        return list(init_state)

    def reset_states(self, states=None):
        """Reset the stateful states to zeros, or to `states` (a list of NumPy values)."""
        self.reset_state(states)

    def reset_state(self, states=None):
        if self._rnn_states is None:
            if states is not None:
                raise AttributeError(
                    f"Layer '{self.name}' must be stateful (and built) to set its states; "
                    f"received states={states!r} with stateful={self.stateful}."
                )
            return
        variables = flatten(self._rnn_states)
        if states is None:
            for v in variables:
                v.assign(jnp.zeros_like(v.value))
            return
        values = flatten(states) if is_nested(states) else [states]
        if len(values) != len(variables):
            raise ValueError(
                f"Layer '{self.name}' expects {len(variables)} states, but it received "
                f"{len(values)} state values. Received: states={states!r}"
            )
        for i, (v, value) in enumerate(zip(variables, values)):
            value = np.asarray(value)
            if tuple(value.shape) != tuple(v.shape):
                raise ValueError(
                    f"State {i} of layer '{self.name}' has shape {tuple(v.shape)}, but the "
                    f"value passed to reset_states() has shape {tuple(value.shape)}."
                )
            v.assign(value)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell_kwargs = {}
        if self._cell_call_has("training"):
            cell_kwargs["training"] = training
        call_fn = self.cell if isinstance(self.cell, Layer) else (
            self.cell.__call__ if callable(self.cell) else self.cell.call)

        def step(inputs, states):
            output, new_states = call_fn(inputs, states, **cell_kwargs)
            if not is_nested(new_states):
                new_states = [new_states]
            return output, new_states

        if not is_nested(initial_state):
            initial_state = [initial_state]
        return rnn_loop(step, sequences, initial_state, go_backwards=self.go_backwards,
                        mask=mask, unroll=self.unroll,
                        zero_output_for_mask=self.zero_output_for_mask,
                        return_all_outputs=self.return_sequences)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if is_nested(mask):
            mask = flatten(mask)[0]
        timesteps = sequences.shape[1]
        if self.unroll and timesteps is None:
            raise ValueError("Cannot unroll a RNN if the time dimension is undefined.")
        if initial_state is None:
            if self.stateful:
                initial_state = map_nest(lambda v: v.value, self._rnn_states)
            else:
                initial_state = self.get_initial_state(batch_size=sequences.shape[0])
        if self.stateful:
            actual = sequences.shape[0]
            if self._expected_batch_size is not None and actual != self._expected_batch_size:
                raise ValueError(
                    "If an RNN is stateful, the batch size of the input sequences must be "
                    "the same as the batch size of the initial state. \n"
                    f"- Expected batch size: {self._expected_batch_size}\n"
                    f"- Received batch size: {actual}"
                )
        if not is_nested(initial_state):
            initial_state = [initial_state]
        initial_state = list(initial_state)
        cell_dtype = getattr(self.cell, "compute_dtype", self.compute_dtype)
        initial_state = map_nest(
            lambda x: jnp.asarray(x.value if isinstance(x, Variable) else x, dtype=cell_dtype),
            initial_state)
        if training:
            self._maybe_config_dropout_masks(self.cell, sequences[:, 0], initial_state)
        try:
            last_output, outputs, states = self.inner_loop(
                sequences=sequences, initial_state=initial_state, mask=mask, training=training)
        finally:
            self._maybe_reset_dropout_masks(self.cell)
        last_output = last_output.astype(self.compute_dtype)
        outputs = outputs.astype(self.compute_dtype)
        states = map_nest(lambda x: x.astype(self.compute_dtype), states)
        if self.stateful:
            for var, value in zip(flatten(self._rnn_states), flatten(states)):
                var.assign(value)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return (output, *states)
        return output

    def _maybe_config_dropout_masks(self, cell, input_sequence, input_state):
        from keras_on_jax.layers.rnn.stacked_rnn_cells import StackedRNNCells

        state = input_state[0] if is_nested(input_state) else input_state
        if isinstance(cell, DropoutRNNCell):
            cell.get_dropout_mask(input_sequence)
            cell.get_recurrent_dropout_mask(state)
        if isinstance(cell, StackedRNNCells):
            for c, s in zip(cell.cells, input_state):
                self._maybe_config_dropout_masks(c, input_sequence, s)
                s = list(s) if is_nested(s) else [s]
                call_fn = c if isinstance(c, Layer) else c.call
                input_sequence, _ = call_fn(input_sequence, s)

    def _maybe_reset_dropout_masks(self, cell):
        from keras_on_jax.layers.rnn.stacked_rnn_cells import StackedRNNCells

        if isinstance(cell, DropoutRNNCell):
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
        if isinstance(cell, StackedRNNCells):
            for c in cell.cells:
                self._maybe_reset_dropout_masks(c)

    def get_config(self):
        config = {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }
        config["cell"] = serialization.serialize_keras_object(self.cell)
        base_config = super().get_config()
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = serialization.deserialize_keras_object(config.pop("cell"),
                                                       custom_objects=custom_objects)
        return cls(cell, **config)


def delegate_to_cell(cls, names):
    """Expose the cell's hyperparameters as read-only layer properties (as Keras does)."""
    for name in names:
        setattr(cls, name, property(lambda self, n=name: getattr(self.cell, n)))
    return cls
