"""`keras_on_jax.utils.Progbar` against real `keras.utils.Progbar` (same updates, same
deterministic clock: the outputs must be identical byte for byte)."""

import jax.numpy as jnp
import numpy as np
import pytest
from keras.src.utils import progbar as keras_progbar_module

from keras_on_jax.utils import progbar as kj_progbar_module


class FakeClock:
    """Replaces the `time` module of a progbar module: `time()` returns scripted values."""

    def __init__(self, times):
        self._times = list(times)
        self._i = 0

    def time(self):
        t = self._times[min(self._i, len(self._times) - 1)]
        self._i += 1
        return t


class CountingScalar:
    """A scalar log value that counts how often it is converted to a host array."""

    conversions = 0

    def __init__(self, value):
        self.value = value

    def __array__(self, dtype=None, copy=None):
        CountingScalar.conversions += 1
        return np.asarray(self.value, dtype=dtype)


def _run(module, monkeypatch, capsys, times, ctor_kwargs, updates, wrap=None):
    monkeypatch.setattr(module, "time", FakeClock(times))
    bar = module.Progbar(**ctor_kwargs)
    for kind, current, values, finalize in updates:
        if wrap is not None and values:
            values = [(k, wrap(v)) for k, v in values]
        if kind == "add":
            bar.add(current, values)
        else:
            bar.update(current, values, finalize=finalize)
    return capsys.readouterr().out


def _compare(monkeypatch, capsys, times, ctor_kwargs, updates, wrap=None):
    expected = _run(keras_progbar_module, monkeypatch, capsys, times, ctor_kwargs, updates)
    got = _run(kj_progbar_module, monkeypatch, capsys, times, ctor_kwargs, updates, wrap=wrap)
    assert got == expected
    return got


def _updates(n, names=("loss", "acc"), finalize_last=None, scale=1.0):
    ups = []
    for i in range(1, n + 1):
        vals = [(name, scale * (0.5 + 0.1 * j) / i) for j, name in enumerate(names)]
        ups.append(("update", i, vals, finalize_last if i == n else None))
    return ups


# (clock values: one for the constructor, then one per update)
STEADY = [100.0 + 0.1 * i for i in range(50)]
FAST = [100.0 + 0.0001 * i for i in range(50)]  # faster than `interval`: few renders
SLOW = [100.0 + 70.0 * i for i in range(50)]  # ETA in minutes
VERY_SLOW = [100.0 + 4000.0 * i for i in range(50)]  # ETA in hours, s/step


@pytest.mark.parametrize(
    "times", [STEADY, FAST, SLOW, VERY_SLOW], ids=["steady", "fast", "slow", "veryslow"]
)
@pytest.mark.parametrize("verbose", [1, 2, 0])
def test_matches_keras_stateless(monkeypatch, capsys, times, verbose):
    out = _compare(monkeypatch, capsys, times, dict(target=10, verbose=verbose), _updates(10))
    if verbose == 0:
        assert out == ""


@pytest.mark.parametrize("verbose", [1, 2])
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(stateful_metrics=["acc"]),
        dict(stateless_metrics=["loss"]),
        dict(stateless_metrics=set()),
        dict(width=7, unit_name="sample"),
        dict(interval=0.0),
    ],
)
def test_matches_keras_options(monkeypatch, capsys, verbose, kwargs):
    _compare(monkeypatch, capsys, STEADY, dict(target=12, verbose=verbose, **kwargs), _updates(12))


def test_matches_keras_unknown_target_and_small_values(monkeypatch, capsys):
    ups = _updates(5, scale=1e-4) + [("update", 5, [("loss", -2e-5), ("acc", 3.0)], True)]
    _compare(monkeypatch, capsys, STEADY, dict(target=None, verbose=1), ups)


def test_matches_keras_add_and_negative(monkeypatch, capsys):
    ups = [
        ("add", 3, [("loss", -0.25)], None),
        ("add", 4, [("loss", 2e-4)], None),
        ("add", 3, [("loss", 1.5)], None),
    ]
    for verbose in (1, 2):
        _compare(monkeypatch, capsys, STEADY, dict(target=10, verbose=verbose), ups)


def test_matches_keras_shrinking_line_is_padded(monkeypatch, capsys):
    # A later line shorter than the previous one is padded with spaces.
    ups = [
        ("update", 1, [("a_long_metric_name", 1.0)], None),
        ("update", 2, [], None),
        ("update", 3, [("a_long_metric_name", 1.0)], None),
    ]
    out = _compare(monkeypatch, capsys, VERY_SLOW, dict(target=1000, verbose=1), ups)
    assert "\r" in out


def test_zero_target(monkeypatch, capsys):
    ups = [("update", 0, [("loss", 1.0)], True)]
    for verbose in (1, 2):
        _compare(monkeypatch, capsys, STEADY, dict(target=0, verbose=verbose), ups)


@pytest.mark.parametrize("verbose", [1, 2])
def test_jax_values_render_identically(monkeypatch, capsys, verbose):
    _compare(
        monkeypatch,
        capsys,
        STEADY,
        dict(target=10, verbose=verbose, stateful_metrics=["acc"]),
        _updates(10),
        wrap=lambda v: jnp.asarray(v, dtype=jnp.float32),
    )


def test_values_converted_only_when_rendering(monkeypatch, capsys):
    # 100 updates within 0.05 s: verbose=1 renders once (first update) plus the end.
    times = [100.0 + 1e-5 * i for i in range(200)]
    monkeypatch.setattr(kj_progbar_module, "time", FakeClock(times))
    CountingScalar.conversions = 0
    bar = kj_progbar_module.Progbar(target=100, verbose=1, stateless_metrics=set())
    for i in range(1, 100):
        bar.update(i, [("loss", CountingScalar(float(i)))], finalize=False)
    # First update renders (last_update starts at 0); the 98 others are not rendered.
    assert CountingScalar.conversions == 1
    bar.update(100, [("loss", CountingScalar(7.0))], finalize=True)
    assert CountingScalar.conversions == 2
    assert "loss: 7.0000" in capsys.readouterr().out


def test_stateless_values_folded_lazily(monkeypatch, capsys):
    times = [100.0 + 1e-5 * i for i in range(200)]
    monkeypatch.setattr(kj_progbar_module, "time", FakeClock(times))
    CountingScalar.conversions = 0
    bar = kj_progbar_module.Progbar(target=4, verbose=2)
    for i in range(1, 4):
        bar.update(i, [("loss", CountingScalar(float(i)))])
    assert CountingScalar.conversions == 0  # verbose=2 renders only at the end
    bar.update(4, [("loss", CountingScalar(4.0))])
    # finalize replaces the average with the last value (as in Keras)
    assert CountingScalar.conversions == 1
    assert "loss: 4.0000" in capsys.readouterr().out


def test_both_metric_lists_rejected():
    with pytest.raises(ValueError, match="stateful_metrics"):
        kj_progbar_module.Progbar(10, stateful_metrics=["a"], stateless_metrics=["b"])
