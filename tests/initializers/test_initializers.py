"""keras_on_jax.initializers against real Keras 3 (names, configs, statistics, seeds)."""

import math
import random as py_random

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import keras_on_jax.initializers as I
from keras_on_jax.backend import SeedGenerator, Variable

KI = keras.initializers

VS_CLASSES = ["GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal"]
# (scale, mode, distribution) of each VarianceScaling preset.
PRESETS = {
    "GlorotUniform": (1.0, "fan_avg", "uniform"),
    "GlorotNormal": (1.0, "fan_avg", "truncated_normal"),
    "HeUniform": (2.0, "fan_in", "uniform"),
    "HeNormal": (2.0, "fan_in", "truncated_normal"),
    "LecunUniform": (1.0, "fan_in", "uniform"),
    "LecunNormal": (1.0, "fan_in", "truncated_normal"),
}


def public_names(module):
    return sorted(n for n in dir(module) if not n.startswith("_"))


def test_public_names_match_keras():
    ours = set(I.__all__)
    assert ours == set(public_names(KI))
    for name in ours:
        assert hasattr(I, name)
    # Aliases are the same class objects.
    assert I.glorot_uniform is I.GlorotUniform
    assert I.OrthogonalInitializer is I.Orthogonal
    assert I.STFTInitializer is I.STFT and I.stft is I.STFT
    assert I.IdentityInitializer is I.Identity


CONFIG_CASES = [
    ("Zeros", {}),
    ("Ones", {}),
    ("Constant", {}),
    ("Constant", {"value": 3.5}),
    ("Identity", {}),
    ("RandomNormal", {}),
    ("RandomNormal", {"mean": 1.0, "stddev": 0.3, "seed": 7}),
    ("RandomUniform", {"minval": -2.0, "maxval": 3.0, "seed": 1}),
    ("TruncatedNormal", {"mean": 0.5, "stddev": 2.0, "seed": 3}),
    ("VarianceScaling", {}),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 4}),
    ("VarianceScaling", {"distribution": "normal"}),
    ("VarianceScaling", {"distribution": "untruncated_normal", "input_axes": [0], "output_axes": [1]}),
    ("Orthogonal", {}),
    ("Orthogonal", {"gain": 0.5, "seed": 2}),
    ("STFT", {}),
    ("STFT", {"side": "imag", "window": "hamming", "scaling": "spectrum", "periodic": True}),
    ("STFT", {"window": None, "scaling": None}),
] + [(name, {}) for name in VS_CLASSES] + [
    (name, {"seed": 11, "input_axes": [0, 1], "output_axes": [2]}) for name in VS_CLASSES
]


@pytest.mark.parametrize("name,kwargs", CONFIG_CASES)
def test_get_config_and_serialize_match_keras(name, kwargs):
    ours = getattr(I, name)(**kwargs)
    ref = getattr(KI, name)(**kwargs)
    assert ours.get_config() == ref.get_config()
    assert I.serialize(ours) == KI.serialize(ref)
    # Round trips: ours -> ours, keras dict -> ours, ours dict -> keras.
    again = I.deserialize(I.serialize(ours))
    assert type(again) is type(ours)
    assert again.get_config() == ours.get_config()
    from_keras = I.deserialize(KI.serialize(ref))
    assert from_keras.get_config() == ref.get_config()
    assert KI.deserialize(I.serialize(ours)).get_config() == ours.get_config()
    clone = ours.clone()
    assert type(clone) is type(ours) and clone.get_config() == ours.get_config()


def test_constant_tensor_and_numpy_values_serialize_like_keras():
    for value in (jnp.ones((2,)), np.ones(2), np.float32(2.0)):
        kvalue = keras.ops.ones((2,)) if isinstance(value, jax.Array) else value
        assert I.serialize(I.Constant(value)) == KI.serialize(KI.Constant(kvalue))
    restored = I.deserialize(I.serialize(I.Constant(jnp.array([1.0, 2.0]))))
    np.testing.assert_array_equal(restored((2,)), [1.0, 2.0])


def test_seed_generator_seed_serializes_like_keras():
    ours = I.RandomNormal(seed=SeedGenerator(3, name="seed_generator"))
    ref = KI.RandomNormal(seed=keras.random.SeedGenerator(3, name="seed_generator"))
    assert I.serialize(ours) == KI.serialize(ref)
    restored = I.deserialize(KI.serialize(ref))
    assert isinstance(restored.seed, SeedGenerator)
    assert restored.seed.get_config()["seed"] == 3


