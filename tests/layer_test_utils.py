"""One helper for every layer test: `run_layer_test`.

It checks, for one layer configuration: the `get_config` round trip, the symbolic output
shape, the eager output shape and weight counts, that the jitted pure call equals the
eager call, one compiled training step, and — the oracle — that real Keras 3 given the
same weights computes the same outputs and gradients (inputs and weights).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import keras_on_jax as kj


def _real_keras():
    import keras

    return keras


def _random_input(shape, dtype, rng):
    if dtype.startswith("int"):
        return rng.integers(0, 5, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _flat(x):
    return jax.tree.leaves(x)


def run_layer_test(layer_cls, init_kwargs=None, input_shape=None, input_data=None,
                   input_dtype="float32", expected_output_shape=None,
                   expected_num_trainable_weights=None,
                   expected_num_non_trainable_weights=None, call_kwargs=None,
                   compare_with_keras=True, keras_cls=None, atol=1e-5, rtol=1e-5,
                   run_training_check=True, check_grads=True, training=False, seed=0):
    """Run the standard checks; return `(layer, outputs)` for extra assertions."""
    init_kwargs = dict(init_kwargs or {})
    call_kwargs = dict(call_kwargs or {})
    rng = np.random.default_rng(seed)
    if input_data is None:
        input_data = _random_input(tuple(input_shape), input_dtype, rng)
    if input_shape is None:
        input_shape = tuple(np.shape(input_data))

    # 1. get_config round trip.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, (clone.get_config(), config)

    # 2. symbolic call.
    sym_layer = layer_cls(**init_kwargs)
    sym_in = kj.Input(batch_shape=(None, *tuple(input_shape)[1:]), dtype=input_dtype)
    sym_out = sym_layer(sym_in, **call_kwargs)
    if expected_output_shape is not None:
        expected_sym = (None, *tuple(expected_output_shape)[1:])
        got = tuple(sym_out.shape)
        assert got == expected_sym or got == tuple(expected_output_shape), (got, expected_sym)

    # 3. eager call.
    out = layer(input_data, training=training, **call_kwargs) if "training" in layer._call_signature.parameters else layer(input_data, **call_kwargs)
    if expected_output_shape is not None:
        assert tuple(out.shape) == tuple(expected_output_shape), (out.shape, expected_output_shape)
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights
    if expected_num_non_trainable_weights is not None:
        assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights

    # 4. jitted pure call equals the eager call.
    tv = [v.value for v in layer.trainable_variables]
    ntv = [v.value for v in layer.non_trainable_variables]

    def pure(tv, ntv, x):
        kwargs = dict(call_kwargs)
        if "training" in layer._call_signature.parameters:
            kwargs["training"] = training
        return layer.stateless_call(tv, ntv, x, **kwargs)[0]

    jitted = jax.jit(pure)(tv, ntv, jnp.asarray(input_data))
    if not training:
        for a, b in zip(_flat(jitted), _flat(out)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=rtol)

    # 5. one compiled training step through a model.
    if run_training_check and layer.trainable_weights and not input_dtype.startswith("int"):
        model_layer = layer_cls(**init_kwargs)
        inputs = kj.Input(batch_shape=(None, *tuple(input_shape)[1:]), dtype=input_dtype)
        outputs = model_layer(inputs, **call_kwargs)
        if isinstance(outputs, (list, tuple)):
            outputs = outputs[0]
        model = kj.Model(inputs, outputs)
        model.compile(optimizer="sgd", loss="mse")
        target = rng.standard_normal(tuple(np.shape(model.predict(input_data, verbose=0)))).astype("float32")
        before = [w.copy() for w in model.get_weights()]
        history = model.fit(input_data, target, epochs=1, verbose=0, batch_size=len(input_data))
        assert np.isfinite(history.history["loss"][0])
        after = model.get_weights()
        assert any(not np.array_equal(a, b) for a, b in zip(before, after))

    # 6. the oracle: real Keras 3 with the same weights.
    if compare_with_keras and not training:
        keras = _real_keras()
        kcls = keras_cls or getattr(keras.layers, layer_cls.__name__)
        klayer = kcls(**init_kwargs)
        kout = klayer(input_data, **call_kwargs)
        assert len(klayer.weights) == len(layer.weights), (
            [w.path for w in klayer.weights], [w.path for w in layer.weights])
        for kw, w in zip(klayer.weights, layer.weights):
            assert tuple(kw.shape) == tuple(w.shape), (kw.path, kw.shape, w.path, w.shape)
        klayer.set_weights(layer.get_weights())
        kout = klayer(input_data, **call_kwargs)
        for a, b in zip(_flat(kout), _flat(out)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=rtol)
        if check_grads and not input_dtype.startswith("int"):
            probe = [rng.standard_normal(np.shape(o)).astype("float32") for o in _flat(out)]

            def ours(tv, x):
                o = layer.stateless_call(tv, ntv, x, **call_kwargs)[0]
                return sum(jnp.sum(a * p) for a, p in zip(_flat(o), probe))

            def theirs(tv, x):
                kntv = [v.value for v in klayer.non_trainable_variables]
                o = klayer.stateless_call(tv, kntv, x, **call_kwargs)[0]
                return sum(jnp.sum(a * p) for a, p in zip(_flat(o), probe))

            x = jnp.asarray(input_data)
            g1 = jax.grad(ours, argnums=(0, 1))(tv, x)
            ktv = [v.value for v in klayer.trainable_variables]
            g2 = jax.grad(theirs, argnums=(0, 1))(ktv, x)
            for a, b in zip(_flat(g1), _flat(g2)):
                np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=max(atol, 1e-5) * 10, rtol=1e-4)
    return layer, out
