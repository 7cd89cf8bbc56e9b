"""`Metric`: the base class of stateful metrics (not a layer).

State lives in non-trainable `keras_on_jax.backend.Variable`s created with
`add_variable`; every state change goes through `variable.assign(...)`, so the stateless
API (`stateless_update_state`, `stateless_result`, `stateless_reset_state`) can run the
ordinary stateful methods under a `StatelessScope`, e.g. inside `jax.jit`.
"""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax.backend import config, dtype_policies, naming, scopes
from keras_on_jax.backend.variables import Variable


def _zeros(shape, dtype=None):
    return jnp.zeros(shape, dtype=dtype)


def _ones(shape, dtype=None):
    return jnp.ones(shape, dtype=dtype)


_BUILTIN_INITIALIZERS = {"zeros": _zeros, "Zeros": _zeros, "ones": _ones, "Ones": _ones}


def _get_initializer(initializer):
    if initializer is None:
        return _zeros
    if isinstance(initializer, str):
        if initializer in _BUILTIN_INITIALIZERS:
            return _BUILTIN_INITIALIZERS[initializer]
        try:  # the initializers package, when present
            from keras_on_jax import initializers

            return initializers.get(initializer)
        except ImportError as e:
            raise ValueError(
                f"Unknown initializer for `Metric.add_variable`: '{initializer}'. Expected "
                f"one of {sorted(_BUILTIN_INITIALIZERS)} or a callable."
            ) from e
    if isinstance(initializer, dict):
        from keras_on_jax import initializers

        return initializers.get(initializer)
    return initializer


class Metric:
    """Encapsulates metric logic and state.

    Args:
        dtype: the dtype of the metric's computations (default `keras.config.floatx()`);
            a dtype policy contributes its compute dtype.
        name: the metric name (default: the snake-cased class name, made unique).

    Subclasses create state in `__init__` with `self.add_variable(...)` and implement
    `update_state(...)` (writing only through `variable.assign`) and `result()`.
    """

    def __init__(self, dtype=None, name=None):
        object.__setattr__(self, "_variables", [])
        object.__setattr__(self, "_metrics", [])
        self.name = name or naming.auto_name(naming.to_snake_case(self.__class__.__name__))
        self._dtype_policy = dtype_policies.get(dtype or config.floatx())
        self._dtype = self._dtype_policy.compute_dtype

    # ---- tracking ------------------------------------------------------------------
    def __setattr__(self, name, value):
        metrics = self.__dict__.get("_metrics")
        if metrics is not None:
            if isinstance(value, Metric) and value is not self:
                if not any(m is value for m in metrics):
                    metrics.append(value)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    if isinstance(item, Metric) and not any(m is item for m in metrics):
                        metrics.append(item)
        object.__setattr__(self, name, value)

    def _check_super_called(self):
        if "_variables" not in self.__dict__:
            raise RuntimeError(
                f"{self.__class__.__name__}: you forgot to call `super().__init__()` in the "
                "`__init__()` method. Go add it!"
            )

    @property
    def dtype(self):
        return self._dtype

    @property
    def variables(self):
        variables = list(self._variables)
        for metric in self._metrics:
            variables.extend(metric.variables)
        return variables

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """Create a non-trainable state variable, tracked in `self.variables`."""
        self._check_super_called()
        initializer = _get_initializer(initializer)
        with scopes.NameScope(self.name.replace("/", ">")):
            variable = Variable(
                initializer=initializer,
                shape=shape,
                dtype=dtype,
                trainable=False,
                aggregation=aggregation,
                synchronization="on_read",
                name=name,
            )
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    # ---- stateful API --------------------------------------------------------------
    def reset_state(self):
        """Reset all state variables to zeros."""
        for v in self.variables:
            v.assign(jnp.zeros(v.shape, dtype=v.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(
            f"Metric subclass {self.__class__.__name__} must implement `update_state()`."
        )

    def result(self):
        raise NotImplementedError(
            f"Metric subclass {self.__class__.__name__} must implement `result()`."
        )

    def __call__(self, *args, **kwargs):
        self._check_super_called()
        self.update_state(*args, **kwargs)
        return self.result()

    # ---- stateless API -------------------------------------------------------------
    def _check_metric_variables(self, metric_variables):
        if len(metric_variables) != len(self.variables):
            raise ValueError(
                "Argument `metric_variables` must be a list of tensors corresponding 1:1 to "
                f"{self.__class__.__name__}().variables. Received list with length "
                f"{len(metric_variables)}, but expected {len(self.variables)} variables."
            )

    @staticmethod
    def _read_back(scope, variables, fallback):
        out = []
        for v, old in zip(variables, fallback):
            new_v = scope.get_current_value(v)
            out.append(new_v if new_v is not None else old)
        return out

    def stateless_update_state(self, metric_variables, *args, **kwargs):
        """Run `update_state` purely: returns the new list of metric variable values."""
        self._check_metric_variables(metric_variables)
        variables = self.variables
        with scopes.StatelessScope(list(zip(variables, metric_variables))) as scope:
            self.update_state(*args, **kwargs)
        return self._read_back(scope, variables, list(metric_variables))

    def stateless_result(self, metric_variables):
        """Compute `result()` from the given variable values, without touching state."""
        self._check_metric_variables(metric_variables)
        with scopes.StatelessScope(list(zip(self.variables, metric_variables))):
            return self.result()

    def stateless_reset_state(self):
        """Return the list of reset variable values, without touching state."""
        variables = self.variables
        with scopes.StatelessScope() as scope:
            self.reset_state()
        return self._read_back(scope, variables, [v.value for v in variables])

    # ---- config --------------------------------------------------------------------
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _obj_type(self):
        return "Metric"

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}>"

    def __str__(self):
        return self.__repr__()
