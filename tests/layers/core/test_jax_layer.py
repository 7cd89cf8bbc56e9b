"""`JaxLayer` / `FlaxLayer`: pure JAX functions and linen modules as Keras layers, checked
against the same functions applied by hand and against real Keras 3's wrappers."""

import json
import types

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import keras_on_jax as kj

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def klayers():
    """Keras 3's wrappers. Keras 3.15 asks TensorFlow `inside_function()` while building
    from `init_fn`, even on the JAX backend; TensorFlow is not installed here."""
    import keras.src.utils.jax_layer as kjl

    saved = kjl.tf
    kjl.tf = types.SimpleNamespace(inside_function=lambda: False)
    yield keras.layers
    kjl.tf = saved


# ---- the wrapped models (registered in both registries, for whole-model saving) ---------
def _register(fn):
    kj.saving.register_keras_serializable(package="JaxLayerTest")(fn)
    keras.saving.register_keras_serializable(package="JaxLayerTest")(fn)
    return fn


@_register
def mlp_init(rng, inputs):
    k1, k2 = jax.random.split(rng)
    n = inputs.shape[-1]
    return {"w1": jax.random.normal(k1, (n, 8)) * 0.5, "b1": jnp.zeros((8,)),
            "w2": jax.random.normal(k2, (8, 1)) * 0.5}


@_register
def mlp_call(params, inputs):
    h = jnp.tanh(inputs @ params["w1"] + params["b1"])
    return h @ params["w2"]


@_register
def counter_init(rng, inputs, training):
    return mlp_init(rng, inputs), {"count": jnp.zeros((), "int32")}


@_register
def counter_call(params, state, inputs, training):
    out = mlp_call(params, inputs)
    if training:
        state = {"count": state["count"] + 1}
    return out, state


@_register
def noisy_call(params, rng, inputs, training):
    out = inputs * params["scale"]
    if training:
        out = out + jax.random.normal(rng, out.shape)
    return out


class DenseStack(nn.Module):
    features: int = 6

    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Dense(self.features)(x))
        return nn.Dense(1)(x)

    def get_config(self):
        return {"features": self.features}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


_register(DenseStack)


class BNDropout(nn.Module):
    @nn.compact
    def __call__(self, x, training=False):
        x = nn.Dense(6)(x)
        x = nn.BatchNorm(use_running_average=not training, momentum=0.5)(x)
        x = nn.Dropout(0.5, deterministic=not training)(x)
        return nn.Dense(1)(nn.relu(x))


class NoConfig(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.Dense(2)(x)


def _data(n=64, d=4, seed=0):
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, d)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32") + 0.3).astype("float32")
    return x, y


def _values(tree):
    return jax.tree.map(np.asarray, tree, is_leaf=lambda v: hasattr(v, "assign"))


def _signature(layer):
    return [(tuple(w.shape), bool(w.trainable), str(w.dtype)) for w in layer.weights]


# ---- JaxLayer -----------------------------------------------------------------------------
def test_jax_layer_matches_function_and_gradients():
    x, _ = _data(8)
    kj.utils.set_random_seed(0)
    layer = kj.layers.JaxLayer(mlp_call, mlp_init)
    out = layer(x)
    params = _values(layer.params)
    np.testing.assert_allclose(out, mlp_call(params, x), rtol=1e-5, atol=1e-6)
    assert len(layer.trainable_weights) == 3 and not layer.non_trainable_weights
    assert layer.seed_generator is None

    def loss_by_hand(p):
        return jnp.sum(mlp_call(p, x) ** 2)

    expected = jax.grad(loss_by_hand)(params)
    trainable = layer.trainable_variables

    def loss_layer(values):
        out, _ = layer.stateless_call(values, [], x)
        return jnp.sum(out ** 2)

    grads = jax.grad(loss_layer)([v.value for v in trainable])
    by_var = {id(v): g for v, g in zip(trainable, grads, strict=True)}
    for key in ("w1", "b1", "w2"):
        np.testing.assert_allclose(by_var[id(layer.params[key])], expected[key], rtol=1e-5,
                                   atol=1e-6)


