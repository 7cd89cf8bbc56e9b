"""`GradientTape`: the FAQ's custom train_step / test_step / custom loop, GANs, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import keras_on_jax as keras
from keras_on_jax.backend import scopes
from keras_on_jax.training import gradient_tape

gradient_tape.install_recording_hooks()
GradientTape = gradient_tape.GradientTape


def _dropout_cls():
    cls = getattr(keras.layers, "Dropout", None)
    if cls is None:
        from keras_on_jax.layers.regularization.dropout import Dropout as cls
    return cls


def _data(n=64, d=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d)).astype("float32")
    y = rng.random((n, 1)).astype("float32")
    sw = rng.random((n, 1)).astype("float32")
    return x, y, sw


class FAQModel(keras.Model):
    """The FAQ's custom train_step, with sample weighting."""

    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            x, y = data
            sample_weight = None
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, sample_weight=sample_weight,
                                      regularization_losses=self.losses)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))
        self.compiled_metrics.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


class FAQTestModel(keras.Model):
    """The FAQ's test_step override."""

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _build(cls, seed=1, regularizer=None):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(8,))
    h = keras.layers.Dense(6, activation="relu", kernel_regularizer=regularizer)(inputs)
    outputs = keras.layers.Dense(1)(h)
    return cls(inputs, outputs)


@pytest.mark.parametrize("weighted,regularizer", [(False, None), (True, "l2")])
def test_faq_train_step_matches_builtin_fit(weighted, regularizer):
    x, y, sw = _data()
    custom = _build(FAQModel, regularizer=regularizer)
    builtin = _build(keras.Model, regularizer=regularizer)
    builtin.set_weights(custom.get_weights())
    for m in (custom, builtin):
        m.compile(optimizer="adam", loss="mse", metrics=["mae"])
    kwargs = dict(batch_size=16, epochs=3, shuffle=False, verbose=0)
    if weighted:
        kwargs["sample_weight"] = sw
    h1 = custom.fit(x, y, **kwargs)
    h2 = builtin.fit(x, y, **kwargs)
    before = _build(keras.Model, regularizer=regularizer).get_weights()
    for a, b, c in zip(custom.get_weights(), builtin.get_weights(), before):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
        assert not np.allclose(a, c)  # it trained
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(h1.history["mae"], h2.history["mae"], rtol=1e-5)


def test_faq_train_step_eager_matches_jitted():
    x, y, _ = _data(n=16)
    a = _build(FAQModel)
    b = _build(FAQModel)
    a.compile(optimizer="sgd", loss="mse")
    b.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    a.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    b.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, atol=1e-6)


def test_faq_test_step_override():
    x, y, _ = _data()
    custom = _build(FAQTestModel)
    builtin = _build(keras.Model)
    for m in (custom, builtin):
        m.compile(optimizer="adam", loss="mse", metrics=["mae"])
    r1 = custom.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    r2 = builtin.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert set(r1) == set(r2) == {"loss", "mae"}
    for k in r1:
        np.testing.assert_allclose(r1[k], r2[k], rtol=1e-6)


def test_custom_loop_with_tape_equals_value_and_grad():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(3, activation="softmax")])
    x, _, _ = _data(n=16)
    targets = np.random.default_rng(1).dirichlet(np.ones(3), size=16).astype("float32")
    loss_fn = keras.losses.kl_divergence
    optimizer = keras.optimizers.SGD(0.1)

    def reference_loss(tv, ntv):
        pred, _ = model.stateless_call(tv, ntv, x)
        return jnp.mean(loss_fn(targets, pred))

    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    ref_loss, ref_grads = jax.jit(jax.value_and_grad(reference_loss))(tv, ntv)

    with GradientTape() as tape:
        predictions = model(x)
        loss_value = keras.ops.mean(loss_fn(targets, predictions))
    gradients = tape.gradient(loss_value, model.trainable_weights)
    np.testing.assert_allclose(loss_value, ref_loss, rtol=1e-6)
    for g, r in zip(gradients, ref_grads):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-7)
    optimizer.apply_gradients(zip(gradients, model.trainable_weights))
    for v, before, g in zip(model.trainable_weights, tv, ref_grads):
        np.testing.assert_allclose(v.numpy(), np.asarray(before) - 0.1 * np.asarray(g), atol=1e-6)


