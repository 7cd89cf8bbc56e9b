"""`keras.optimizers.Nadam`."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from keras_on_jax.backend import config, naming
from keras_on_jax.backend.variables import Variable
from keras_on_jax.optimizers import base_optimizer as bo


class NadamState(NamedTuple):
    count: jax.Array
    momentum: Any
    velocity: Any
    u_product: Any  # a scalar shared by all variables


def nadam_transform(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Keras's Nadam, with its momentum-schedule product `u_product` in the state."""

    def init_fn(params):
        leaves = jax.tree.leaves(params)
        dtype = leaves[0].dtype if leaves else config.floatx()
        z = bo.zeros_like_tree
        return NadamState(
            jnp.zeros([], jnp.int32), z(params), z(params), jnp.asarray(1.0, dtype)
        )

    def update_fn(updates, state, params=None, *, learning_rate=None, **extra):
        bo.require_params(params, "nadam")
        lr0 = bo.resolve_learning_rate(default_lr, learning_rate, state.count)
        u_dtype = state.u_product.dtype
        new_u = (
            state.u_product
            * beta_1
            * (1.0 - 0.5 * jnp.power(jnp.asarray(0.96, u_dtype), (state.count + 1).astype(u_dtype)))
        ).astype(u_dtype)

        def leaf(g, p, m, v):
            dtype = p.dtype
            lr = jnp.asarray(lr0).astype(dtype)
            g = g.astype(dtype)
            t = (state.count + 1).astype(dtype)
            t_next = (state.count + 2).astype(dtype)
            decay = jnp.asarray(0.96, dtype)
            b1 = jnp.asarray(beta_1, dtype)
            b2 = jnp.asarray(beta_2, dtype)
            u_t = b1 * (1.0 - 0.5 * jnp.power(decay, t))
            u_t_1 = b1 * (1.0 - 0.5 * jnp.power(decay, t_next))
            u_product_t = new_u.astype(dtype)
            u_product_t_1 = u_product_t * u_t_1
            b2p = jnp.power(b2, t)
            m = m + (g - m) * (1 - b1)
            v = v + (jnp.square(g) - v) * (1 - b2)
            m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product_t)
            v_hat = v / (1 - b2p)
            return (-((m_hat * lr) / (jnp.sqrt(v_hat) + epsilon)), m, v)

        upd, m, v = bo.tree_map_multi(leaf, updates, params, state.momentum, state.velocity)
        return upd, NadamState(state.count + 1, m, v, new_u)

    default_lr = learning_rate
    return bo.make_transform(init_fn, update_fn)


class Nadam(bo.Optimizer):
    """Optimizer that implements the Nadam algorithm (Adam with Nesterov momentum).

    Args:
        learning_rate: float, schedule or callable. Defaults to `0.001`.
        beta_1: decay rate of the first moment. Defaults to `0.9`.
        beta_2: decay rate of the second moment. Defaults to `0.999`.
        epsilon: small constant for numerical stability. Defaults to `1e-7`.
    """

    _state_cls = NadamState

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(**bo.base_arguments(locals()))
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        dtype = var_list[0].dtype if var_list else config.floatx()
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )
        # Keras creates this one as a bare `Variable(1.0)`: auto-named "variable", last.
        self._u_product = Variable(
            1.0, dtype=dtype, trainable=False, name=naming.auto_name("variable")
        )
        self._track_variable(self._u_product)
        self._set_slots(
            momentum=self._momentums, velocity=self._velocities, u_product=self._u_product
        )

    def _make_transform(self):
        return nadam_transform(self._learning_rate, self.beta_1, self.beta_2, self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