def test_jax_layer_matches_keras(klayers):
    x, _ = _data(8)
    ours = kj.layers.JaxLayer(counter_call, counter_init)
    ours.build((None, 4))
    params, state = _values(ours.params), _values(ours.state)
    theirs = klayers.JaxLayer(counter_call, params=params, state=state)
    np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-5, atol=1e-6)
    assert _signature(ours) == [(tuple(w.shape), bool(w.trainable), str(w.dtype))
                                for w in theirs.weights]
    # Built from init_fn by both: same count, shapes and trainability.
    k_built = klayers.JaxLayer(counter_call, counter_init)
    k_built.build((None, 4))
    assert _signature(ours) == [(tuple(w.shape), bool(w.trainable), str(w.dtype))
                                for w in k_built.weights]
    assert len(ours.variables) == len(k_built.variables) == 4
    # With `rng`: a seed generator, whose state is one more (non-weight) variable.
    ours_rng = kj.layers.JaxLayer(noisy_call, params={"scale": np.float32(2.0)})
    k_rng = klayers.JaxLayer(noisy_call, params={"scale": np.float32(2.0)})
    assert len(ours_rng.variables) == len(k_rng.variables) == 2
    np.testing.assert_allclose(ours_rng(x), k_rng(x))
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(k_built.get_config())) | {
        "name": ours.name}


def test_jax_layer_trains_in_fit_and_eagerly():
    x, y = _data()
    kj.utils.set_random_seed(1)
    model = kj.Sequential([kj.Input((4,)), kj.layers.JaxLayer(mlp_call, mlp_init)])
    layer = model.layers[0]
    before = _values(layer.params)
    model.compile(optimizer=kj.optimizers.Adam(0.05), loss="mse")
    hist = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    after = _values(layer.params)
    for key in before:
        assert not np.allclose(before[key], after[key])
    np.testing.assert_allclose(model(x), mlp_call(after, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), mlp_call(after, x), rtol=1e-5,
                               atol=1e-6)

    # An eager training loop with a GradientTape.
    opt = kj.optimizers.SGD(0.05)
    losses = []
    for _ in range(3):
        with kj.GradientTape() as tape:
            loss = kj.ops.mean((model(x, training=True) - y) ** 2)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        losses.append(float(loss))
    assert losses[-1] < losses[0]


def test_jax_layer_state_updates_in_training_only():
    x, y = _data()
    layer = kj.layers.JaxLayer(counter_call, counter_init)
    model = kj.Sequential([kj.Input((4,)), layer])
    count = layer.state["count"]
    assert count.dtype == "int32" and not count.trainable
    model(x)
    model.predict(x, batch_size=16, verbose=0)
    assert int(count.value) == 0
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert int(count.value) == 8  # 4 steps per epoch
    model.evaluate(x, y, batch_size=16, verbose=0)
    model(x, training=False)
    assert int(count.value) == 8
    model(x, training=True)
    assert int(count.value) == 9


def test_jax_layer_rng_fresh_per_step():
    seen = []

    def record_call(params, rng, inputs, training):
        if training:
            assert rng.shape == (2,) and rng.dtype == jnp.uint32  # a raw key, as Keras
            jax.debug.callback(lambda r: seen.append(np.asarray(r)), rng)
        else:
            assert rng is None
        return noisy_call(params, rng, inputs, training)

    x = np.ones((4, 3), "float32")
    layer = kj.layers.JaxLayer(record_call, params={"scale": np.float32(1.0)}, seed=3)
    np.testing.assert_allclose(layer(x), x)  # inference: deterministic
    a, b = layer(x, training=True), layer(x, training=True)
    assert not np.allclose(a, b)
    model = kj.Sequential([kj.Input((3,)), layer])
    model.compile(optimizer="sgd", loss="mse")
    seen.clear()
    model.fit(x, x, epochs=3, batch_size=4, verbose=0)
    assert len(seen) == 3
    assert len({tuple(s) for s in seen}) == 3
    # The seed makes the draws reproducible.
    same = kj.layers.JaxLayer(noisy_call, params={"scale": np.float32(1.0)}, seed=3)
    other = kj.layers.JaxLayer(noisy_call, params={"scale": np.float32(1.0)}, seed=3)
    np.testing.assert_allclose(same(x, training=True), other(x, training=True))


