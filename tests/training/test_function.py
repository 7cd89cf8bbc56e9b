"""`keras.function` (`tf.function` under the runner): one compiled program per signature.

The tf.keras guide "Writing a training loop from scratch" is the model: its train and
validation steps run compiled, eagerly and as `fit`, and must agree.
"""

import jax
import numpy as np
import pytest

import keras_on_jax as keras
from keras_on_jax import ops
from keras_on_jax.training.function import TensorSpec


def _mlp(seed=0, dropout=False):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(6,), name="digits")
    x = keras.layers.Dense(8, activation="relu")(inputs)
    if dropout:
        x = keras.layers.Dropout(0.25)(x)
    outputs = keras.layers.Dense(3, name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def _digits(n, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6)).astype("float32"), rng.integers(0, 3, n).astype("int32")


def _batches(x, y, size):
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]


def _guide_loop(compiled, epochs=2):
    """The guide's loop: a train step and a validation step, with accuracy metrics; the
    last batch of each dataset is partial (a second trace)."""
    model = _mlp()
    optimizer = keras.optimizers.Adam(learning_rate=1e-2)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    wrap = keras.function if compiled else (lambda f: f)

    @wrap
    def train_step(x, y):
        with keras.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        train_acc_metric.update_state(y, logits)
        return loss_value

    @wrap
    def test_step(x, y):
        val_logits = model(x, training=False)
        val_acc_metric.update_state(y, val_logits)

    x, y = _digits(70, 1)
    xv, yv = _digits(20, 2)
    history = []
    for _ in range(epochs):
        for xb, yb in _batches(x, y, 16):
            loss_value = train_step(xb, yb)
        train_acc = float(train_acc_metric.result())
        train_acc_metric.reset_state()
        for xb, yb in _batches(xv, yv, 16):
            test_step(xb, yb)
        val_acc = float(val_acc_metric.result())
        val_acc_metric.reset_state()
        history.append((train_acc, val_acc, float(loss_value)))
    return model, history, train_step, test_step


def test_guide_loop_compiled_equals_eager_and_fit():
    compiled_model, compiled, train_step, test_step = _guide_loop(compiled=True)
    eager_model, eager, _, _ = _guide_loop(compiled=False)
    # Metric values are exactly those of the eager loop; the weights agree to 1e-5.
    assert [h[:2] for h in compiled] == [h[:2] for h in eager]
    np.testing.assert_allclose([h[2] for h in compiled], [h[2] for h in eager], rtol=1e-5)
    for a, b in zip(compiled_model.get_weights(), eager_model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # One trace for the full batches, one for the last partial batch.
    assert train_step.experimental_get_tracing_count() == 2
    assert test_step.experimental_get_tracing_count() == 2

    # `fit` on the same batches, in the same order, gives the same model and metrics.
    model = _mlp()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    x, y = _digits(70, 1)
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0,
                        validation_data=_digits(20, 2)).history
    assert history["sparse_categorical_accuracy"] == [h[0] for h in compiled]
    assert history["val_sparse_categorical_accuracy"] == [h[1] for h in compiled]
    for a, b in zip(compiled_model.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_nested_tapes_inside_a_compiled_function():
    keras.utils.set_random_seed(0)
    layer = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
    layer.build((None, 2))
    x = np.array([[1.0, 2.0]], "float32")

    def second_order(x):
        with keras.GradientTape() as outer:
            with keras.GradientTape() as inner:
                y = layer(x) ** 3  # y = (w . x)^3
            g = inner.gradient(y, layer.kernel)  # 3 (w.x)^2 x
            s = ops.sum(g)
        return g, outer.gradient(s, layer.kernel)  # 6 (w.x) x sum(x)

    g, gg = keras.function(second_order)(x)
    # w = (1, 1): w.x = 3, so g = 27 x and gg = 6 * 3 * 3 * x = 54 x.
    np.testing.assert_allclose(np.ravel(g), [27.0, 54.0], rtol=1e-6)
    np.testing.assert_allclose(np.ravel(gg), [54.0, 108.0], rtol=1e-6)
    eager_g, eager_gg = second_order(x)
    np.testing.assert_allclose(gg, eager_gg, rtol=1e-6)


def _gan(compiled, steps=3):
    keras.utils.set_random_seed(3)
    latent_dim, batch_size = 4, 8
    discriminator = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8),
                                      keras.layers.LeakyReLU(0.2), keras.layers.Dense(1)])
    generator = keras.Sequential([keras.Input((latent_dim,)), keras.layers.Dense(8),
                                  keras.layers.LeakyReLU(0.2), keras.layers.Dense(5)])
    d_optimizer = keras.optimizers.Adam(learning_rate=3e-3)
    g_optimizer = keras.optimizers.Adam(learning_rate=3e-3)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    wrap = keras.function if compiled else (lambda f: f)

    @wrap
    def train_step(real_images):
        random_latent_vectors = keras.random.normal((batch_size, latent_dim))
        generated_images = generator(random_latent_vectors)
        combined_images = ops.concatenate([generated_images, real_images], axis=0)
        labels = ops.concatenate([ops.ones((batch_size, 1)),
                                  ops.zeros((real_images.shape[0], 1))], axis=0)
        labels += 0.05 * keras.random.uniform(labels.shape)
        with keras.GradientTape() as tape:
            predictions = discriminator(combined_images)
            d_loss = loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, discriminator.trainable_weights)
        d_optimizer.apply_gradients(zip(grads, discriminator.trainable_weights))
        random_latent_vectors = keras.random.normal((batch_size, latent_dim))
        misleading_labels = ops.zeros((batch_size, 1))
        with keras.GradientTape() as tape:
            predictions = discriminator(generator(random_latent_vectors))
            g_loss = loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, generator.trainable_weights)
        g_optimizer.apply_gradients(zip(grads, generator.trainable_weights))
        return d_loss, g_loss, generated_images

    real = np.random.default_rng(4).standard_normal((batch_size, 5)).astype("float32")
    out = [train_step(real) for _ in range(steps)]
    weights = discriminator.get_weights() + generator.get_weights()
    return out, weights, train_step, (d_optimizer, g_optimizer)