def test_custom_loop_frozen_base_updates_only_trainable_weights():
    keras.utils.set_random_seed(4)
    base = keras.Sequential([keras.Input((8,)), keras.layers.Dense(5)])
    model = keras.Sequential([keras.Input((8,)), base, keras.layers.Dense(2)])
    model.layers[0].trainable = False
    assert model.layers[0].trainable_weights == []
    assert len(model.trainable_weights) == 2
    frozen = base.get_weights()
    loss_fn = keras.losses.MeanSquaredError()
    optimizer = keras.optimizers.Adam()
    x, _, _ = _data(n=16)
    y = np.ones((16, 2), "float32")
    for _ in range(2):
        with GradientTape() as tape:
            loss = loss_fn(y, model(x))
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
    for a, b in zip(base.get_weights(), frozen):
        np.testing.assert_array_equal(a, b)


def test_unconnected_target_raises_clear_error():
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
    x, _, _ = _data(n=4)
    with GradientTape() as tape:
        loss = jnp.mean(model(x) ** 2)  # raw jax arithmetic: invisible to the tape
    with pytest.raises(ValueError, match="could not connect.*keras.ops.*stateless_call"):
        tape.gradient(loss, model.trainable_weights)


def test_unconnected_sources_none_or_zero():
    a = keras.layers.Dense(2)
    b = keras.layers.Dense(2)
    x = np.ones((3, 4), "float32")
    b(x)
    with GradientTape(persistent=True) as tape:
        loss = keras.ops.sum(a(x))
    g = tape.gradient(loss, [a.kernel, b.kernel])
    assert g[0] is not None and g[1] is None
    g = tape.gradient(loss, {"a": a.kernel, "b": b.kernel}, unconnected_gradients="zero")
    np.testing.assert_array_equal(g["b"], np.zeros((4, 2)))
    np.testing.assert_allclose(g["a"], np.full((4, 2), 3.0))


def test_watch_arrays_output_gradients_persistent_and_stop_recording():
    x = jnp.array([1.0, 2.0, 3.0])
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = keras.ops.square(x)
        with tape.stop_recording():
            z = keras.ops.exp(x)
        s = keras.ops.sum(keras.activations.tanh(y))
    np.testing.assert_allclose(tape.gradient(y, x), 2 * np.asarray(x))
    np.testing.assert_allclose(tape.gradient(y, x, output_gradients=jnp.array([1.0, 0.0, 2.0])),
                               [2.0, 0.0, 12.0])
    np.testing.assert_allclose(tape.gradient(s, x),
                               (1 - np.tanh(np.asarray(x, "float64") ** 2) ** 2) * 2 * np.asarray(x),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="could not connect"):
        tape.gradient(z, x)
    jac = tape.jacobian(y, x)
    np.testing.assert_allclose(jac, np.diag(2 * np.asarray(x)))
    # A non-persistent tape is single use; an unwatched array is not a source.
    with GradientTape(watch_accessed_variables=False) as t2:
        y2 = keras.ops.square(x)
    assert t2.gradient(y2, x) is None
    with pytest.raises(RuntimeError, match="non-persistent"):
        t2.gradient(y2, x)


def test_nested_tapes():
    v = keras.Variable(np.array([1.0, -2.0], "float32"))
    with GradientTape() as outer:
        a = keras.ops.sum(keras.ops.square(v))
        with GradientTape() as inner:
            b = keras.ops.sum(keras.ops.multiply(v, 3.0))
        gb = inner.gradient(b, v)
    ga = outer.gradient(a, v)
    np.testing.assert_allclose(gb, [3.0, 3.0])
    np.testing.assert_allclose(ga, [2.0, -4.0])


