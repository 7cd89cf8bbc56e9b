"""`keras.mixed_precision`: dtype policies and the loss-scale optimizer (Keras 3 names).

`set_global_policy("mixed_float16")` (or `"mixed_bfloat16"`) keeps layer variables in
float32 and runs layer computations in the half type; `compile()` wraps the optimizer in
`LossScaleOptimizer` under a float16 policy.
"""

from keras_on_jax.backend.dtype_policies import DTypePolicy as DTypePolicy
from keras_on_jax.backend.dtype_policies import DTypePolicy as Policy
from keras_on_jax.backend.dtype_policies import global_policy as dtype_policy
from keras_on_jax.backend.dtype_policies import global_policy as global_policy
from keras_on_jax.backend.dtype_policies import set_global_policy as set_dtype_policy
from keras_on_jax.backend.dtype_policies import set_global_policy as set_global_policy
from keras_on_jax.optimizers.loss_scale_optimizer import (
    LossScaleOptimizer as LossScaleOptimizer,
)

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]
