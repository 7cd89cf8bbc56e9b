"""keras.applications.inception_resnet_v2 against real Keras 3: architecture, predictions
from a weights file saved by Keras, `weights="imagenet"` lookup, preprocessing."""

import keras
import numpy as np
import pytest
from test_applications import _randomize, _save_legacy_h5, assert_same_architecture

import keras_on_jax.applications as A
from keras_on_jax.applications import imagenet_utils
from keras_on_jax.applications import inception_resnet_v2 as IR

KW = dict(input_shape=(75, 75, 3), classes=5, classifier_activation=None)


@pytest.fixture(scope="module")
def keras_model():
    model = keras.applications.InceptionResNetV2(weights=None, **KW)
    _randomize(model)
    return model


def test_architecture_parity(keras_model):
    ours = A.InceptionResNetV2(weights=None, **KW)
    assert_same_architecture(ours, keras_model)
    # The scaled residual sums are real (weightless) layers, as in Keras.
    scales = [la for la in ours.layers if type(la).__name__ == "CustomScaleLayer"]
    assert [la.scale for la in scales] == [0.17] * 10 + [0.1] * 20 + [0.2] * 9 + [1.0]


def test_prediction_parity_from_keras_weights_file(keras_model, tmp_path):
    x = np.random.default_rng(1).uniform(-1, 1, (2, 75, 75, 3)).astype("float32")
    expected = np.asarray(keras_model.predict(x, verbose=0))
    path = str(tmp_path / "w.h5")
    _save_legacy_h5(keras_model, path)
    ours = A.InceptionResNetV2(weights=path, **KW)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4, rtol=1e-4)


def test_no_top_max_pooling_shape():
    m = A.InceptionResNetV2(weights=None, include_top=False, input_shape=(75, 75, 3),
                            pooling="max")
    assert type(m.layers[-1]).__name__ == "GlobalMaxPooling2D"
    assert tuple(m.output.shape) == (None, 1536)


def test_imagenet_lookup_uses_published_file_and_hash(monkeypatch):
    seen = []

    def fake(fname, origin, file_hash=None):
        seen.append((fname, origin, file_hash))
        raise OSError("offline")

    monkeypatch.setattr(imagenet_utils, "get_pretrained_file", fake)
    base = "https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/"
    for include_top, fname, h in [
            (False, "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
             "d19885ff4a710c122648d3b5c3b684e4"),
            (True, "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
             "e693bd0210a403b3192acc6073ad2e96")]:
        seen.clear()
        with pytest.raises(OSError, match="offline"):
            A.InceptionResNetV2(weights="imagenet", include_top=include_top,
                                input_shape=None if include_top else (75, 75, 3))
        assert seen == [(fname, base + fname, h)]


def test_custom_scale_layer_and_block_errors():
    layer = IR.CustomScaleLayer(0.5, name="s")
    a = np.ones((1, 2), "float32")
    np.testing.assert_allclose(np.asarray(layer([a, 3 * a])), 2.5 * a)
    assert layer.get_config()["scale"] == 0.5
    assert IR.CustomScaleLayer.from_config(layer.get_config()).scale == 0.5
    import keras_on_jax as kj

    x = kj.layers.Input((8, 8, 4))
    with pytest.raises(ValueError, match="block_type|block35.*blockX|blockX"):
        IR.inception_resnet_block(x, 0.1, "blockX", 1)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_preprocess_input_parity(data_format):
    x = np.random.default_rng(0).uniform(0, 255, (2, 5, 4, 3)).astype("float32")
    expected = keras.applications.inception_resnet_v2.preprocess_input(
        x.copy(), data_format=data_format)
    np.testing.assert_allclose(IR.preprocess_input(x.copy(), data_format=data_format),
                               expected, rtol=1e-6, atol=1e-6)
