"""keras_on_jax.optimizers against real Keras 3 (the oracle)."""

import warnings

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest

import keras_on_jax.optimizers as O
from keras_on_jax.backend import Variable
from keras_on_jax.backend.scopes import NameScope

SHAPES = [(3, 4), (4,)]


def _data(seed=0, steps=3):
    rng = np.random.default_rng(seed)
    init = [rng.normal(size=s).astype("float32") for s in SHAPES]
    grads = [[rng.normal(size=s).astype("float32") for s in SHAPES] for _ in range(steps)]
    return init, grads


def _keras_vars(init):
    with keras.name_scope("dense"):
        return [
            keras.Variable(init[0], name="kernel"),
            keras.Variable(init[1], name="bias"),
        ]


def _our_vars(init):
    with NameScope("dense"):
        return [Variable(init[0], name="kernel"), Variable(init[1], name="bias")]


def _make(module, name, kwargs):
    kwargs = dict(kwargs)
    if "learning_rate" in kwargs and isinstance(kwargs["learning_rate"], tuple):
        sched_name, sched_kwargs = kwargs["learning_rate"]
        kwargs["learning_rate"] = getattr(module.schedules, sched_name)(**sched_kwargs)
    return getattr(module, name)(**kwargs)


def run_keras(name, kwargs, init, grads):
    variables = _keras_vars(init)
    opt = _make(keras.optimizers, name, kwargs)
    for g in grads:
        opt.apply_gradients(zip(g, variables))
    return [v.numpy() for v in variables], [np.asarray(v.numpy()) for v in opt.variables], opt


def run_ours(name, kwargs, init, grads):
    variables = _our_vars(init)
    opt = _make(O, name, kwargs)
    for g in grads:
        opt.apply_gradients(zip(g, variables))
    return [v.numpy() for v in variables], [np.asarray(v.numpy()) for v in opt.variables], opt


CASES = [
    ("SGD", {"learning_rate": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"learning_rate": 0.1}),
    ("Adam", {"learning_rate": 0.1, "amsgrad": True, "beta_1": 0.8}),
    ("AdamW", {"learning_rate": 0.1, "weight_decay": 0.1}),
    ("RMSprop", {"learning_rate": 0.1}),
    ("RMSprop", {"learning_rate": 0.1, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adamax", {"learning_rate": 0.1}),
    ("Nadam", {"learning_rate": 0.1}),
    ("Lion", {"learning_rate": 0.1}),
    ("Ftrl", {"learning_rate": 0.1}),
    (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "l1_regularization_strength": 0.01,
            "l2_regularization_strength": 0.02,
            "l2_shrinkage_regularization_strength": 0.01,
            "beta": 0.1,
            "learning_rate_power": -0.7,
        },
    ),
    ("Adafactor", {"learning_rate": 0.1}),
    ("Adafactor", {"learning_rate": 0.1, "relative_step": False, "clip_threshold": 0.5}),
    ("Lamb", {"learning_rate": 0.1}),
    # Base-class options.
    ("Adam", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("Adam", {"learning_rate": 0.1, "clipvalue": 0.2}),
    ("SGD", {"learning_rate": 0.1, "global_clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "weight_decay": 0.05}),
    ("Adam", {"learning_rate": 0.1, "use_ema": True, "ema_overwrite_frequency": 3}),
    ("Adam", {"learning_rate": 0.1, "gradient_accumulation_steps": 2}),
    ("RMSprop", {"learning_rate": 0.1, "gradient_accumulation_steps": 2, "use_ema": True}),
    ("Adam", {"learning_rate": 0.1, "loss_scale_factor": 4.0}),
    ("SGD", {"learning_rate": ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5})}),
    ("Adafactor", {"learning_rate": ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 5})}),
]


def _ids(case):
    return case[0] + "-" + "-".join(f"{k}={v}" for k, v in case[1].items() if k != "learning_rate")


