"""The models of `test_saved_files_golden.py` and what their saved files hold.

`tests/fixtures/saved_files/record.py` records them. The custom layer lives in this
module so that its saved `module` is the same when recording and when testing.
"""

import hashlib
import json
import os
import zipfile

import h5py
import numpy as np

import keras_on_jax as kj


@kj.saving.register_keras_serializable(package="Golden")
class Shift(kj.layers.Layer):
    """A custom registered layer with one weight and one config argument."""

    def __init__(self, offset=1.5, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def build(self, input_shape):
        self.shift = self.add_weight(shape=(input_shape[-1],), name="shift")

    def call(self, x):
        return x + self.shift + self.offset

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


def _fill(variables):
    """Deterministic values for every variable (no random draws, no arithmetic)."""
    for i, v in enumerate(variables):
        size = int(np.prod(v.shape))
        values = np.linspace(-1.0, 1.0, size, dtype=np.float64).reshape(tuple(v.shape)) + 0.01 * i
        if str(v.dtype).startswith("int"):
            values = np.full(tuple(v.shape), i + 3)
        v.assign(values.astype(v.dtype))


def conv_bn_lstm():
    model = kj.Sequential([
        kj.Input((6, 4), name="frames"),
        kj.layers.Conv1D(5, 3, padding="same", activation="relu", name="conv"),
        kj.layers.BatchNormalization(name="bn"),
        kj.layers.LSTM(3, name="lstm"),
        kj.layers.Dense(2, name="head"),
    ], name="conv_bn_lstm")
    _fill(model.weights)
    return model


def functional_custom():
    x = kj.Input((4,), name="x")
    h = kj.layers.Dense(3, activation="tanh", name="dense")(x)
    y = Shift(offset=0.25, name="shift")(h)
    model = kj.Model(x, [y, kj.layers.Add(name="add")([h, y])], name="functional_custom")
    _fill(model.weights)
    return model


def compiled_adam():
    model = kj.Sequential([kj.Input((3,), name="x"), kj.layers.Dense(2, name="dense")],
                          name="compiled_adam")
    model.compile(optimizer=kj.optimizers.Adam(learning_rate=0.01, name="adam"), loss="mse",
                  metrics=["mae"])
    model.optimizer.build(model.trainable_variables)
    _fill(model.weights)
    _fill(model.optimizer.variables)
    return model


MODELS = {"conv_bn_lstm": conv_bn_lstm, "functional_custom": functional_custom,
          "compiled_adam": compiled_adam}


def _h5_digest(f):
    """Every group's attributes and every dataset's dtype, shape and bytes (sha256)."""
    out = {}

    def attrs(obj):
        return {k: (v.decode() if isinstance(v, bytes) else np.asarray(v).tolist())
                for k, v in sorted(obj.attrs.items())}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            value = np.asarray(obj[()])
            out[name] = {"dtype": str(value.dtype), "shape": list(value.shape),
                         "sha256": hashlib.sha256(value.tobytes()).hexdigest(),
                         "attrs": attrs(obj)}
        else:
            out[name + "/"] = {"attrs": attrs(obj)}

    out["/"] = {"attrs": attrs(f)}
    f.visititems(visit)
    return out


def artifacts(model, folder):
    """What the model's files hold, as JSON-able text."""
    keras_path = os.path.join(folder, "m.keras")
    model.save(keras_path)
    with zipfile.ZipFile(keras_path) as z:
        config_json = z.read("config.json").decode("utf-8")
        metadata = json.loads(z.read("metadata.json"))
        with h5py.File(z.open("model.weights.h5")) as f:
            archive_weights = _h5_digest(f)
    metadata.pop("date_saved")
    weights_path = os.path.join(folder, "m.weights.h5")
    model.save_weights(weights_path)
    with h5py.File(weights_path) as f:
        weights = _h5_digest(f)
    legacy_path = os.path.join(folder, "m.h5")
    model.save(legacy_path)
    with h5py.File(legacy_path) as f:
        legacy = _h5_digest(f)
    return {
        "config.json": config_json,
        "to_json": model.to_json(),
        "files": json.dumps({"metadata.json": metadata, "model.weights.h5": archive_weights,
                             "weights.h5": weights, "legacy.h5": legacy},
                            indent=1, sort_keys=True),
    }
