"""The `keras.src.*` compatibility table (`keras_on_jax/_keras_src.py`): every listed path
resolves (as `keras_on_jax.src.<path>`, and as `keras.src.<path>` under the runner) to
this package's implementation, and that implementation works as Keras 3's does."""

import importlib
import textwrap

import h5py
import jax.numpy as jnp
import numpy as np
import pytest
from runner_utils import run_script

import keras_on_jax as kj
from keras_on_jax import _keras_src


def _get(path):
    """`keras_on_jax.src.<path>` by attribute access, checked against the import spelling."""
    obj = kj.src
    for part in path.split("."):
        obj = getattr(obj, part)
    module, _, name = f"keras_on_jax.src.{path}".rpartition(".")
    assert getattr(importlib.import_module(module), name) is obj
    return obj


def _keras(path):
    import keras  # the real Keras 3, as the oracle

    module, _, name = f"keras.src.{path}".rpartition(".")
    return getattr(importlib.import_module(module), name)


def check_serialization_lib(lib):
    keras_lib = _keras("saving.serialization_lib")
    # As Keras 3: None outside any deserialization (KerasHub's tokenizers then accept
    # vocabulary paths), the scope's value inside.
    assert lib.in_safe_mode() is None and keras_lib.in_safe_mode() is None
    for mode in (True, False):
        with lib.SafeModeScope(mode):
            assert lib.in_safe_mode() is mode
    # `module_objects` (KerasHub's `samplers.get("greedy")`): a class found there by name
    # or config gives an instance made from the config.
    class Greedy:
        def __init__(self, temperature=1.0):
            self.temperature = temperature

        def get_config(self):
            return {"temperature": self.temperature}

        @classmethod
        def from_config(cls, config):
            return cls(**config)

    objects = {"greedy": Greedy}
    for registry in (kj.saving, _keras("saving")):  # registered, as KerasHub's samplers are
        registry.register_keras_serializable(package="KerasSrcTest")(Greedy)
    for deserialize in (lib.deserialize_keras_object, keras_lib.deserialize_keras_object):
        made = deserialize("greedy", module_objects=objects)
        assert isinstance(made, Greedy) and made.temperature == 1.0
        made = deserialize({"class_name": "greedy", "config": {"temperature": 0.5}},
                           module_objects=objects)
        assert isinstance(made, Greedy) and made.temperature == 0.5
    layer = kj.layers.Dense(3, activation="relu", name="d")
    config = lib.serialize_keras_object(layer)
    keras_config = _keras("saving.serialization_lib").serialize_keras_object(
        _keras("layers.Dense")(3, activation="relu", name="d"))
    assert {k: config[k] for k in ("module", "class_name")} == \
        {k: keras_config[k] for k in ("module", "class_name")}
    assert config["config"]["units"] == 3
    assert lib.deserialize_keras_object(config).get_config() == layer.get_config()


def check_h5iostore(H5IOStore, tmp_path):
    # KerasHub's `save_lora_weights` pattern: `make` returns the store, pointed at a group.
    ours = tmp_path / "ours.lora.h5"
    store = H5IOStore(ours, mode="w")
    store.make("lora")["rank"] = 4
    inner = store.make("lora/0")
    inner["lora_kernel_a"] = kj.Variable(np.arange(6, dtype="float32").reshape(2, 3))
    inner["lora_kernel_b"] = jnp.ones((3, 2), "bfloat16")
    store.make("unused")  # no value: no group
    store.close()
    keras_store = _keras("saving.saving_lib.H5IOStore")(ours, mode="r")
    assert int(keras_store.get("lora")["rank"][()]) == 4
    np.testing.assert_array_equal(keras_store.get("lora/0")["lora_kernel_a"],
                                  np.arange(6).reshape(2, 3))
    b = keras_store.get("lora/0")["lora_kernel_b"]
    assert str(b.dtype) == "bfloat16" and b.shape == (3, 2)
    assert not keras_store.has_path("unused")
    keras_store.close()
    # ... and a file Keras writes reads back here.
    theirs = tmp_path / "theirs.h5"
    keras_store = _keras("saving.saving_lib.H5IOStore")(theirs, mode="w")
    keras_store.make("")["x"] = np.float32(2.5)
    keras_store.make("layers/dense")["0"] = np.ones((2, 2), "float32")
    keras_store.close()
    store = H5IOStore(theirs, mode="r")
    assert float(store.get("")["x"]) == 2.5
    assert store.get("layers/dense").keys() == ["0"] and "0" in store
    assert len(store.get("missing")) == 0
    with pytest.raises(KeyError, match="No variable '1' in group 'layers/dense'"):
        store.get("layers/dense")["1"]
    with pytest.raises(ValueError, match="`make` is only allowed in write mode"):
        store.make("x")
    store.close()
    with h5py.File(ours, "r") as f:
        assert sorted(f["lora"]) == ["0", "vars"]


