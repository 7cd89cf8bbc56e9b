"""Unseeded random ops inside a compiled step draw from the global SeedGenerator, whose
state the step threads: fresh values every step, reproducible under set_random_seed."""

import numpy as np
import pytest

import keras_on_jax as keras


class NoisyStep(keras.Model):
    """A train_step with an unseeded draw, as the tf.keras GAN guide writes it."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.noises = keras.Variable(np.zeros((3, 4), "float32"), trainable=False)
        self.step = keras.Variable(0, dtype="int32", trainable=False)

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        x, y = data
        noise = keras.random.normal((4,))  # no seed
        self.noises.assign(keras.ops.slice_update(self.noises, (self.step, 0), noise[None]))
        self.step.assign(self.step + 1)
        return {"noise_mean": keras.ops.mean(noise)}


def _run(seed):
    keras.utils.set_random_seed(seed)
    model = NoisyStep()
    model.compile()
    x, y = np.ones((24, 2), "float32"), np.ones((24, 1), "float32")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return np.asarray(model.noises.numpy())


def test_unseeded_draws_advance_every_compiled_step_and_follow_the_seed():
    noises = _run(7)
    assert len({tuple(row) for row in noises}) == 3  # not frozen into one constant
    np.testing.assert_array_equal(noises, _run(7))
    assert not np.array_equal(noises, _run(8))


def test_unseeded_draw_in_a_bare_stateless_call_is_still_an_error():
    layer = keras.layers.Dense(2)
    layer.build((None, 2))

    def noisy(x):
        return x + keras.random.normal((2,))

    from keras_on_jax.backend import scopes

    with pytest.raises(ValueError, match="random ops need an explicit `seed`"):
        with scopes.StatelessScope([(v, v.value) for v in layer.weights]):
            noisy(np.ones(2, "float32"))
