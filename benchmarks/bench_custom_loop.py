"""The FAQ's custom training loop against `fit`, in one process.

Workload (issue 15): a 32-64-10 MLP, batch 64, Adam, sparse categorical cross-entropy
from logits, 200 batches of synthetic data. Rows:

- `fit` (fused): `model.fit(x, y)` with default settings (steps fused on the device).
- `fit` (un-fused): the same with a callback that has a batch hook (one call per batch).
- eager tape loop: the FAQ's `for x, y in dataset: with GradientTape() ...` loop.
- `function` loop: the same step decorated with `keras.function` (`tf.function` under
  `python -m keras_on_jax`).
- eager `model(x)`: one sample, milliseconds per call.
- hand-written `jax.jit` step: the same MLP and Adam in raw JAX + Optax, one jitted call
  per batch from a Python loop (the ceiling for any per-step Python loop on this machine).

Measurements of the rows alternate (several rounds, the median is reported) so that drift
of a shared machine hits them alike. Ratios compare rows of the same run; the last column
compares each row with the hand-written `jax.jit` loop.

    python benchmarks/bench_custom_loop.py              # 3 rounds
    python benchmarks/bench_custom_loop.py --rounds 5
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import numpy as np

D, H, C, BATCH, STEPS = 32, 64, 10, 64, 200


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH * STEPS, D)).astype("float32")
    y = rng.integers(0, C, BATCH * STEPS).astype("int32")
    return x, y


def _model(keras):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((D,)), keras.layers.Dense(H, activation="relu"),
                             keras.layers.Dense(C)])


def _jax_step():
    """The step in raw JAX: `step(x, y)` updates parameters held in a closure."""
    import jax
    import jax.numpy as jnp
    import optax

    keys = jax.random.split(jax.random.key(0), 2)
    init = jax.nn.initializers.glorot_uniform()
    params = [init(keys[0], (D, H)), jnp.zeros(H), init(keys[1], (H, C)), jnp.zeros(C)]
    opt = optax.adam(1e-3, eps=1e-7)
    state = [params, opt.init(params)]

    def loss_fn(p, xb, yb):
        logits = jax.nn.relu(xb @ p[0] + p[1]) @ p[2] + p[3]
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def update(p, s, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(p, xb, yb)
        updates, s = opt.update(grads, s, p)
        return optax.apply_updates(p, updates), s, loss

    def step(xb, yb):
        state[0], state[1], loss = update(state[0], state[1], xb, yb)
        return loss

    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--eager-steps", type=int, default=STEPS)
    # Compiled loops take ~10 ms per epoch: time several epochs so that one scheduler
    # hiccup of a shared machine does not decide the figure.
    ap.add_argument("--loop-epochs", type=int, default=3)
    args = ap.parse_args()

    import keras_on_jax as keras

    x, y = _data()
    batches = [(x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, len(x), BATCH)]

    fit_model = _model(keras)
    fit_model.compile(optimizer=keras.optimizers.Adam(),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    class BatchHook(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            pass

    def fit_rate(callbacks):
        fit_model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False,
                      callbacks=callbacks)
        t0 = time.perf_counter()
        fit_model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, shuffle=False,
                      callbacks=callbacks)
        return 2 * STEPS / (time.perf_counter() - t0)

    model = _model(keras)
    optimizer = keras.optimizers.Adam()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def step(inputs, targets):
        with keras.GradientTape() as tape:
            predictions = model(inputs, training=True)
            loss_value = loss_fn(targets, predictions)
        gradients = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(gradients, model.trainable_weights))
        return loss_value

    def loop_rate(step_fn, n):
        for inputs, targets in batches[:6]:  # warm-up (traces, compiles)
            step_fn(inputs, targets)
        loss = None
        t0 = time.perf_counter()
        for i in range(n):
            inputs, targets = batches[i % len(batches)]
            loss = step_fn(inputs, targets)
        float(np.asarray(loss))  # wait for the last step
        return n / (time.perf_counter() - t0)

    compiled = getattr(keras, "function", None)
    compiled_step = compiled(step) if compiled is not None else None

    jax_step = _jax_step()
    one = x[:1]

    def call_ms():
        for _ in range(20):
            model(one)
        t0 = time.perf_counter()
        for _ in range(300):
            out = model(one)
        np.asarray(out)
        return (time.perf_counter() - t0) / 300 * 1e3

    rows = {"fit (fused)": [], "fit (un-fused)": [], "eager tape loop": [],
            "function loop": [], "hand-written jax.jit step": [],
            "eager model(x), 1 sample": []}
    for _ in range(args.rounds):
        rows["fit (fused)"].append(fit_rate(None))
        rows["fit (un-fused)"].append(fit_rate([BatchHook()]))
        rows["eager tape loop"].append(loop_rate(step, args.eager_steps))
        if compiled_step is not None:
            rows["function loop"].append(loop_rate(compiled_step, STEPS * args.loop_epochs))
        rows["hand-written jax.jit step"].append(loop_rate(jax_step, STEPS * args.loop_epochs))
        rows["eager model(x), 1 sample"].append(call_ms())

    fit = statistics.median(rows["fit (fused)"])
    unfused = statistics.median(rows["fit (un-fused)"])
    raw = statistics.median(rows["hand-written jax.jit step"])
    print(f"MLP {D}-{H}-{C}, batch {BATCH}, Adam; {STEPS} batches; median of "
          f"{args.rounds} rounds")
    print("| loop | steps/s | share of fit (fused) | share of fit (un-fused) "
          "| share of jax.jit step |")
    print("|---|---:|---:|---:|---:|")
    for name, values in rows.items():
        if name.startswith("eager model"):
            continue
        if not values:
            print(f"| {name} | not provided (`keras.function` missing) | — | — | — |")
            continue
        rate = statistics.median(values)
        print(f"| {name} | {rate:,.0f} | {rate / fit:.3f} | {rate / unfused:.3f} "
              f"| {rate / raw:.3f} |")
    ms = statistics.median(rows["eager model(x), 1 sample"])
    print(f"| eager model(x), 1 sample | {ms:.3f} ms per call | | | |")


if __name__ == "__main__":
    main()
