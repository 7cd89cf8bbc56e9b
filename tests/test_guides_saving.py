"""Behaviour the Keras saving guides (keras-io `guides/serialization_and_saving.py`,
`guides/customizing_saving_and_serialization.py`) rely on, vs real Keras 3."""

import os

import numpy as np
import pytest

import keras_on_jax as kj


def _both():
    import keras

    return [kj, keras]


# ---- save_own_variables / load_own_variables: the default is a real, overridable method ----
def test_layer_save_own_variables_default_matches_keras():
    stores = []
    for k in _both():
        class Scale(k.layers.Layer):
            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="ones")
                self.b = self.add_weight(shape=(2,), initializer="zeros", trainable=False)

            def call(self, x):
                return k.ops.matmul(x, self.w) + self.b

        layer = Scale()
        layer.build((None, 3))
        store = {}
        layer.save_own_variables(store)
        stores.append({key: np.asarray(v) for key, v in store.items()})
        # load_own_variables is the inverse, and checks the count as Keras does.
        layer.load_own_variables({"0": np.full((3, 2), 2.0), "1": np.full((2,), 3.0)})
        np.testing.assert_allclose(np.asarray(layer.w), np.full((3, 2), 2.0))
        with pytest.raises(ValueError, match="expected 2 variables, but received 1"):
            layer.load_own_variables({"0": np.zeros((3, 2))})
    assert sorted(stores[0]) == sorted(stores[1]) == ["0", "1"]
    for key in stores[0]:
        np.testing.assert_allclose(stores[0][key], stores[1][key])


def test_super_save_own_variables_in_an_override_round_trips(tmp_path):
    # The guide's LayerWithCustomVariable: `super().save_own_variables(store)` plus an extra key.
    @kj.saving.register_keras_serializable(package="kj_guides_saving")
    class LayerWithCustomVariable(kj.layers.Dense):
        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)
            self.my_variable = kj.Variable(
                np.random.random((units,)), name="my_variable", dtype="float32")

        def save_own_variables(self, store):
            super().save_own_variables(store)
            store["variables"] = self.my_variable.numpy()

        def load_own_variables(self, store):
            self.my_variable.assign(store["variables"])
            for i, v in enumerate(self.weights):
                v.assign(store[f"{i}"])

        def call(self, inputs):
            return super().call(inputs) + self.my_variable

    model = kj.Sequential([LayerWithCustomVariable(1)])
    model.compile(optimizer="adam", loss="mean_squared_error")
    x = np.random.random((8, 10)).astype("float32")
    model.fit(x, np.random.random((8, 10)), verbose=0)
    path = os.path.join(tmp_path, "custom_vars_model.keras")
    model.save(path)
    restored = kj.models.load_model(path)
    np.testing.assert_allclose(model.layers[0].my_variable.numpy(),
                               restored.layers[0].my_variable.numpy())
    np.testing.assert_allclose(model.predict(x, verbose=0), restored.predict(x, verbose=0),
                               rtol=1e-6)