def check_get_keras_mask(get_keras_mask, set_keras_mask):
    x = jnp.ones((2, 3))
    mask = jnp.array([[True, False, True]] * 2)
    assert get_keras_mask(x) is None
    set_keras_mask(x, mask)
    assert get_keras_mask(x) is mask
    out = kj.layers.Embedding(5, 2, mask_zero=True)(np.array([[1, 0, 3]]))
    np.testing.assert_array_equal(get_keras_mask(out), [[True, False, True]])


def check_in_grain_data_pipeline(fn):
    grain = pytest.importorskip("grain")
    assert fn() is False
    seen = list(grain.MapDataset.range(2).map(lambda i: fn()))
    assert seen == [True, True]


def check_class_weight_to_sample_weights(fn):
    y = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(fn(y, {1: 3.0}), [3.0, 1.0, 3.0])


def check_loss_function_wrapper(LossFunctionWrapper):
    # KerasHub's `DepthAnythingLoss` subclasses it with a function and keyword arguments.
    def scaled_abs(y_true, y_pred, scale):
        return scale * jnp.mean(jnp.abs(y_true - y_pred), axis=-1)

    loss = LossFunctionWrapper(scaled_abs, name="scaled", reduction="sum", scale=2.0)
    y_true, y_pred = np.zeros((2, 3), "float32"), np.arange(6, dtype="float32").reshape(2, 3)
    assert isinstance(loss, kj.losses.Loss) and loss.name == "scaled"
    np.testing.assert_allclose(loss(y_true, y_pred), 2.0 * (1.0 + 4.0), rtol=1e-6)


def check_distribution_lib(lib):
    assert lib.distribution() is None
    mesh = lib.DeviceMesh((1,), ["batch"], lib.list_devices()[:1])
    data_parallel = lib.DataParallel(device_mesh=mesh)
    lib.set_distribution(data_parallel)
    try:
        assert lib.distribution() is data_parallel
        layout = lib.TensorLayout(["batch", None], mesh)
        out = lib.distribute_tensor(jnp.ones((2, 2)), layout)
        np.testing.assert_array_equal(out, np.ones((2, 2)))
    finally:
        lib.set_distribution(None)


def check_ops(ops):
    assert ops is kj.ops
    np.testing.assert_array_equal(ops.matmul(np.eye(2), np.ones((2, 1))), np.ones((2, 1)))


def check_smart_resize(smart_resize):
    image = np.random.default_rng(0).random((5, 7, 3)).astype("float32")
    np.testing.assert_allclose(smart_resize(image, (4, 4)),
                               _keras("utils.image_utils.smart_resize")(image, (4, 4)),
                               rtol=1e-5, atol=1e-5)


def check_saving_api(saving_api, tmp_path):
    model = kj.Sequential([kj.Input((2,)), kj.layers.Dense(1)])
    saving_api.save_model(model, tmp_path / "m.keras")
    loaded = saving_api.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


def check_keras_tensor(KerasTensor):
    assert KerasTensor is kj.KerasTensor and isinstance(kj.Input((2,)), KerasTensor)


