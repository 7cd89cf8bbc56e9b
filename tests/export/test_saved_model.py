"""format="tf_saved_model": through jax2tf when TensorFlow is installed; a clear ImportError
when it is not."""

import importlib.util

import numpy as np
import pytest

import keras_on_jax as keras
from keras_on_jax.export import ExportArchive

HAS_TF = importlib.util.find_spec("tensorflow") is not None


def _model():
    return keras.Sequential([
        keras.Input((3,), name="x"),
        keras.layers.Dense(4, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(2),
    ])


@pytest.mark.skipif(HAS_TF, reason="TensorFlow is installed: the export itself is tested")
def test_missing_tensorflow_names_the_package_and_the_alternatives(tmp_path):
    model = _model()
    for write in (lambda: model.export(tmp_path / "m"),  # the default format, as in Keras
                  lambda: model.export(tmp_path / "m", format="tf_saved_model")):
        with pytest.raises(ImportError) as info:
            write()
        message = str(info.value)
        assert "needs TensorFlow (the `tensorflow` package)" in message
        assert "format='onnx' or format='jax'" in message
    archive = ExportArchive()
    archive.track_and_add_endpoint("serve", model,
                                   [keras.InputSpec(shape=(None, 3), dtype="float32")])
    with pytest.raises(ImportError, match="needs TensorFlow"):
        archive.write_out(tmp_path / "a")
    assert not (tmp_path / "m").exists() and not (tmp_path / "a").exists()


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow is not installed (the SavedModel format "
                                       "needs it; ONNX and jax artifacts do not)")
def test_saved_model_serves_predict(tmp_path, rng):
    import tensorflow as tf

    model = _model()
    model.export(tmp_path / "m", verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "m"))
    for n in (1, 5):
        x = rng.standard_normal((n, 3)).astype("float32")
        np.testing.assert_allclose(reloaded.serve(x).numpy(), model.predict(x, verbose=0),
                                   atol=1e-5)
    assert len(reloaded.variables) == len(model.variables)
    archive = ExportArchive()
    archive.track(model)
    archive.add_endpoint("call", lambda x: model(x, training=False),
                         [keras.InputSpec(shape=(None, 3), dtype="float32")])
    archive.add_variable_collection("kernels", [model.layers[0].kernel])
    archive.write_out(tmp_path / "a", verbose=False)
    revived = tf.saved_model.load(str(tmp_path / "a"))
    x = rng.standard_normal((2, 3)).astype("float32")
    np.testing.assert_allclose(revived.call(x).numpy(), model.predict(x, verbose=0), atol=1e-5)
    np.testing.assert_array_equal(revived.kernels[0].numpy(),
                                  np.asarray(model.layers[0].kernel.value))
