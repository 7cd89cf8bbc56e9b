"""LSTM training: keras_on_jax `fit` against a hand-written JAX epoch, in one process.

The workload is `../shared/bench`'s `lstm`: LSTM(64) over 20 steps of 16 features, then
Dense(1), MSE, Adam(1e-3), batch 64, 9,984 samples. The reference is that harness's
`jax_scan`: a whole epoch as one jitted `lax.scan` over the steps, fused-gate LSTM cell,
each step gathering its rows of the device-resident data.

Epochs of the two alternate in the same process, so machine drift hits both alike (a
shared 2-core machine drifts by tens of percent between processes). Reported: the median
epoch time of each and their ratio (above 1: keras_on_jax is faster).

    python benchmarks/bench_lstm.py               # 10 epochs each after one warm-up
    python benchmarks/bench_lstm.py --epochs 16
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

N, T, F, H, BATCH, LR, EPS = 9984, 20, 16, 64, 64, 1e-3, 1e-7


def _data():
    import numpy as np

    rng = np.random.default_rng(1234)
    x = rng.standard_normal((N, T, F), dtype=np.float32)
    w = rng.standard_normal((F,), dtype=np.float32)
    y = np.tanh((x @ w).mean(axis=1, keepdims=True)).astype(np.float32)
    return x, y


def keras_on_jax_epoch(x, y):
    import keras_on_jax as keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((T, F)), keras.layers.LSTM(H), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR), loss="mse")

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds = time.perf_counter() - self.start

    timer = Timer()

    def epoch():
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[timer])
        return timer.seconds

    return epoch


def jax_scan_epoch(x, y):
    import jax
    import jax.numpy as jnp
    import optax

    keys = jax.random.split(jax.random.key(0), 3)
    glorot = jax.nn.initializers.glorot_uniform()
    params = {
        "k": glorot(keys[0], (F, 4 * H)),
        "rk": jax.nn.initializers.orthogonal()(keys[1], (H, 4 * H)),
        "b": jnp.concatenate([jnp.zeros(H), jnp.ones(H), jnp.zeros(2 * H)]),
        "w": glorot(keys[2], (H, 1)), "wb": jnp.zeros(1),
    }

    def forward(p, xb):
        def cell(carry, xt):
            h, c = carry
            i, f, g, o = jnp.split(xt @ p["k"] + h @ p["rk"] + p["b"], 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), None

        h0 = jnp.zeros((xb.shape[0], H), xb.dtype)
        (h, _), _ = jax.lax.scan(cell, (h0, h0), jnp.swapaxes(xb, 0, 1))
        return h @ p["w"] + p["wb"]

    tx = optax.adam(LR, eps=EPS)
    steps = N // BATCH

    def train_epoch(p, s, xs, ys, key):
        order = jax.random.permutation(key, N).reshape(steps, BATCH)

        def body(carry, rows):
            p, s = carry
            loss, grads = jax.value_and_grad(
                lambda p: jnp.mean((forward(p, xs[rows]) - ys[rows]) ** 2))(p)
            updates, s = tx.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), loss

        (p, s), losses = jax.lax.scan(body, (p, s), order)
        return p, s, losses.mean()

    run = jax.jit(train_epoch, donate_argnums=(0, 1))
    xs, ys = jax.device_put(x), jax.device_put(y)
    state = [params, tx.init(params), jax.random.key(1)]

    def epoch():
        start = time.perf_counter()
        state[2], key = jax.random.split(state[2])
        state[0], state[1], loss = run(state[0], state[1], xs, ys, key)
        float(loss)
        return time.perf_counter() - start

    return epoch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    x, y = _data()
    runs = {"keras_on_jax": keras_on_jax_epoch(x, y), "jax_scan": jax_scan_epoch(x, y)}
    for epoch in runs.values():
        epoch()  # warm-up: compilation
    times = {name: [] for name in runs}
    for _ in range(args.epochs):
        for name, epoch in runs.items():
            times[name].append(epoch())
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(json.dumps({
        "epoch_s": {name: [round(t, 4) for t in ts] for name, ts in times.items()},
        "median_epoch_s": {name: round(m, 4) for name, m in medians.items()},
        "samples_per_s": {name: round(N / m) for name, m in medians.items()},
        "keras_on_jax_vs_jax_scan": round(medians["jax_scan"] / medians["keras_on_jax"], 3),
    }))


if __name__ == "__main__":
    main()
