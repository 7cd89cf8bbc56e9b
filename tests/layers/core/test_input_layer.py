"""`keras.Input` / `InputLayer` against real Keras 3 (JAX backend): config, and the
sparse / ragged flags a JAX backend cannot honour."""

import keras
import pytest

import keras_on_jax as kj


def test_config_as_keras():
    ours = kj.Input((3, None), dtype="int32", name="tokens")._keras_history.operation
    theirs = keras.Input((3, None), dtype="int32", name="tokens")._keras_history.operation
    config = ours.get_config()
    assert list(config) == list(theirs.get_config())
    assert config == {**theirs.get_config(), "batch_shape": [None, 3, None]}
    rebuilt = kj.layers.InputLayer.from_config(config)
    assert rebuilt.output.shape == (None, 3, None) and rebuilt.get_config() == config


def test_ragged_input_raises_keras_error():
    message = "`ragged=True` is not supported with the jax backend"
    with pytest.raises(ValueError, match=message):
        keras.Input((3,), ragged=True)
    with pytest.raises(ValueError, match=message):
        kj.Input((3,), ragged=True)
    with pytest.raises(ValueError, match=message):
        kj.layers.InputLayer.from_config({"batch_shape": [None, 3], "ragged": True})
    assert kj.Input((3,), ragged=False).ragged is False


def test_sparse_input_is_refused_with_the_dense_alternative():
    # Keras 3 on JAX has sparse tensors (BCOO) for some layers; they are not implemented
    # here, so a sparse input is refused at once rather than failing in a layer.
    with pytest.raises(ValueError, match=r"`sparse=True` is not supported with the jax "
                                         r"backend of keras_on_jax.*`sparse=False`.*densified"):
        kj.Input((3,), sparse=True)
    with pytest.raises(ValueError, match="`sparse=True` is not supported"):
        kj.layers.InputLayer(batch_shape=(None, 3), sparse=True)


def test_symbolic_tensors_keep_the_flags_as_keras():
    for lib in (keras, kj):
        tensor = lib.KerasTensor((None, 3), sparse=True)
        ragged = lib.KerasTensor((None, None), ragged=True, ragged_rank=1)
        assert (tensor.sparse, tensor.ragged, ragged.ragged, ragged.ragged_rank) == (
            True, False, True, 1)
        with pytest.raises(ValueError, match="cannot have `sparse=True` and `ragged=True`"):
            lib.KerasTensor((2,), sparse=True, ragged=True)
