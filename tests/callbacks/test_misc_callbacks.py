"""TerminateOnNaN, LambdaCallback, SwapEMAWeights and RemoteMonitor."""

import http.server
import json
import threading
import urllib.parse

import jax.numpy as jnp
import keras
import numpy as np
import pytest

from keras_on_jax import callbacks as kj_callbacks
from keras_on_jax.backend import Variable


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("via_train_hook", [True, False])
def test_terminate_on_nan_matches_keras(bad, via_train_hook, fake_model_cls, capsys):
    results = []
    for mod, wrap in ((keras.callbacks, float), (kj_callbacks, jnp.float32)):
        model = fake_model_cls()
        cb = mod.TerminateOnNaN()
        cb.set_model(model)
        stopped_at = None
        for batch, v in enumerate([1.0, 0.5, bad, 0.2]):
            hook = cb.on_train_batch_end if via_train_hook else cb.on_batch_end
            hook(batch, {"loss": wrap(v)})
            if model.stop_training:
                stopped_at = batch
                break
        results.append((stopped_at, capsys.readouterr().out))
    assert results[1] == results[0] == (2, "Batch 2: Invalid loss, terminating training\n")


def test_terminate_on_nan_raise_error(fake_model_cls):
    cb = kj_callbacks.TerminateOnNaN(raise_error=True)
    cb.set_model(fake_model_cls())
    cb.on_batch_end(0, {"loss": 1.0})
    cb.on_batch_end(1, {})  # no loss: nothing to check
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 2"):
        cb.on_batch_end(2, {"loss": jnp.float32(np.nan)})


def test_lambda_callback():
    calls = []
    cb = kj_callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: calls.append(("eb", epoch)),
        on_epoch_end=lambda epoch, logs: calls.append(("ee", epoch, logs)),
        on_train_begin=lambda logs: calls.append(("tb",)),
        on_train_end=lambda logs: calls.append(("te",)),
        on_train_batch_begin=lambda batch, logs: calls.append(("bb", batch)),
        on_train_batch_end=lambda batch, logs: calls.append(("be", batch)),
        on_test_end=lambda logs: calls.append(("test_end", logs)),
    )
    cbl = kj_callbacks.CallbackList([cb])
    cbl.on_train_begin()
    cbl.on_epoch_begin(0)
    cbl.on_train_batch_begin(0)
    cbl.on_train_batch_end(0, {"loss": 1.0})
    cbl.on_epoch_end(0, {"loss": 1.0})
    cbl.on_train_end()
    cbl.on_test_begin()
    cbl.on_test_end({"loss": 2.0})
    assert calls == [
        ("tb",),
        ("eb", 0),
        ("bb", 0),
        ("be", 0),
        ("ee", 0, {"loss": 1.0}),
        ("te",),
        ("test_end", {"loss": 2.0}),
    ]
    # Hooks not given stay the defaults.
    kj_callbacks.LambdaCallback().on_predict_end({})


# ----------------------------------------------------------------- SwapEMAWeights
class EMAOptimizer:
    def __init__(self, raw, ema):
        self.use_ema = True
        self._trainable_variables = [Variable(np.array(v, "float32")) for v in raw]
        self._model_variables_moving_average = [Variable(np.array(v, "float32")) for v in ema]


def _values(vs):
    return [np.asarray(v) for v in vs]


def test_swap_ema_weights_around_evaluation_and_prediction(fake_model_cls):
    model = fake_model_cls()
    opt = EMAOptimizer([[1.0, 2.0]], [[10.0, 20.0]])
    model.optimizer = opt
    cb = kj_callbacks.SwapEMAWeights()
    cb.set_model(model)
    cb.set_params({"epochs": 2})
    for begin, end in (
        (cb.on_test_begin, cb.on_test_end),
        (cb.on_predict_begin, cb.on_predict_end),
    ):
        begin()
        np.testing.assert_array_equal(_values(opt._trainable_variables)[0], [10.0, 20.0])
        np.testing.assert_array_equal(_values(opt._model_variables_moving_average)[0], [1.0, 2.0])
        end()
        np.testing.assert_array_equal(_values(opt._trainable_variables)[0], [1.0, 2.0])
        np.testing.assert_array_equal(_values(opt._model_variables_moving_average)[0], [10.0, 20.0])


def test_swap_ema_weights_on_epoch(fake_model_cls):
    model = fake_model_cls()
    opt = EMAOptimizer([[1.0]], [[5.0]])
    model.optimizer = opt
    cb = kj_callbacks.SwapEMAWeights(swap_on_epoch=True)
    cb.set_model(model)
    cb.set_params({"epochs": 2})
    cb.on_epoch_begin(0)
    assert _values(opt._trainable_variables)[0][0] == 1.0
    cb.on_epoch_end(0)  # EMA weights in the model (e.g. for ModelCheckpoint)
    assert _values(opt._trainable_variables)[0][0] == 5.0
    cb.on_test_begin()  # already swapped: no double swap
    assert _values(opt._trainable_variables)[0][0] == 5.0
    cb.on_test_end()
    assert _values(opt._trainable_variables)[0][0] == 1.0
    cb.on_epoch_end(0)
    cb.on_epoch_begin(1)  # back to the raw weights for training
    assert _values(opt._trainable_variables)[0][0] == 1.0
    opt._trainable_variables[0].assign(np.array([2.0], "float32"))
    cb.on_epoch_end(1)  # last epoch: EMA copies get the EMA values back (finalize)
    assert _values(opt._trainable_variables)[0][0] == 5.0
    assert _values(opt._model_variables_moving_average)[0][0] == 5.0


def test_swap_ema_weights_requires_ema(fake_model_cls):
    model = fake_model_cls()
    model.optimizer.use_ema = False
    cb = kj_callbacks.SwapEMAWeights()
    cb.set_model(model)
    with pytest.raises(ValueError, match="use_ema=False"):
        cb.on_test_begin()


# ------------------------------------------------------------------- RemoteMonitor
class _Handler(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        _Handler.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Handler.received = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_remote_monitor_posts_form_and_json(local_server):
    cb = kj_callbacks.RemoteMonitor(root=local_server)
    cb.on_epoch_end(0, {"loss": jnp.float32(0.5), "acc": np.float64(0.25)})
    cb = kj_callbacks.RemoteMonitor(
        root=local_server, path="/p/", send_as_json=True, headers={"X-Test": "1"}
    )
    cb.on_epoch_end(1, {"loss": 0.25})
    (path0, ctype0, body0), (path1, ctype1, body1) = _Handler.received
    assert path0 == "/publish/epoch/end/"
    assert ctype0 == "application/x-www-form-urlencoded"
    form = urllib.parse.parse_qs(body0)
    assert json.loads(form["data"][0]) == {"epoch": 0, "loss": 0.5, "acc": 0.25}
    assert (path1, ctype1) == ("/p/", "application/json")
    assert json.loads(body1) == {"epoch": 1, "loss": 0.25}


def test_remote_monitor_unreachable_warns():
    cb = kj_callbacks.RemoteMonitor(root="http://127.0.0.1:9")
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        cb.on_epoch_end(0, {"loss": 1.0})
