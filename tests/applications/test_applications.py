"""keras.applications against real Keras 3: architecture (layer names, classes, weight shapes
and order, parameter count), predictions from a shared weights file, `weights="imagenet"`
offline, preprocess_input and decode_predictions."""

import json
import os
import re

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

import keras_on_jax.applications as A
from keras_on_jax.backend import config


def _signature(model):
    # keras.ops calls on symbolic tensors are graph operations in Keras (not in model.layers);
    # here they are weightless `_OpLayer`s, left out of the comparison.
    return [(type(layer).__name__, layer.name, [tuple(w.shape) for w in layer.weights])
            for layer in model.layers if not getattr(layer, "_keras_op", False)]


def _same_name(a, b):
    # Auto-generated names ("conv2d_17") depend on what the process built before.
    return a == b or re.sub(r"_\d+$", "", a) == re.sub(r"_\d+$", "", b)


def assert_same_architecture(ours, theirs):
    so, st = _signature(ours), _signature(theirs)
    assert len(so) == len(st)
    for (oc, on, ow), (tc, tn, tw) in zip(so, st):
        assert oc == tc, (on, tn)
        assert _same_name(on, tn), (on, tn)
        assert ow == tw, (on, ow, tw)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    assert ours.name == theirs.name
    assert tuple(ours.output.shape) == tuple(theirs.output.shape)


ARCH = [
    ("ResNet50", dict(input_shape=(32, 32, 3), classes=7)),
    ("ResNet101", dict(input_shape=(32, 32, 3), include_top=False, pooling="avg")),
    ("ResNet152", dict(input_shape=(32, 32, 3), include_top=False)),
    ("ResNet50V2", dict(input_shape=(32, 32, 3), classes=7)),
    ("ResNet101V2", dict(input_shape=(32, 32, 3), include_top=False)),
    ("ResNet152V2", dict(input_shape=(32, 32, 3), include_top=False, pooling="max")),
    ("VGG16", dict(input_shape=(32, 32, 3), classes=7)),
    ("VGG19", dict(input_shape=(32, 32, 3), include_top=False, pooling="avg")),
    ("MobileNet", dict(input_shape=(32, 32, 3), alpha=0.25, classes=7)),
    ("MobileNetV2", dict(input_shape=(32, 32, 3), alpha=0.35, classes=7)),
    ("MobileNetV3Small", dict(input_shape=(32, 32, 3), classes=7)),
    ("MobileNetV3Large", dict(input_shape=(32, 32, 3), include_top=False, minimalistic=True)),
    ("EfficientNetB0", dict(input_shape=(32, 32, 3), classes=7)),
    ("EfficientNetB7", dict(input_shape=(32, 32, 3), include_top=False)),
    ("DenseNet121", dict(input_shape=(32, 32, 3), classes=7)),
    ("DenseNet169", dict(input_shape=(32, 32, 3), include_top=False)),
    ("DenseNet201", dict(input_shape=(32, 32, 3), include_top=False)),
    ("InceptionV3", dict(input_shape=(75, 75, 3), classes=7)),
    ("Xception", dict(input_shape=(71, 71, 3), include_top=False, pooling="avg")),
    ("ConvNeXtTiny", dict(input_shape=(32, 32, 3), classes=7)),
]


@pytest.mark.parametrize("name,kwargs", ARCH, ids=[a[0] for a in ARCH])
def test_architecture_parity(name, kwargs):
    theirs = getattr(keras.applications, name)(weights=None, **kwargs)
    ours = getattr(A, name)(weights=None, **kwargs)
    assert_same_architecture(ours, theirs)


def _save_legacy_h5(model, path):
    # Keras's published application files are legacy HDF5 weights files.
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if "variance" in w.path or w.path.endswith("count"):
            continue
        w.assign((rng.standard_normal(w.shape) * 0.05 + (1.0 if "gamma" in w.path else 0.0))
                 .astype(w.dtype))


PRED = [
    ("MobileNetV2", dict(input_shape=(32, 32, 3), alpha=0.35, classes=5)),
    ("ResNet50", dict(input_shape=(32, 32, 3), classes=5)),
    ("EfficientNetB0", dict(input_shape=(32, 32, 3), classes=5)),
    ("DenseNet121", dict(input_shape=(32, 32, 3), classes=5)),
]


@pytest.mark.parametrize("name,kwargs", PRED, ids=[p[0] for p in PRED])
def test_prediction_parity_from_keras_weights_file(name, kwargs, tmp_path):
    theirs = getattr(keras.applications, name)(weights=None, classifier_activation=None,
                                                 **kwargs)
    _randomize(theirs)
    x = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    expected = np.asarray(theirs.predict(x, verbose=0))
    # Legacy .h5 (the published files' format) and Keras 3 .weights.h5 both load.
    legacy = str(tmp_path / "w.h5")
    _save_legacy_h5(theirs, legacy)
    ours = getattr(A, name)(weights=legacy, classifier_activation=None, **kwargs)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4, rtol=1e-4)
    if name == "MobileNetV2":
        native = str(tmp_path / "w.weights.h5")
        theirs.save_weights(native)
        ours2 = getattr(A, name)(weights=None, classifier_activation=None, **kwargs)
        ours2.load_weights(native)
        np.testing.assert_allclose(ours2.predict(x, verbose=0), expected, atol=1e-4,
                                   rtol=1e-4)


