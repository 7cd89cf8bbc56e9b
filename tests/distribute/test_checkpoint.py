"""Sharded Orbax checkpoints: saved on 8 devices, restored on 1 and on 2."""

import jax
import numpy as np
import pytest

import keras_on_jax as keras
from keras_on_jax import distribute, distribution


def _model():
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, name="dense"),
                             keras.layers.Dense(8, name="dense_1")], name="seq")


def _mp(devices, shape):
    mesh = distribution.DeviceMesh(shape, ("batch", "model"), devices=devices)
    lm = distribution.LayoutMap(mesh)
    lm[".*/kernel"] = (None, "model")
    return distribution.ModelParallel(layout_map=lm)


def test_save_on_8_restore_on_1_and_2(tmp_path):
    src = _model()
    rng = np.random.default_rng(0)
    src.set_weights([rng.normal(size=w.shape).astype("float32") for w in src.get_weights()])
    with _mp(distribution.list_devices(), (2, 4)).scope():
        distribute.save_sharded(src, tmp_path / "ckpt")
    assert (tmp_path / "ckpt").is_dir()

    one = _model()
    distribute.restore_sharded(one, tmp_path / "ckpt")
    for a, b in zip(one.get_weights(), src.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(one.layers[0].kernel.get_raw_value().sharding.device_set) == 1

    two = _model()
    with _mp(["cpu:6", "cpu:7"], (1, 2)).scope():
        distribute.restore_sharded(two, tmp_path / "ckpt")
    kernel = two.layers[0].kernel.get_raw_value()
    assert kernel.sharding.device_set == {jax.devices()[6], jax.devices()[7]}
    assert kernel.addressable_shards[0].data.shape == (8, 8)
    for a, b in zip(two.get_weights(), src.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_restore_mismatch_is_clear(tmp_path):
    src = _model()
    distribute.save_sharded(src, tmp_path / "ckpt")
    other = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, name="other")], name="seq")
    with pytest.raises(ValueError, match=r"missing variables \['seq/other/bias', 'seq/other/kernel'\]"):
        distribute.restore_sharded(other, tmp_path / "ckpt")
    with pytest.raises(FileNotFoundError):
        distribute.restore_sharded(src, tmp_path / "nothing")
