"""keras_on_jax.constraints against real Keras 3."""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import keras_on_jax.constraints as C
from keras_on_jax.backend import Variable

KC = keras.constraints


def test_public_names_match_keras():
    assert set(C.__all__) == {n for n in dir(KC) if not n.startswith("_")}
    assert C.max_norm is C.MaxNorm and C.min_max_norm is C.MinMaxNorm
    assert C.non_neg is C.NonNeg and C.unit_norm is C.UnitNorm


CASES = [
    ("MaxNorm", {}),
    ("MaxNorm", {"max_value": 0.5, "axis": 1}),
    ("MaxNorm", {"max_value": 1.5, "axis": [0, 1, 2]}),
    ("MinMaxNorm", {}),
    ("MinMaxNorm", {"min_value": 1.0, "max_value": 2.0, "rate": 0.5, "axis": 1}),
    ("MinMaxNorm", {"min_value": 3.0, "max_value": 4.0, "axis": [0, 1, 2]}),
    ("NonNeg", {}),
    ("UnitNorm", {}),
    ("UnitNorm", {"axis": 1}),
    ("UnitNorm", {"axis": [0, 1, 2]}),
    ("Constraint", {}),
]


@pytest.mark.parametrize("name,kwargs", CASES)
def test_projection_and_config_match_keras(name, kwargs, rng):
    shape = (2, 2, 3, 4) if isinstance(kwargs.get("axis"), list) else (5, 4)
    w = rng.normal(size=shape).astype("float32") * 2.0
    ours = getattr(C, name)(**kwargs)
    ref = getattr(KC, name)(**kwargs)
    out = ours(w)
    expected = np.asarray(ref(keras.ops.convert_to_tensor(w)))
    assert out.shape == shape and out.dtype == jnp.float32
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)
    if name != "Constraint":
        np.testing.assert_allclose(ours(Variable(w)), expected, rtol=1e-6, atol=1e-7)
    assert ours.get_config() == ref.get_config()
    assert C.serialize(ours) == KC.serialize(ref)
    again = C.deserialize(C.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    assert C.deserialize(KC.serialize(ref)).get_config() == ref.get_config()
    assert KC.deserialize(C.serialize(ours)).get_config() == ours.get_config()


def test_norm_constraints_hand_values():
    w = np.array([[3.0, 0.1], [4.0, 0.0]], "float32")  # column norms 5 and 0.1
    out = np.asarray(C.MaxNorm(2.0)(w))
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), [2.0, 0.1], rtol=1e-5)
    out = np.asarray(C.UnitNorm()(w))
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), [1.0, 1.0], rtol=1e-5)
    out = np.asarray(C.MinMaxNorm(1.0, 2.0)(w))
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), [2.0, 1.0], rtol=1e-5)
    out = np.asarray(C.MinMaxNorm(1.0, 2.0, rate=0.5)(w))
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), [3.5, 0.55], rtol=1e-5)
    np.testing.assert_array_equal(C.NonNeg()(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 2.0])


def test_constraints_under_jit_and_with_stateless_scope(rng):
    from keras_on_jax.backend import StatelessScope

    w = rng.normal(size=(4, 3)).astype("float32")
    c = C.MaxNorm(0.5)
    np.testing.assert_allclose(jax.jit(c)(w), c(w), rtol=1e-6)
    var = Variable(np.zeros((4, 3), "float32"))
    with StatelessScope([(var, jnp.asarray(w))]):
        np.testing.assert_allclose(c(var), c(w), rtol=1e-6)


@pytest.mark.parametrize(
    "identifier,cls",
    [("max_norm", C.MaxNorm), ("MaxNorm", C.MaxNorm), ("min_max_norm", C.MinMaxNorm),
     ("MinMaxNorm", C.MinMaxNorm), ("non_neg", C.NonNeg), ("NonNeg", C.NonNeg),
     ("unit_norm", C.UnitNorm), ("UnitNorm", C.UnitNorm)],
)
def test_get_strings_like_keras(identifier, cls):
    assert type(C.get(identifier)) is cls
    assert type(KC.get(identifier)).__name__ == cls.__name__


def test_get_other_identifiers():
    assert C.get(None) is None
    c = C.MaxNorm(3)
    assert C.get(c) is c
    assert isinstance(C.get(C.NonNeg), C.NonNeg)
    got = C.get({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 1}})
    assert isinstance(got, C.MaxNorm) and got.max_value == 3 and got.axis == 1

    def clip(w):
        return jnp.clip(w, -1, 1)

    assert C.get(clip) is clip


def test_unknown_identifiers_raise_with_valid_names():
    with pytest.raises(ValueError, match="constraint.*'maxnorm'.*'max_norm'"):
        C.get("maxnorm")
    with pytest.raises(ValueError, match="Foo"):
        C.deserialize({"class_name": "Foo", "config": {}})
    with pytest.raises(ValueError, match="constraint"):
        C.get(1.5)
