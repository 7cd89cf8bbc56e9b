"""keras.export.ExportArchive: endpoints, signatures, variable collections, formats."""

import jax
import numpy as np
import pytest
from export_helpers import onnx_inputs, run_onnx

import keras_on_jax as keras
from keras_on_jax.export import ExportArchive, load

ATOL = 1e-5


def _model(rng):
    model = keras.Sequential([
        keras.Input((3,), name="x"),
        keras.layers.Dense(4),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(2),
    ])
    bn = model.layers[1]
    bn.moving_mean.assign(rng.standard_normal(4))
    bn.moving_variance.assign(rng.uniform(0.5, 2.0, 4))
    return model


def test_public_name():
    assert keras.export.ExportArchive is ExportArchive
    ExportArchive(format="saved_model")  # Keras 3's constructor argument
    with pytest.raises(ValueError, match="Unsupported format: neptune_model"):
        ExportArchive(format="neptune_model")


def test_two_endpoints_and_a_variable_collection(tmp_path, rng):
    model = _model(rng)
    spec = [keras.InputSpec(shape=(None, 3), dtype="float32")]
    archive = ExportArchive()
    archive.track(model)
    serve = archive.add_endpoint("serve", lambda x: model(x, training=False), spec)
    call_training = archive.add_endpoint("call_training", lambda x: model(x, training=True),
                                         spec)
    archive.add_variable_collection("first_kernel", [model.layers[0].kernel])
    x = rng.standard_normal((6, 3)).astype("float32")
    # add_endpoint returns the endpoint, runnable now.
    np.testing.assert_allclose(np.asarray(serve(x)), np.asarray(model(x, training=False)),
                               atol=ATOL)
    archive.write_out(tmp_path / "a", format="jax", verbose=False)
    loaded = load(tmp_path / "a")
    assert loaded.endpoints == ["serve", "call_training"]
    inference = np.asarray(model(x, training=False))
    moving_mean = np.asarray(model.layers[1].moving_mean.value)
    with keras.StatelessScope():  # BatchNormalization's updates stay in the scope
        training = np.asarray(model(x, training=True))  # batch statistics: differs
    assert not np.allclose(inference, training, atol=1e-3)
    np.testing.assert_allclose(np.asarray(loaded.serve(x)), inference, atol=ATOL)
    np.testing.assert_allclose(np.asarray(loaded.call_training(x)), training, atol=ATOL)
    np.testing.assert_allclose(np.asarray(loaded(x)), inference, atol=ATOL)  # the first one
    (kernel,) = loaded.first_kernel
    np.testing.assert_array_equal(np.asarray(kernel), np.asarray(model.layers[0].kernel.value))
    # The training endpoint's state updates are dropped: an archive serves inference.
    np.testing.assert_allclose(np.asarray(call_training(x)), training, atol=ATOL)
    np.testing.assert_array_equal(np.asarray(model.layers[1].moving_mean.value), moving_mean)


@pytest.mark.parametrize("spec", [
    keras.InputSpec(shape=(None, 3), dtype="float32"),
    keras.KerasTensor((None, 3), dtype="float32"),
    np.zeros((5, 3), "float32"),
    jax.ShapeDtypeStruct((5, 3), "float32"),
], ids=["InputSpec", "KerasTensor", "array", "ShapeDtypeStruct"])
def test_signature_forms(tmp_path, rng, spec):
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    archive = ExportArchive()
    archive.track(layer)
    archive.add_endpoint("call", layer.call, [spec])
    archive.write_out(tmp_path / "a", format="jax", verbose=False, platforms=["cpu"])
    loaded = load(tmp_path / "a")
    (described,) = loaded.manifest["endpoints"]["call"]["inputs"]
    assert described["shape"] == [None, 3] and described["dtype"] == "float32"
    x = rng.standard_normal((4, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded.call(x)), np.asarray(layer(x)), atol=ATOL)


def test_fixed_batch_size_stays_fixed(tmp_path):
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    archive = ExportArchive()
    archive.track(layer)
    archive.add_endpoint("call", layer.call, [keras.InputSpec(shape=(2, 3), dtype="float32")])
    archive.write_out(tmp_path / "a", format="onnx", verbose=False)
    assert onnx_inputs(tmp_path / "a") == [("input_0", [2, 3])]


def test_track_and_add_endpoint_to_onnx(tmp_path, rng):
    model = _model(rng)
    archive = ExportArchive()
    archive.track_and_add_endpoint(
        "serve", model, [keras.InputSpec(shape=(None, 3), dtype="float32", name="features")])
    archive.write_out(tmp_path / "m.onnx", format="onnx", verbose=False, opset_version=17)
    assert onnx_inputs(tmp_path / "m.onnx") == [("features", ["batch", 3])]
    x = rng.standard_normal((5, 3)).astype("float32")
    np.testing.assert_allclose(run_onnx(tmp_path / "m.onnx", [x])[0],
                               model.predict(x, verbose=0), atol=1e-4)


def test_errors(tmp_path, rng):
    archive = ExportArchive()
    with pytest.raises(ValueError, match=r"'dense_x' has not yet been built"):
        archive.track(keras.layers.Dense(2, name="dense_x"))
    with pytest.raises(ValueError, match="Expected a Keras `Layer` or `Model`"):
        archive.track(object())
    with pytest.raises(ValueError, match="No endpoints have been set yet"):
        archive.write_out(tmp_path / "a", format="jax")
    model = _model(rng)
    archive.track(model)
    with pytest.raises(ValueError, match="must provide an `input_signature`"):
        archive.add_endpoint("serve", model.call)
    spec = [keras.InputSpec(shape=(None, 3), dtype="float32")]
    archive.add_endpoint("serve", model.call, spec)
    with pytest.raises(ValueError, match="Endpoint name 'serve' is already taken"):
        archive.add_endpoint("serve", model.call, spec)
    with pytest.raises(ValueError, match=r"for endpoint 'other': \['opset'\]"):
        archive.add_endpoint("other", model.call, spec, opset=17)
    with pytest.raises(ValueError, match="valid Python identifier"):
        archive.add_endpoint("not valid", model.call, spec)
    with pytest.raises(ValueError, match="The `shape` and `dtype` must be provided"):
        archive.add_endpoint("other", model.call, [keras.InputSpec(shape=(None, 3))])
    with pytest.raises(ValueError, match="Expected `variables` to be a list/tuple/set"):
        archive.add_variable_collection("c", model.layers[0].kernel)
    with pytest.raises(ValueError, match=r"Found instead the following types: \['ndarray'\]"):
        archive.add_variable_collection("c", [np.zeros(3)])
    with pytest.raises(ValueError, match=r"Unrecognized format=h5\. Supported formats"):
        archive.write_out(tmp_path / "a", format="h5")
    with pytest.raises(ValueError, match="`options`.*format='tf_saved_model' only"):
        archive.write_out(tmp_path / "a", format="jax", options=object())
    archive.add_endpoint("twice", model.call, spec)
    with pytest.raises(ValueError, match=r"exactly one endpoint.*\['serve', 'twice'\]"):
        archive.write_out(tmp_path / "a.onnx", format="onnx")
    reserved = ExportArchive()
    reserved.track(model)
    reserved.add_endpoint("variables", model.call, spec)
    with pytest.raises(ValueError, match="Endpoint name 'variables' is reserved"):
        reserved.write_out(tmp_path / "r", format="jax")
