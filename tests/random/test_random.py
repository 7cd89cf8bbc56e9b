"""keras_on_jax.random: names, signatures, reproducibility, moments, jit + StatelessScope."""

import inspect

import jax
import keras
import numpy as np
import pytest

from keras_on_jax import random
from keras_on_jax.backend.scopes import StatelessScope


def test_names_and_signatures_match_keras():
    names = {n for n in dir(keras.random) if not n.startswith("_")}
    assert names == set(random.__all__)
    for n in names - {"SeedGenerator"}:
        assert inspect.signature(getattr(random, n)) == inspect.signature(getattr(keras.random, n)), n


@pytest.mark.parametrize(
    "fn,args",
    [
        ("normal", ((50,),)), ("uniform", ((50,),)), ("truncated_normal", ((50,),)),
        ("randint", ((50,), 0, 10)), ("gamma", ((50,), 2.0)), ("beta", ((50,), 2.0, 3.0)),
        ("binomial", ((50,), 5, 0.3)),
    ],
)
def test_seeded_calls_reproducible(fn, args):
    f = getattr(random, fn)
    a, b, c = f(*args, seed=7), f(*args, seed=7), f(*args, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_seed_generator_advances_and_is_reproducible():
    g1, g2 = random.SeedGenerator(3), random.SeedGenerator(3)
    a, b = random.normal((8,), seed=g1), random.normal((8,), seed=g1)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, random.normal((8,), seed=g2))
    assert int(g1.state.value[1]) == 2
    assert random.SeedGenerator.from_config(g1.get_config()).get_config() == {"seed": 3}


def test_distribution_moments():
    n = (20000,)
    x = np.asarray(random.normal(n, mean=1.0, stddev=2.0, seed=1))
    assert abs(x.mean() - 1.0) < 0.05 and abs(x.std() - 2.0) < 0.05
    u = np.asarray(random.uniform(n, minval=-1.0, maxval=3.0, seed=2))
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1.0) < 0.05
    t = np.asarray(random.truncated_normal(n, stddev=1.0, seed=3))
    assert np.abs(t).max() <= 2.0 and abs(t.std() - 0.88) < 0.03
    r = np.asarray(random.randint(n, 0, 4, seed=4))
    assert r.dtype == np.int32 and set(np.unique(r)) == {0, 1, 2, 3}
    g = np.asarray(random.gamma(n, 3.0, seed=5))
    assert abs(g.mean() - 3.0) < 0.1
    be = np.asarray(random.beta(n, 2.0, 2.0, seed=6))
    assert abs(be.mean() - 0.5) < 0.02
    bi = np.asarray(random.binomial(n, 10, 0.3, seed=7))
    assert abs(bi.mean() - 3.0) < 0.1
    c = np.asarray(random.categorical(np.log([[0.2, 0.8]]), 5000, seed=8))
    assert c.shape == (1, 5000) and abs(c.mean() - 0.8) < 0.03


def test_dropout_and_shuffle():
    x = np.ones((1000,), "float32")
    y = np.asarray(random.dropout(x, 0.25, seed=1))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)} and abs((y == 0).mean() - 0.25) < 0.05
    m = np.asarray(random.dropout(np.ones((4, 6), "float32"), 0.5, noise_shape=(4, 1), seed=2))
    assert all(len(set(row)) == 1 for row in m)
    s = np.asarray(random.shuffle(np.arange(10), seed=3))
    assert sorted(s) == list(range(10)) and list(s) != list(range(10))


def test_draw_inside_jit_under_stateless_scope_advances_state():
    gen = random.SeedGenerator(11)

    @jax.jit
    def step(state):
        with StatelessScope([(gen.state, state)]) as scope:
            x = random.normal((4,), seed=gen)
            new_state = scope.get_current_value(gen.state)
        return x, new_state

    state = gen.state.value
    x1, state = step(state)
    x2, state = step(state)
    assert not np.array_equal(x1, x2)
    np.testing.assert_array_equal(np.asarray(state), [11, 2])
    assert int(gen.state.value[1]) == 0  # the Variable itself was not mutated


def test_unseeded_draw_in_stateless_scope_raises():
    with StatelessScope():
        with pytest.raises(ValueError, match="seed"):
            random.normal((2,))