@pytest.mark.parametrize("dtype", [None, "float32", "float16", "bfloat16", "int32"])
def test_constant_family_values_match_keras(dtype):
    shape = (3, 4)
    for name, kwargs in [("Zeros", {}), ("Ones", {}), ("Constant", {"value": 3}), ("Identity", {"gain": 2})]:
        ours = getattr(I, name)(**kwargs)(shape, dtype=dtype)
        ref = getattr(KI, name)(**kwargs)(shape, dtype=dtype)
        assert isinstance(ours, jax.Array)
        assert ours.shape == shape
        assert str(ours.dtype) == str(ref.dtype)
        np.testing.assert_array_equal(np.asarray(ours, "float32"), np.asarray(ref, "float32"))


def test_identity_config_keeps_non_default_gain():
    assert I.Identity().get_config() == KI.Identity().get_config() == {}
    config = I.serialize(I.Identity(gain=2.0))
    assert config["config"] == {"gain": 2.0}
    np.testing.assert_array_equal(I.deserialize(config)((2, 2)), 2.0 * np.eye(2))
    np.testing.assert_array_equal(KI.deserialize(config)((2, 2)), 2.0 * np.eye(2))


def test_identity_rejects_non_2d():
    with pytest.raises(ValueError, match="2D"):
        I.Identity()((2, 2, 2))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"side": "imag"},
        {"window": "hamming", "periodic": True},
        {"window": "blackman", "scaling": "spectrum"},
        {"window": "boxcar"},
        {"window": "bartlett", "periodic": True},
        {"window": None, "scaling": None},
        {"window": [0.1, 0.5, 1.0, 0.5, 0.25, 0.2, 0.3, 0.9], "side": "imag"},
        {"window": "tukey"},  # not built in: delegated to scipy
    ],
)
def test_stft_matches_keras(kwargs):
    shape = (8, 1, 5)
    ours = I.STFT(**kwargs)(shape)
    ref = KI.STFT(**kwargs)(shape)
    assert ours.shape == shape and ours.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(ours), np.asarray(ref), atol=1e-6)


def test_stft_validation():
    with pytest.raises(ValueError, match="side"):
        I.STFT(side="both")
    with pytest.raises(ValueError, match="Scaling"):
        I.STFT(scaling="l2")
    with pytest.raises(ValueError, match="window"):
        I.STFT(window=[1.0, 2.0])((8, 1, 5))


@pytest.mark.parametrize(
    "shape,input_axes,output_axes",
    [((), None, None), ((5,), None, None), ((6, 7), None, None), ((3, 3, 4, 8), None, None),
     ((2, 3, 5, 4, 6), None, None), ((4, 5, 6), [0, 1], [2]), ((4, 5, 6), [0], [1, 2])],
)
def test_compute_fans_match_keras(shape, input_axes, output_axes):
    from keras.src.initializers.random_initializers import compute_fans

    assert I.compute_fans(shape, input_axes, output_axes) == compute_fans(
        shape, input_axes, output_axes
    )


def _fans(shape):
    return I.compute_fans(shape)


@pytest.mark.parametrize("name", VS_CLASSES)
@pytest.mark.parametrize("shape", [(200, 300), (3, 3, 32, 64)])
def test_variance_scaling_presets_statistics(name, shape):
    scale, mode, distribution = PRESETS[name]
    fan_in, fan_out = _fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    values = np.asarray(getattr(I, name)(seed=1)(shape))
    assert values.shape == shape and values.dtype == np.float32
    assert abs(values.mean()) < 0.02 * math.sqrt(scale / n) * 10
    if distribution == "uniform":
        limit = math.sqrt(3.0 * scale / n)
        assert values.min() >= -limit and values.max() <= limit
        assert values.max() > 0.99 * limit and values.min() < -0.99 * limit
        np.testing.assert_allclose(values.std(), limit / math.sqrt(3), rtol=0.02)
    else:
        stddev = math.sqrt(scale / n)  # stddev after truncation
        np.testing.assert_allclose(values.std(), stddev, rtol=0.03)
        bound = 2 * stddev / 0.87962566103423978
        assert np.abs(values).max() <= bound * (1 + 1e-6)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_statistics(mode, distribution):
    shape = (3, 3, 16, 40)
    fan_in, fan_out = _fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    values = np.asarray(
        I.VarianceScaling(scale=3.0, mode=mode, distribution=distribution, seed=5)(shape)
    )
    np.testing.assert_allclose(values.std(), math.sqrt(3.0 / n), rtol=0.04)
    if distribution == "uniform":
        assert np.abs(values).max() <= math.sqrt(9.0 / n)


def test_variance_scaling_axes():
    shape = (4, 5, 60)
    init = I.VarianceScaling(scale=1.0, mode="fan_in", distribution="untruncated_normal",
                             seed=0, input_axes=[0, 1], output_axes=[2])
    values = np.asarray(init(shape))
    np.testing.assert_allclose(values.std(), math.sqrt(1 / 20), rtol=0.08)


