"""Fit throughput and predict latency: keras_on_jax vs real Keras 3 (JAX backend) vs raw JAX.

Each implementation runs in its own process on the same synthetic data (the `mlp`
workload: 784-256-256-10, Adam 1e-3, sparse CE from logits). Ratios in the table compare
implementations measured in the same run.

    python benchmarks/bench_fit.py                  # all implementations, mlp, batch 128
    python benchmarks/bench_fit.py --batch 32 --impls kj jax_step
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

N, D, C = 30000, 784, 10


def _data(batch):
    import numpy as np

    rng = np.random.default_rng(1234)
    n = N - N % batch
    return rng.standard_normal((n, D)).astype("float32"), rng.integers(0, C, n).astype("int32")


def run_keras(module, batch, epochs):
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = __import__(module)
    x, y = _data(batch)
    model = keras.Sequential([keras.Input((D,)), keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(256, activation="relu"), keras.layers.Dense(C)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
    fit_s = (time.perf_counter() - t0) / epochs
    x1 = x[:1]
    for _ in range(20):
        model.predict(x1, verbose=0)
    t0 = time.perf_counter()
    for _ in range(200):
        model.predict(x1, verbose=0)
    return {"samples_per_s": len(x) / fit_s, "predict_ms": (time.perf_counter() - t0) / 200 * 1e3}


def run_jax(batch, epochs, scan):
    import jax
    import jax.numpy as jnp
    import optax

    x, y = _data(batch)
    steps = len(x) // batch
    init = jax.nn.initializers.glorot_uniform()
    keys = jax.random.split(jax.random.key(0), 3)
    sizes = [(D, 256), (256, 256), (256, C)]
    params = [(init(k, s), jnp.zeros(s[1])) for k, s in zip(keys, sizes)]
    opt = optax.adam(1e-3, eps=1e-7)
    opt_state = opt.init(params)

    def loss_fn(p, xb, yb):
        h = xb
        for i, (w, b) in enumerate(p):
            h = h @ w + b
            h = jax.nn.relu(h) if i < 2 else h
        return optax.softmax_cross_entropy_with_integer_labels(h, yb).mean()

    def step(carry, idx):
        p, s = carry
        g = jax.grad(loss_fn)(p, xd[idx], yd[idx])
        u, s = opt.update(g, s, p)
        return (optax.apply_updates(p, u), s), None

    xd, yd = jax.device_put(x), jax.device_put(y)
    jstep = jax.jit(lambda c, idx: step(c, idx)[0], donate_argnums=0)
    jepoch = jax.jit(lambda c, idx: jax.lax.scan(step, c, idx)[0], donate_argnums=0)

    def epoch(carry, seed):
        perm = jax.random.permutation(jax.random.key(seed), len(x))[: steps * batch].reshape(steps, batch)
        if scan:
            return jepoch(carry, perm)
        for i in range(steps):
            carry = jstep(carry, perm[i])
        return carry

    carry = jax.block_until_ready(epoch((params, opt_state), 0))
    t0 = time.perf_counter()
    for e in range(epochs):
        carry = epoch(carry, e + 1)
    jax.block_until_ready(carry)
    return {"samples_per_s": len(x) / ((time.perf_counter() - t0) / epochs)}


def child(impl, batch, epochs):
    if impl == "kj":
        return run_keras("keras_on_jax", batch, epochs)
    if impl == "keras3":
        return run_keras("keras", batch, epochs)
    return run_jax(batch, epochs, scan=impl == "jax_scan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impls", nargs="+", default=["kj", "keras3", "jax_step", "jax_scan"])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--child", default=None)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.batch, args.epochs)))
        return
    results = {}
    for impl in args.impls:
        proc = subprocess.run([sys.executable, __file__, "--child", impl, "--batch", str(args.batch),
                               "--epochs", str(args.epochs)], capture_output=True, text=True)
        if proc.returncode != 0:
            results[impl] = {"error": proc.stderr.strip().splitlines()[-1:]}
        else:
            results[impl] = json.loads(proc.stdout.strip().splitlines()[-1])
    limit = max((r.get("samples_per_s", 0) for k, r in results.items() if k.startswith("jax")), default=0)
    print(f"mlp, batch {args.batch}, {N - N % args.batch} samples")
    print("| impl | samples/s | x engine limit | predict ms (1 sample) |")
    print("|---|---:|---:|---:|")
    for impl, r in results.items():
        if "error" in r:
            print(f"| {impl} | error: {r['error']} | | |")
            continue
        ratio = r["samples_per_s"] / limit if limit else float("nan")
        pm = f"{r['predict_ms']:.3f}" if "predict_ms" in r else ""
        print(f"| {impl} | {r['samples_per_s']:,.0f} | {ratio:.2f} | {pm} |")


if __name__ == "__main__":
    main()
