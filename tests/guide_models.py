"""Models written as the keras-io guides write them, for tests in several files."""

import jax


def jax_guide_model_class(lib, weight_the_loss=True):
    """The JAX `train_step(self, state, data)` of the Keras guide "Customizing what happens
    in fit() with JAX", passing the batch's `sample_weight` to every one of `self.metrics`
    (to the loss tracker too only with `weight_the_loss`)."""

    class CustomModel(lib.Model):
        def compute_loss_and_updates(self, tv, ntv, mv, x, y, sample_weight, training=False):
            y_pred, ntv = self.stateless_call(tv, ntv, x, training=training)
            loss, (tv, ntv, mv) = self.stateless_compute_loss(
                tv, ntv, mv, x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                training=training)
            return loss, (y_pred, ntv, mv)

        def train_step(self, state, data):
            tv, ntv, ov, mv = state
            x, y, sample_weight = lib.utils.unpack_x_y_sample_weight(data)
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, ntv, mv)), grads = grad_fn(tv, ntv, mv, x, y, sample_weight,
                                                       training=True)
            tv, ov = self.optimizer.stateless_apply(ov, grads, tv)
            new_mv, logs = [], {}
            for metric in self.metrics:
                this = mv[len(new_mv):len(new_mv) + len(metric.variables)]
                if metric.name == "loss":
                    loss_weight = {"sample_weight": sample_weight} if weight_the_loss else {}
                    this = metric.stateless_update_state(this, loss, **loss_weight)
                else:
                    this = metric.stateless_update_state(this, y, y_pred,
                                                         sample_weight=sample_weight)
                logs[metric.name] = metric.stateless_result(this)
                new_mv += this
            return logs, (tv, ntv, ov, new_mv)

    return CustomModel
