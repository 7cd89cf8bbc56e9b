"""keras.applications.nasnet against real Keras 3: NASNetMobile architecture and predictions
from a weights file saved by Keras; NASNetLarge against an architecture digest recorded from
Keras 3.15.1 (building Keras's own NASNetLarge takes minutes on 2 cores);
`weights="imagenet"` lookup; preprocessing; errors."""

import keras
import numpy as np
import pytest
from test_applications import _randomize, _save_legacy_h5, assert_same_architecture
from test_efficientnet_v2 import architecture_digest

import keras_on_jax.applications as A
from keras_on_jax.applications import imagenet_utils
from keras_on_jax.applications import nasnet as N
from keras_on_jax.backend import config

KW = dict(input_shape=(32, 32, 3), classes=5, classifier_activation=None)


@pytest.fixture(scope="module")
def keras_mobile():
    model = keras.applications.NASNetMobile(weights=None, **KW)
    _randomize(model)
    return model


def test_mobile_architecture_parity(keras_mobile):
    ours = A.NASNetMobile(weights=None, **KW)
    assert_same_architecture(ours, keras_mobile)


def test_mobile_prediction_parity_from_keras_weights_file(keras_mobile, tmp_path):
    x = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    expected = np.asarray(keras_mobile.predict(x, verbose=0))
    path = str(tmp_path / "w.h5")
    _save_legacy_h5(keras_mobile, path)
    ours = A.NASNetMobile(weights=path, **KW)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4, rtol=1e-4)


def test_large_matches_recorded_keras_digest():
    # Recorded from real Keras 3.15.1 (NASNetLarge, same arguments) with architecture_digest.
    ours = A.NASNetLarge(weights=None, input_shape=(32, 32, 3), include_top=False,
                         pooling="avg")
    assert architecture_digest(ours) == ("8647ce43467dd0a8", 1040, 84916818, (None, 4032))


def test_imagenet_lookup_uses_published_file_and_hash(monkeypatch):
    seen = []

    def fake(fname, origin, file_hash=None):
        seen.append((fname, origin, file_hash))
        raise OSError("offline")

    monkeypatch.setattr(imagenet_utils, "get_pretrained_file", fake)
    base = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
    with pytest.raises(OSError, match="offline"):
        A.NASNetMobile(weights="imagenet", include_top=False)
    assert seen == [("nasnet_mobile_no_top.h5", base + "NASNet-mobile-no-top.h5",
                     "1ed92395b5b598bdda52abe5c0dbfd63")]
    seen.clear()
    with pytest.raises(OSError, match="offline"):
        A.NASNetMobile(weights="imagenet")
    assert seen == [("nasnet_mobile.h5", base + "NASNet-mobile.h5",
                     "020fb642bf7360b370c678b08e0adf61")]


def test_errors(monkeypatch):
    with pytest.raises(ValueError, match="static"):
        A.NASNetLarge(weights="imagenet", include_top=False, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="penultimate_filters.*1000"):
        N.NASNet(input_shape=(32, 32, 3), penultimate_filters=1000, weights=None)
    with pytest.raises(ValueError, match="classes"):
        A.NASNetMobile(weights="imagenet", classes=10)
    monkeypatch.setattr(config, "image_data_format", lambda: "channels_first")
    with pytest.raises(ValueError, match="channels_first"):
        A.NASNetMobile(weights=None)


def test_no_top_default_input_shape():
    m = A.NASNetMobile(weights=None, include_top=False, pooling="avg")
    assert tuple(m.input.shape) == (None, 224, 224, 3)
    assert tuple(m.output.shape) == (None, 1056)


def test_preprocess_input_parity():
    x = np.random.default_rng(0).uniform(0, 255, (2, 5, 4, 3)).astype("float32")
    np.testing.assert_allclose(N.preprocess_input(x.copy()),
                               keras.applications.nasnet.preprocess_input(x.copy()),
                               rtol=1e-6, atol=1e-6)