def test_dropout_gradients_match_forward_mask():
    Dropout = _dropout_cls()
    keras.utils.set_random_seed(5)
    dense = keras.layers.Dense(32, kernel_initializer="ones", use_bias=False)
    drop = Dropout(0.5, seed=7)
    x = jnp.ones((4, 3))
    with GradientTape() as tape:
        h = dense(x)
        out = drop(h, training=True)
        loss = keras.ops.sum(out)
    (g,) = tape.gradient(loss, [dense.kernel])
    mask = np.asarray(out) != 0
    assert 0 < mask.mean() < 1
    # d loss / d kernel[i, j] = sum_b x[b, i] * mask[b, j] / (1 - rate)
    expected = np.asarray(x).T @ (mask / 0.5)
    np.testing.assert_allclose(g, expected, rtol=1e-6)


class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def call(self, x):
        return self.discriminator(x)

    def train_step(self, real):
        if isinstance(real, tuple):
            real = real[0]
        batch = keras.ops.shape(real)[0]
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        generated = self.generator(z)
        combined = keras.ops.concatenate([generated, real], axis=0)
        labels = keras.ops.concatenate([keras.ops.ones((batch, 1)), keras.ops.zeros((batch, 1))], axis=0)
        with GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        misleading = keras.ops.zeros((batch, 1))
        with GradientTape() as tape:
            g_loss = self.loss_fn(misleading, self.discriminator(self.generator(z)))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        return {"d_loss": d_loss, "g_loss": g_loss}


def _gan(latent=3, dim=4, optimizer=None):
    keras.utils.set_random_seed(11)
    disc = keras.Sequential([keras.Input((dim,)), keras.layers.Dense(5, activation="relu"),
                             keras.layers.Dense(1)], name="discriminator")
    gen = keras.Sequential([keras.Input((latent,)), keras.layers.Dense(5, activation="relu"),
                            keras.layers.Dense(dim)], name="generator")
    gan = GAN(disc, gen, latent)
    optimizer = optimizer or (lambda: keras.optimizers.SGD(0.05))
    gan.compile(optimizer(), optimizer(), keras.losses.BinaryCrossentropy(from_logits=True))
    return gan


