"""keras.distribution: DeviceMesh, LayoutMap rules, DataParallel, ModelParallel on a 2x4 mesh."""

import jax
import numpy as np
import pytest

import keras_on_jax as keras
from keras_on_jax import distribution
from keras_on_jax.distribute import context


@pytest.fixture(autouse=True)
def _no_global_distribution():
    yield
    distribution.set_distribution(None)


def _model():
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="dense"),
                             keras.layers.Dense(4, name="dense_1")], name="seq")


def _mesh():
    return distribution.DeviceMesh((2, 4), ("batch", "model"), devices=distribution.list_devices())


def _layout_map(mesh):
    lm = distribution.LayoutMap(mesh)
    lm[".*dense/kernel"] = (None, "model")
    lm[".*dense/bias"] = ("model",)
    lm[".*dense_1/kernel"] = ("model", None)
    return lm


def test_api_surface_matches_keras():
    import keras as real

    assert distribution.list_devices() == real.distribution.list_devices()
    mesh = _mesh()
    assert mesh.shape == (2, 4) and mesh.axis_names == ("batch", "model")
    assert mesh.devices.shape == (2, 4)
    lm = _layout_map(mesh)
    assert lm["seq/dense/kernel"].axes == (None, "model")
    assert lm["seq/dense/kernel"].device_mesh is mesh
    assert lm["nothing"] is None
    lm2 = distribution.LayoutMap(mesh)
    lm2[".*kernel"] = (None, "model")
    lm2[".*dense.*"] = (None, "model")
    with pytest.raises(ValueError, match="matches multiple layout"):
        lm2["dense/kernel"]
    with pytest.raises(ValueError, match="Invalid axis names"):
        distribution.TensorLayout(("x",), mesh)
    with pytest.raises(ValueError, match="Shape does not match"):
        distribution.DeviceMesh((3,), ("batch",))
    dp = distribution.DataParallel()
    assert dp.batch_dim_name == "batch" and dp.num_model_replicas == 8
    mp = distribution.ModelParallel(layout_map=lm, batch_dim_name="batch")
    assert mp.num_model_replicas == 2
    assert distribution.distribution() is None
    distribution.set_distribution(mp)
    assert distribution.distribution() is mp and context.current() is mp


def test_distribute_tensor():
    mesh = _mesh()
    layout = distribution.TensorLayout(("batch", "model"), mesh)
    out = distribution.distribute_tensor(np.ones((4, 8), "float32"), layout)
    assert out.sharding.spec == jax.sharding.PartitionSpec("batch", "model")
    assert out.addressable_shards[0].data.shape == (2, 2)

    @jax.jit
    def f(x):
        return distribution.distribute_tensor(x * 2, layout)

    assert f(np.ones((4, 8), "float32")).sharding.spec == layout.backend_layout.spec


def test_data_parallel_global_distribution_equals_single_device():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 8)).astype("float32")
    y = rng.normal(size=(32, 4)).astype("float32")
    ref = _model()
    ref.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae"])
    w = ref.get_weights()
    h_ref = ref.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    distribution.set_distribution(distribution.DataParallel())
    m = _model()
    m.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae"])
    m.set_weights(w)
    h = m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    for k in h_ref:
        np.testing.assert_allclose(h[k], h_ref[k], rtol=1e-5, atol=1e-6)
    for a, b in zip(m.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_model_parallel_2x4_matches_unsharded():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 8)).astype("float32")
    y = rng.normal(size=(8, 4)).astype("float32")
    ref = _model()
    ref.compile(keras.optimizers.Adam(0.01), "mse")
    w = ref.get_weights()
    ref_out = ref.predict(x, verbose=0)
    ref_loss = ref.train_on_batch(x, y)
    mp = distribution.ModelParallel(layout_map=_layout_map(_mesh()), batch_dim_name="batch")
    with mp.scope():
        m = _model()
        m.compile(keras.optimizers.Adam(0.01), "mse")
        m.set_weights(w)
        out = m.predict(x, verbose=0)
        loss = m.train_on_batch(x, y)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-5, atol=1e-6)
    for a, b in zip(m.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    kernel = m.layers[0].kernel.get_raw_value()
    assert kernel.sharding.spec == jax.sharding.PartitionSpec(None, "model")
    assert kernel.addressable_shards[0].data.shape == (8, 4)
    # Adam's slots follow their variable's layout.
    slot = [v for v in m.optimizer.variables if v.path.endswith("seq_dense_kernel_momentum")][0]
    assert slot.get_raw_value().sharding.spec == jax.sharding.PartitionSpec(None, "model")


@pytest.mark.parametrize("rule,axes,match", [
    ("unknown/kernel", (None, "model"), r"rule\(s\) \['unknown/kernel'\] match no variable"),
    (".*dense/kernel", ("model",), r"rule '.\*dense/kernel'.*rank 1.*'seq/dense/kernel'"),
    (".*dense_1/bias", (("batch", "model"),), r"'seq/dense_1/bias' of shape \(4,\) cannot be split"),
])
def test_bad_layout_rule_raises_before_placement(rule, axes, match):
    lm = distribution.LayoutMap(_mesh())
    lm[rule] = axes
    mp = distribution.ModelParallel(layout_map=lm)
    model = _model()
    model.compile("sgd", "mse")
    before = [v.get_raw_value() for v in model.variables]
    with mp.scope():
        with pytest.raises(ValueError, match=match):
            model.predict(np.ones((8, 8), "float32"), verbose=0)
    assert all(v.get_raw_value() is b for v, b in zip(model.variables, before))


def test_ambiguous_rule_raises():
    lm = distribution.LayoutMap(_mesh())
    lm[".*kernel"] = (None, "model")
    lm[".*dense/.*"] = (None, "model")
    mp = distribution.ModelParallel(layout_map=lm)
    model = _model()
    with mp.scope(), pytest.raises(ValueError, match=r"matches multiple LayoutMap rules"):
        model.predict(np.ones((8, 8), "float32"), verbose=0)


def test_variables_are_created_with_their_layout():
    mp = distribution.ModelParallel(layout_map=_layout_map(_mesh()))
    with mp.scope():
        m = _model()
    kernel = m.layers[0].kernel.get_raw_value()
    assert kernel.sharding.spec == jax.sharding.PartitionSpec(None, "model")
    lm = distribution.LayoutMap(_mesh())
    lm[".*dense/kernel"] = ("model",)
    with distribution.ModelParallel(layout_map=lm).scope():
        with pytest.raises(ValueError, match="rank 1"):
            _model()
