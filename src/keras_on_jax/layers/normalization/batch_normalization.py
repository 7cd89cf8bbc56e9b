"""`BatchNormalization`: normalize with batch statistics while training, moving ones after."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from keras_on_jax import constraints, initializers, regularizers
from keras_on_jax.backend import config as backend_config
from keras_on_jax.layers.input_spec import InputSpec
from keras_on_jax.layers.layer import Layer


def _clone_initializer(initializer):
    return type(initializer).from_config(initializer.get_config())


class BatchNormalization(Layer):
    """Normalizes its inputs over all axes but `axis`.

    With `training=True` (and a trainable layer) it uses the batch's mean and variance and
    updates `moving_mean`/`moving_variance` as
    `moving = moving * momentum + batch * (1 - momentum)`; otherwise it uses the moving
    statistics. A frozen layer (`layer.trainable = False`) always runs in inference mode,
    even when called with `training=True` (the fine-tuning behaviour of Keras 3).

    Args:
        axis: the features axis (default -1).
        momentum: momentum of the moving averages (0.99).
        epsilon: added to the variance (1e-3).
        center, scale: whether to learn `beta` / `gamma`.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: for the weights.
        synchronized: accepted; under JAX's SPMD compilation the batch statistics of a
            sharded batch are already global.
        renorm, renorm_clipping, renorm_momentum: batch renormalization.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.synchronized = synchronized
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.renorm = renorm
        if renorm:
            renorm_clipping = renorm_clipping or {}
            keys = ["rmax", "rmin", "dmax"]
            if set(renorm_clipping) - set(keys):
                raise ValueError(
                    f"Received invalid keys for `renorm_clipping` argument: "
                    f"{renorm_clipping}. Supported values: {keys}."
                )
            rmax, rmin, dmax = (renorm_clipping.get(k) for k in ("rmax", "rmin", "dmax"))
            if rmax is not None and rmin is not None and rmax < rmin:
                raise ValueError(
                    "rmax should be greater than rmin in the `renorm_clipping` argument. "
                    f"Received: rmax={rmax}, rmin={rmin}."
                )
            if dmax is not None and dmax < 0:
                raise ValueError(
                    "dmax should be non-negative in the `renorm_clipping` argument. "
                    f"Received: dmax={dmax}."
                )
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.gamma = None
        self.beta = None
        self.moving_mean = None
        self.moving_variance = None
        self._reduction_axes = None

    def build(self, input_shape):
        ndim = len(input_shape)
        if self.axis >= ndim or self.axis < -ndim:
            raise ValueError(
                f"BatchNormalization: axis {self.axis} is out of bounds for input shape "
                f"{tuple(input_shape)}."
            )
        shape = (input_shape[self.axis],)
        if self.scale:
            self.gamma = self.add_weight(
                shape=shape, name="gamma", initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                trainable=True, autocast=False,
            )
        if self.center:
            self.beta = self.add_weight(
                shape=shape, name="beta", initializer=self.beta_initializer,
                regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                trainable=True, autocast=False,
            )
        self.moving_mean = self.add_weight(
            shape=shape, name="moving_mean", initializer=self.moving_mean_initializer,
            trainable=False, autocast=False,
        )
        self.moving_variance = self.add_weight(
            shape=shape, name="moving_variance",
            initializer=self.moving_variance_initializer, trainable=False, autocast=False,
        )
        if self.renorm:
            variance_init = self.moving_variance_initializer

            def moving_stddev_initializer(shape, dtype=None):
                return jnp.sqrt(_clone_initializer(variance_init)(shape, dtype=dtype))

            self.moving_stddev = self.add_weight(
                shape=shape, name="moving_stddev", initializer=moving_stddev_initializer,
                trainable=False, autocast=False,
            )
            self.renorm_mean = self.add_weight(
                shape=shape, name="renorm_mean",
                initializer=_clone_initializer(self.moving_mean_initializer),
                trainable=False, autocast=False,
            )
            self.renorm_stddev = self.add_weight(
                shape=shape, name="renorm_stddev", initializer=moving_stddev_initializer,
                trainable=False, autocast=False,
            )
        self.input_spec = InputSpec(ndim=ndim, axes={self.axis: input_shape[self.axis]})
        reduction_axes = list(range(ndim))
        del reduction_axes[self.axis]
        self._reduction_axes = reduction_axes
        self.built = True

    def compute_output_shape(self, input_shape):
        if self.axis >= len(input_shape) or self.axis < -len(input_shape):
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape {input_shape}. "
                f"Received: axis={self.axis}"
            )
        return input_shape

    def call(self, inputs, training=None, mask=None):
        if mask is not None and len(mask.shape) != len(inputs.shape) - 1:
            raise ValueError(
                "The mask provided should be one dimension less than the inputs. "
                f"Received: mask.shape={mask.shape}, inputs.shape={inputs.shape}"
            )
        compute_dtype = jnp.result_type(inputs.dtype, jnp.float32)
        inputs = inputs.astype(compute_dtype)
        moving_mean = self.moving_mean.value.astype(compute_dtype)
        moving_variance = self.moving_variance.value.astype(compute_dtype)
        gamma = self.gamma.value.astype(compute_dtype) if self.scale else None
        beta = self.beta.value.astype(compute_dtype) if self.center else None

        if training and self.trainable:
            mean, variance = self._moments(inputs, mask)
            if self.renorm:
                r, d = self._renorm_correction(mean, variance)
                gamma, beta = self._compose_transforms(r, d, gamma, beta, compute_dtype)
                self._update_renorm_statistics(mean, variance)
            else:
                self.moving_mean.assign(
                    moving_mean * self.momentum + mean * (1.0 - self.momentum)
                )
                self.moving_variance.assign(
                    moving_variance * self.momentum + variance * (1.0 - self.momentum)
                )
        else:
            mean, variance = moving_mean, moving_variance

        shape = [1] * inputs.ndim
        shape[self.axis] = mean.shape[0]
        inv = jax.lax.rsqrt(jnp.reshape(variance, shape) + self.epsilon)
        if gamma is not None:
            inv = inv * jnp.reshape(gamma, shape)
        res = -jnp.reshape(mean, shape) * inv
        if beta is not None:
            res = res + jnp.reshape(beta, shape)
        outputs = inputs * inv + res
        return outputs.astype(self.compute_dtype)

    def _moments(self, inputs, mask):
        axes = tuple(self._reduction_axes)
        rows = self._padding_rows(inputs)
        if rows is not None:
            # The batch was padded (TPUStrategy): statistics over its real rows only.
            if mask is None:
                return self._row_moments(inputs, rows, axes)
            keep = jnp.reshape(rows > 0, (-1,) + (1,) * (mask.ndim - 1))
            mask = jnp.logical_and(mask.astype(bool), keep)
        if mask is None:
            x = inputs
            half = x.dtype in (jnp.float16, jnp.bfloat16)
            if half:
                x = x.astype("float32")
            mean = jnp.mean(x, axes)
            variance = jnp.var(x, axis=axes)
            if half:
                mean, variance = mean.astype(inputs.dtype), variance.astype(inputs.dtype)
            return mean, variance
        m = jnp.broadcast_to(jnp.expand_dims(mask, -1), inputs.shape).astype(bool)
        masked_sum = jnp.sum(jnp.where(m, inputs, 0), axes, keepdims=True)
        weights = jnp.sum(m.astype(inputs.dtype), axes, keepdims=True)
        eps = backend_config.epsilon()
        mean = masked_sum / (weights + eps)
        sq = jnp.square(jnp.where(m, inputs - mean, 0))
        variance = jnp.sum(sq, axes, keepdims=True) / (weights + eps)
        return jnp.squeeze(mean), jnp.squeeze(variance)

    def _padding_rows(self, inputs):
        """The real-row mask of a padded batch, when `inputs`' first axis is its rows."""
        from keras_on_jax.distribute import context

        padding = context.padding()
        if padding is None or 0 not in self._reduction_axes:
            return None
        return padding.row_mask_for(inputs)

    @staticmethod
    def _row_moments(inputs, rows, axes):
        x = inputs
        half = x.dtype in (jnp.float16, jnp.bfloat16)
        if half:
            x = x.astype("float32")
        w = jnp.reshape(rows.astype(x.dtype), (-1,) + (1,) * (x.ndim - 1))
        count = jnp.sum(rows).astype(x.dtype)
        for a in axes:
            if a != 0:
                count = count * x.shape[a]
        mean = jnp.sum(x * w, axes) / count
        centered = x - jnp.expand_dims(mean, axes)
        variance = jnp.sum(jnp.square(centered) * w, axes) / count
        if half:
            mean, variance = mean.astype(inputs.dtype), variance.astype(inputs.dtype)
        return mean, variance

    def _renorm_correction(self, mean, variance):
        stddev = jnp.sqrt(variance + self.epsilon)
        renorm_mean = self.renorm_mean.value.astype(mean.dtype)
        renorm_stddev = jnp.maximum(self.renorm_stddev.value.astype(mean.dtype),
                                    jnp.sqrt(jnp.asarray(self.epsilon, mean.dtype)))
        r = stddev / renorm_stddev
        d = (mean - renorm_mean) / renorm_stddev
        clip = self.renorm_clipping or {}
        if clip.get("rmin") is not None:
            r = jnp.maximum(r, clip["rmin"])
        if clip.get("rmax") is not None:
            r = jnp.minimum(r, clip["rmax"])
        if clip.get("dmax") is not None:
            d = jnp.clip(d, -clip["dmax"], clip["dmax"])
        return r, d

    def _compose_transforms(self, r, d, gamma, beta, dtype):
        r = jax.lax.stop_gradient(r)
        d = jax.lax.stop_gradient(d)
        if gamma is not None:
            eff_gamma, eff_beta = r * gamma, d * gamma
        else:
            eff_gamma, eff_beta = r.astype(dtype), d.astype(dtype)
        if beta is not None:
            eff_beta = eff_beta + beta
        return eff_gamma, eff_beta

    def _update_renorm_statistics(self, mean, variance):
        stddev = jnp.sqrt(variance + self.epsilon)
        renorm_mean = self.renorm_mean.value.astype(mean.dtype)
        renorm_stddev = self.renorm_stddev.value.astype(mean.dtype)
        self.renorm_mean.assign(renorm_mean * self.renorm_momentum
                                + mean * (1.0 - self.renorm_momentum))
        self.renorm_stddev.assign(renorm_stddev * self.renorm_momentum
                                  + stddev * (1.0 - self.renorm_momentum))
        moving_mean = self.moving_mean.value.astype(mean.dtype)
        moving_stddev = self.moving_stddev.value.astype(mean.dtype)
        self.moving_mean.assign(moving_mean * self.momentum + mean * (1.0 - self.momentum))
        new_stddev = moving_stddev * self.momentum + stddev * (1.0 - self.momentum)
        self.moving_stddev.assign(new_stddev)
        self.moving_variance.assign(jax.nn.relu(new_stddev * new_stddev - self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        })
        return config
