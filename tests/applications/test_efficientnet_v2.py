"""keras.applications.efficientnet_v2 against real Keras 3: architecture (layer names,
classes, weight shapes and order, parameter count), predictions from a weights file saved by
Keras, `weights="imagenet"` file lookup, preprocessing, exports.

Building Keras's own models is slow (~15-20 s each on 2 cores), so B0 is compared live and
the other variants against architecture digests recorded from Keras 3.15.1 (see
`architecture_digest`)."""

import hashlib
import json
import re

import keras
import numpy as np
import pytest
from test_applications import _randomize, _save_legacy_h5, assert_same_architecture

import keras_on_jax.applications as A
from keras_on_jax.applications import efficientnet_v2 as E
from keras_on_jax.applications import imagenet_utils


def architecture_digest(model):
    """A digest of (class, name without uid suffix, weight shapes) per layer, the number of
    layers, the parameter count and the output shape. The recorded values below were made
    by this function on real Keras 3.15.1 models (`KERAS_BACKEND=jax`)."""
    sig = [(type(layer).__name__, re.sub(r"_\d+$", "", layer.name),
            [list(w.shape) for w in layer.weights])
           for layer in model.layers if not getattr(layer, "_keras_op", False)]
    return (hashlib.sha256(json.dumps(sig).encode()).hexdigest()[:16], len(sig),
            model.count_params(), tuple(model.output.shape))


KW_B0 = dict(input_shape=(32, 32, 3), classes=5, classifier_activation=None)


@pytest.fixture(scope="module")
def keras_b0():
    model = keras.applications.EfficientNetV2B0(weights=None, **KW_B0)
    _randomize(model)
    return model


def test_b0_architecture_parity(keras_b0):
    ours = A.EfficientNetV2B0(weights=None, **KW_B0)
    assert_same_architecture(ours, keras_b0)
    assert ours.name == "efficientnetv2-b0"
    assert architecture_digest(ours) == architecture_digest(keras_b0)


def test_b0_prediction_parity_from_keras_weights_file(keras_b0, tmp_path):
    x = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    expected = np.asarray(keras_b0.predict(x, verbose=0))
    path = str(tmp_path / "b0.h5")
    _save_legacy_h5(keras_b0, path)
    ours = A.EfficientNetV2B0(weights=path, **KW_B0)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4, rtol=1e-4)


# Recorded from real Keras 3.15.1 with `architecture_digest`: name, kwargs, digest.
RECORDED = [
    ("EfficientNetV2B1", dict(input_shape=(32, 32, 3), classes=7),
     ("6a0d2ae4f639231b", 337, 6940091, (None, 7))),
    ("EfficientNetV2B2", dict(input_shape=(32, 32, 3), include_top=False, pooling="avg"),
     ("6476b0beb3212b0c", 350, 8769374, (None, 1408))),
    ("EfficientNetV2B3", dict(input_shape=(32, 32, 3), include_top=False),
     ("2fbb782860c12cf0", 409, 12930622, (None, 1, 1, 1536))),
    ("EfficientNetV2S", dict(input_shape=(32, 32, 3), include_top=False),
     ("6b0d7ab910e855c6", 513, 20331360, (None, 1, 1, 1280))),
    ("EfficientNetV2M", dict(input_shape=(32, 32, 3), include_top=False, pooling="max"),
     ("adf59e66ef7e9f4c", 741, 53150388, (None, 1280))),
    ("EfficientNetV2L", dict(input_shape=(32, 32, 3), classes=7),
     ("dfc8757f1ac4346b", 1031, 117755815, (None, 7))),
]


@pytest.mark.parametrize("name,kwargs,expected", RECORDED, ids=[r[0] for r in RECORDED])
def test_architecture_matches_recorded_keras_digest(name, kwargs, expected):
    ours = getattr(A, name)(weights=None, **kwargs)
    assert architecture_digest(ours) == expected


