"""`keras.callbacks.SwapEMAWeights`: evaluates/predicts (and optionally checkpoints) with
the optimizer's exponential-moving-average weights."""

import numpy as np

from keras_on_jax.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """Swaps model weights and EMA weights before and after evaluation.

    Use it with an optimizer created with `use_ema=True`: the EMA weights are used
    for evaluation and prediction while training continues on the raw weights.

    The optimizer must expose, as Keras 3 optimizers do, `_trainable_variables`
    (the model variables it updates) and `_model_variables_moving_average` (their
    EMA copies, in the same order).

    Args:
        swap_on_epoch: whether to perform swapping at `on_epoch_begin()`
            and `on_epoch_end()`. This is useful if you want to use
            EMA weights for other callbacks such as `ModelCheckpoint`.
            Defaults to `False`.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _backend_swap_variables(self, optimizer):
        for var, average_var in zip(
            optimizer._trainable_variables,
            optimizer._model_variables_moving_average,
            strict=True,
        ):
            temporary_variable = np.array(var)
            var.assign(average_var.value if hasattr(average_var, "value") else average_var)
            average_var.assign(temporary_variable)

    def _backend_finalize_ema_values(self, optimizer):
        for var, average_var in zip(
            optimizer._trainable_variables,
            optimizer._model_variables_moving_average,
            strict=True,
        ):
            average_var.assign(var.value if hasattr(var, "value") else var)

    def _apply_to_ema_optimizers(self, fn):
        optimizer = self.model.optimizer
        if hasattr(optimizer, "inner_optimizer"):  # LossScaleOptimizer
            optimizer = optimizer.inner_optimizer

        if hasattr(optimizer, "optimizers"):
            if not any(getattr(opt, "use_ema", False) for opt in optimizer.optimizers):
                raise ValueError(
                    "SwapEMAWeights must be used when at least one inner "
                    "optimizer has `use_ema=True` set. Received a "
                    "MultiOptimizer with all inner optimizers having "
                    "`use_ema=False`."
                )
            for opt in optimizer.optimizers:
                if getattr(opt, "use_ema", False):
                    if not hasattr(opt, "_model_variables_moving_average"):
                        raise ValueError(
                            "SwapEMAWeights must be used when "
                            "`use_ema=True` is set on the optimizer. "
                            f"Received: use_ema={opt.use_ema}"
                        )
                    fn(opt)
        else:
            if not hasattr(optimizer, "_model_variables_moving_average"):
                raise ValueError(
                    "SwapEMAWeights must be used when "
                    "`use_ema=True` is set on the optimizer. "
                    f"Received: use_ema={getattr(optimizer, 'use_ema', None)}"
                )
            fn(optimizer)

    def _swap_variables(self):
        self._apply_to_ema_optimizers(self._backend_swap_variables)

    def _finalize_ema_values(self):
        self._apply_to_ema_optimizers(self._backend_finalize_ema_values)

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            # At the end of fitting, the optimizer's `finalize_variable_values`
            # assigns the EMA copies to the model variables: after the last epoch's
            # swap the EMA copies hold the raw weights, so restore them.
            if epoch == self.params["epochs"] - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_predict_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False
