"""One worker of the two-process test (run by test_multiworker.py, not collected by pytest).

argv: output prefix. TF_CONFIG and XLA_FLAGS come from the environment.
"""

import json
import os
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras_on_jax as keras  # noqa: E402
from keras_on_jax import distribute  # noqa: E402


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.normal(size=(64, 2)).astype("float32")
    return x, y


def build():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"),
                              keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae"])
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(size=w.shape).astype("float32") * 0.5
                       for w in model.get_weights()])
    return model


def main(prefix):
    strategy = distribute.MultiWorkerMirroredStrategy()
    import jax

    x, y = data()
    with strategy.scope():
        model = build()
        hist = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    r = strategy.cluster_resolver
    out = f"{prefix}_{r.task_type}{r.task_id}"
    np.savez(out + ".npz", *model.get_weights())
    if distribute.is_chief():
        model.save_weights(prefix + "_chief.weights.h5")
    with open(out + ".json", "w") as f:
        json.dump({"history": hist.history, "is_chief": distribute.is_chief(),
                   "process_count": jax.process_count(), "replicas": strategy.num_replicas_in_sync,
                   "should_checkpoint": strategy.extended.should_checkpoint}, f)


if __name__ == "__main__":
    main(sys.argv[1])
