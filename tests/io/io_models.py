"""Shared models for the io tests: the same architectures in real Keras and keras_on_jax."""

import numpy as np
import pytest

import keras
import keras_on_jax as kj
import keras_on_jax.saving  # noqa: F401


@keras.saving.register_keras_serializable(package="MyPkg")
class Scale(keras.layers.Layer):
    def __init__(self, init=2.0, **kw):
        super().__init__(**kw)
        self.init = init

    def build(self, input_shape):
        self.alpha = self.add_weight(shape=(input_shape[-1],), name="alpha",
                                     initializer=keras.initializers.Constant(self.init))
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                     name="count", dtype="int32")

    def call(self, x):
        return x * self.alpha

    def get_config(self):
        return {**super().get_config(), "init": self.init}


@kj.saving.register_keras_serializable(package="MyPkg", name="Scale")
class KjScale(kj.Layer):
    def __init__(self, init=2.0, **kw):
        super().__init__(**kw)
        self.init = init

    def build(self, input_shape):
        self.alpha = self.add_weight(shape=(input_shape[-1],), name="alpha",
                                     initializer=kj.initializers.Constant(self.init))
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                     name="count", dtype="int32")

    def call(self, x):
        return x * self.alpha

    def get_config(self):
        return {**super().get_config(), "init": self.init}


# The same class name as the Keras one: weight paths use the snake-cased class name.
KjScale.__name__ = KjScale.__qualname__ = "Scale"


def build_functional(lib, scale_cls):
    a = lib.Input((6,), name="in_a")
    b = lib.Input((6,), name="in_b")
    shared = lib.layers.Dense(5, name="shared_dense")
    inner = lib.Sequential([lib.Input((5,)), lib.layers.Dense(4, activation="tanh")], name="inner_seq")
    h = inner(shared(a))
    aux = scale_cls(3.0, name="scale")(shared(b))
    out = lib.layers.Dense(2, name="head")(h)
    return lib.Model([a, b], {"aux": aux, "out": out}, name="func")


def build_sequential(lib):
    return lib.Sequential([lib.Input((4,)), lib.layers.Dense(8, activation="relu"),
                           lib.layers.Dense(3)], name="seq")


def make_data():
    rng = np.random.default_rng(0)
    return {
        "x": rng.random((8, 4), dtype=np.float32),
        "y": rng.random((8, 3), dtype=np.float32),
        "xa": rng.random((4, 6), dtype=np.float32),
        "xb": rng.random((4, 6), dtype=np.float32),
    }
