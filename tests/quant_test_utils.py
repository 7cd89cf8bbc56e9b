"""Twin layers and models built in real Keras 3 and here with the same weights."""

import numpy as np

import keras_on_jax as kj


def keras():
    import keras as real

    return real


def twin_layers(make, call_input, seed=0, **call_kwargs):
    """`(keras_layer, our_layer)`: `make(lib)` built by a call on `call_input`, with the
    same random weights."""
    real = keras()
    pair = [make(real), make(kj)]
    for layer in pair:
        layer(call_input, **call_kwargs)
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=v.shape).astype(str(v.dtype)) for v in pair[0].weights]
    for layer in pair:
        layer.set_weights(weights)
    return pair


def twin_models(build, seed=0):
    """`(keras_model, our_model)`: `build(lib)` with the same random weights."""
    pair = [build(keras()), build(kj)]
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=w.shape).astype(w.dtype) for w in pair[0].get_weights()]
    for model in pair:
        model.set_weights(weights)
    return pair


def set_lora_factors(layer):
    """Give the LoRA factors distinct non-zero values (B starts at zero)."""
    for v in layer.weights:
        if "lora" in v.path:
            values = np.linspace(-0.3, 0.5, int(np.prod(v.shape)), dtype="float32")
            v.assign(values.reshape(v.shape))


def assert_same_weights(keras_layer, our_layer):
    """Same variable names, shapes, dtypes and values (exactly), in the same order."""
    ks, os_ = keras_layer.weights, our_layer.weights
    assert [v.path.split("/")[-1] for v in ks] == [v.path.split("/")[-1] for v in os_]
    for a, b in zip(ks, os_):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype), (a.path, b.path)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)


def assert_same_store(keras_layer, our_layer, atol=0.0):
    """`save_own_variables` writes the same datasets in both."""
    ks, os_ = {}, {}
    keras_layer.save_own_variables(ks)
    our_layer.save_own_variables(os_)
    assert list(ks) == list(os_)
    for key in ks:
        a, b = np.asarray(ks[key]), np.asarray(os_[key])
        assert a.shape == b.shape and a.dtype == b.dtype, key
        np.testing.assert_allclose(a.astype("float64"), b.astype("float64"), atol=atol)


def enable_lora_everywhere(model, rank=2):
    """`enable_lora(rank)` on every layer that has it, with distinct factor values."""
    for layer in model.layers:
        if hasattr(layer, "enable_lora"):
            layer.enable_lora(rank)
            set_lora_factors(layer)


def assert_fits_as_keras(keras_model, our_model, x, y, batch_size, weight_rtol=1e-7,
                         weight_atol=1e-5):
    """Compiled twins train the same variables to the same losses and weights."""
    assert sorted(v.path for v in our_model.trainable_variables) == sorted(
        v.path for v in keras_model.trainable_variables)
    fit = dict(batch_size=batch_size, epochs=2, verbose=0, shuffle=False)
    hk = keras_model.fit(x, y, **fit)
    ho = our_model.fit(x, y, **fit)
    np.testing.assert_allclose(ho.history["loss"], hk.history["loss"], rtol=1e-5)
    for a, b in zip(keras_model.weights, our_model.weights):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=weight_rtol,
                                   atol=weight_atol, err_msg=b.path)
