"""What making `keras.ops` symbolic costs on arrays, in one process.

1. Eager op calls: `keras.ops.add(a, b)` (the public function, which first looks for a
   KerasTensor in its arguments) against the same without that check (`ops.add` before op
   nodes existed), on small arrays, and the check alone (around a function doing nothing),
   interleaved in rounds. Reported: the best round's microseconds per call (the least
   disturbed by other work on the machine).
2. A compiled fit: a Functional model whose middle is op nodes
   (`relu(h) * 2.0 + 1.0`) against the same math as layers
   (`Activation("relu")`, `Rescaling(2.0, offset=1.0)`), epochs alternating.
   Reported: the best epoch's seconds of each and their ratio (1.0: the same speed).

    python benchmarks/bench_symbolic_ops.py
    python benchmarks/bench_symbolic_ops.py --rounds 9 --epochs 8
"""

from __future__ import annotations

import argparse
import json
import time

N, F, H, BATCH = 32768, 32, 64, 64


def eager_calls(rounds, calls=20000):
    import jax.numpy as jnp

    from keras_on_jax import ops
    from keras_on_jax.ops import builtin_ops
    from keras_on_jax.training import gradient_tape

    a, b = jnp.ones((4, 4)), jnp.ones((4, 4))
    spec = builtin_ops._FUNCTION_SPECS[("numpy", "add")]
    # `ops.add` is the GradientTape's recording wrapper around the symbolic one around the
    # NumPy-style function; before op nodes existed it was the recording one around that.
    public, before = ops.add, gradient_tape._recording_wrapper(spec.fn)

    def nothing(x1, x2):
        return None

    # The same wrapper around a function that does nothing: the cost of the check alone.
    checked = builtin_ops._symbolic_function(nothing, spec)
    public(a, b).block_until_ready()
    before(a, b).block_until_ready()
    fns = {"public": public, "before": before, "check_only": checked, "no_check": nothing}
    times = {k: [] for k in fns}
    for i in range(rounds):
        for key in (list(fns) if i % 2 else list(fns)[::-1]):
            start = time.perf_counter()
            for _ in range(calls):
                fns[key](a, b)
            times[key].append((time.perf_counter() - start) / calls * 1e6)
    return {k: min(v) for k, v in times.items()}


def fit_epochs(epochs):
    import numpy as np

    import keras_on_jax as keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, F)).astype("float32")
    y = rng.normal(size=(N, 1)).astype("float32")

    def with_ops():
        inp = keras.Input((F,))
        h = keras.layers.Dense(H)(inp)
        h = keras.ops.relu(h) * 2.0 + 1.0
        return keras.Model(inp, keras.layers.Dense(1)(h))

    def with_layers():
        inp = keras.Input((F,))
        h = keras.layers.Dense(H)(inp)
        h = keras.layers.Rescaling(2.0, offset=1.0)(keras.layers.Activation("relu")(h))
        return keras.Model(inp, keras.layers.Dense(1)(h))

    models = {}
    for key, build in (("ops", with_ops), ("layers", with_layers)):
        keras.utils.set_random_seed(0)
        model = build()
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)  # compile
        models[key] = model
    times = {k: [] for k in models}
    for i in range(epochs):
        for key, model in (list(models.items()) if i % 2 else list(models.items())[::-1]):
            start = time.perf_counter()
            model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
            times[key].append(time.perf_counter() - start)
    return {k: min(v) for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    eager = eager_calls(args.rounds)
    fit = fit_epochs(args.epochs)
    print(json.dumps({
        "eager_add_us": {k: round(eager[k], 2) for k in ("public", "before")},
        "symbolic_check_us": round(eager["check_only"] - eager["no_check"], 3),
        "fit_epoch_s": {k: round(v, 4) for k, v in fit.items()},
        "fit_ratio_layers_over_ops": round(fit["layers"] / fit["ops"], 3),
    }, indent=1))


if __name__ == "__main__":
    main()
