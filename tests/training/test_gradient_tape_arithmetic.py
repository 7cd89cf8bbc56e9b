"""`GradientTape` with Python / `jax.numpy` arithmetic on recorded values.

Eagerly, Python operators and array methods on recorded values are recorded; inside the
trainer's compiled step, `tape.gradient` differentiates a re-run of the user's `train_step`,
so any arithmetic works there (including `jax.numpy`) and nested tapes give second-order
gradients. References are `jax.value_and_grad` / `jax.grad` over `stateless_call`.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import keras_on_jax as keras

GradientTape = keras.GradientTape


def _data(n=16, d=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d)).astype("float32")
    y = rng.random((n, 1)).astype("float32")
    sw = rng.random((n,)).astype("float32")
    return x, y, sw


def _close(actual, expected, tol=1e-6):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a is not None
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=tol, atol=tol)


def _regularized_mlp(cls=keras.Model, seed=1):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8,))
    h = keras.layers.Dense(6, activation="tanh", kernel_regularizer="l2",
                           activity_regularizer="l1")(inputs)
    return cls(inputs, keras.layers.Dense(3)(h))


def _weights(model):
    return [np.array(v.numpy()) for v in model.trainable_variables]


# ---- eager custom loops ------------------------------------------------------------------------
def test_eager_loop_plus_equals_sum_of_model_losses():
    """The custom-loop guide's `loss_value += sum(model.losses)`."""
    model = _regularized_mlp()
    x, _, _ = _data()
    y = np.random.default_rng(1).integers(0, 3, 16)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with GradientTape() as tape:
        logits = model(x, training=True)
        loss_value = loss_fn(y, logits)
        loss_value += sum(model.losses)
    grads = tape.gradient(loss_value, model.trainable_weights)
    assert len(model.losses) == 2  # the activity and the kernel regularizer both count

    def reference(tv):
        pred, _, losses = model.stateless_call(tv, [], x, training=True, return_losses=True)
        assert len(losses) == 2
        return loss_fn(y, pred) + sum(losses)

    ref_loss, ref_grads = jax.value_and_grad(reference)(_weights(model))
    np.testing.assert_allclose(loss_value, ref_loss, rtol=1e-6)
    _close(grads, ref_grads)


def test_eager_python_operators_methods_and_numpy_scalars():
    model = _regularized_mlp(seed=2)
    x, _, _ = _data(seed=3)
    mse = keras.losses.MeanSquaredError()
    target = np.ones((16, 3), "float32")
    with GradientTape(persistent=True) as tape:
        logits = model(x)
        loss_a = mse(target, logits)
        loss_b = (logits ** 2).mean(axis=-1).sum() / 16
        loss = 0.5 * loss_a + loss_b - logits[0, 1] + np.float32(2.0) * abs(-logits[3]).max()
        loss = 1.0 / (1.0 + loss)
    grads = tape.gradient(loss, model.trainable_weights)

    def reference(tv):
        pred, _ = model.stateless_call(tv, [], x)
        total = (0.5 * mse(target, pred) + jnp.sum(jnp.mean(pred ** 2, axis=-1)) / 16
                 - pred[0, 1] + 2.0 * jnp.max(jnp.abs(pred[3])))
        return 1.0 / (1.0 + total)

    ref_loss, ref_grads = jax.value_and_grad(reference)(_weights(model))
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-6)
    _close(grads, ref_grads)
    # Arithmetic on a Variable itself is recorded too.
    kernel = model.trainable_weights[0]
    with GradientTape() as tape:
        penalty = (kernel * kernel).sum() * 3.0
    (g,) = tape.gradient(penalty, [kernel])
    np.testing.assert_allclose(g, 6.0 * kernel.numpy(), rtol=1e-6)


def test_eager_raw_jax_numpy_call_still_reports_what_failed():
    model = _regularized_mlp()
    x, _, _ = _data(n=4)
    with GradientTape() as tape:
        loss = jnp.mean(model(x) ** 2)  # jnp.mean is not seen eagerly
    with pytest.raises(ValueError, match="could not connect.*jax.numpy.*keras.ops"):
        tape.gradient(loss, model.trainable_weights)


# ---- inside the trainer's compiled step --------------------------------------------------------------
class ArithmeticStep(keras.Model):
    """FAQ-style step whose loss mixes compiled_loss, `+=`, `sum()` and `jax.numpy`."""

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, sample_weight=sample_weight)
            loss += sum(self.losses)
            loss = 0.5 * loss + jnp.mean(jnp.abs(y_pred)) * 0.1
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}


