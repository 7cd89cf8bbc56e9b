"""`layer.quantize` / `model.quantize` ("int8", "int4", "float8") against real Keras 3
with the same weights: the quantized variables (names, shapes, dtypes, values exactly),
outputs, dtype policies, `.keras` / `.weights.h5` files both ways, and training."""

import json
import warnings

import numpy as np
import pytest
from quant_test_utils import (
    assert_fits_as_keras,
    assert_same_store,
    assert_same_weights,
    enable_lora_everywhere,
    keras,
    set_lora_factors,
    twin_layers,
    twin_models,
)

import keras_on_jax as kj

RNG = np.random.default_rng(1)
X3 = RNG.normal(size=(2, 3, 6)).astype("float32")
IDS = RNG.integers(0, 9, size=(2, 3))
H = RNG.normal(size=(2, 5)).astype("float32")

LAYERS = {
    "dense": (lambda lib: lib.layers.Dense(5, activation="relu"), X3, {}),
    "einsum_qkv": (lambda lib: lib.layers.EinsumDense("abc,cde->abde", (3, 2, 4),
                                                      bias_axes="de"), X3, {}),
    "einsum_heads": (lambda lib: lib.layers.EinsumDense("btd,ndh->btnh", (3, 2, 4)), X3, {}),
    "einsum_out": (lambda lib: lib.layers.EinsumDense("abc,cd->abd", (3, 4), bias_axes="d"),
                   X3, {}),
    "embedding": (lambda lib: lib.layers.Embedding(9, 5), IDS, {}),
    "reversible_tied": (lambda lib: lib.layers.ReversibleEmbedding(9, 5), H,
                        {"reverse": True}),
    "reversible_untied": (lambda lib: lib.layers.ReversibleEmbedding(9, 5, tie_weights=False),
                          H, {"reverse": True}),
}
MODES = {"int8": None, "int4_grouped": 2, "int4_per_channel": -1, "float8": None}


def _config(lib, mode):
    if mode.startswith("int4"):
        return {"mode": "int4",
                "config": lib.quantizers.Int4QuantizationConfig(block_size=MODES[mode])}
    return {"mode": mode}


CASES = [(name, mode, False) for name in sorted(LAYERS) for mode in sorted(MODES)
         if mode != "float8" or name.startswith(("dense", "einsum"))]
CASES += [(name, mode, True) for name in ("dense", "einsum_heads", "embedding",
                                          "reversible_untied")
          for mode in ("int8", "int4_grouped", "int4_per_channel")]


@pytest.mark.parametrize("name,mode,lora", CASES)
def test_layer_quantize_matches_keras(name, mode, lora):
    make, x, kwargs = LAYERS[name]
    build_input = IDS if "reversible" in name else x
    k, o = twin_layers(make, build_input)
    for layer, lib in ((k, keras()), (o, kj)):
        if lora:
            layer.enable_lora(2)
        layer.quantize(**_config(lib, mode))
        if lora:
            set_lora_factors(layer)
    assert o.quantization_mode == k.quantization_mode
    assert type(o.dtype_policy).__name__ == type(k.dtype_policy).__name__
    assert o.dtype_policy.name == k.dtype_policy.name
    assert_same_weights(k, o)
    np.testing.assert_allclose(np.asarray(o(x, **kwargs)), np.asarray(k(x, **kwargs)),
                               atol=1e-5)
    assert_same_store(k, o, atol=1e-6)
    assert json.dumps(kj.quantizers.serialize(o.quantization_config)) == json.dumps(
        keras().quantizers.serialize(k.quantization_config))


def _model(lib):
    a = lib.Input((3, 6), name="a")
    b = lib.Input((3,), dtype="int32", name="b")
    h = lib.layers.Dense(5, activation="relu", name="d1")(a)
    h = lib.layers.EinsumDense("abc,cd->abd", (3, 4), bias_axes="d", name="ed")(h)
    h = lib.layers.Add()([h, lib.layers.Embedding(9, 4, name="emb")(b)])
    h = lib.layers.LayerNormalization(name="ln")(h)
    return lib.Model([a, b], lib.layers.Dense(2, name="d2")(h), name="m")


def _quantize_model(model, lib, mode):
    with warnings.catch_warnings():
        # As Keras, layers that cannot be quantized are skipped with a warning.
        warnings.filterwarnings("ignore", message=".*(does not|cannot be quantized)")
        model.quantize(**_config(lib, mode))


@pytest.mark.parametrize("mode", ["float8", "int4_grouped", "int8"])
def test_quantized_files_move_both_ways(tmp_path, mode):
    k, o = twin_models(_model)
    _quantize_model(k, keras(), mode)
    _quantize_model(o, kj, mode)
    data = [X3, IDS]
    expected = np.asarray(k.predict(data, verbose=0))
    np.testing.assert_allclose(np.asarray(o.predict(data, verbose=0)), expected, atol=1e-5)
    for src, reader in ((k, kj), (o, keras())):
        src.save(str(tmp_path / "q.keras"))
        src.save_weights(str(tmp_path / "q.weights.h5"))
        loaded = reader.saving.load_model(str(tmp_path / "q.keras"))
        assert loaded.get_layer("d1").dtype_policy.name == src.get_layer("d1").dtype_policy.name
        np.testing.assert_allclose(np.asarray(loaded(data)), expected, atol=1e-5)
        target = _model(reader)
        _quantize_model(target, reader, mode)
        target.load_weights(str(tmp_path / "q.weights.h5"))
        np.testing.assert_allclose(np.asarray(target(data)), expected, atol=1e-5)