def test_variance_scaling_validation():
    with pytest.raises(ValueError, match="scale"):
        I.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="fan_both")
    with pytest.raises(ValueError, match="distribution"):
        I.VarianceScaling(distribution="cauchy")


@pytest.mark.parametrize(
    "name,kwargs,mean,std",
    [
        ("RandomNormal", {"mean": 1.0, "stddev": 0.5}, 1.0, 0.5),
        ("RandomUniform", {"minval": -1.0, "maxval": 3.0}, 1.0, 4 / math.sqrt(12)),
        # A [-2, 2]-truncated normal has std 0.8796 * stddev.
        ("TruncatedNormal", {"mean": -1.0, "stddev": 2.0}, -1.0, 2.0 * 0.87962566103423978),
    ],
)
def test_basic_random_statistics(name, kwargs, mean, std):
    values = np.asarray(getattr(I, name)(seed=3, **kwargs)((100, 200)))
    assert values.dtype == np.float32
    np.testing.assert_allclose(values.mean(), mean, atol=0.03)
    np.testing.assert_allclose(values.std(), std, rtol=0.03)
    if name == "RandomUniform":
        assert values.min() >= -1.0 and values.max() < 3.0
    if name == "TruncatedNormal":
        assert values.min() >= -1.0 - 4.0 and values.max() <= -1.0 + 4.0


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
@pytest.mark.parametrize("name", ["RandomNormal", "RandomUniform", "TruncatedNormal", "GlorotUniform",
                                  "HeNormal", "Orthogonal"])
def test_random_dtypes(name, dtype):
    values = getattr(I, name)(seed=1)((4, 6), dtype=dtype)
    assert isinstance(values, jax.Array)
    assert values.shape == (4, 6) and str(values.dtype) == dtype
    if not (name == "Orthogonal" and dtype != "float32"):  # Keras's half QR fails on CPU
        assert str(getattr(KI, name)(seed=1)((4, 6), dtype=dtype).dtype) == dtype


def test_random_uniform_int_dtype():
    values = np.asarray(I.RandomUniform(0, 10, seed=1)((50,), dtype="int32"))
    assert values.dtype == np.int32 and values.min() >= 0 and values.max() < 10


@pytest.mark.parametrize("name", ["RandomNormal", "RandomUniform", "TruncatedNormal",
                                  "VarianceScaling", "Orthogonal"] + VS_CLASSES)
def test_seed_semantics_match_keras(name):
    shape = (3, 4)
    # Integer seed: same values on every call and for every instance (as in Keras).
    init = getattr(I, name)(seed=42)
    np.testing.assert_array_equal(init(shape), init(shape))
    np.testing.assert_array_equal(init(shape), getattr(I, name)(seed=42)(shape))
    kinit = getattr(KI, name)(seed=42)
    np.testing.assert_array_equal(kinit(shape), kinit(shape))
    assert not np.array_equal(init(shape), getattr(I, name)(seed=43)(shape))
    # Unseeded: a seed is drawn at construction, so repeated calls agree (as in Keras)...
    unseeded = getattr(I, name)()
    np.testing.assert_array_equal(unseeded(shape), unseeded(shape))
    kunseeded = getattr(KI, name)()
    np.testing.assert_array_equal(kunseeded(shape), kunseeded(shape))
    # ... and Python's `random` (what keras.utils.set_random_seed seeds) makes it reproducible.
    py_random.seed(123)
    a = getattr(I, name)()(shape)
    py_random.seed(123)
    b = getattr(I, name)()(shape)
    np.testing.assert_array_equal(a, b)
    c = getattr(I, name)()(shape)
    assert not np.array_equal(a, c)
    # A SeedGenerator seed gives new values on each call, reproducibly.
    gen_init = getattr(I, name)(seed=SeedGenerator(5))
    first, second = gen_init(shape), gen_init(shape)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(getattr(I, name)(seed=SeedGenerator(5))(shape), first)


def test_invalid_seed():
    with pytest.raises(ValueError, match="seed"):
        I.RandomNormal(seed="abc")
    with pytest.raises(ValueError, match="seed"):
        I.GlorotUniform(seed=1.5)
    assert I.RandomNormal(seed=np.int64(3)).get_config()["seed"] == 3


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (3, 3, 4, 5), (2, 2, 2, 12)])
def test_orthogonal(shape):
    values = np.asarray(I.Orthogonal(gain=2.0, seed=1)(shape))
    assert values.shape == shape
    flat = values.reshape(-1, shape[-1])
    if flat.shape[0] >= flat.shape[1]:
        gram = flat.T @ flat
    else:
        gram = flat @ flat.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-5)
    ref = np.asarray(KI.Orthogonal(gain=2.0, seed=1)(shape)).reshape(-1, shape[-1])
    # Same structure as Keras (orthogonal rows vs columns).
    ref_gram = ref.T @ ref if flat.shape[0] >= flat.shape[1] else ref @ ref.T
    np.testing.assert_allclose(ref_gram, gram, atol=1e-4)