def _reference_step(model, x, y, sw, lr):
    mse = keras.losses.MeanSquaredError()

    def reference(tv):
        pred, _, losses = model.stateless_call(tv, [], x, training=True, return_losses=True)
        total = mse(y, pred, sample_weight=sw) + sum(losses)
        return 0.5 * total + jnp.mean(jnp.abs(pred)) * 0.1

    w0 = _weights(model)
    loss, grads = jax.value_and_grad(reference)(w0)
    return loss, [w - lr * g for w, g in zip(w0, grads)]


@pytest.mark.parametrize("weighted,run_eagerly", [(False, False), (True, False), (True, True)])
def test_compiled_step_with_jax_numpy_arithmetic(weighted, run_eagerly):
    x, y, sw = _data()
    y = np.repeat(y, 3, axis=1)
    model = _regularized_mlp(ArithmeticStep)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", run_eagerly=run_eagerly)
    ref_loss, ref_weights = _reference_step(model, x, y, sw if weighted else None, 0.1)
    history = model.fit(x, y, sample_weight=sw if weighted else None, batch_size=16,
                        epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], ref_loss, rtol=1e-6)
    _close(_weights(model), ref_weights)


class ReadBeforeTape(keras.Model):
    """A layer applied before the tape opens is a constant for that tape (as in TF)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = keras.layers.Dense(4)
        self.second = keras.layers.Dense(1)

    def call(self, x):
        return self.second(self.first(x))

    def train_step(self, data):
        x, y = data
        h = self.first(x)
        with GradientTape() as tape:
            pred = self.second(h)
            loss = jnp.mean((pred - y) ** 2)
        grads = tape.gradient(loss, self.trainable_variables)
        # The first layer's variables were not read while the tape recorded.
        assert grads[0] is None and grads[1] is None
        assert all(g is not None for g in grads[2:])
        self.optimizer.apply_gradients(zip(grads[2:], self.trainable_variables[2:]))
        return {"loss": loss}


def test_reads_before_the_tape_opened_are_constant():
    x, y, _ = _data()
    keras.utils.set_random_seed(4)
    model = ReadBeforeTape()
    model(x)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    before = _weights(model)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    after = _weights(model)
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])
    h = x @ before[0] + before[1]

    def reference(w):
        return jnp.mean((h @ w[0] + w[1] - y) ** 2)

    grads = jax.grad(reference)(before[2:])
    _close(after[2:], [w - 0.1 * g for w, g in zip(before[2:], grads)])


class JaxNumpyGAN(keras.Model):
    """Two tapes per step; losses written with `jax.numpy` and Python operators."""

    def __init__(self, discriminator, generator, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def call(self, x):
        return self.discriminator(x)

    def train_step(self, real):
        if isinstance(real, tuple):
            real = real[0]
        batch = real.shape[0]
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        fake = self.generator(z)
        with GradientTape() as tape:
            real_logits = self.discriminator(real)
            fake_logits = self.discriminator(fake)
            d_loss = (jnp.mean(jax.nn.softplus(-real_logits))
                      + jnp.mean(jax.nn.softplus(fake_logits))) / 2
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with GradientTape() as tape:
            g_loss = jax.nn.softplus(-self.discriminator(self.generator(z))).mean()
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        return {"d_loss": d_loss, "g_loss": g_loss}


def test_two_tape_gan_with_jax_numpy_losses_matches_hand_written_step():
    from keras_on_jax.backend import scopes

    keras.utils.set_random_seed(11)
    disc = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"),
                             keras.layers.Dense(1)])
    gen = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5, activation="relu"),
                            keras.layers.Dense(4)])
    gan = JaxNumpyGAN(disc, gen, 3)
    gan.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05))
    real = np.random.default_rng(2).standard_normal((8, 4)).astype("float32")
    d0, g0 = _weights(disc), _weights(gen)
    seed_state = np.array(gan.seed_generator.state.numpy())

    def d_loss(dv, gv, z):
        fake, _ = gen.stateless_call(gv, [], z)
        r, _ = disc.stateless_call(dv, [], real)
        f, _ = disc.stateless_call(dv, [], fake)
        return (jnp.mean(jax.nn.softplus(-r)) + jnp.mean(jax.nn.softplus(f))) / 2

    def g_loss(gv, dv, z):
        fake, _ = gen.stateless_call(gv, [], z)
        f, _ = disc.stateless_call(dv, [], fake)
        return jnp.mean(jax.nn.softplus(-f))

    sg = keras.random.SeedGenerator(1337)
    with scopes.StatelessScope([(sg.state, seed_state)]):
        z1 = keras.random.normal((8, 3), seed=sg)
        z2 = keras.random.normal((8, 3), seed=sg)
    d1 = [w - 0.05 * g for w, g in zip(d0, jax.grad(d_loss)(d0, g0, z1))]
    g1 = [w - 0.05 * g for w, g in zip(g0, jax.grad(g_loss)(g0, d1, z2))]

    history = gan.fit(real, batch_size=8, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["d_loss"][0], d_loss(d0, g0, z1), rtol=1e-6)
    np.testing.assert_allclose(history.history["g_loss"][0], g_loss(g0, d1, z2), rtol=1e-6)
    _close(_weights(disc), d1)
    _close(_weights(gen), g1)


# ---- nested tapes: gradients of gradients ------------------------------------------------------------
class GradientPenaltyStep(keras.Model):
    """Loss + squared norm of the loss's own gradient (second order, variable sources)."""

    def train_step(self, data):
        x, y = data
        with GradientTape() as outer:
            with GradientTape() as inner:
                pred = self(x, training=True)
                loss = jnp.mean((pred - y) ** 2)
            inner_grads = inner.gradient(loss, self.trainable_variables)
            penalty = sum(jnp.sum(g ** 2) for g in inner_grads)
            total = loss + 0.5 * penalty
        grads = outer.gradient(total, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": total}


class WGANGPStep(keras.Model):
    """The WGAN-GP recipe: the inner tape watches an input array."""

    def train_step(self, data):
        x, _ = data
        alpha = jnp.linspace(0.0, 1.0, x.shape[0])[:, None]
        interpolated = x * alpha + (1.0 - alpha) * jnp.flip(x, axis=0)
        with GradientTape() as tape:
            with GradientTape() as gp_tape:
                gp_tape.watch(interpolated)
                pred = self(interpolated, training=True)
            (g,) = gp_tape.gradient(pred, [interpolated])
            norm = jnp.sqrt(jnp.sum(g ** 2, axis=1))
            gp = jnp.mean((norm - 1.0) ** 2)
            loss = jnp.mean(self(x, training=True)) + 10.0 * gp
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}