def test_gan_step_with_two_optimizers():
    compiled, compiled_weights, train_step, optimizers = _gan(compiled=True)
    eager, eager_weights, _, _ = _gan(compiled=False)
    assert isinstance(compiled[-1][0], jax.Array)
    for (cd, cg, ci), (ed, eg, ei) in zip(compiled, eager):
        np.testing.assert_allclose([cd, cg], [ed, eg], rtol=1e-5)
        np.testing.assert_allclose(ci, ei, atol=1e-5)
    for a, b in zip(compiled_weights, eager_weights):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # Both optimizers were built on the first call (outside the trace) and stepped.
    assert [int(o.iterations.numpy()) for o in optimizers] == [3, 3]
    assert train_step.experimental_get_tracing_count() == 1
    # Unseeded keras.random in the function advanced every call.
    assert not np.allclose(compiled[0][2], compiled[1][2])


def test_retracing_rules_and_trace_time_side_effects():
    traced = []

    @keras.function
    def scale(x, factor, *, mode="mul"):
        traced.append((x.shape, factor, mode))  # a Python side effect: trace time only
        return x * factor if mode == "mul" else x + factor

    a = np.ones((2, 3), "float32")
    np.testing.assert_allclose(scale(a, 2.0), 2 * a)
    np.testing.assert_allclose(scale(a + 1, 2.0), 2 * (a + 1))  # same signature
    assert scale.experimental_get_tracing_count() == 1
    scale(np.ones((4, 3), "float32"), 2.0)  # new shape
    scale(a, 3.0)  # new Python value
    scale(a.astype("int32"), 2)  # new dtype (and Python type)
    out = scale(a, 3.0, mode="add")  # new keyword value
    np.testing.assert_allclose(out, a + 3)
    assert scale.experimental_get_tracing_count() == 5
    assert len(traced) == 5
    scale(np.ones((4, 3), "float32"), 2.0)
    assert scale.experimental_get_tracing_count() == 5


