"""`keras.optimizers.LossScaleOptimizer` (also `keras.mixed_precision.LossScaleOptimizer`)."""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.backend import scopes
from keras_on_jax.optimizers import base_optimizer as bo

_BASE_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(bo.Optimizer):
    """Dynamic loss scaling around another optimizer.

    On a step with non-finite gradients, the step is skipped (variables and the inner
    optimizer unchanged) and the scale is halved. After `dynamic_growth_steps`
    consecutive finite steps, the scale is doubled.

    Args:
        inner_optimizer: the `Optimizer` to wrap.
        initial_scale: the initial loss scale. Defaults to `2**15`.
        dynamic_growth_steps: finite steps between scale doublings. Defaults to 2000.
    """

    def __init__(
        self,
        inner_optimizer,
        initial_scale=2.0**15,
        dynamic_growth_steps=2000,
        name=None,
        **kwargs,
    ):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. "
                "Instead, simply set `loss_scale_factor` directly on the "
                "`inner_optimizer`."
            )
        for arg, default in _BASE_DEFAULTS.items():
            if arg not in kwargs:
                continue
            value = kwargs.pop(arg)
            if (default is None and value is not None) or value != default:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{arg}`. "
                    f"Instead, set `{arg}` on the `inner_optimizer`."
                )
        if kwargs:
            raise ValueError(
                f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`."
            )
        if not isinstance(inner_optimizer, bo.Optimizer):
            raise TypeError(
                "`inner_optimizer` must be an `Optimizer` instance. "
                f"Received: inner_optimizer={inner_optimizer!r}"
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        # The inner optimizer must not scale again.
        self.inner_optimizer.loss_scale_factor = None

    def build(self, var_list):
        if self.built:
            return
        self.step_counter = self.add_variable(
            shape=(), dtype="int32", initializer="zeros", name="step_counter"
        )
        self.dynamic_scale = self.add_variable(
            shape=(),
            dtype="float32",
            initializer=bo.constant_initializer(self.initial_scale),
            name="dynamic_scale",
        )
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    def check_finite(self, grads):
        finite = [jnp.all(jnp.isfinite(g)) for g in grads if g is not None]
        return jnp.all(jnp.asarray(finite))

    def _finite_step(self, grads, trainable_variables):
        scale = self.dynamic_scale.get_value()
        tvs = trainable_variables or self._trainable_variables
        unscaled = [
            g if g is None or self._overwrite_variable_with_gradient(v) else g / scale
            for g, v in zip(grads, tvs)
        ]
        self.inner_optimizer.apply(unscaled, trainable_variables=trainable_variables)
        grow = self.step_counter.get_value() == self.dynamic_growth_steps - 1
        self.step_counter.assign(jnp.where(grow, 0, self.step_counter.get_value() + 1))
        self.dynamic_scale.assign(jnp.where(grow, scale * 2.0, scale))

    def apply(self, grads, trainable_variables=None):
        if not self.built:
            with scopes.NameScope(self.name):
                self.build(trainable_variables)
            self.built = True
        grads = [None if g is None else bo._to_array(g) for g in grads]
        if trainable_variables is not None:
            trainable_variables = list(trainable_variables)
        finite = self.check_finite(grads)
        # Run the finite-gradient step on the current values, then keep its results
        # only where the gradients were finite (one code path eagerly and under jit).
        touched = list(self._trainable_variables) + self.variables
        current = [v.get_value() for v in touched]
        with scopes.StatelessScope(list(zip(touched, current))) as scope:
            self._finite_step(grads, trainable_variables)
        stepped = [scope.get_current_value(v) for v in touched]
        skipped = list(current)
        counter_i = next(i for i, v in enumerate(touched) if v is self.step_counter)
        scale_i = next(i for i, v in enumerate(touched) if v is self.dynamic_scale)
        skipped[counter_i] = jnp.zeros_like(current[counter_i])
        skipped[scale_i] = current[scale_i] * 0.5
        for v, new, old in zip(touched, stepped, skipped):
            v.assign(jnp.where(finite, new, old))

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    def scale_loss(self, loss):
        """Multiply `loss` by the current dynamic scale (`initial_scale` before build)."""
        scale = self.dynamic_scale.get_value() if self.built else self.initial_scale
        return loss * scale

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        from keras_on_jax.optimizers import serialize

        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from keras_on_jax.optimizers import deserialize

        config = dict(config)
        inner = deserialize(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)