def _small(cls, seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8,))
    h = keras.layers.Dense(5, activation="tanh")(inputs)
    return cls(inputs, keras.layers.Dense(1)(h))


def test_nested_tapes_second_order_in_compiled_step():
    x, y, _ = _data()
    model = _small(GradientPenaltyStep, 5)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    w0 = _weights(model)

    def loss_fn(w):
        pred, _ = model.stateless_call(w, [], x, training=True)
        return jnp.mean((pred - y) ** 2)

    def total(w):
        return loss_fn(w) + 0.5 * sum(jnp.sum(g ** 2) for g in jax.grad(loss_fn)(w))

    ref_loss, ref_grads = jax.value_and_grad(total)(w0)
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], ref_loss, rtol=1e-6)
    _close(_weights(model), [w - 0.1 * g for w, g in zip(w0, ref_grads)])


def test_wgan_gp_gradient_penalty_through_watched_input():
    x, y, _ = _data()
    model = _small(WGANGPStep, 6)
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    w0 = _weights(model)
    alpha = jnp.linspace(0.0, 1.0, 16)[:, None]
    interpolated = x * alpha + (1.0 - alpha) * jnp.flip(x, axis=0)

    def loss_fn(w):
        def critic_sum(inp):
            return jnp.sum(model.stateless_call(w, [], inp, training=True)[0])

        g = jax.grad(critic_sum)(interpolated)
        gp = jnp.mean((jnp.sqrt(jnp.sum(g ** 2, axis=1)) - 1.0) ** 2)
        return jnp.mean(model.stateless_call(w, [], x, training=True)[0]) + 10.0 * gp

    ref_loss, ref_grads = jax.value_and_grad(loss_fn)(w0)
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], ref_loss, rtol=1e-6)
    _close(_weights(model), [w - 0.01 * g for w, g in zip(w0, ref_grads)])


class TapeOptionsStep(keras.Model):
    """persistent, stop_recording, watch_accessed_variables=False and jacobian in a step."""

    def train_step(self, data):
        x, y = data
        kernel, bias = self.trainable_variables
        with GradientTape(persistent=True) as tape:
            pred = self(x)
            loss = jnp.mean((pred - y) ** 2)
            with tape.stop_recording():
                unrecorded = jnp.sum(self(x))
            doubled = loss * 2.0 + 0.0 * unrecorded
        g1 = tape.gradient(loss, [kernel, bias])
        g2 = tape.gradient(doubled, [kernel, bias])
        jac = tape.jacobian(jnp.mean(pred - y, axis=0), [bias])
        with GradientTape() as unwatched:
            other = jnp.sum(self(x) ** 2)
        g3 = unwatched.gradient(unrecorded, [kernel], unconnected_gradients="zero")
        with GradientTape(watch_accessed_variables=False) as only_bias:
            only_bias.watch(bias)
            third = jnp.sum(self(x))
        g4 = only_bias.gradient(third, [kernel, bias])
        assert g4[0] is None
        return {"g1k": g1[0], "g1b": g1[1], "g2k": g2[0], "jac": jac[0], "g3": g3[0],
                "g4b": g4[1], "other": other}


