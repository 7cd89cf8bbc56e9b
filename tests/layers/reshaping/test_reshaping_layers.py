"""Reshaping layers vs real Keras 3."""

import numpy as np
import pytest

import keras_on_jax as kj
from keras_on_jax.layers import reshaping
from layer_test_utils import run_layer_test

CASES = [
    ("Reshape", dict(target_shape=(6, 2)), (2, 3, 4), (2, 6, 2)),
    ("Reshape", dict(target_shape=(-1, 3)), (2, 3, 4), (2, 4, 3)),
    ("Flatten", {}, (2, 3, 4), (2, 12)),
    ("Flatten", dict(data_format="channels_first"), (2, 3, 2, 2), (2, 12)),
    ("Flatten", {}, (2,), (2, 1)),
    ("Permute", dict(dims=(2, 1)), (2, 3, 4), (2, 4, 3)),
    ("Permute", dict(dims=(3, 1, 2)), (2, 3, 4, 5), (2, 5, 3, 4)),
    ("RepeatVector", dict(n=3), (2, 4), (2, 3, 4)),
    ("Cropping1D", {}, (2, 5, 3), (2, 3, 3)),
    ("Cropping1D", dict(cropping=(2, 0)), (2, 5, 3), (2, 3, 3)),
    ("Cropping2D", dict(cropping=((1, 0), (1, 2))), (2, 4, 5, 2), (2, 3, 2, 2)),
    ("Cropping2D", dict(cropping=1, data_format="channels_first"), (2, 2, 4, 5), (2, 2, 2, 3)),
    ("Cropping3D", {}, (1, 4, 4, 5, 2), (1, 2, 2, 3, 2)),
    ("Cropping3D", dict(cropping=((0, 1), (1, 0), (0, 0)), data_format="channels_first"),
     (1, 2, 4, 4, 3), (1, 2, 3, 3, 3)),
    ("UpSampling1D", dict(size=3), (2, 3, 2), (2, 9, 2)),
    ("UpSampling2D", {}, (2, 3, 2, 2), (2, 6, 4, 2)),
    ("UpSampling2D", dict(size=(2, 3), data_format="channels_first"), (2, 2, 3, 2),
     (2, 2, 6, 6)),
    ("UpSampling2D", dict(size=(2, 3), interpolation="bilinear"), (2, 3, 4, 2), (2, 6, 12, 2)),
    ("UpSampling2D", dict(size=2, interpolation="bilinear", data_format="channels_first"),
     (1, 2, 3, 3), (1, 2, 6, 6)),
    ("UpSampling3D", {}, (1, 2, 2, 3, 2), (1, 4, 4, 6, 2)),
    ("UpSampling3D", dict(size=(1, 2, 3), data_format="channels_first"), (1, 2, 2, 2, 2),
     (1, 2, 2, 4, 6)),
    ("ZeroPadding1D", {}, (2, 3, 2), (2, 5, 2)),
    ("ZeroPadding1D", dict(padding=(0, 2), data_format="channels_first"), (2, 3, 2),
     (2, 3, 4)),
    ("ZeroPadding2D", {}, (2, 3, 2, 2), (2, 5, 4, 2)),
    ("ZeroPadding2D", dict(padding=((1, 0), (2, 3)), data_format="channels_first"),
     (2, 2, 3, 2), (2, 2, 4, 7)),
    ("ZeroPadding3D", dict(padding=(1, 0, 2)), (1, 2, 2, 2, 2), (1, 4, 2, 6, 2)),
]


@pytest.mark.parametrize("name,kwargs,input_shape,expected", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_reshaping_matches_keras(name, kwargs, input_shape, expected):
    run_layer_test(getattr(reshaping, name), kwargs, input_shape=input_shape,
                   expected_output_shape=expected, expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0)


def test_configs_match_keras():
    import keras

    for name, kwargs, *_ in CASES:
        assert getattr(reshaping, name)(name="r", **kwargs).get_config() == getattr(
            keras.layers, name)(name="r", **kwargs).get_config(), name


def test_symbolic_unknown_dims():
    x = kj.Input(shape=(None, 4))
    assert tuple(reshaping.Reshape((-1, 2))(x).shape) == (None, None, 2)
    assert tuple(reshaping.Flatten()(x).shape) == (None, None)
    assert tuple(reshaping.Cropping1D((1, 1))(x).shape) == (None, None, 4)
    assert tuple(reshaping.UpSampling1D(2)(x).shape) == (None, None, 4)
    assert tuple(reshaping.ZeroPadding1D(2)(x).shape) == (None, None, 4)


def test_errors():
    with pytest.raises(ValueError, match="dims"):
        reshaping.Permute((0, 1))
    with pytest.raises(ValueError, match="target_shape"):
        reshaping.Reshape((-1, -1))
    with pytest.raises(ValueError, match="total size"):
        reshaping.Reshape((5,))(np.zeros((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="cropping"):
        reshaping.Cropping1D((2, 2))(np.zeros((1, 4, 1), "float32"))
    with pytest.raises(TypeError):
        reshaping.RepeatVector(2.5)
    with pytest.raises(ValueError, match="padding"):
        reshaping.ZeroPadding2D(((1, 1), (1, 1), (1, 1)))
