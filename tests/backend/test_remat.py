"""Rematerialization (`keras.RematScope`, `keras.remat`): the same numbers as without it,
`jax.checkpoint` in the differentiated program, and state updates carried out of it."""

import jax
import numpy as np
import pytest

import keras_on_jax as kj

RNG = np.random.default_rng(3)
X = RNG.normal(size=(8, 6)).astype("float32")
Y = RNG.normal(size=(8, 3)).astype("float32")


def _model(mode, **kwargs):
    with kj.RematScope(mode=mode, **kwargs):
        model = kj.Sequential([kj.Input((6,)), kj.layers.Dense(8, activation="relu", name="a"),
                               kj.layers.BatchNormalization(name="bn"),
                               kj.layers.Dense(3, name="b")], name="s")
    model.set_weights([np.random.default_rng(i).normal(size=w.shape).astype(w.dtype)
                       for i, w in enumerate(model.get_weights())])
    return model


def _has_remat(jaxpr):
    """Whether a (closed) jaxpr contains a `jax.checkpoint` region, at any depth."""
    for eqn in jaxpr.jaxpr.eqns if hasattr(jaxpr, "jaxpr") else jaxpr.eqns:
        if eqn.primitive.name.startswith(("remat", "checkpoint")):
            return True
        for param in eqn.params.values():
            if hasattr(param, "eqns") or hasattr(param, "jaxpr"):
                if _has_remat(param):
                    return True
    return False


def _grad_program(model):
    def loss(values):
        out, _ = model.stateless_call(values, [v.value for v in model.non_trainable_variables],
                                      X, training=True)
        return (out ** 2).mean()

    return _has_remat(jax.make_jaxpr(jax.grad(loss))([v.value for v in model.trainable_variables]))


@pytest.mark.parametrize("mode,kwargs", [
    ("full", {}), ("activations", {}), ("larger_than", {"output_size_threshold": 20}),
    ("list_of_layers", {"layer_names": ["b"]}),
])
def test_remat_modes_train_like_no_remat(mode, kwargs):
    reference, model = _model(None), _model(mode, **kwargs)
    assert model.layers[0]._remat_mode.mode == mode
    assert not _grad_program(reference)
    assert _grad_program(model)
    for m in (reference, model):
        m.compile(kj.optimizers.SGD(0.01), "mse")
        m.fit(X, Y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(reference.weights, model.weights):  # BatchNorm statistics included
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), atol=1e-6, err_msg=b.path)


def test_larger_than_skips_small_outputs():
    model = _model("larger_than", output_size_threshold=10_000)
    assert not _grad_program(model)


def test_remat_function_matches_keras():
    import keras

    def f(x):
        return jax.numpy.sin(x) * x ** 2

    x = np.linspace(-1, 1, 5, dtype="float32")
    ours = jax.grad(lambda v: kj.remat(f)(v).sum())(x)
    theirs = jax.grad(lambda v: keras.remat(f)(v).sum())(x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert _has_remat(jax.make_jaxpr(jax.grad(lambda v: kj.remat(f)(v).sum()))(x))


def test_remat_scope_errors():
    with pytest.raises(ValueError, match="Invalid mode 'fast'"):
        kj.RematScope(mode="fast")