# ---- get_compile_config / compile_from_config overrides are used on save and load ----------
def test_custom_compile_config_round_trip(tmp_path):
    @kj.saving.register_keras_serializable(package="kj_guides_saving")
    def small_square_sum_loss(y_true, y_pred):
        return kj.ops.sum(kj.ops.square(y_pred - y_true) / 10.0, axis=1)

    @kj.saving.register_keras_serializable(package="kj_guides_saving")
    def mean_pred(y_true, y_pred):
        return kj.ops.mean(y_pred)

    @kj.saving.register_keras_serializable(package="kj_guides_saving")
    class ModelWithCustomCompile(kj.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense1 = kj.layers.Dense(8, activation="relu")
            self.dense2 = kj.layers.Dense(4, activation="softmax")

        def call(self, inputs):
            return self.dense2(self.dense1(inputs))

        def compile(self, optimizer, loss_fn, metrics):
            super().compile(optimizer=optimizer, loss=loss_fn, metrics=metrics)
            self.model_optimizer = optimizer
            self.loss_fn = loss_fn
            self.loss_metrics = metrics

        def get_compile_config(self):
            return {"model_optimizer": self.model_optimizer, "loss_fn": self.loss_fn,
                    "metric": self.loss_metrics}

        def compile_from_config(self, config):
            self.compile(
                optimizer=kj.utils.deserialize_keras_object(config["model_optimizer"]),
                loss_fn=kj.utils.deserialize_keras_object(config["loss_fn"]),
                metrics=kj.utils.deserialize_keras_object(config["metric"]))

    model = ModelWithCustomCompile()
    model.compile(optimizer="SGD", loss_fn=small_square_sum_loss,
                  metrics=["accuracy", mean_pred])
    x = np.random.random((4, 8)).astype("float32")
    model.fit(x, np.random.random((4,)), verbose=0)
    path = os.path.join(tmp_path, "custom_compile_model.keras")
    model.save(path)
    restored = kj.models.load_model(path)
    assert restored.model_optimizer == "SGD"
    assert restored.loss_fn is small_square_sum_loss
    assert restored.loss_metrics == ["accuracy", mean_pred]
    assert restored.optimizer.built  # as Keras: optimizer variables exist after loading
    np.testing.assert_allclose(model.predict(x, verbose=0), restored.predict(x, verbose=0),
                               rtol=1e-6)


def test_subclassed_model_built_by_fit_reloads_its_weights(tmp_path):
    @kj.saving.register_keras_serializable(package="kj_guides_saving")
    class TwoDense(kj.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d1 = kj.layers.Dense(5, activation="relu")
            self.bn = kj.layers.BatchNormalization()
            self.d2 = kj.layers.Dense(2)

        def call(self, x):
            return self.d2(self.bn(self.d1(x)))

    model = TwoDense()
    model.compile("adam", "mse")
    x = np.random.random((6, 3)).astype("float32")
    model.fit(x, np.random.random((6, 2)), verbose=0)
    path = os.path.join(tmp_path, "sub.keras")
    model.save(path)
    restored = kj.models.load_model(path)
    assert len(restored.weights) == len(model.weights) == 8
    for a, b in zip(model.weights, restored.weights):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b))
    np.testing.assert_allclose(model.predict(x, verbose=0), restored.predict(x, verbose=0),
                               rtol=1e-6)


# ---- custom activations: serialized and resolved as Keras does ------------------------------
def test_registered_custom_activation_serializes_like_keras_and_clones():
    import keras

    configs = []
    for k in _both():
        @k.saving.register_keras_serializable(package="kj_guides_pkg", name="custom_fn")
        def custom_fn(x):
            return x ** 2

        def plain_fn(x):
            return x

        configs.append((k.activations.serialize(custom_fn), k.activations.serialize(plain_fn),
                        k.layers.Dense(1, activation=custom_fn).get_config()["activation"]))
        if k is kj:
            ours_fn = custom_fn
    assert configs[0] == configs[1]
    assert configs[0][0]["config"] == "kj_guides_pkg>custom_fn"

    inputs = kj.Input(shape=(4,))
    model = kj.Model(inputs, kj.layers.Dense(1, activation=ours_fn)(inputs))
    clone = kj.models.clone_model(model)
    assert clone.layers[-1].activation is ours_fn
    assert kj.activations.deserialize(configs[0][0]) is ours_fn
    del keras


def test_activation_resolved_from_custom_object_scope():
    def scoped_act(x):
        return x * 3

    config = kj.activations.serialize(scoped_act)
    with pytest.raises(ValueError, match="scoped_act"):
        kj.activations.deserialize(config)
    with kj.saving.custom_object_scope({"scoped_act": scoped_act}):
        assert kj.activations.deserialize(config) is scoped_act
        assert kj.activations.deserialize("scoped_act") is scoped_act


