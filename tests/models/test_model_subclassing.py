"""`keras.Model` subclasses: which constructor calls make a Functional graph (Keras 3's
`functional_init_arguments` as seen by `Model.__init__`), checked against real Keras 3."""

import keras
import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.models.functional import Functional


def _gan_class(lib):
    class GAN(lib.Model):
        def __init__(self, generator, discriminator):
            super().__init__()
            self.generator = generator
            self.discriminator = discriminator

        def call(self, z):
            return self.discriminator(self.generator(z))

    return GAN


def _sub_models(lib):
    generator = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, name="g")], name="gen")
    discriminator = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1, name="d")], name="disc")
    return generator, discriminator


def test_two_positional_init_arguments_make_the_subclass_not_a_functional_model():
    z = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
    outputs = []
    for lib, functional in ((keras, keras.src.models.functional.Functional), (kj, Functional)):
        generator, discriminator = _sub_models(lib)
        if outputs:
            generator.set_weights(outputs[0][1])
            discriminator.set_weights(outputs[0][2])
        gan = _gan_class(lib)(generator, discriminator)
        assert type(gan).__name__ == "GAN" and not isinstance(gan, functional)
        assert gan.generator is generator and gan.discriminator is discriminator
        outputs.append((np.asarray(gan(z)), generator.get_weights(), discriminator.get_weights(),
                        [w.path for w in gan.weights]))
    (k_out, _, _, k_paths), (j_out, _, _, j_paths) = outputs
    np.testing.assert_allclose(j_out, k_out, rtol=1e-6)
    assert j_paths == k_paths


def test_gan_with_two_positional_arguments_fits_its_own_train_step():
    gan_class = _gan_class(kj)

    class TrainedGAN(gan_class):
        def compile(self, d_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.loss_fn = loss_fn

        def train_step(self, data):
            z, labels = data
            with kj.GradientTape() as tape:
                loss = self.loss_fn(labels, self(z, training=True))
            weights = self.discriminator.trainable_weights
            grads = tape.gradient(loss, weights)
            self.d_optimizer.apply_gradients(zip(grads, weights))
            return {"d_loss": loss}

    gan = TrainedGAN(*_sub_models(kj))
    gan.compile(kj.optimizers.SGD(0.1), kj.losses.MeanSquaredError())
    rng = np.random.default_rng(1)
    z = rng.standard_normal((16, 4)).astype("float32")
    labels = rng.standard_normal((16, 1)).astype("float32")
    before = gan.generator.get_weights()
    history = gan.fit(z, labels, batch_size=16, epochs=5, verbose=0)
    losses = history.history["d_loss"]
    assert losses[-1] < losses[0]
    for a, b in zip(before, gan.generator.get_weights()):  # only the discriminator trains
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("how", ["positional", "keywords", "forwarded", "forwarded_keywords"])
def test_subclass_given_inputs_and_outputs_is_functional_as_keras(how):
    x = np.ones((2, 4), "float32")
    seen = []
    for lib, functional in ((keras, keras.src.models.functional.Functional), (kj, Functional)):

        class Forwarding(lib.Model):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.extra = "kept"

        class Tagged(lib.Model):
            def __init__(self, inputs, outputs, tag):
                super().__init__(inputs=inputs, outputs=outputs)
                self.tag = tag

        class Plain(lib.Model):
            def train_step(self, *args):  # the FAQ's pattern: only the step is custom
                return super().train_step(*args)

        inputs = lib.Input((4,))
        outputs = lib.layers.Dense(2, kernel_initializer="ones")(inputs)
        model = {
            "positional": lambda: Plain(inputs, outputs),
            "keywords": lambda: Plain(inputs=inputs, outputs=outputs),
            "forwarded": lambda: Forwarding(inputs, outputs),
            "forwarded_keywords": lambda: Tagged(inputs, outputs, "t"),
        }[how]()
        assert isinstance(model, functional)
        assert getattr(model, "extra", "kept") == "kept" and getattr(model, "tag", "t") == "t"
        seen.append((type(model).__name__, [type(l).__name__ for l in model.layers],
                     np.asarray(model(x))))
    (k_name, k_layers, k_out), (j_name, j_layers, j_out) = seen
    assert j_name == k_name and j_layers == k_layers
    np.testing.assert_allclose(j_out, k_out)
