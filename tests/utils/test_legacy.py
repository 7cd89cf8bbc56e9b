"""keras.utils.legacy: Keras 2 style (de)serialization, compared with real Keras 3."""

import keras
import pytest

import keras_on_jax as kj
from keras_on_jax.utils import legacy


class Point:
    """A plain (non-Keras) class with a config, as keras-tuner's hyperparameters are."""

    def __init__(self, x=0, y=0, scale=None):
        self.x, self.y, self.scale = x, y, scale

    def get_config(self):
        return {"x": self.x, "y": self.y, "scale": self.scale}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def double(x):
    return 2 * x


def _both(make):
    return legacy.serialize_keras_object(make(kj)), keras.utils.legacy.serialize_keras_object(
        make(keras))


@pytest.mark.parametrize("make", [
    lambda k: k.initializers.Constant(2.0),
    lambda k: k.regularizers.L2(0.5),
    lambda k: k.constraints.MaxNorm(3.0),
])
def test_serialize_matches_keras(make):
    ours, ref = _both(make)
    assert ours == ref


def test_serialize_nested_config_and_functions():
    nested = Point(1, 2, scale=Point(3, 4))
    out = legacy.serialize_keras_object(nested)
    assert out == keras.utils.legacy.serialize_keras_object(nested)
    assert out == {"class_name": "Point", "config": {
        "x": 1, "y": 2, "scale": {"class_name": "Point", "config": {"x": 3, "y": 4, "scale": None},
                                  "__passive_serialization__": True}}}
    assert legacy.serialize_keras_object(double) == "double"
    assert legacy.serialize_keras_object(None) is None
    with pytest.raises(ValueError, match="doesn't implement `get_config\\(\\)`"):
        legacy.serialize_keras_object(object())


def test_deserialize_round_trip_with_module_objects():
    config = legacy.serialize_keras_object(Point(1, 2, scale=Point(3, 4)))
    # keras-tuner passes its classes positionally as custom_objects.
    back = legacy.deserialize_keras_object(config, None, {"Point": Point})
    assert isinstance(back, Point) and (back.x, back.y) == (1, 2)
    assert isinstance(back.scale, Point) and back.scale.y == 4
    ref = keras.utils.legacy.deserialize_keras_object(config, None, {"Point": Point})
    assert ref.get_config()["x"] == back.x and isinstance(ref.scale, Point)
    # By name: classes are instantiated, functions returned as is.
    assert isinstance(legacy.deserialize_keras_object("Point", {"Point": Point}), Point)
    assert legacy.deserialize_keras_object("double", {"double": double}) is double
    assert legacy.deserialize_keras_object(double) is double


def test_deserialize_uses_registry_and_scopes():
    @kj.saving.register_keras_serializable(package="LegacyTest")
    class Scaled(kj.layers.Layer):
        def __init__(self, factor=1.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    config = legacy.serialize_keras_object(Scaled(3.0, name="s"))
    assert config["class_name"] == "LegacyTest>Scaled"
    layer = legacy.deserialize_keras_object(config)
    assert isinstance(layer, Scaled) and layer.factor == 3.0 and layer.name == "s"
    with kj.utils.custom_object_scope({"P2": Point}):
        assert isinstance(legacy.deserialize_keras_object({"class_name": "P2", "config": {}}),
                          Point)


def test_deserialize_errors_name_the_problem():
    with pytest.raises(ValueError, match="Unknown hyperparameter: 'Nope'"):
        legacy.deserialize_keras_object({"class_name": "Nope", "config": {}},
                                        printable_module_name="hyperparameter")
    with pytest.raises(ValueError, match="Improper config format"):
        legacy.deserialize_keras_object({"config": {}})
    with pytest.raises(ValueError, match="Could not interpret serialized object: 3"):
        legacy.deserialize_keras_object(3)


def test_exported_as_keras_utils_legacy():
    assert kj.utils.legacy is legacy
    assert {"serialize_keras_object", "deserialize_keras_object"} <= set(dir(kj.utils.legacy))
