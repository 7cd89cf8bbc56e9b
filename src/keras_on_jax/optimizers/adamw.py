"""`keras.optimizers.AdamW`: Adam with decoupled weight decay (default 0.004)."""

from __future__ import annotations

from keras_on_jax.optimizers import base_optimizer as bo
from keras_on_jax.optimizers.adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay: `var -= var * weight_decay * lr` before each step."""

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
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
        super().__init__(
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            **bo.base_arguments(locals()),
        )
        if self.weight_decay is None:
            raise ValueError(
                "Argument `weight_decay` must be a float. Received: weight_decay=None"
            )