def test_orthogonal_rejects_rank_1():
    with pytest.raises(ValueError, match="two-dimensional"):
        I.Orthogonal()((5,))


def test_initializers_work_under_jit_and_with_variables():
    init = I.GlorotUniform(seed=3)
    jitted = jax.jit(lambda: init((3, 4)))()
    np.testing.assert_allclose(jitted, init((3, 4)), atol=1e-7)
    var = Variable(I.get("he_normal"), shape=(3, 4), name="kernel")
    assert var.shape == (3, 4) and var.dtype == "float32"
    var = Variable(I.get("zeros"), shape=(5,), dtype="float16", name="bias")
    assert var.dtype == "float16"
    np.testing.assert_array_equal(var.numpy(), np.zeros(5))


@pytest.mark.parametrize(
    "identifier,cls",
    [("glorot_uniform", I.GlorotUniform), ("GlorotUniform", I.GlorotUniform), ("zeros", I.Zeros),
     ("zero", I.Zeros), ("one", I.Ones), ("Ones", I.Ones), ("normal", I.RandomNormal),
     ("uniform", I.RandomUniform), ("he_normal", I.HeNormal), ("lecun_uniform", I.LecunUniform),
     ("orthogonal", I.Orthogonal), ("OrthogonalInitializer", I.Orthogonal),
     ("IdentityInitializer", I.Identity), ("truncated_normal", I.TruncatedNormal),
     ("variance_scaling", I.VarianceScaling), ("stft", I.STFT), ("constant", I.Constant)],
)
def test_get_strings_like_keras(identifier, cls):
    assert type(I.get(identifier)) is cls
    if identifier != "constant":  # KeyError in Keras 3.15; ours gives Constant(0.0)
        assert type(KI.get(identifier)).__name__ == cls.__name__


def test_get_other_identifiers():
    assert I.get(None) is None
    inst = I.RandomNormal(seed=1)
    assert I.get(inst) is inst
    assert isinstance(I.get(I.Ones), I.Ones)
    got = I.get({"class_name": "RandomUniform", "config": {"minval": 0.0, "maxval": 1.0, "seed": 2}})
    assert isinstance(got, I.RandomUniform) and got.maxval == 1.0
    got = I.get({"module": "keras.initializers", "class_name": "HeUniform",
                 "config": {"seed": 2}, "registered_name": None})
    assert isinstance(got, I.HeUniform)

    def fn(shape, dtype=None):
        return jnp.full(shape, 7.0, dtype=dtype)

    assert I.get(fn) is fn
    for value in (np.arange(6.0).reshape(2, 3), jnp.arange(6.0).reshape(2, 3),
                  Variable(jnp.arange(6.0).reshape(2, 3))):
        init = I.get(value)
        out = init((2, 3), dtype="float16")
        assert out.dtype == jnp.float16
        np.testing.assert_array_equal(out, np.arange(6.0).reshape(2, 3))
        with pytest.raises(ValueError, match="shape"):
            init((3, 2))


def test_unknown_identifiers_raise_with_valid_names():
    with pytest.raises(ValueError, match="initializer.*'glorot_unifrom'.*glorot_uniform"):
        I.get("glorot_unifrom")
    with pytest.raises(ValueError, match="Foo"):
        I.get({"class_name": "Foo", "config": {}})
    with pytest.raises(ValueError, match="initializer"):
        I.get(12)


def test_custom_objects_in_deserialize():
    class MyInit(I.Initializer):
        def __init__(self, value=1.0):
            self.value = value

        def __call__(self, shape, dtype=None):
            return jnp.full(shape, self.value, dtype=dtype)

        def get_config(self):
            return {"value": self.value}

    config = I.serialize(MyInit(3.0))
    assert config == {"module": None, "class_name": "MyInit", "config": {"value": 3.0},
                      "registered_name": "MyInit"}
    restored = I.deserialize(config, custom_objects={"MyInit": MyInit})
    np.testing.assert_array_equal(restored((2,)), [3.0, 3.0])


def test_base_initializer():
    with pytest.raises(NotImplementedError):
        I.Initializer()((2,))
    assert I.Initializer().get_config() == {}