def test_gan_own_adam_optimizers_carry_state_through_fit():
    # The GAN's d_optimizer / g_optimizer are first used inside the compiled step: they are
    # built eagerly, their moments and iteration counts are part of the step's state, and
    # fit gives the same weights as running the same train_step eagerly, batch by batch.
    real = np.random.default_rng(2).standard_normal((16, 4)).astype("float32")
    fitted = _gan(optimizer=lambda: keras.optimizers.Adam(0.05))
    fitted.fit(real, batch_size=8, epochs=1, shuffle=False, verbose=0)
    eager = _gan(optimizer=lambda: keras.optimizers.Adam(0.05))
    for start in (0, 8):
        eager.train_step(jnp.asarray(real[start:start + 8]))
    for model in (fitted, eager):
        for opt in (model.d_optimizer, model.g_optimizer):
            assert int(opt.iterations.numpy()) == 2
            moments = [v for v in opt.variables if v.path.endswith("_momentum")]
            assert moments and all(np.abs(np.asarray(v.numpy())).sum() > 0 for v in moments)
    for a, b in zip(fitted.discriminator.get_weights() + fitted.generator.get_weights(),
                    eager.discriminator.get_weights() + eager.generator.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_two_tape_gan_matches_hand_written_jax_step():
    gan = _gan()
    real = np.random.default_rng(2).standard_normal((8, 4)).astype("float32")
    d_vars, g_vars = gan.discriminator.trainable_weights, gan.generator.trainable_weights
    d0 = [np.asarray(v.numpy()) for v in d_vars]
    g0 = [np.asarray(v.numpy()) for v in g_vars]
    seed_state = np.asarray(gan.seed_generator.state.numpy())

    # The same two updates, written by hand with jax.grad over stateless calls.
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def disc_loss(dv, gv, z1):
        fake, _ = gan.generator.stateless_call(gv, [], z1)
        logits, _ = gan.discriminator.stateless_call(dv, [], jnp.concatenate([fake, real]))
        labels = jnp.concatenate([jnp.ones((8, 1)), jnp.zeros((8, 1))])
        return bce(labels, logits)

    def gen_loss(gv, dv, z2):
        fake, _ = gan.generator.stateless_call(gv, [], z2)
        logits, _ = gan.discriminator.stateless_call(dv, [], fake)
        return bce(jnp.zeros((8, 1)), logits)

    @jax.jit
    def reference(d0, g0, seed_state):
        sg = keras.random.SeedGenerator(1337)
        with scopes.StatelessScope([(sg.state, seed_state)]):
            z1 = keras.random.normal((8, 3), seed=sg)
            z2 = keras.random.normal((8, 3), seed=sg)
        gd = jax.grad(disc_loss)(d0, g0, z1)
        d1 = [a - 0.05 * g for a, g in zip(d0, gd)]
        gg = jax.grad(gen_loss)(g0, d1, z2)
        return d1, [a - 0.05 * g for a, g in zip(g0, gg)]

    d1, g1 = reference(d0, g0, seed_state)

    gan.fit(real, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for v, ref, before in zip(d_vars, d1, d0):
        np.testing.assert_allclose(v.numpy(), ref, atol=1e-5)
        assert not np.allclose(v.numpy(), before)
    for v, ref, before in zip(g_vars, g1, g0):
        np.testing.assert_allclose(v.numpy(), ref, atol=1e-5)
        assert not np.allclose(v.numpy(), before)


def test_gan_trains_both_networks_over_epochs():
    gan = _gan()
    real = np.random.default_rng(2).standard_normal((32, 4)).astype("float32")
    d0 = [np.array(w) for w in gan.discriminator.get_weights()]
    g0 = [np.array(w) for w in gan.generator.get_weights()]
    history = gan.fit(real, batch_size=8, epochs=2, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss"}
    assert all(np.isfinite(history.history["d_loss"]))
    assert all(not np.allclose(a, b) for a, b in zip(gan.discriminator.get_weights(), d0))
    assert all(not np.allclose(a, b) for a, b in zip(gan.generator.get_weights(), g0))


def test_no_recording_without_tape_and_hooks_are_transparent():
    # The wrappers keep names and serialization of built-ins.
    assert keras.activations.relu.__name__ == "relu"
    assert keras.activations.serialize(keras.activations.relu) == "relu"
    assert keras.ops.matmul.__name__ == "matmul"
    dense = keras.layers.Dense(2, activation=keras.activations.relu)
    assert dense.get_config()["activation"] == "relu"
    from keras_on_jax.layers.layer import _CALL_CONTEXT

    assert getattr(_CALL_CONTEXT, "tape_record", None) is None
    with GradientTape():
        assert _CALL_CONTEXT.tape_record is not None
    assert _CALL_CONTEXT.tape_record is None


def _bn_cls():
    cls = getattr(keras.layers, "BatchNormalization", None)
    if cls is None:
        from keras_on_jax.layers.normalization.batch_normalization import BatchNormalization as cls
    return cls


class Keras3StyleModel(keras.Model):
    """Keras 3's form: `self.compute_loss(...)` inside the tape, `self.compute_metrics`."""

    def train_step(self, data):
        x, y = data
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


@pytest.mark.parametrize("cls", [FAQModel, Keras3StyleModel])
def test_tape_train_step_with_dropout_and_batchnorm_matches_builtin_fit(cls):
    Dropout, BN = _dropout_cls(), _bn_cls()
    x, y, _ = _data(n=32)

    def build(model_cls):
        keras.utils.set_random_seed(9)
        inputs = keras.Input(shape=(8,))
        h = keras.layers.Dense(16, activation="relu")(inputs)
        h = BN()(h)
        h = Dropout(0.4, seed=3)(h)
        return model_cls(inputs, keras.layers.Dense(1)(h))

    custom, builtin = build(cls), build(keras.Model)
    builtin.set_weights(custom.get_weights())
    for m in (custom, builtin):
        m.compile(optimizer="adam", loss="mse")
    custom.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    builtin.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(custom.get_weights(), builtin.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
