"""Fusing steps stays unobservable: a callback whose batch hooks are set on the instance
(`LambdaCallback(on_train_batch_end=...)`) sees every batch with that batch's logs."""

import numpy as np

import keras_on_jax as keras


def _fit(callbacks, epochs=2):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype("float32")
    y = rng.standard_normal((40, 1)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks)
    return model, x, y


def test_lambda_callback_batch_hooks_see_every_batch():
    seen = []
    hook = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append((batch, float(logs["loss"]))))
    fused_model, x, y = _fit(None)  # no batch hook: steps are fused

    class Subclass(keras.callbacks.Callback):  # a class override always kept one step a call
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_train_batch_end(self, batch, logs=None):
            self.seen.append((batch, float(logs["loss"])))

    reference = Subclass()
    _fit([reference])
    model, _, _ = _fit([hook])
    assert [b for b, _ in seen] == [0, 1, 2, 3, 4] * 2
    assert seen == reference.seen  # each batch's own running loss
    for a, b in zip(model.get_weights(), fused_model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_hooks_passed_by_name_and_callback_list_report():
    from keras_on_jax.callbacks import CallbackList

    seen = []
    legacy = keras.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: seen.append(batch))
    assert CallbackList([legacy]).observes_batches("train")
    assert not CallbackList([legacy]).observes_batches("test")
    tests = keras.callbacks.LambdaCallback(on_test_batch_end=lambda batch, logs: seen.append(-1))
    assert CallbackList([tests]).observes_batches("test")
    epochs_only = keras.callbacks.LambdaCallback(on_epoch_end=print)
    assert not CallbackList([epochs_only]).observes_batches("train")
    model, x, y = _fit([legacy], epochs=1)
    model.evaluate(x, y, batch_size=8, verbose=0, callbacks=[tests])
    assert seen == [0, 1, 2, 3, 4, -1, -1, -1, -1, -1]