@pytest.mark.parametrize("mode", ["int8", "int4_grouped"])
def test_lora_on_quantized_model_files_as_keras(tmp_path, mode):
    """LoRA over a quantized kernel: files hold the re-quantized merged kernel."""
    k, o = twin_models(_model)
    for model, lib in ((k, keras()), (o, kj)):
        _quantize_model(model, lib, mode)
        enable_lora_everywhere(model)
    data = [X3, IDS]
    k.save(str(tmp_path / "k.keras"))
    o.save(str(tmp_path / "o.keras"))
    from_keras = kj.saving.load_model(str(tmp_path / "k.keras"))
    from_ours = keras().saving.load_model(str(tmp_path / "o.keras"))
    np.testing.assert_allclose(np.asarray(from_ours.predict(data, verbose=0)),
                               np.asarray(from_keras.predict(data, verbose=0)), atol=1e-5)
    assert_same_weights(from_ours.get_layer("d1"), from_keras.get_layer("d1"))


@pytest.mark.parametrize("mode", ["float8", "int8"])
def test_fit_quantized_as_keras(mode):
    """float8 training updates the scales and amax histories through their gradients;
    int8 trains the rest through the custom input gradient."""
    x = RNG.normal(size=(8, 6)).astype("float32")
    y = RNG.normal(size=(8, 3)).astype("float32")

    def build(lib):
        return lib.Sequential([lib.Input((6,)), lib.layers.Dense(8, activation="relu", name="a"),
                               lib.layers.Dense(3, name="b")], name="s")

    k, o = twin_models(build)
    for model, lib in ((k, keras()), (o, kj)):
        model.quantize(mode)
        model.compile(lib.optimizers.SGD(0.01), "mse")
    assert_fits_as_keras(k, o, x, y, batch_size=4, weight_rtol=1e-5, weight_atol=1e-6)
    if mode == "float8":
        assert np.asarray(o.get_layer("a").inputs_amax_history)[0] > 0


def test_float8_policy_trains_from_construction():
    layer = kj.layers.Dense(3, dtype="float8_from_float32")
    layer.build((None, 4))
    assert layer.quantization_mode == "float8" and layer.inputs_amax_history.shape == (1024,)
    assert layer.inputs_scale.overwrite_with_gradient and not layer.inputs_scale.autocast
    policy = kj.dtype_policies.QuantizedFloat8DTypePolicy("float8", "float32",
                                                          amax_history_length=16)
    layer = kj.layers.Dense(3, dtype=policy)
    layer.build((None, 4))
    assert layer.kernel_amax_history.shape == (16,)


def test_model_quantize_filters_and_warnings():
    model = _model(kj)
    with pytest.warns(UserWarning, match="LayerNormalization"):
        model.quantize("int8", filters=["d1", "ln"])
    assert [layer.quantization_mode for layer in model.layers if layer.weights] == [
        "int8", None, None, None, None]
    model = _model(kj)
    model.quantize("int8", filters=lambda layer: layer.name in ("ed", "emb"))
    assert model.get_layer("ed").quantization_mode == "int8"
    assert model.get_layer("d1").quantization_mode is None
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        model.quantize("int8", foo=1)


def test_quantize_errors():
    layer = kj.layers.Dense(3)
    with pytest.raises(ValueError, match="isn't yet built"):
        layer.quantize("int8")
    layer.build((None, 4))
    for mode in ("gptq", "awq"):
        with pytest.raises(ValueError, match=f"Quantization mode '{mode}'.*not available"):
            layer.quantize(mode)
    with pytest.raises(ValueError, match="Invalid quantization mode"):
        layer.quantize("int2")
    with pytest.raises(ValueError, match="Contradictory arguments"):
        layer.quantize("int8", config=kj.quantizers.Int4QuantizationConfig())
    layer.quantize("int8")
    with pytest.raises(ValueError, match="already quantized"):
        layer.quantize("int8")
    with pytest.raises(ValueError, match="does not support quantization"):
        kj.layers.LayerNormalization().quantize("int8")

    class MyDense(kj.layers.Dense):
        pass

    mine = MyDense(2)
    mine.build((None, 3))
    with pytest.raises(ValueError, match="MyDense does not have a `quantize`"):
        mine.quantize("int8")
    mine.quantize("int8", type_check=False)
    assert mine.quantization_mode == "int8"


def test_setting_a_quantized_policy_quantizes_a_built_layer():
    k, o = twin_layers(LAYERS["dense"][0], X3)
    k.dtype_policy = "int8_from_float32"
    o.dtype_policy = "int8_from_float32"
    assert o.quantization_mode == "int8" and o._kernel.dtype == "int8"
    assert_same_weights(k, o)


def test_dtype_policy_map_selects_layer_policies():
    policy_map = kj.dtype_policies.DTypePolicyMap()
    policy_map["m/d.*"] = "int8_from_float32"
    inputs = kj.Input((4,))
    model = kj.Sequential([kj.layers.Dense(3, name="d", dtype=policy_map),
                           kj.layers.Dense(2, name="e", dtype=policy_map)], name="m")
    model(inputs)
    assert model.layers[0].path == "m/d"
    assert model.layers[0].quantization_mode == "int8" and model.layers[0]._kernel.dtype == "int8"
    assert model.layers[1].quantization_mode is None