@pytest.mark.parametrize("name,kwargs", CASES, ids=[_ids(c) for c in CASES])
def test_matches_keras(name, kwargs):
    init, grads = _data()
    kv, kopt, _ = run_keras(name, kwargs, init, grads)
    ov, oopt, _ = run_ours(name, kwargs, init, grads)
    tol = 1e-5 if name in ("Ftrl", "Adafactor", "Lamb", "Nadam") else 1e-6
    for a, b in zip(ov, kv):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert len(oopt) == len(kopt)
    for a, b in zip(oopt, kopt):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("Adam", {"learning_rate": 0.1}),
        ("Nadam", {"learning_rate": 0.1}),
        ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "use_ema": True, "ema_overwrite_frequency": 2}),
        ("RMSprop", {"learning_rate": 0.1, "gradient_accumulation_steps": 2}),
        ("Adafactor", {"learning_rate": 0.1}),
    ],
)
def test_stateless_apply_jit_matches_stateful(name, kwargs):
    init, grads = _data(1)
    ref_vars, ref_opt, _ = run_ours(name, kwargs, init, grads)

    variables = _our_vars(init)
    opt = getattr(O, name)(**kwargs)
    opt.build(variables)
    step = jax.jit(opt.stateless_apply)
    tv = [v.value for v in variables]
    ov = [v.value for v in opt.variables]
    for g in grads:
        tv, ov = step(ov, [jnp.asarray(x) for x in g], tv)
    for a, b in zip(tv, ref_vars):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-6, atol=1e-6)
    for a, b in zip(ov, ref_opt):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-6, atol=1e-6)
    # The Variables themselves were not touched.
    np.testing.assert_array_equal(variables[0].numpy(), init[0])
    assert int(np.asarray(opt._iterations.numpy())) == 0


def test_learning_rate_settable_without_retrace():
    init, grads = _data(2, steps=2)
    variables = _our_vars(init)
    opt = O.SGD(learning_rate=0.1)
    opt.build(variables)
    traces = []

    def fn(ov, g, tv):
        traces.append(1)
        return opt.stateless_apply(ov, g, tv)

    step = jax.jit(fn)
    tv = [v.value for v in variables]
    tv1, ov1 = step([v.value for v in opt.variables], grads[0], tv)
    np.testing.assert_allclose(np.asarray(tv1[1]), init[1] - 0.1 * grads[0][1], rtol=1e-6)
    opt.learning_rate = 0.01
    assert opt.variables[1].name == "learning_rate"
    np.testing.assert_allclose(float(opt.learning_rate.numpy()), 0.01)
    tv2, _ = step([v.value for v in opt.variables], grads[1], tv)
    np.testing.assert_allclose(np.asarray(tv2[1]), init[1] - 0.01 * grads[1][1], rtol=1e-6)
    assert len(traces) == 1


def test_variable_paths_match_keras():
    init, grads = _data()
    for name, kwargs in [
        ("Adam", {}),
        ("Adam", {"amsgrad": True, "use_ema": True, "gradient_accumulation_steps": 2}),
        ("RMSprop", {"momentum": 0.5, "centered": True}),
        ("Ftrl", {}),
    ]:
        kopt = getattr(keras.optimizers, name)(name="opt", **kwargs)
        kopt.build(_keras_vars(init))
        oopt = getattr(O, name)(name="opt", **kwargs)
        oopt.build(_our_vars(init))
        assert [v.path for v in oopt.variables] == [v.path for v in kopt.variables]
        assert [v.name for v in oopt.variables] == [v.name for v in kopt.variables]


def test_variable_paths_after_apply_match_keras():
    init, grads = _data()
    _, _, kopt = run_keras("Adam", {"name": "adam_x"}, init, grads[:1])
    _, _, oopt = run_ours("Adam", {"name": "adam_x"}, init, grads[:1])
    assert [v.path for v in oopt.variables] == [v.path for v in kopt.variables]


ALL_NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam",
             "Lion", "Ftrl", "Adafactor", "Lamb"]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_get_config_matches_keras(name):
    kconf = getattr(keras.optimizers, name)().get_config()
    opt = getattr(O, name)()
    oconf = opt.get_config()
    kname, oname = kconf.pop("name"), oconf.pop("name")
    assert oconf == kconf
    assert list(oconf) == list(kconf)
    assert oname.split("_")[0] == kname.split("_")[0]
    # Round trip.
    again = type(opt).from_config(opt.get_config())
    assert again.get_config() == opt.get_config()


def test_schedule_config_and_serialize_match_keras():
    ks = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    os_ = O.schedules.ExponentialDecay(0.1, 10, 0.9)
    assert O.schedules.serialize(os_) == keras.optimizers.schedules.serialize(ks)
    kconf = keras.optimizers.Adam(learning_rate=ks, name="a").get_config()
    oconf = O.Adam(learning_rate=os_, name="a").get_config()
    assert oconf == kconf
    restored = O.Adam.from_config(oconf)
    assert isinstance(restored._learning_rate, O.schedules.ExponentialDecay)
    assert O.serialize(O.Adam(name="a")) == keras.optimizers.serialize(keras.optimizers.Adam(name="a"))


SCHEDULES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5}),
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5, "staircase": True}),
    ("PiecewiseConstantDecay", {"boundaries": [2, 5], "values": [1.0, 0.5, 0.1]}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "power": 2.0}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "cycle": True}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5, "staircase": True}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "alpha": 0.1}),
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 5, "warmup_target": 0.2, "warmup_steps": 3}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 3}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 3, "t_mul": 1.0, "m_mul": 0.5}),
]