def test_imagenet_weights_from_keras_home_offline():
    # A legacy .h5 written by real Keras under the published name in <keras home>/models/
    # is found and loaded (no download, no hash check for a file already there).
    kw = dict(input_shape=(96, 96, 3), alpha=0.35, include_top=False)
    theirs = keras.applications.MobileNetV2(weights=None, **kw)
    _randomize(theirs, seed=3)
    models_dir = os.path.join(config.keras_home(), "models")
    os.makedirs(models_dir, exist_ok=True)
    fname = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    _save_legacy_h5(theirs, os.path.join(models_dir, fname))
    ours = A.MobileNetV2(weights="imagenet", **kw)
    x = np.random.default_rng(2).uniform(-1, 1, (1, 96, 96, 3)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               atol=1e-4, rtol=1e-4)


def test_imagenet_weights_missing_offline_says_where(monkeypatch):
    import keras_on_jax.utils as kj_utils

    def offline(*args, **kwargs):
        raise Exception("network unreachable")

    monkeypatch.setattr(kj_utils, "get_file", offline)
    with pytest.raises(OSError, match=r"models.*resnet50_weights_tf_dim_ordering_tf_kernels_"
                                      r"notop\.h5|resnet50_weights_tf_dim_ordering_tf_kernels_"
                                      r"notop\.h5.*models"):
        A.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))


def test_argument_errors():
    with pytest.raises(ValueError, match="weights"):
        A.VGG16(weights="/no/such/file.h5")
    with pytest.raises(ValueError, match="classes"):
        A.ResNet50(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="at least 32x32"):
        A.ResNet50(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="classifier_activation"):
        A.VGG16(weights="imagenet", classifier_activation="relu")


@pytest.mark.parametrize("module", ["resnet50", "resnet", "resnet_v2", "vgg16", "vgg19",
                                    "mobilenet", "mobilenet_v2", "mobilenet_v3", "densenet",
                                    "inception_v3", "xception", "efficientnet", "convnext"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_preprocess_input_parity(module, data_format):
    ours = getattr(A, module).preprocess_input
    theirs = getattr(keras.applications, module).preprocess_input
    rng = np.random.default_rng(0)
    for shape in [(2, 5, 4, 3), (5, 4, 3)]:
        if data_format == "channels_first":
            shape = shape[:-3] + (3,) + shape[-3:-1]
        x = rng.uniform(0, 255, shape).astype("float32")
        expected = np.asarray(theirs(x.copy(), data_format=data_format))
        np.testing.assert_allclose(np.asarray(ours(x.copy(), data_format=data_format)),
                                   expected, rtol=1e-6, atol=1e-5)
        # Tensors (JAX arrays) take the tensor path.
        import jax.numpy as jnp

        got = ours(jnp.asarray(x), data_format=data_format)
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_imagenet_utils_modes(mode):
    x = np.random.default_rng(5).uniform(0, 255, (2, 3, 4, 3)).astype("float32")
    expected = keras.applications.imagenet_utils.preprocess_input(x.copy(), mode=mode)
    got = A.imagenet_utils.preprocess_input(x.copy(), mode=mode)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # Integer arrays are cast to floatx first.
    xi = (x).astype("uint8")
    np.testing.assert_allclose(A.imagenet_utils.preprocess_input(xi.copy(), mode=mode),
                               keras.applications.imagenet_utils.preprocess_input(
                                   xi.copy(), mode=mode), rtol=1e-6)
    with pytest.raises(ValueError, match="mode"):
        A.imagenet_utils.preprocess_input(x, mode="bad")


def test_decode_predictions_format_and_index():
    preds = np.zeros((2, 1000), "float32")
    preds[0, [1, 7, 3]] = [0.5, 0.3, 0.2]
    preds[1, 999] = 1.0
    out = A.resnet50.decode_predictions(preds, top=3)
    assert len(out) == 2 and len(out[0]) == 3
    assert out[0][0][:2] == ("n01443537", "goldfish")
    assert out[0][1][:2] == ("n01514668", "cock")
    assert out[0][2][:2] == ("n01491361", "tiger_shark")
    assert out[1][0][:2] == ("n15075141", "toilet_tissue")
    assert isinstance(out[0][0][2], np.floating) and out[0][0][2] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="shape"):
        A.imagenet_utils.decode_predictions(np.zeros((2, 10)))


def test_class_index_is_keras_file():
    # The shipped index is byte-identical to Keras's published imagenet_class_index.json.
    import hashlib

    path = A.imagenet_utils._CLASS_INDEX_FILE
    with open(path, "rb") as f:
        assert hashlib.md5(f.read()).hexdigest() == "c2c37ea517e94d9795004a39431a14cb"
    with open(path) as f:
        index = json.load(f)
    assert len(index) == 1000 and index["0"] == ["n01440764", "tench"]


def test_public_names_match_keras():
    names = [n for n in dir(keras.applications) if not n.startswith("_")]
    missing = [n for n in names if not hasattr(A, n)]
    assert missing == []
