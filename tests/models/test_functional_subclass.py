"""Model subclasses that build a graph in `__init__` and end with
`super().__init__(inputs, outputs)` (KerasHub's backbones and tasks), as in Keras 3; and
layers called with their first argument by keyword."""

import jax.numpy as jnp
import keras
import numpy as np
import pytest

import keras_on_jax as kj


def _tower_class(lib):
    class Tower(lib.Model):
        """Layers assigned before `super().__init__`, a property over one of them, and
        `get_config` / `from_config` of the subclass's own arguments (KerasHub's pattern)."""

        def __init__(self, units=3, **kwargs):
            self._encoder = lib.layers.Dense(units, activation="tanh", name="encoder")
            self.head = lib.layers.Dense(2, name="head")
            inputs = lib.Input((4,), name="features")
            outputs = self.head(self._encoder(inputs))
            super().__init__(inputs=inputs, outputs=outputs, **kwargs)
            self.units = units

        @property
        def encoder(self):
            return self._encoder

        def get_config(self):
            return {"units": self.units, "name": self.name}

    return Tower


def test_subclass_becomes_functional_and_matches_keras(tmp_path):
    Ours, Theirs = _tower_class(kj), _tower_class(keras)
    ours, theirs = Ours(units=5, name="tower"), Theirs(units=5, name="tower")
    assert isinstance(ours, Ours) and isinstance(ours, kj.models.Functional)
    assert type(ours).__name__ == "Tower" and ours.name == "tower"
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert ours.encoder is ours.layers[1] and ours.units == 5
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    # Weights written by Keras load here (paths: `layers/...`, then the subclass's attrs).
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    ours.load_weights(tmp_path / "theirs.weights.h5")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
    ours.save_weights(tmp_path / "ours.weights.h5")
    again = Theirs(units=5)
    again.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(again(x), theirs(x), rtol=1e-6, atol=1e-6)
    clone = Ours.from_config(ours.get_config())
    assert isinstance(clone, Ours) and clone.units == 5 and clone.count_params() == 5 * 4 + 5 + 12


def test_registered_subclass_saves_under_its_registered_name_as_keras(tmp_path):
    # KerasHub registers its backbones (`keras_hub>GPT2Backbone`); the file names the class
    # so, and real Keras 3 loads it back by that name.
    Ours, Theirs = _tower_class(kj), _tower_class(keras)
    kj.saving.register_keras_serializable(package="towers_test")(Ours)
    keras.saving.register_keras_serializable(package="towers_test")(Theirs)
    ours, theirs = Ours(units=3), Theirs(units=3)
    config = kj.saving.serialize_keras_object(ours)
    assert config["registered_name"] == "towers_test>Tower"
    assert config["registered_name"] == keras.saving.serialize_keras_object(theirs)["registered_name"]
    assert kj.saving.get_registered_name(type(ours)) == "towers_test>Tower"
    ours.save(tmp_path / "tower.keras")
    loaded = keras.saving.load_model(tmp_path / "tower.keras")
    assert isinstance(loaded, Theirs)
    x = np.random.default_rng(2).standard_normal((2, 4)).astype("float32")
    np.testing.assert_allclose(loaded(x), ours(x), rtol=1e-6, atol=1e-6)


def test_subclass_trains_with_fit():
    model = _tower_class(kj)(units=4)
    model.compile(optimizer=kj.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(1).standard_normal((16, 4)).astype("float32")
    y = np.stack([x.sum(1), x[:, 0]], 1)
    history = model.fit(x, y, epochs=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def _scale_layer_class(lib):
    class Scale(lib.layers.Layer):
        """A layer whose first `call` argument is usually passed by keyword."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, hidden_states, extra=None):
            out = hidden_states * self.w
            return out if extra is None else out + extra

    return Scale


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_first_argument_by_keyword_autocasts_and_keeps_masks(policy):
    results = {}
    for lib in (kj, keras):
        layer = _scale_layer_class(lib)(dtype=policy)
        embedded = lib.layers.Embedding(5, 3, mask_zero=True, embeddings_initializer="ones")(
            np.array([[1, 0, 2]]))
        out = layer(hidden_states=embedded, extra=np.float32(0.5))
        mask = (kj.src.backend.get_keras_mask if lib is kj else
                keras.src.backend.get_keras_mask)(out)
        results[lib.__name__] = (np.asarray(out), str(out.dtype), np.asarray(mask))
    ours, theirs = results["keras_on_jax"], results["keras"]
    np.testing.assert_allclose(ours[0].astype("float32"), theirs[0].astype("float32"))
    assert ours[1] == theirs[1]
    np.testing.assert_array_equal(ours[2], theirs[2])


def test_variable_value_is_the_stored_array_and_can_be_freed_then_assigned():
    # KerasHub's `from_preset` frees each weight's `_value` before loading the file.
    variable = kj.Variable(np.ones((2, 2), "float32"))
    assert variable._value is variable.get_raw_value()
    variable._value.delete()
    variable.assign(jnp.full((2, 2), 3.0))
    np.testing.assert_array_equal(variable.numpy(), np.full((2, 2), 3.0))