def check_functional(Functional):
    inp = kj.Input((2,))
    assert isinstance(kj.Model(inp, kj.layers.Dense(1)(inp)), Functional)


def check_pad_sequences(pad_sequences):
    seqs = [[1, 2, 3], [4]]
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2, padding="post"),
                                  _keras("utils.sequence_utils.pad_sequences")(
                                      seqs, maxlen=2, padding="post"))


CHECKS = {
    "saving.serialization_lib": check_serialization_lib,
    "saving.saving_lib.H5IOStore": check_h5iostore,
    "backend.get_keras_mask": None,  # with set_keras_mask below
    "backend.set_keras_mask": lambda set_mask: check_get_keras_mask(
        _get("backend.get_keras_mask"), set_mask),
    "utils.backend_utils.in_grain_data_pipeline": check_in_grain_data_pipeline,
    "trainers.data_adapters.data_adapter_utils.class_weight_to_sample_weights":
        check_class_weight_to_sample_weights,
    "losses.losses.LossFunctionWrapper": check_loss_function_wrapper,
    "distribution.distribution_lib": check_distribution_lib,
    "ops": check_ops,
    "utils.image_utils.smart_resize": check_smart_resize,
    "saving.saving_api": check_saving_api,
    "backend.common.keras_tensor.KerasTensor": check_keras_tensor,
    "models.functional.Functional": check_functional,
    "utils.sequence_utils.pad_sequences": check_pad_sequences,
}


def test_every_listed_path_has_a_check():
    assert sorted(CHECKS) == sorted(_keras_src.TABLE)


@pytest.mark.parametrize("path", sorted(CHECKS))
def test_listed_path_resolves_and_works(path, tmp_path):
    obj = _get(path)
    assert obj is _keras_src._load(_keras_src.TABLE[path])
    check = CHECKS[path]
    if check is None:
        return
    if "tmp_path" in check.__code__.co_varnames[:check.__code__.co_argcount]:
        check(obj, tmp_path)
    else:
        check(obj)


def test_namespaces_fall_back_to_our_modules_and_unknown_paths_are_errors():
    # `keras.src.saving` lists `saving_lib` / `serialization_lib` and reads the rest from
    # `keras_on_jax.saving`; unlisted paths with a module here are that module.
    assert kj.src.saving.load_model is kj.saving.load_model
    assert kj.src.losses.losses.MeanSquaredError is kj.losses.MeanSquaredError
    assert kj.src.layers.layer is importlib.import_module("keras_on_jax.layers.layer")
    assert kj.src.layers.layer.Layer is kj.layers.Layer
    assert "saving_lib" in dir(kj.src.saving) and "load_model" in dir(kj.src.saving)
    with pytest.raises(AttributeError, match=r"`keras.src.saving.saving_lib.save_model` is not "
                       r"provided by keras_on_jax"):
        kj.src.saving.saving_lib.save_model
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("keras_on_jax.src.utils.tracking")


RUNNER_SCRIPT = textwrap.dedent("""
    import importlib
    import keras
    import keras_on_jax
    from keras_on_jax import _keras_src

    from keras.src.saving import serialization_lib
    from keras.src.backend import get_keras_mask, set_keras_mask
    from keras.src.utils.backend_utils import in_grain_data_pipeline
    from keras.src import saving
    assert serialization_lib is keras_on_jax.src.saving.serialization_lib
    assert keras.src is keras_on_jax.src and saving is keras_on_jax.src.saving
    for path in _keras_src.TABLE:
        module, _, name = ("keras.src." + path).rpartition(".")
        obj = getattr(importlib.import_module(module), name)
        attr = keras
        for part in ("src." + path).split("."):
            attr = getattr(attr, part)
        assert obj is attr is _keras_src._load(_keras_src.TABLE[path]), path
    print("RESOLVED", len(_keras_src.TABLE))
""")


def test_runner_resolves_every_listed_path_as_keras_src(tmp_path):
    out = run_script(tmp_path, "compat.py", RUNNER_SCRIPT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"RESOLVED {len(_keras_src.TABLE)}" in out.stdout