def test_array_arguments_keep_tf_rules_and_donation_safety():
    # Calls whose arguments are all arrays take a shorter path (keyed on shapes and
    # dtypes only): the same traces, results and buffer safety as any other call.
    total = keras.Variable(np.zeros(3, "float32"), name="total")
    traced = []

    @keras.function
    def add(x, tag=None):
        traced.append(x.dtype)  # trace time only
        total.assign(total + x)
        return total.value * 2.0, tag

    ones = np.ones(3, "float32")
    held = total.value  # kept by the user: must survive donation
    for _ in range(3):
        out, tag = add(ones)
    np.testing.assert_allclose(out, [6.0, 6.0, 6.0])
    assert tag is None and add.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(held, [0.0, 0.0, 0.0])
    traces_before = len(traced)
    add(np.ones(3, "int32"))  # new dtype: traces again (int32 added as float32)
    assert add.experimental_get_tracing_count() == 2
    # The argument is the Variable's own buffer: it is not donated away under the call.
    current = total.value
    out, _ = add(current)
    np.testing.assert_allclose(current, [4.0, 4.0, 4.0])
    np.testing.assert_allclose(total.numpy(), [8.0, 8.0, 8.0])
    np.testing.assert_allclose(out, [16.0, 16.0, 16.0])
    # A non-numeric NumPy array is an object keyed by identity, not a traced input.
    label = np.array(["a"])
    assert add(ones, label)[1] is label
    assert add(ones, label)[1] is label
    assert add.experimental_get_tracing_count() == 4  # ones, int32, a JAX array, label
    assert str(traced[-3]) == "int32" and len(traced) == traces_before + 3
    np.testing.assert_allclose(total.numpy(), [10.0, 10.0, 10.0])


def test_decorator_with_arguments_reduce_retracing_and_methods():
    class Scaler:
        def __init__(self, k):
            self.k = k

        @keras.function(reduce_retracing=True, jit_compile=True)
        def apply(self, x):
            return x * self.k

    a, b = Scaler(2.0), Scaler(5.0)
    x = np.arange(3, dtype="float32")
    np.testing.assert_allclose(a.apply(x), 2 * x)
    np.testing.assert_allclose(b.apply(x), 5 * x)
    assert a.apply is a.apply and a.apply is not b.apply


def test_batchnorm_statistics_and_dropout_match_eager():
    def run(compiled):
        keras.utils.set_random_seed(7)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5),
                                  keras.layers.BatchNormalization(),
                                  keras.layers.Dropout(0.5), keras.layers.Dense(1)])
        optimizer = keras.optimizers.SGD(0.1)

        def step(x, y):
            with keras.GradientTape() as tape:
                loss = ops.mean((model(x, training=True) - y) ** 2)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        step = keras.function(step) if compiled else step
        rng = np.random.default_rng(0)
        losses = [step(rng.standard_normal((8, 4)).astype("float32"),
                       rng.standard_normal((8, 1)).astype("float32")) for _ in range(3)]
        bn = model.layers[1]
        return losses, [bn.moving_mean.numpy(), bn.moving_variance.numpy()], model.get_weights()

    losses, stats, weights = run(True)
    e_losses, e_stats, e_weights = run(False)
    np.testing.assert_allclose(losses, e_losses, rtol=1e-5)
    for a, b in zip(stats + weights, e_stats + e_weights):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert not np.allclose(stats[0], 0.0)  # the moving mean moved


def test_seed_generators_advance_and_equal_eager():
    def draws(compiled):
        gen = keras.random.SeedGenerator(42)
        keras.utils.set_random_seed(1)

        def f():
            return keras.random.uniform((3,), seed=gen), keras.random.normal((2,))

        f = keras.function(f) if compiled else f
        return [f() for _ in range(3)]

    compiled, eager = draws(True), draws(False)
    for (cu, cn), (eu, en) in zip(compiled, eager):
        np.testing.assert_allclose(cu, eu, rtol=1e-6)
        np.testing.assert_allclose(cn, en, rtol=1e-6)
    assert not np.allclose(compiled[0][0], compiled[1][0])
    assert not np.allclose(compiled[0][1], compiled[1][1])