def test_tape_options_inside_the_compiled_step():
    x, y, _ = _data(n=8)
    keras.utils.set_random_seed(8)
    inputs = keras.Input((8,))
    model = TapeOptionsStep(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd")
    kernel, bias = _weights(model)

    def loss_fn(k, b):
        return jnp.mean((x @ k + b - y) ** 2)

    gk, gb = jax.grad(loss_fn, argnums=(0, 1))(kernel, bias)
    logs = model.train_on_batch(x, y, return_dict=True)
    np.testing.assert_allclose(logs["g1k"], gk, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(logs["g1b"], gb, rtol=1e-6, atol=1e-7)
    # stop_recording: the unrecorded term is a constant (its factor is 0 anyway).
    np.testing.assert_allclose(logs["g2k"], 2 * gk, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(logs["jac"], np.ones((1, 1)), rtol=1e-6)
    # `unrecorded` was computed while no tape recorded: zero gradient on request.
    np.testing.assert_array_equal(logs["g3"], np.zeros((8, 1)))
    np.testing.assert_allclose(logs["g4b"], [8.0], rtol=1e-6)


def test_eager_nested_tapes_second_order():
    """A custom loop's gradient penalty: the inner gradient is recorded by the outer tape."""
    model = _small(keras.Model, 5)
    x, y, _ = _data()
    w0 = _weights(model)
    with GradientTape() as outer:
        with GradientTape() as inner:
            pred = model(x, training=True)
            loss = keras.ops.mean((pred - y) ** 2)
        inner_grads = inner.gradient(loss, model.trainable_weights)
        total = loss + 0.5 * sum(keras.ops.sum(g ** 2) for g in inner_grads)
    grads = outer.gradient(total, model.trainable_weights)

    def loss_fn(w):
        pred, _ = model.stateless_call(w, [], x, training=True)
        return jnp.mean((pred - y) ** 2)

    def reference(w):
        return loss_fn(w) + 0.5 * sum(jnp.sum(g ** 2) for g in jax.grad(loss_fn)(w))

    ref_total, ref_grads = jax.value_and_grad(reference)(w0)
    np.testing.assert_allclose(total, ref_total, rtol=1e-6)
    _close(grads, ref_grads)


def test_eager_wgan_gp_penalty_through_watched_input():
    model = _small(keras.Model, 6)
    x, _, _ = _data()
    w0 = _weights(model)
    alpha = jnp.linspace(0.0, 1.0, 16)[:, None]
    interpolated = x * alpha + (1.0 - alpha) * jnp.flip(x, axis=0)
    with GradientTape() as tape:
        with GradientTape() as gp_tape:
            gp_tape.watch(interpolated)
            pred = model(interpolated, training=True)
        (g,) = gp_tape.gradient(pred, [interpolated])
        norm = keras.ops.sqrt(keras.ops.sum(g ** 2, axis=1))
        gp = keras.ops.mean((norm - 1.0) ** 2)
        loss = keras.ops.mean(model(x, training=True)) + 10.0 * gp
    grads = tape.gradient(loss, model.trainable_weights)

    def reference(w):
        def critic_sum(inp):
            return jnp.sum(model.stateless_call(w, [], inp, training=True)[0])

        gi = jax.grad(critic_sum)(interpolated)
        penalty = jnp.mean((jnp.sqrt(jnp.sum(gi ** 2, axis=1)) - 1.0) ** 2)
        return jnp.mean(model.stateless_call(w, [], x, training=True)[0]) + 10.0 * penalty

    ref_loss, ref_grads = jax.value_and_grad(reference)(w0)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-6)
    _close(grads, ref_grads)


class ChangingControlFlow(keras.Model):
    """A step whose Python-side state changes its path between runs cannot be re-run."""

    def train_step(self, data):
        x, y = data
        self.runs = getattr(self, "runs", 0) + 1
        if self.runs > 1:  # the re-run takes another path and never reaches the gradient
            return {"loss": jnp.zeros(())}
        with GradientTape() as tape:
            loss = jnp.mean((self(x) - y) ** 2)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}


def test_step_that_changes_between_runs_reports_it():
    x, y, _ = _data(n=8)
    inputs = keras.Input((8,))
    model = ChangingControlFlow(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd")
    with pytest.raises(RuntimeError, match="finished without reaching that call"):
        model.train_on_batch(x, y)