def test_jax_layer_rng_seeding_of_init():
    kj.utils.set_random_seed(0)
    a = kj.layers.JaxLayer(mlp_call, mlp_init)
    a.build((2, 4))
    kj.utils.set_random_seed(0)
    b = kj.layers.JaxLayer(mlp_call, mlp_init)
    b.build((2, 4))
    np.testing.assert_allclose(a.params["w1"].value, b.params["w1"].value)
    c = kj.layers.JaxLayer(mlp_call, mlp_init)
    c.build((2, 4))
    assert not np.allclose(a.params["w1"].value, c.params["w1"].value)


def test_jax_layer_built_inside_subclassed_model_fit():
    class Net(kj.Model):
        def __init__(self):
            super().__init__()
            self.inner = kj.layers.JaxLayer(mlp_call, mlp_init)

        def call(self, inputs):
            return self.inner(inputs)

    x, y = _data()
    model = Net()
    model.compile(optimizer=kj.optimizers.Adam(0.05), loss="mse")
    hist = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert len(model.trainable_weights) == 3
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_jax_layer_structures_and_minimal_signatures():
    def concat(params, inputs):
        return jnp.concatenate([inputs["a"], inputs["b"]], axis=1), inputs["a"]

    layer = kj.layers.JaxLayer(concat, params={})
    inputs = {"a": kj.Input((None, 3)), "b": kj.Input((None, 3))}
    outs = layer(inputs)
    assert outs[0].shape == (None, None, 3)
    model = kj.Model(inputs, outs)
    o1, o2 = model({"a": np.ones((2, 6, 3)), "b": np.ones((2, 7, 3))})
    assert o1.shape == (2, 13, 3) and o2.shape == (2, 6, 3)

    # Any order of the arguments; `training` in call_fn but not init_fn.
    def call_any(training, inputs, rng, state, params):
        return inputs + params["b"], state

    def init_any(inputs, rng):
        return {"b": jnp.ones(inputs.shape[1:])}, {}

    layer = kj.layers.JaxLayer(call_any, init_any)
    np.testing.assert_allclose(layer(np.zeros((2, 3))), np.ones((2, 3)))
    assert kj.layers.JaxLayer(lambda inputs: inputs * 2.0)(np.ones((1,)))[0] == 2.0


def test_jax_layer_state_structure_mismatch_and_leaves():
    def fn(params, state, inputs):
        return inputs, {"state": [jnp.ones([])]}

    for bad in ([0.0], {"state": {"foo": 0.0}}, {"state": [[0.0]]}, None, {"state": {}},
                {"state": {"foo": [2.0]}}):
        layer = kj.layers.JaxLayer(fn, params={}, state=bad)
        with pytest.raises(ValueError):
            layer(np.ones((1,)))

    def passthrough(params, state, inputs):
        return inputs, state

    layer = kj.layers.JaxLayer(passthrough, state={"foo": None, "cfg": "bar", "v": 1.0})
    assert layer.state["foo"] is None and layer.state["cfg"] == "bar"
    layer(np.ones((1,)))
    assert len(layer.weights) == 1


def test_jax_layer_mixed_precision():
    x, _ = _data(8)
    layer = kj.layers.JaxLayer(counter_call, counter_init, dtype="mixed_float16")
    out = layer(x, training=True)
    assert out.dtype == jnp.float16
    assert layer.params["w1"].dtype == "float32"
    assert int(layer.state["count"].value) == 1


