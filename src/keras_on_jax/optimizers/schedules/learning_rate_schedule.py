"""Learning-rate schedules (`keras.optimizers.schedules`), computed with jax.numpy.

Every schedule is a plain callable `schedule(step) -> learning_rate` that traces under
`jax.jit` (no Python branching on the step value).
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from keras_on_jax.backend import config


def _to_tensor(x):
    """Like `keras.ops.convert_to_tensor`: Python floats become `floatx()`."""
    if isinstance(x, bool):
        return jnp.asarray(x)
    if isinstance(x, float):
        return jnp.asarray(x, dtype=config.floatx())
    if isinstance(x, int):
        return jnp.asarray(x, dtype="int32")
    if hasattr(x, "get_value"):
        x = x.get_value()
    return jnp.asarray(x)


def _cast(x, dtype):
    if hasattr(x, "get_value"):
        x = x.get_value()
    return jnp.asarray(x).astype(dtype)


class LearningRateSchedule:
    """The learning rate schedule base class.

    Subclasses implement `__call__(step)` and `get_config()`.
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' "
            "must override `__call__(self, step)`."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' "
            "must override `get_config()` in order to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_positive(name, value):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class _StepDecay(LearningRateSchedule):
    """The arguments and config shared by `ExponentialDecay` and `InverseTimeDecay`,
    whose decay reads the progress `step / decay_steps` (floored when `staircase`)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        super().__init__()
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_positive("decay_steps", decay_steps)

    def _progress(self, step):
        """`(initial_learning_rate, decay_rate, progress)` as tensors of one dtype."""
        lr0 = _to_tensor(self.initial_learning_rate)
        dtype = lr0.dtype
        p = _cast(step, dtype) / _cast(self.decay_steps, dtype)
        if self.staircase:
            p = jnp.floor(p)
        return lr0, _cast(self.decay_rate, dtype), p

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_StepDecay):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="ExponentialDecay",
    ):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        lr0, decay_rate, p = self._progress(step)
        return lr0 * jnp.power(decay_rate, p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[i]` for `boundaries[i-1] < step <= boundaries[i]`."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        super().__init__()
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of "
                f"values. Received: boundaries={boundaries} of length "
                f"{len(boundaries)}, and values={values} "
                f"of length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = _to_tensor(step)
        boundaries = [_cast(_to_tensor(b), step.dtype) for b in self.boundaries]
        values = [_to_tensor(v) for v in self.values]
        dtype = values[0].dtype
        result = jnp.zeros((), dtype=dtype)
        result += (step <= boundaries[0]).astype(dtype) * values[0]
        result += (step > boundaries[-1]).astype(dtype) * values[-1]
        for low, high, value in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
            result += ((step > low) & (step <= high)).astype(dtype) * value
        return result

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from `initial_learning_rate` to `end_learning_rate`."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        super().__init__()
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        _check_positive("decay_steps", decay_steps)

    def __call__(self, step):
        lr0 = _to_tensor(self.initial_learning_rate)
        dtype = lr0.dtype
        end_lr = _cast(self.end_learning_rate, dtype)
        power = _cast(self.power, dtype)
        step = _cast(step, dtype)
        decay_steps = _cast(self.decay_steps, dtype)
        if self.cycle:
            multiplier = jnp.where(
                step == 0, jnp.asarray(1.0, dtype), jnp.ceil(step / self.decay_steps)
            )
            decay_steps = decay_steps * multiplier
        else:
            step = jnp.minimum(step, decay_steps)
        p = step / decay_steps
        return (lr0 - end_lr) * jnp.power(1 - p, power) + end_lr

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(_StepDecay):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="InverseTimeDecay",
    ):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        lr0, decay_rate, p = self._progress(step)
        return lr0 / (jnp.asarray(1, lr0.dtype) + decay_rate * p)


class CosineDecay(LearningRateSchedule):
    """Cosine decay, with an optional linear warmup to `warmup_target`."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name="CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ):
        super().__init__()
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        _check_positive("decay_steps", decay_steps)

    def _decay(self, step, decay_steps, decay_from_lr, dtype):
        fraction = step / decay_steps
        cosine = 0.5 * (1.0 + jnp.cos(jnp.asarray(math.pi, dtype) * fraction))
        decayed = (1 - self.alpha) * cosine + self.alpha
        return decay_from_lr * decayed

    def __call__(self, step):
        lr0 = _to_tensor(self.initial_learning_rate)
        dtype = lr0.dtype
        decay_steps = _cast(self.decay_steps, dtype)
        step = _cast(step, dtype)
        if self.warmup_target is None:
            step = jnp.minimum(step, decay_steps)
            return self._decay(step, decay_steps, lr0, dtype)
        target = _cast(self.warmup_target, dtype)
        warmup_steps = _cast(self.warmup_steps, dtype)
        step = jnp.minimum(step, decay_steps + warmup_steps)
        warm = (target - lr0) * (step / warmup_steps) + lr0
        decayed = self._decay(step - warmup_steps, decay_steps, target, dtype)
        return jnp.where(step < warmup_steps, warm, decayed).astype(dtype)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR)."""

    def __init__(
        self,
        initial_learning_rate,
        first_decay_steps,
        t_mul=2.0,
        m_mul=1.0,
        alpha=0.0,
        name="SGDRDecay",
    ):
        super().__init__()
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        _check_positive("first_decay_steps", first_decay_steps)

    def __call__(self, step):
        lr0 = _to_tensor(self.initial_learning_rate)
        dtype = lr0.dtype
        first = _cast(self.first_decay_steps, dtype)
        alpha = _cast(self.alpha, dtype)
        t_mul = _cast(self._t_mul, dtype)
        m_mul = _cast(self._m_mul, dtype)
        fraction = _cast(step, dtype) / first
        if float(self._t_mul) == 1.0:
            i_restart = jnp.floor(fraction)
            fraction = fraction - i_restart
        else:
            i_restart = jnp.floor(
                jnp.log((1.0 - fraction * (1.0 - t_mul)).astype(dtype)) / jnp.log(t_mul)
            )
            sum_r = (1.0 - jnp.power(t_mul, i_restart)) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / jnp.power(t_mul, i_restart)
        m_fac = jnp.power(m_mul, i_restart)
        cosine = 0.5 * m_fac * (1.0 + jnp.cos(jnp.asarray(math.pi, dtype) * fraction))
        decayed = (1 - alpha) * cosine + alpha
        return lr0 * decayed

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


ALL_SCHEDULES = {
    cls.__name__: cls
    for cls in (
        LearningRateSchedule,
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


def serialize(learning_rate_schedule):
    """The Keras 3 envelope: `{"module", "class_name", "config", "registered_name"}`."""
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise TypeError(
            "`serialize` expects a `LearningRateSchedule` instance. "
            f"Received: {learning_rate_schedule!r}"
        )
    cls = type(learning_rate_schedule)
    builtin = ALL_SCHEDULES.get(cls.__name__) is cls
    return {
        "module": "keras.optimizers.schedules" if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": learning_rate_schedule.get_config(),
        "registered_name": None if builtin else cls.__name__,
    }


def deserialize(config, custom_objects=None):
    """Rebuild a schedule from `serialize`'s output (or a `{"class_name", "config"}` dict)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "`deserialize` expects a dict with keys 'class_name' and 'config'. "
            f"Received: {config!r}"
        )
    custom_objects = custom_objects or {}
    names = [config.get("registered_name"), config["class_name"]]
    cls = None
    for name in names:
        if name and name in custom_objects:
            cls = custom_objects[name]
            break
    if cls is None:
        cls = ALL_SCHEDULES.get(config["class_name"])
    if cls is None:
        raise ValueError(
            f"Unknown decay: '{config['class_name']}'. Please ensure you are using a "
            "`keras.utils.custom_object_scope` and that this object is included in "
            f"the scope. Known schedules: {sorted(ALL_SCHEDULES)}"
        )
    return cls.from_config(dict(config.get("config", {})))