def test_preprocessing_layers():
    x = np.random.default_rng(2).uniform(0, 255, (1, 32, 32, 3)).astype("float32")
    # B variants: Rescaling(1/255) then Normalization with ImageNet mean/variance.
    b0 = A.EfficientNetV2B0(weights=None, include_top=False, input_shape=(32, 32, 3))
    rescale, norm = b0.layers[1], b0.layers[2]
    assert type(rescale).__name__ == "Rescaling" and type(norm).__name__ == "Normalization"
    expected = ((x / 255.0 - np.array([0.485, 0.456, 0.406]))
                / np.array([0.229, 0.224, 0.225]))
    np.testing.assert_allclose(np.asarray(norm(rescale(x))), expected, rtol=1e-5, atol=1e-5)
    # S/M/L: Rescaling(1/128, offset=-1) only.
    s = A.EfficientNetV2S(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert type(s.layers[1]).__name__ == "Rescaling"
    assert type(s.layers[2]).__name__ == "Conv2D"
    np.testing.assert_allclose(np.asarray(s.layers[1](x)), x / 128.0 - 1, rtol=1e-6, atol=1e-6)
    # include_preprocessing=False: no preprocessing layers, same weights.
    raw = A.EfficientNetV2B0(weights=None, include_top=False, input_shape=(32, 32, 3),
                             include_preprocessing=False)
    assert type(raw.layers[1]).__name__ == "Conv2D"
    assert [w.shape for w in raw.weights] == [w.shape for w in b0.weights]


def test_imagenet_lookup_uses_published_file_and_hash(monkeypatch, tmp_path):
    seen = []
    ours = A.EfficientNetV2B0(weights=None, include_top=False, input_shape=(32, 32, 3))
    _randomize(ours, seed=4)
    path = str(tmp_path / "w.weights.h5")
    ours.save_weights(path)

    def fake(fname, origin, file_hash=None):
        seen.append((fname, origin, file_hash))
        if fname != "efficientnetv2-b0_notop.h5":
            raise OSError("offline")
        return path

    monkeypatch.setattr(imagenet_utils, "get_pretrained_file", fake)
    loaded = A.EfficientNetV2B0(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert seen == [("efficientnetv2-b0_notop.h5",
                     "https://storage.googleapis.com/tensorflow/keras-applications/"
                     "efficientnet_v2/efficientnetv2-b0_notop.h5",
                     "893217f2bb855e2983157299931e43ff")]
    for a, b in zip(loaded.weights, ours.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    seen.clear()
    with pytest.raises(OSError, match="offline"):
        A.EfficientNetV2S(weights="imagenet")
    assert seen[0][0] == "efficientnetv2-s.h5"
    assert seen[0][2] == "e1d88a8495beba45748fedd0cecbe016"


def test_argument_errors():
    with pytest.raises(ValueError, match="classes"):
        A.EfficientNetV2B0(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="at least 32x32"):
        A.EfficientNetV2B0(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="name.*my_net"):
        A.EfficientNetV2S(weights=None, include_top=False, name="my_net")
    with pytest.raises(ValueError, match="classifier_activation"):
        A.EfficientNetV2B0(weights="imagenet", classifier_activation="relu")


def test_preprocess_input_and_decode_predictions():
    x = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    assert E.preprocess_input(x) is x
    assert keras.applications.efficientnet_v2.preprocess_input(x) is x
    preds = np.zeros((1, 1000), "float32")
    preds[0, [1, 999]] = [0.25, 0.75]
    out = E.decode_predictions(preds, top=2)
    assert [r[:2] for r in out[0]] == [("n15075141", "toilet_tissue"), ("n01443537", "goldfish")]


@pytest.mark.parametrize("module", ["efficientnet_v2", "inception_resnet_v2", "nasnet"])
def test_submodule_exports_match_keras(module):
    theirs = {n for n in dir(getattr(keras.applications, module)) if not n.startswith("_")}
    ours = getattr(A, module)
    assert all(callable(getattr(ours, n, None)) for n in theirs), sorted(
        n for n in theirs if not hasattr(ours, n))


def test_all_keras_application_names_exported():
    names = [n for n in dir(keras.applications) if not n.startswith("_")]
    assert [n for n in names if not hasattr(A, n)] == []