def test_add_loss_in_a_compiled_function():
    class ActivityRegularization(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * ops.sum(inputs))
            return inputs

    def run(compiled):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((3,))
        x = keras.layers.Dense(4)(inputs)
        outputs = ActivityRegularization()(x)
        model = keras.Model(inputs, outputs)
        optimizer = keras.optimizers.SGD(0.1)

        def step(x):
            with keras.GradientTape() as tape:
                loss_value = ops.mean(model(x, training=True))
                loss_value += sum(model.losses)  # the guide's line
            grads = tape.gradient(loss_value, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            return loss_value

        step = keras.function(step) if compiled else step
        x = np.arange(6, dtype="float32").reshape(2, 3)
        out = [float(step(x)) for _ in range(2)]
        return out, [float(l) for l in model.losses], model.get_weights()

    out, losses, weights = run(True)
    e_out, e_losses, e_weights = run(False)
    np.testing.assert_allclose(out, e_out, rtol=1e-5)
    # After the call, `model.losses` holds arrays (the last call's), as after an eager call.
    np.testing.assert_allclose(losses, e_losses, rtol=1e-5)
    for a, b in zip(weights, e_weights):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_python_control_flow_on_a_traced_value_is_a_clear_error():
    @keras.function
    def clip(x):
        if ops.sum(x) > 0:
            return x
        return -x

    with pytest.raises(TypeError, match=r"keras\.ops\.cond.*keras\.ops\.while_loop"):
        clip(np.ones(3, "float32"))

    @keras.function
    def clip_with_cond(x):
        return ops.cond(ops.sum(x) > 0, lambda: x, lambda: -x)

    np.testing.assert_allclose(clip_with_cond(-np.ones(3, "float32")), np.ones(3))


def test_called_inside_other_compiled_code_and_returned_values():
    counter = keras.Variable(0.0, name="counter")

    @keras.function
    def inner(x):
        counter.assign_add(1.0)
        return x * 2, "label", None

    @keras.function
    def outer(x):
        y, _, _ = inner(x)
        return y + 1

    x = np.ones(2, "float32")
    y, label, nothing = inner(x)
    assert isinstance(y, jax.Array) and label == "label" and nothing is None
    np.testing.assert_allclose(outer(x), [3.0, 3.0])
    assert float(counter.numpy()) == 2.0  # inner, then inner inlined in outer
    assert inner.experimental_get_tracing_count() == 1
    # Inside a user's `jax.jit`, a (stateless) function is part of that program.
    np.testing.assert_allclose(jax.jit(keras.function(lambda v: v * 3))(x), [3.0, 3.0])


def test_function_inside_fit_train_step():
    @keras.function
    def mse(y, y_pred):
        return ops.mean((y - y_pred) ** 2)

    class Model(keras.Model):
        def train_step(self, data):
            x, y = data
            with keras.GradientTape() as tape:
                loss = mse(y, self(x, training=True))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return {"loss": loss}

    keras.utils.set_random_seed(0)
    inputs = keras.Input((2,))
    model = Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    x = np.random.default_rng(0).standard_normal((32, 2)).astype("float32")
    y = x @ np.array([[1.0], [-2.0]], "float32")
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]


def test_input_signature_checks_and_converts():
    @keras.function(input_signature=[TensorSpec((None, 2), "float32")])
    def double(x):
        return x * 2

    out = double(np.ones((3, 2), dtype="float64"))
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match=r"Expected shape \(None, 2\)"):
        double(np.ones((3, 4), "float32"))


def test_outer_tape_differentiates_through_a_function_and_iterators_run_eagerly():
    w = keras.Variable(np.array([2.0, 3.0], "float32"), name="w")

    @keras.function
    def energy(x):
        return ops.sum(w * w * x)

    x = np.ones(2, "float32")
    with keras.GradientTape() as tape:
        e = energy(x)
    np.testing.assert_allclose(tape.gradient(e, w), [4.0, 6.0])  # 2 w x

    @keras.function
    def take(iterator):
        return next(iterator) * 2

    batches = iter([np.ones(2, "float32"), np.full(2, 5.0, "float32")])
    np.testing.assert_allclose(take(batches), [2.0, 2.0])
    np.testing.assert_allclose(take(batches), [10.0, 10.0])  # `next` ran again
