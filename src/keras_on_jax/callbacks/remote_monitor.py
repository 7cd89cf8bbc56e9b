"""`keras.callbacks.RemoteMonitor`: POSTs the epoch logs to a server.

Uses the `requests` library when it is installed, else the standard library's
`urllib.request` (same request: a JSON body, or a form field holding JSON).
"""

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

from keras_on_jax.callbacks.callback import Callback, to_float


def _post_with_urllib(url, json_body=None, form=None, headers=None):
    headers = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode("utf-8")
        headers.setdefault("Content-Type", "application/json")
    else:
        data = urllib.parse.urlencode(form).encode("utf-8")
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


class RemoteMonitor(Callback):
    """Callback used to stream events to a server.

    Events are sent to `root + '/publish/epoch/end/'` by default. Calls are
    HTTP POST, with a `data` argument which is a JSON-encoded dictionary of
    event data. If `send_as_json=True`, the content type of the request will be
    `"application/json"`; otherwise the serialized JSON is sent within a form.

    Args:
        root: String; root url of the target server.
        path: String; path relative to `root` to which the events will be sent.
        field: String; JSON field under which the data will be stored (form only).
        headers: Dictionary; optional custom HTTP headers.
        send_as_json: Boolean; whether the request should be sent as
            `"application/json"`.
    """

    def __init__(
        self,
        root="http://localhost:9000",
        path="/publish/epoch/end/",
        field="data",
        headers=None,
        send_as_json=False,
    ):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        send = {"epoch": epoch}
        for k, v in logs.items():
            v = to_float(v)
            if hasattr(v, "tolist"):  # non-scalar arrays: JSON lists
                v = v.tolist()
            send[k] = v
        url = self.root + self.path
        try:
            import requests  # noqa: PLC0415
        except ImportError:
            requests = None
        if requests is not None:
            try:
                if self.send_as_json:
                    requests.post(url, json=send, headers=self.headers)
                else:
                    requests.post(url, {self.field: json.dumps(send)}, headers=self.headers)
            except requests.exceptions.RequestException:
                warnings.warn(
                    f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2
                )
            return
        try:
            if self.send_as_json:
                _post_with_urllib(url, json_body=send, headers=self.headers)
            else:
                _post_with_urllib(url, form={self.field: json.dumps(send)}, headers=self.headers)
        except urllib.error.HTTPError:
            pass  # The server was reached (as with `requests`, a status code is no error).
        except (urllib.error.URLError, OSError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
