"""LoRA (`enable_lora`) on Dense, EinsumDense, Embedding, ReversibleEmbedding and Conv2D,
against real Keras 3 with the same weights: outputs, merged weights, configs, files both
ways, and fit training only the factors."""

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

RNG = np.random.default_rng(0)
X3 = RNG.normal(size=(2, 3, 6)).astype("float32")
IDS = RNG.integers(0, 9, size=(2, 3))
IMG = RNG.normal(size=(2, 5, 5, 3)).astype("float32")

LAYERS = {
    "dense": (lambda lib: lib.layers.Dense(5, activation="relu"), X3, "kernel"),
    "einsum": (lambda lib: lib.layers.EinsumDense("abc,cde->abde", (3, 2, 4), bias_axes="de"),
               X3, "kernel"),
    # Kernel's last axis contracted: computed with the merged kernel.
    "einsum_contracted_last": (
        lambda lib: lib.layers.EinsumDense("abc,dc->abd", (3, 4), bias_axes="d"), X3, "kernel"),
    "einsum_ellipsis": (lambda lib: lib.layers.EinsumDense("...b,bc->...c", 5), X3, "kernel"),
    "einsum_multi_axis_in": (  # attention's output projection
        lambda lib: lib.layers.EinsumDense("abcd,cde->abe", (3, 4)),
        X3.reshape(2, 3, 3, 2), "kernel"),
    "embedding": (lambda lib: lib.layers.Embedding(9, 4), IDS, "embeddings"),
    "reversible": (lambda lib: lib.layers.ReversibleEmbedding(9, 4), IDS, "embeddings"),
    "conv2d": (lambda lib: lib.layers.Conv2D(4, 3), IMG, "kernel"),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_lora_matches_keras(name):
    make, x, base = LAYERS[name]
    k, o = twin_layers(make, x)
    for layer in (k, o):
        layer.enable_lora(2, lora_alpha=3)
        set_lora_factors(layer)
    assert o.lora_enabled and o.lora_rank == 2 and o.lora_alpha == 3
    assert_same_weights(k, o)
    assert [v.trainable for v in o.weights] == [v.trainable for v in k.weights]
    assert not getattr(o, "_" + base).trainable
    np.testing.assert_allclose(np.asarray(o(x)), np.asarray(k(x)), atol=1e-5)
    # `kernel` / `embeddings` read as the merged weight
    np.testing.assert_allclose(np.asarray(getattr(o, base)), np.asarray(getattr(k, base)),
                               atol=1e-6)
    assert_same_store(k, o, atol=1e-6)
    assert {c: o.get_config()[c] for c in ("lora_rank", "lora_alpha")} == {
        c: k.get_config()[c] for c in ("lora_rank", "lora_alpha")}
    assert set(o.get_config()) == set(k.get_config())


def test_lora_reverse_projection_uses_merged_table():
    h = RNG.normal(size=(2, 4)).astype("float32")
    k, o = twin_layers(LAYERS["reversible"][0], IDS)
    for layer in (k, o):
        layer.enable_lora(2)
        set_lora_factors(layer)
    np.testing.assert_allclose(np.asarray(o(h, reverse=True)), np.asarray(k(h, reverse=True)),
                               atol=1e-5)


def test_lora_rank_argument_builds_with_lora():
    layer = kj.layers.Dense(3, lora_rank=2, lora_alpha=4)
    layer.build((None, 5))
    assert layer.lora_enabled and layer.lora_alpha == 4
    assert [v.name for v in layer.trainable_weights] == ["bias", "lora_kernel_a", "lora_kernel_b"]
    assert layer.lora_kernel_a.shape == (5, 2) and layer.lora_kernel_b.shape == (2, 3)
    assert layer.lora_kernel_a.dtype == "float32"
    np.testing.assert_array_equal(layer.lora_kernel_b.numpy(), 0.0)


def test_lora_errors():
    with pytest.raises(ValueError, match="isn't yet built"):
        kj.layers.Dense(3).enable_lora(2)
    layer = kj.layers.Dense(3, kernel_constraint="non_neg")
    layer.build((None, 2))
    with pytest.raises(ValueError, match="incompatible with kernel constraints"):
        layer.enable_lora(2)
    emb = kj.layers.Embedding(4, 2, embeddings_constraint="non_neg")
    emb.build()
    with pytest.raises(ValueError, match="incompatible with embedding constraints"):
        emb.enable_lora(2)
    layer = kj.layers.Dense(3)
    layer.build((None, 2))
    layer.enable_lora(1)
    with pytest.raises(ValueError, match="already enabled"):
        layer.enable_lora(1)


def _lora_model(lib):
    inputs = lib.Input((3, 6), name="x")
    h = lib.layers.Dense(5, activation="relu", name="d")(inputs)
    h = lib.layers.EinsumDense("abc,cd->abd", (3, 4), bias_axes="d", name="ed")(h)
    return lib.Model(inputs, lib.layers.Dense(2, name="out")(h), name="m")


@pytest.mark.parametrize("writer", ["keras", "ours"])
def test_lora_files_move_both_ways(tmp_path, writer):
    k, o = twin_models(_lora_model)
    enable_lora_everywhere(k)
    enable_lora_everywhere(o)
    expected = np.asarray(k.predict(X3, verbose=0))
    np.testing.assert_allclose(np.asarray(o.predict(X3, verbose=0)), expected, atol=1e-5)
    src, dst = (k, kj) if writer == "keras" else (o, keras())
    path = str(tmp_path / "lora.keras")
    src.save(path)
    src.save_weights(str(tmp_path / "lora.weights.h5"))
    loaded = dst.saving.load_model(path)
    # As Keras: the file holds the merged kernel; the factors restart from zero.
    layer = loaded.get_layer("d")
    assert layer.lora_enabled and layer.lora_rank == 2
    np.testing.assert_array_equal(np.asarray(layer.lora_kernel_b), 0.0)
    np.testing.assert_allclose(np.asarray(loaded.predict(X3, verbose=0)), expected, atol=1e-5)
    plain = _lora_model(dst)
    plain.load_weights(str(tmp_path / "lora.weights.h5"))
    np.testing.assert_allclose(np.asarray(plain.predict(X3, verbose=0)), expected, atol=1e-5)


def test_fit_trains_only_the_factors_as_keras():
    y = RNG.normal(size=(2, 3, 2)).astype("float32")
    k, o = twin_models(_lora_model)
    for model, lib in ((k, keras()), (o, kj)):
        for layer in model.layers:
            if hasattr(layer, "enable_lora"):
                layer.enable_lora(2, a_initializer="ones")
        model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse")
    before = {v.path: np.asarray(v) for v in o.weights}
    assert_fits_as_keras(k, o, X3, y, batch_size=2)
    for v in o.weights:
        changed = not np.array_equal(before[v.path], np.asarray(v))
        assert changed == ("lora" in v.path or "bias" in v.path), v.path