@pytest.mark.parametrize("name,kwargs", SCHEDULES)
def test_schedules_match_keras(name, kwargs):
    ks = getattr(keras.optimizers.schedules, name)(**kwargs)
    os_ = getattr(O.schedules, name)(**kwargs)
    jitted = jax.jit(os_)
    for step in [0, 2, 4, 7, 13]:
        expected = np.asarray(ks(step))
        np.testing.assert_allclose(np.asarray(os_(step)), expected, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(
            np.asarray(jitted(jnp.asarray(step, "int32"))), expected, rtol=1e-6, atol=1e-7
        )
    assert os_.get_config() == ks.get_config()
    restored = O.schedules.deserialize(O.schedules.serialize(os_))
    assert restored.get_config() == os_.get_config()


def test_get_identifiers():
    assert isinstance(O.get("adam"), O.Adam)
    assert isinstance(O.get("RMSprop"), O.RMSprop)
    assert isinstance(O.get("ADAMW"), O.AdamW)
    assert O.get(None) is None
    opt = O.SGD()
    assert O.get(opt) is opt
    from_dict = O.get({"class_name": "adam", "config": {"learning_rate": 0.5}})
    assert isinstance(from_dict, O.Adam)
    np.testing.assert_allclose(float(from_dict.learning_rate.numpy()), 0.5)
    with pytest.raises(ValueError, match="adam"):
        O.get("not_an_optimizer")
    wrapped = O.get(optax.adam(1e-3))
    assert isinstance(wrapped, O.OptaxOptimizer)
    restored = O.deserialize(O.serialize(O.Nadam(learning_rate=0.01, name="n")))
    assert restored.get_config() == O.Nadam(learning_rate=0.01, name="n").get_config()


def test_constructor_errors_match_keras():
    with pytest.raises(ValueError, match="learning_rate"):
        O.Adam(learning_rate=1)
    with pytest.raises(ValueError, match="Only one of"):
        O.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        O.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="not recognized"):
        O.Adam(foo=1)
    with pytest.raises(TypeError, match="not settable"):
        opt = O.SGD(learning_rate=O.schedules.ExponentialDecay(0.1, 2, 0.5))
        opt.learning_rate = 0.5


def test_optax_optimizer_matches_optax():
    init, grads = _data(3)
    variables = _our_vars(init)
    opt = O.get(optax.adam(0.05))
    for g in grads:
        opt.apply_gradients(zip(g, variables))
    tx = optax.adam(0.05)
    params = [jnp.asarray(x) for x in init]
    state = tx.init(params)
    for g in grads:
        updates, state = tx.update([jnp.asarray(x) for x in g], state, params)
        params = optax.apply_updates(params, updates)
    for v, p in zip(variables, params):
        np.testing.assert_allclose(v.numpy(), np.asarray(p), rtol=1e-6, atol=1e-6)
    assert int(opt.iterations.numpy()) == len(grads)
    assert opt.learning_rate is None
    # State lives in Variables: stateless_apply under jit agrees.
    variables2 = _our_vars(init)
    opt2 = O.OptaxOptimizer(optax.scale_by_adam(), learning_rate=0.05)
    opt2.build(variables2)
    tv = [v.value for v in variables2]
    ov = [v.value for v in opt2.variables]
    step = jax.jit(opt2.stateless_apply)
    for g in grads:
        tv, ov = step(ov, g, tv)
    for a, p in zip(tv, params):
        np.testing.assert_allclose(np.asarray(a), np.asarray(p), rtol=1e-5, atol=1e-6)


def test_transform_is_usable_as_plain_optax():
    init, grads = _data(4)
    ref_vars, _, _ = run_keras("Adam", {"learning_rate": 0.1}, init, grads)
    tx = O.Adam(learning_rate=0.1).transform
    assert isinstance(tx, optax.GradientTransformationExtraArgs)
    params = [jnp.asarray(x) for x in init]
    state = tx.init(params)
    for g in grads:
        updates, state = tx.update(g, state, params)
        params = optax.apply_updates(params, updates)
    for p, r in zip(params, ref_vars):
        np.testing.assert_allclose(np.asarray(p), r, rtol=1e-6, atol=1e-6)