# ---- FlaxLayer -----------------------------------------------------------------------------
def test_flax_layer_dense_stack_matches_apply_and_keras(klayers):
    x, y = _data()
    module = DenseStack()
    variables = module.init(jax.random.key(0), x[:1])
    layer = kj.layers.FlaxLayer(module, variables=variables)
    np.testing.assert_allclose(layer(x), module.apply(variables, x), rtol=1e-5, atol=1e-6)
    theirs = klayers.FlaxLayer(DenseStack(), variables=variables)
    np.testing.assert_allclose(layer(x), theirs(x), rtol=1e-5, atol=1e-6)
    assert _signature(layer) == [(tuple(w.shape), bool(w.trainable), str(w.dtype))
                                 for w in theirs.weights]
    assert len(layer.variables) == len(theirs.variables)

    model = kj.Sequential([kj.Input((4,)), kj.layers.FlaxLayer(DenseStack())])
    model.compile(optimizer=kj.optimizers.Adam(0.05), loss="mse")
    hist = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    trained = _values(model.layers[0].params)
    np.testing.assert_allclose(model.predict(x, verbose=0), module.apply(trained, x),
                               rtol=1e-5, atol=1e-6)


def test_flax_layer_batchnorm_dropout(klayers):
    x, y = _data()
    module = BNDropout()
    layer = kj.layers.FlaxLayer(module, seed=1)
    model = kj.Sequential([kj.Input((4,)), layer])
    k_layer = klayers.FlaxLayer(BNDropout())
    k_layer.build((None, 4))
    assert _signature(layer) == [(tuple(w.shape), bool(w.trainable), str(w.dtype))
                                 for w in k_layer.weights]
    assert set(layer.state) == {"batch_stats"}
    stats = _values(layer.state)
    np.testing.assert_allclose(stats["batch_stats"]["BatchNorm_0"]["mean"], 0.0)

    # Inference equals module.apply with the same variables (no mutation).
    variables = {**_values(layer.params), **_values(layer.state)}
    np.testing.assert_allclose(model(x), module.apply(variables, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_values(layer.state)["batch_stats"]["BatchNorm_0"]["mean"], 0.0)

    # Training: dropout differs between calls, batch statistics move.
    a, b = layer(x, training=True), layer(x, training=True)
    assert not np.allclose(a, b)
    moved = _values(layer.state)["batch_stats"]["BatchNorm_0"]["mean"]
    assert not np.allclose(moved, 0.0)

    model.compile(optimizer=kj.optimizers.Adam(0.02), loss="mse")
    before = _values(layer.state)["batch_stats"]["BatchNorm_0"]["var"]
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    after = _values(layer.state)["batch_stats"]["BatchNorm_0"]["var"]
    assert not np.allclose(before, after)
    variables = {**_values(layer.params), **_values(layer.state)}
    np.testing.assert_allclose(model.predict(x, verbose=0), module.apply(variables, x),
                               rtol=1e-5, atol=1e-5)


def test_flax_layer_state_only_and_method():
    class Count(nn.Module):
        @nn.compact
        def __call__(self, x):
            c = self.variable("a", "b", lambda s: jnp.zeros(s, jnp.int32), [])
            c.value = c.value + 1
            return x

    layer = kj.layers.FlaxLayer(Count(), variables={"a": {"b": 0}})
    layer(np.ones((1,)))
    assert len(layer.params) == 0
    assert int(layer.state["a"]["b"].value) == 1

    class TwoWays(nn.Module):
        @nn.compact
        def forward(self, x, training):
            return nn.Dense(2)(x) * (2.0 if training else 1.0)

    def wrapper(module, inputs, training):
        return module.forward(inputs, training)

    x = np.ones((3, 4), "float32")
    for method in (TwoWays().forward, wrapper):
        layer = kj.layers.FlaxLayer(TwoWays(), method=method)
        out = layer(x)
        np.testing.assert_allclose(layer(x, training=True), 2 * out, rtol=1e-5, atol=1e-6)


# ---- saving -------------------------------------------------------------------------------
def test_save_weights_round_trip(tmp_path):
    x, _ = _data(8)
    for make in (lambda: kj.layers.JaxLayer(counter_call, counter_init),
                 lambda: kj.layers.FlaxLayer(BNDropout())):
        model = kj.Sequential([kj.Input((4,)), make()])
        model(x, training=True)
        path = str(tmp_path / "w.weights.h5")
        model.save_weights(path)
        fresh = kj.Sequential([kj.Input((4,)), make()])
        assert not np.allclose(fresh(x), model(x))
        fresh.load_weights(path)
        np.testing.assert_allclose(fresh(x), model(x), rtol=1e-5, atol=1e-6)
        for a, b in zip(fresh.weights, model.weights, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_whole_model_saving(tmp_path, klayers):
    x, _ = _data(8)
    # Registered functions / modules: the model loads back and computes the same outputs.
    for layer in (kj.layers.JaxLayer(counter_call, counter_init),
                  kj.layers.FlaxLayer(DenseStack(features=5))):
        model = kj.Sequential([kj.Input((4,)), layer])
        model(x, training=True)
        path = str(tmp_path / f"{layer.name}.keras")
        model.save(path)
        loaded = kj.saving.load_model(path)
        np.testing.assert_allclose(loaded(x), model(x), rtol=1e-5, atol=1e-6)
        assert _signature(loaded.layers[0]) == _signature(layer)
    assert loaded.layers[0].module == DenseStack(features=5)

    # A method bound to the module is saved by name and bound again on loading.
    model = kj.Sequential([kj.Input((4,)), kj.layers.FlaxLayer(
        DenseStack(features=3), method=DenseStack(features=3).__call__)])
    model.save(str(tmp_path / "bound.keras"))
    loaded = kj.saving.load_model(str(tmp_path / "bound.keras"))
    assert loaded.layers[0].method.__self__ is loaded.layers[0].module
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-5, atol=1e-6)

    # The configs are Keras's.
    ours = kj.layers.FlaxLayer(DenseStack(), method=DenseStack().__call__)
    theirs = klayers.FlaxLayer(DenseStack(), method=DenseStack().__call__)
    strip = lambda c: {k: v for k, v in c.items() if k != "name"}  # noqa: E731
    assert strip(ours.get_config()) == strip(theirs.get_config())
    assert ours.get_config()["method"] == "__call__"

    # A module without get_config: saving refuses, with Keras's error.
    with pytest.raises(TypeError) as k_err:
        klayers.FlaxLayer(NoConfig()).get_config()
    with pytest.raises(TypeError) as err:
        kj.Sequential([kj.Input((4,)), kj.layers.FlaxLayer(NoConfig())]).save(
            str(tmp_path / "nc.keras"))
    assert "To be serializable, a class must implement the `get_config()` method" in str(
        err.value)
    assert str(err.value).split(" of type")[0].split("object ")[1] == str(
        k_err.value).split(" of type")[0].split("object ")[1]

    # An unregistered function saves (by name) but cannot be found when loading.
    def local_call(params, inputs):
        return inputs * params["s"]

    model = kj.Sequential([kj.Input((4,)), kj.layers.JaxLayer(local_call, params={"s": 2.0})])
    path = str(tmp_path / "local.keras")
    model.save(path)
    with pytest.raises(TypeError, match="Could not locate function 'local_call'"):
        kj.saving.load_model(path)


# ---- errors -------------------------------------------------------------------------------
def test_bad_arguments(klayers):
    def no_init(params, inputs):
        return inputs

    cases = [
        ((no_init,), "`init_fn`, `params` and `state` cannot all be `None` when `call_fn` "
                     "takes a `params` or a `state` argument."),
        ((lambda params, rng, training: 0, mlp_init), "Missing required argument in "
                                                       "`call_fn`: `inputs`"),
        ((mlp_call, lambda rng, training: {}), "Missing required argument in `init_fn`: "
                                               "`inputs`"),
        ((lambda params, inputs, mode: 0, mlp_init), "Unsupported argument in `call_fn`: "
                                                     "`mode`, supported arguments are"),
        ((mlp_call, lambda rng, inputs, mode: {}), "Unsupported argument in `init_fn`: "
                                                   "`mode`, supported arguments are"),
    ]
    for args, message in cases:
        with pytest.raises(ValueError) as theirs:
            klayers.JaxLayer(*args)
        with pytest.raises(ValueError) as ours:
            kj.layers.JaxLayer(*args)
        assert message in str(theirs.value) and message in str(ours.value)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        kj.layers.JaxLayer(mlp_call, mlp_init, bogus=1)
