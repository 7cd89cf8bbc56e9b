"""Seeds and random draws: `SeedGenerator` and the functions behind `keras.random`.

A `SeedGenerator` owns a non-trainable uint32 Variable `[seed, counter]`. Each draw folds
the counter into the seed's key and advances the counter, through `assign`, so inside the
compiled step the state is threaded like any other variable and random ops are never
frozen into constants.
"""

from __future__ import annotations

import functools
import random as py_random

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import dtypes, scopes
from keras_on_jax.backend.variables import Variable

_GLOBAL_SEED_GENERATOR = None


def make_default_seed() -> int:
    return py_random.randint(1, int(1e9))


class SeedGenerator:
    """Generates a sequence of seeds; its state is a Variable so draws advance under jit.

    Args:
        seed: initial integer seed (default: drawn from Python's `random`, which
            `keras.utils.set_random_seed` seeds).
        name: optional name.
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if name is None:
            from keras_on_jax.backend import naming

            name = naming.auto_name("seed_generator")
        self.name = name
        if seed is None:
            seed = make_default_seed()
        if not isinstance(seed, (int, np.integer)):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed!r}")
        self._initial_seed = int(seed)
        with scopes.NameScope(name):
            self.state = Variable(
                np.array([self._initial_seed % (2**32), 0], dtype=np.uint32),
                dtype="uint32",
                trainable=False,
                name="seed_generator_state",
            )

    def next(self, ordered=True):
        state = self.state.value
        key = jax.random.fold_in(jax.random.key(state[0]), state[1])
        self.state.assign(state + jnp.array([0, 1], dtype="uint32"))
        return key

    def get_config(self):
        return {"seed": self._initial_seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def global_seed_generator() -> SeedGenerator:
    global _GLOBAL_SEED_GENERATOR
    if _GLOBAL_SEED_GENERATOR is None:
        _GLOBAL_SEED_GENERATOR = SeedGenerator(name="global_seed_generator")
    return _GLOBAL_SEED_GENERATOR


def reset_global_seed_generator() -> None:
    global _GLOBAL_SEED_GENERATOR
    _GLOBAL_SEED_GENERATOR = None


def draw_seed(seed):
    """Turn `seed` (None, int, SeedGenerator, or a JAX key) into a JAX key."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        generator = global_seed_generator()
        scope = scopes.get_stateless_scope()
        if scope is not None and scope.get_current_value(generator.state) is None:
            # A stateless call that does not carry the global generator's state (the
            # trainer's steps do): an unseeded draw would be frozen into a constant.
            raise ValueError(
                "In a stateless call, random ops need an explicit `seed`: pass a "
                "`keras.random.SeedGenerator` owned by the layer or model, so the random "
                "state advances every step instead of being frozen into a constant."
            )
        return generator.next()
    if isinstance(seed, (int, np.integer)):
        return jax.random.key(int(seed))
    if isinstance(seed, jax.Array) and jnp.issubdtype(seed.dtype, jax.dtypes.prng_key):
        return seed
    if isinstance(seed, (jax.Array, np.ndarray)) and seed.shape == (2,):
        return jax.random.wrap_key_data(jnp.asarray(seed, dtype="uint32"))
    raise ValueError(
        "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
        f"Received: seed={seed!r} (of type {type(seed)})"
    )


def _float(dtype):
    return dtypes.standardize_dtype(dtype)


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _flat_draw(key, kind, size, dtype):
    if kind == "normal":
        return jax.random.normal(key, (size,), dtype=dtype)
    if kind == "uniform":
        return jax.random.uniform(key, (size,), dtype=dtype)
    return jax.random.truncated_normal(key, -2.0, 2.0, (size,), dtype=dtype)


def _draw(kind, key, shape, dtype, scale, shift):
    """Draw `shape` values from a flat draw whose size is rounded up to a power of eight.

    One compiled draw then serves every shape of that size class: without this, each new
    weight shape costs an XLA compilation (about a second on CPU) when a model is built.
    Eager and traced calls compute the same values for the same key.
    """
    shape = tuple(int(d) for d in shape)
    size = int(np.prod(shape)) if shape else 1
    bucket = 4096
    while bucket < size:
        bucket *= 8
    if not isinstance(key, jax.core.Tracer):
        # One canonical (host, uncommitted) key form, so the compiled draw is reused.
        key = jax.random.wrap_key_data(np.asarray(jax.random.key_data(key)))
    flat = _flat_draw(key, kind, bucket, dtype)
    if isinstance(flat, jax.core.Tracer) or isinstance(key, jax.core.Tracer):
        return shift + scale * flat[:size].reshape(shape)
    # Eager: finish on the host (no per-shape compilation of the reshape and arithmetic).
    host = np.asarray(flat)[:size].reshape(shape)
    out = (shift + scale * host.astype(np.float32)) if dtype in ("bfloat16", "float16") else (
        shift + scale * host)
    return jnp.asarray(np.asarray(out, dtype=np.float32 if dtype in ("bfloat16", "float16") else dtype), dtype=dtype)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    key = draw_seed(seed)
    return _draw("normal", key, shape, _float(dtype), stddev, mean)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    key = draw_seed(seed)
    dtype = _float(dtype)
    if dtypes.is_int_dtype(dtype):
        return jax.random.randint(key, tuple(shape), minval, maxval, dtype=dtype)
    return _draw("uniform", key, shape, dtype, maxval - minval, minval)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    key = draw_seed(seed)
    return _draw("truncated_normal", key, shape, _float(dtype), stddev, mean)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    key = draw_seed(seed)
    return jax.random.randint(key, tuple(shape), minval, maxval, dtype=dtype)


def categorical(logits, num_samples, dtype="int32", seed=None):
    key = draw_seed(seed)
    logits = jnp.asarray(logits)
    out = jax.random.categorical(key, logits[..., None, :], axis=-1, shape=(*logits.shape[:-1], num_samples))
    return out.astype(dtype)


def dropout(inputs, rate, noise_shape=None, seed=None):
    inputs = jnp.asarray(inputs)
    if rate <= 0:
        return inputs
    key = draw_seed(seed)
    keep_prob = 1.0 - rate
    shape = inputs.shape if noise_shape is None else tuple(
        inputs.shape[i] if d is None else d for i, d in enumerate(noise_shape)
    )
    mask = jax.random.bernoulli(key, keep_prob, shape)
    mask = jnp.broadcast_to(mask, inputs.shape)
    return jnp.where(mask, inputs / keep_prob, jnp.zeros_like(inputs))


def shuffle(x, axis=0, seed=None):
    key = draw_seed(seed)
    return jax.random.permutation(key, jnp.asarray(x), axis=axis, independent=False)


def gamma(shape, alpha, dtype=None, seed=None):
    key = draw_seed(seed)
    return jax.random.gamma(key, alpha, tuple(shape), dtype=_float(dtype))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    key = draw_seed(seed)
    return jax.random.binomial(key, counts, probabilities, tuple(shape)).astype(_float(dtype))


def beta(shape, alpha, beta, dtype=None, seed=None):
    key = draw_seed(seed)
    return jax.random.beta(key, alpha, beta, tuple(shape), dtype=_float(dtype))