# ---- nested custom layers stay configs for the owner's from_config --------------------------
def test_nested_custom_layer_is_left_to_the_owners_from_config():
    import keras

    results = []
    for k in _both():
        # Auto-generated names count per session: start both libraries from a fresh count so the
        # names compared below do not depend on which tests ran earlier in this process.
        k.utils.clear_session()
        @k.saving.register_keras_serializable(package="KjGuideLayers", name="KernelMult")
        class MyDense(k.layers.Layer):
            def __init__(self, units, *, kernel_initializer=None, nested_model=None, **kwargs):
                super().__init__(**kwargs)
                self.hidden_units = units
                self.kernel_initializer = kernel_initializer
                self.nested_model = nested_model

            def get_config(self):
                config = super().get_config()
                config.update({"units": self.hidden_units,
                               "kernel_initializer": self.kernel_initializer,
                               "nested_model": self.nested_model})
                return config

            def build(self, input_shape):
                self.kernel = self.add_weight(shape=(input_shape[-1], self.hidden_units),
                                              initializer=self.kernel_initializer)

            def call(self, inputs):
                return k.ops.matmul(inputs, self.kernel)

        @k.saving.register_keras_serializable(package="KjGuideModels")
        class CustomModel(k.layers.Layer):
            def __init__(self, first_layer, second_layer=None, **kwargs):
                super().__init__(**kwargs)
                self.first_layer = first_layer
                self.second_layer = second_layer if second_layer is not None else k.layers.Dense(8)

            def get_config(self):
                config = super().get_config()
                config.update({"first_layer": self.first_layer,
                               "second_layer": self.second_layer})
                return config

            @classmethod
            def from_config(cls, config):
                config["first_layer"] = k.layers.deserialize(config["first_layer"])
                config["second_layer"] = k.layers.deserialize(config["second_layer"])
                return cls(**config)

            def call(self, inputs):
                return self.first_layer(self.second_layer(inputs))

        inner = MyDense(units=16, kernel_initializer="ones")
        outer = k.layers.deserialize(k.layers.serialize(MyDense(units=64, nested_model=inner)))
        inputs = k.Input((32,))
        model = k.Model(inputs, CustomModel(first_layer=inner)(inputs))
        new_model = k.Model.from_config(model.get_config())
        results.append((isinstance(outer.nested_model, dict), outer.nested_model["class_name"],
                        type(new_model.layers[-1].first_layer).__name__,
                        new_model.output_shape, str(outer)))
    assert results[0] == results[1]
    assert results[0][:4] == (True, "MyDense", "MyDense", (None, 16))
    del keras


def test_print_layer_is_keras_repr():
    import keras

    for make in (lambda k: k.layers.Dense(2, name="d"),
                 lambda k: k.Sequential([k.layers.Dense(2)], name="seq")):
        assert str(make(kj)) == str(make(keras)) == repr(make(kj))


# ---- unseeded keras.random in call: building (symbolic or by fit) works, as in Keras ---------
def test_unseeded_random_in_call_builds_symbolically_and_by_fit():
    class Sampling(kj.layers.Layer):
        def call(self, inputs):
            z_mean, z_log_var = inputs
            eps = kj.random.normal(shape=kj.ops.shape(z_mean))
            return z_mean + kj.ops.exp(0.5 * z_log_var) * eps

    class VAE(kj.Model):
        def __init__(self):
            super().__init__()
            self.m = kj.layers.Dense(2)
            self.v = kj.layers.Dense(2)
            self.s = Sampling()
            self.d = kj.layers.Dense(4)

        def call(self, x):
            return self.d(self.s((self.m(x), self.v(x))))

    i = kj.Input((4,))
    z = Sampling()((kj.layers.Dense(2)(i), kj.layers.Dense(2)(i)))
    assert kj.Model(i, z).output.shape == (None, 2)
    vae = VAE()
    vae.compile("adam", "mse")
    x = np.ones((8, 4), "float32")
    history = vae.fit(x, x, epochs=2, batch_size=4, verbose=0)
    assert len(vae.weights) == 6 and np.all(np.isfinite(history.history["loss"]))
    # Sampling stays random from step to step (the draw is not frozen into a constant).
    a, b = vae.predict(x, verbose=0), vae.predict(x, verbose=0)
    assert not np.allclose(a, b)
