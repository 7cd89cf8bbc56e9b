"""`OptaxOptimizer`: any `optax.GradientTransformation` as a Keras optimizer."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from keras_on_jax.backend.variables import Variable
from keras_on_jax.optimizers import base_optimizer as bo


class OptaxOptimizer(bo.Optimizer):
    """Wrap a user-supplied optax transformation.

    The transformation's state pytree is flattened; each leaf lives in an optimizer
    Variable named `optax_state_<i>` (after `iteration` and, when given,
    `learning_rate`), so the state is saved, loaded and threaded through
    `stateless_apply` like any Keras optimizer's.

    Args:
        transform: an `optax.GradientTransformation` (e.g. `optax.adam(1e-3)`).
        learning_rate: `None` (default): the transformation's updates are applied as
            optax does, `params + updates`. A float or schedule: the transformation
            must not scale by a learning rate itself (e.g. `optax.scale_by_adam()`);
            its output is used as a descent direction, `params - learning_rate *
            updates`, and the learning rate is settable between steps as in Keras.
        Other keyword arguments are the Keras base optimizer's (clipping, EMA, ...).

    When some variables receive no gradient in a step, the transformation sees a
    zero gradient for them (its state keeps one entry per built variable), and those
    variables are left unchanged.
    """

    def __init__(self, transform, learning_rate=None, name=None, **kwargs):
        if not isinstance(transform, optax.GradientTransformation):
            raise TypeError(
                "`OptaxOptimizer` expects an `optax.GradientTransformation` as "
                f"`transform`. Received: transform={transform!r}"
            )
        if learning_rate is None and kwargs.get("weight_decay") is not None:
            raise ValueError(
                "`weight_decay` needs a `learning_rate` in `OptaxOptimizer` (Keras "
                "decays `var -= var * weight_decay * learning_rate`). Received: "
                f"weight_decay={kwargs['weight_decay']}, learning_rate=None"
            )
        self._optax_transform = transform
        self._scale_by_learning_rate = learning_rate is not None
        super().__init__(
            learning_rate=1.0 if learning_rate is None else learning_rate, name=name, **kwargs
        )
        if learning_rate is None:
            self._untrack_variable(self._learning_rate)
            self._learning_rate = None

    @property
    def learning_rate(self):
        if self._learning_rate is None:
            return None
        return self._get_current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        if self._learning_rate is None:
            raise TypeError(
                f"OptaxOptimizer '{self.name}' was created with `learning_rate=None`: "
                "its learning rate lives inside the optax transformation and is not "
                f"settable. Received: learning_rate={value}"
            )
        bo.Optimizer.learning_rate.fset(self, value)

    def _make_transform(self):
        return self._optax_transform

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        state = self._optax_transform.init([v.get_value() for v in var_list])
        leaves, self._state_treedef = jax.tree.flatten(state)
        self._state_variables = []
        for i, leaf in enumerate(leaves):
            leaf = jnp.asarray(leaf)
            self._state_variables.append(
                self.add_variable(
                    shape=leaf.shape,
                    initializer=lambda shape, dtype=None, _v=leaf: jnp.asarray(_v, dtype),
                    dtype=leaf.dtype,
                    name=f"optax_state_{i}",
                )
            )

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        index = {self._get_variable_index(v): g for g, v in zip(grads, trainable_variables)}
        all_vars = self._trainable_variables
        params = [v.get_value() for v in all_vars]
        full_grads = [
            index[i] if i in index else jnp.zeros_like(p) for i, p in enumerate(params)
        ]
        state = self._state_treedef.unflatten([v.get_value() for v in self._state_variables])
        updates, new_state = self._optax_transform.update(full_grads, state, params)
        for v, leaf in zip(self._state_variables, jax.tree.leaves(new_state)):
            v.assign(leaf)
        if self._scale_by_learning_rate:
            lr = bo._value(learning_rate)
            updates = [-(jnp.asarray(lr).astype(u.dtype) * u) for u in updates]
        new_params = optax.apply_updates(params, updates)
        for i, (v, p) in enumerate(zip(all_vars, new_params)):
            if i in index:
                v.assign(p)

    def _apply_weight_decay(self, variables):
        if self._learning_rate is None:
            return
        super()._apply_weight_decay(variables)

    def get_config(self):
        config = super().get_config()
        if self._learning_rate is None:
            config["learning_rate"] = None
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        raise ValueError(
            "An `OptaxOptimizer` cannot be rebuilt from its config: the optax "
            "transformation is a Python closure. Create it again with "
            "`OptaxOptimizer(transform, ...)` and load the weights into it. "
            f"Received config: {config}"
        )


def is_optax_transformation(obj):
    return isinstance(obj, optax.GradientTransformation) and not isinstance(obj, Variable)