def test_loss_scale_optimizer_matches_keras():
    init, grads = _data(5, steps=5)
    grads[2][0] = grads[2][0].copy()
    grads[2][0][0, 0] = np.inf

    def make(module):
        return module.LossScaleOptimizer(
            module.SGD(learning_rate=0.1, momentum=0.5), initial_scale=8.0, dynamic_growth_steps=2
        )

    # Real Keras's eager LossScaleOptimizer.apply leaks tracers on JAX (its lax.cond
    # branches assign Variables), so the oracle runs through its stateless_apply.
    kvars = _keras_vars(init)
    kopt = make(keras.optimizers)
    kopt.build(kvars)
    ktv, kov = [v.value for v in kvars], [v.value for v in kopt.variables]
    for g in grads:
        ktv, kov = kopt.stateless_apply(kov, [jnp.asarray(x) for x in g], ktv)

    ov = _our_vars(init)
    oopt = make(O)
    for g in grads:
        oopt.apply_gradients(zip(g, ov))
    for a, b in zip(ov, ktv):
        np.testing.assert_allclose(a.numpy(), np.asarray(b), rtol=1e-6, atol=1e-6)
    assert [v.name for v in oopt.variables] == [v.name for v in kopt.variables]
    for a, b in zip(oopt.variables, kov):
        np.testing.assert_allclose(a.numpy(), np.asarray(b), rtol=1e-6)
    assert float(oopt.dynamic_scale.numpy()) == 16.0  # x2, then /2 (inf), then x2
    np.testing.assert_allclose(float(oopt.scale_loss(1.0)), 16.0)
    assert int(np.asarray(oopt.iterations.numpy())) == 4  # the inf step was skipped
    conf = oopt.get_config()
    kconf = kopt.get_config()
    conf["inner_optimizer"]["config"].pop("name")
    kconf["inner_optimizer"]["config"].pop("name")
    conf.pop("name"), kconf.pop("name")
    assert conf == kconf
    again = O.deserialize(O.serialize(oopt))
    assert isinstance(again.inner_optimizer, O.SGD)


def test_loss_scale_optimizer_stateless_jit():
    init, grads = _data(6, steps=3)
    grads[1][1] = np.full_like(grads[1][1], np.nan)
    variables = _our_vars(init)
    opt = O.LossScaleOptimizer(O.Adam(learning_rate=0.1), initial_scale=4.0)
    ref_vars = _our_vars(init)
    ref = O.LossScaleOptimizer(O.Adam(learning_rate=0.1), initial_scale=4.0)
    for g in grads:
        ref.apply_gradients(zip(g, ref_vars))
    opt.build(variables)
    step = jax.jit(opt.stateless_apply)
    tv, ov = [v.value for v in variables], [v.value for v in opt.variables]
    for g in grads:
        tv, ov = step(ov, g, tv)
    for a, b in zip(tv, ref_vars):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-6, atol=1e-6)
    for a, b in zip(ov, ref.variables):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-6, atol=1e-6)
    assert float(ref.dynamic_scale.numpy()) == 2.0


def test_exclude_from_weight_decay_and_finalize():
    init, grads = _data(7)

    def run(module, make_vars):
        variables = make_vars(init)
        opt = module.AdamW(learning_rate=0.1, weight_decay=0.5, use_ema=True)
        opt.exclude_from_weight_decay(var_names=["bias"])
        for g in grads:
            opt.apply_gradients(zip(g, variables))
        opt.finalize_variable_values(variables)
        return variables

    for a, b in zip(run(O, _our_vars), run(keras.optimizers, _keras_vars)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)


def test_variables_passed_explicitly_are_updated_even_if_frozen_like_keras():
    keras = pytest.importorskip("keras")
    init, grads = _data(8)
    ours, theirs = _our_vars(init), _keras_vars(init)
    ours[1].trainable = False
    theirs[1].trainable = False
    O.Adam(learning_rate=0.1).apply_gradients(zip(grads[0], ours))
    keras.optimizers.Adam(learning_rate=0.1).apply_gradients(zip(grads[0], theirs))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    assert not np.allclose(ours[1].numpy(), init[1])


def test_missing_gradient_warns_and_skips():
    init, grads = _data(9)
    variables = _our_vars(init)
    opt = O.SGD(learning_rate=0.1)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        opt.apply_gradients([(grads[0][0], variables[0]), (None, variables[1])])
    assert any("Gradients do not exist" in str(x.message) for x in w)
    np.testing.assert_array_equal(variables[1].numpy(), init[1])


def test_save_and_load_own_variables():
    init, grads = _data(10)
    _, _, opt = run_ours("Adam", {"learning_rate": 0.1}, init, grads)
    store = {}
    opt.save_own_variables(store)
    fresh = O.Adam(learning_rate=0.1)
    fresh.build(_our_vars(init))
    fresh.load_own_variables(store)
    for a, b in zip(fresh.variables, opt.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
