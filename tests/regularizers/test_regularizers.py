"""keras_on_jax.regularizers against real Keras 3."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import keras_on_jax.regularizers as R
from keras_on_jax.backend import Variable

KR = keras.regularizers


def test_public_names_match_keras():
    assert set(R.__all__) == {n for n in dir(KR) if not n.startswith("_")}
    assert R.l1 is R.L1 and R.l2 is R.L2 and R.l1_l2 is R.L1L2
    assert R.orthogonal_regularizer is R.OrthogonalRegularizer


CASES = [
    ("L1", {}),
    ("L1", {"l1": 0.3}),
    ("L2", {}),
    ("L2", {"l2": 0.25}),
    ("L1L2", {}),
    ("L1L2", {"l1": 0.1, "l2": 0.2}),
    ("L1L2", {"l1": None, "l2": 0.5}),
    ("L1L2", {"l1": 0.01}),
    ("OrthogonalRegularizer", {}),
    ("OrthogonalRegularizer", {"factor": 0.3, "mode": "columns"}),
]


@pytest.mark.parametrize("name,kwargs", CASES)
def test_penalty_and_config_match_keras(name, kwargs, rng):
    ours = getattr(R, name)(**kwargs)
    ref = getattr(KR, name)(**kwargs)
    x = rng.normal(size=(5, 4)).astype("float32")
    out = ours(x)
    assert isinstance(out, jax.Array) and out.shape == () and out.dtype == jnp.float32
    np.testing.assert_allclose(out, np.asarray(ref(keras.ops.convert_to_tensor(x))), rtol=1e-6)
    # Variables are accepted.
    np.testing.assert_allclose(ours(Variable(x)), out, rtol=1e-6)
    assert ours.get_config() == ref.get_config()
    assert R.serialize(ours) == KR.serialize(ref)
    again = R.deserialize(R.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    assert R.deserialize(KR.serialize(ref)).get_config() == ref.get_config()
    assert KR.deserialize(R.serialize(ours)).get_config() == ours.get_config()
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()


def test_l1_l2_hand_values():
    x = np.array([[1.0, -2.0], [3.0, -4.0]], "float32")
    np.testing.assert_allclose(R.L1(0.5)(x), 5.0, rtol=1e-6)
    np.testing.assert_allclose(R.L2(0.5)(x), 15.0, rtol=1e-6)
    np.testing.assert_allclose(R.L1L2(0.5, 0.5)(x), 20.0, rtol=1e-6)
    assert float(R.L1L2()(x)) == 0.0


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_penalty_follows_input_dtype(dtype):
    x = jnp.ones((3, 3), dtype=dtype)
    for reg in (R.L1(), R.L2(), R.L1L2(0.1, 0.1)):
        assert reg(x).dtype == jnp.dtype(dtype)


def test_orthogonal_regularizer_values(rng):
    eye = np.eye(3, dtype="float32")
    assert float(R.OrthogonalRegularizer(1.0)(eye)) == pytest.approx(0.0, abs=1e-7)
    x = rng.normal(size=(6, 3)).astype("float32")
    for mode in ("rows", "columns"):
        np.testing.assert_allclose(
            R.OrthogonalRegularizer(0.2, mode)(x),
            KR.OrthogonalRegularizer(0.2, mode)(keras.ops.convert_to_tensor(x)),
            rtol=1e-5,
        )
    with pytest.raises(ValueError, match="rank 2"):
        R.OrthogonalRegularizer()(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="mode"):
        R.OrthogonalRegularizer(mode="diag")


def test_penalties_work_under_jit_and_grad(rng):
    x = jnp.asarray(rng.normal(size=(4, 3)).astype("float32"))
    reg = R.L1L2(0.1, 0.2)
    np.testing.assert_allclose(jax.jit(reg)(x), reg(x), rtol=1e-6)
    grad = jax.grad(lambda w: R.L2(0.5)(w))(x)
    np.testing.assert_allclose(grad, x, rtol=1e-6)


@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf"), "0.1"])
def test_invalid_factors(value):
    for cls, arg in ((R.L1, "l1"), (R.L2, "l2"), (R.OrthogonalRegularizer, "factor")):
        with pytest.raises(ValueError, match=arg):
            cls(value)
    with pytest.raises(ValueError, match="l2"):
        R.L1L2(l2=value)


@pytest.mark.parametrize(
    "identifier,cls",
    [("l1", R.L1), ("L1", R.L1), ("l2", R.L2), ("L2", R.L2), ("L1L2", R.L1L2), ("l1l2", R.L1L2),
     ("orthogonal_regularizer", R.OrthogonalRegularizer),
     ("OrthogonalRegularizer", R.OrthogonalRegularizer)],
)
def test_get_strings_like_keras(identifier, cls):
    assert type(R.get(identifier)) is cls
    assert type(KR.get(identifier)).__name__ == cls.__name__


def test_get_other_identifiers():
    assert R.get(None) is None
    assert isinstance(R.get("l1_l2"), R.L1L2)  # the exported alias name (Keras rejects it)
    reg = R.L2(0.3)
    assert R.get(reg) is reg
    assert isinstance(R.get(R.L1), R.L1)
    got = R.get({"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}})
    assert isinstance(got, R.L1L2) and got.get_config() == {"l1": 0.1, "l2": 0.2}

    def fn(x):
        return 0.01 * jnp.sum(jnp.abs(x))

    assert R.get(fn) is fn
    assert R.serialize(fn) == KR.serialize(fn)
    assert R.deserialize(R.serialize(fn), custom_objects={"fn": fn}) is fn


def test_unknown_identifiers_raise_with_valid_names():
    with pytest.raises(ValueError, match="regularizer.*'l3'.*'l2'"):
        R.get("l3")
    with pytest.raises(ValueError, match="Foo"):
        R.deserialize({"class_name": "Foo", "config": {}})
    with pytest.raises(ValueError, match="regularizer"):
        R.get(3)


def test_base_regularizer():
    assert R.Regularizer()(np.ones(3)) == 0.0
    with pytest.raises(NotImplementedError):
        R.Regularizer().get_config()
