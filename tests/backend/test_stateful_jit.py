"""`backend.stateful_jit`: Python code over Keras Variables as one jitted program."""

import jax.numpy as jnp
import numpy as np
import pytest

from keras_on_jax.backend import scopes
from keras_on_jax.backend.stateful_jit import StatefulJit
from keras_on_jax.backend.variables import Variable


def test_variables_are_discovered_threaded_and_written_back():
    scale = Variable(2.0, name="scale")
    total = Variable(0.0, name="total")
    calls = []

    def accumulate(x):
        calls.append(1)
        total.assign(total.value + scale.value * jnp.sum(x))
        return total.value * 1.0

    program = StatefulJit(accumulate, donate=True)
    assert float(program(jnp.ones(3))) == 6.0
    scale.assign(10.0)  # read on every call: an input, not a constant
    assert float(program(jnp.ones(3))) == 36.0
    assert float(total.numpy()) == 36.0
    assert [v.name for v in program.read] == ["scale"]
    assert [v.name for v in program.written] == ["total"]
    # Traced twice on the first call (the second with the Variables found), then never.
    assert len(calls) == 2 and program.traces == 1


def test_donation_keeps_arrays_held_elsewhere_valid():
    a = Variable(jnp.arange(3.0), name="a")
    b = Variable(jnp.zeros(3), name="b")
    b.assign(a)  # `b` now shares `a`'s buffer
    held = a.value  # an array the user keeps

    def step(_):
        a.assign(a.value + 1)
        b.assign(b.value * 2)

    program = StatefulJit(step, donate=True)
    program(())
    program(())
    np.testing.assert_allclose(held, [0.0, 1.0, 2.0])
    np.testing.assert_allclose(a.numpy(), [2.0, 3.0, 4.0])
    np.testing.assert_allclose(b.numpy(), [0.0, 4.0, 8.0])


def test_donation_spares_a_buffer_shared_with_a_read_variable_or_an_argument():
    a = Variable(jnp.arange(3.0), name="a")
    b = Variable(jnp.zeros(3), name="b")
    b.assign(a)  # `b` (only read) shares `a`'s buffer (assigned and donated)

    def step(x):
        a.assign(a.value + b.value + x)
        return b.value * 1.0

    program = StatefulJit(step, donate=True)
    np.testing.assert_allclose(program(jnp.ones(3)), [0.0, 1.0, 2.0])
    np.testing.assert_allclose(b.numpy(), [0.0, 1.0, 2.0])
    np.testing.assert_allclose(a.numpy(), [1.0, 3.0, 5.0])
    # The argument is `a`'s own buffer.
    program(a.value)
    np.testing.assert_allclose(a.numpy(), [2.0, 7.0, 12.0])
    assert [v.name for v in program.read] == ["b"]
    assert [v.name for v in program.written] == ["a"]


def test_variables_cannot_be_created_in_the_trace():
    def make(_):
        return Variable(jnp.zeros(2), name="late").value

    with pytest.raises(scopes.VariableCreatedWhileTracing):
        StatefulJit(make)(())
