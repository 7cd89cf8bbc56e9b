"""Quantized predict: int8 (and int4) vs float predict, here and in real Keras 3 (JAX).

Both libraries run in one process on the same synthetic data and weights: a Dense stack
(`--width` units, `--depth` layers) predicting `--samples` rows at `--batch`, as a float
model and after `model.quantize(mode)`. The timed rounds are interleaved (every model once
per round, best of `--repeat` rounds), so a busy machine slows all of them alike.
Reported: rows/s, the quantized/float ratio of each library, and ours vs Keras.

    python benchmarks/bench_quantize.py
    python benchmarks/bench_quantize.py --width 2048 --depth 4 --modes int8 int4
"""

from __future__ import annotations

import argparse
import os
import time


def _model(keras, args, weights, mode):
    layers = [keras.Input((args.width,))]
    layers += [keras.layers.Dense(args.width, activation="relu") for _ in range(args.depth)]
    model = keras.Sequential(layers + [keras.layers.Dense(10)])
    model.set_weights(weights)
    if mode != "float":
        model.quantize(mode)
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--samples", type=int, default=8192)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--modes", nargs="+", default=["int8", "int4"])
    parser.add_argument("--impls", nargs="+", default=["kj", "keras"])
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import numpy as np

    libs = {"kj": __import__("keras_on_jax"), "keras": __import__("keras")}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.samples, args.width)).astype("float32")
    shapes = [(args.width, args.width), (args.width,)] * args.depth + [(args.width, 10), (10,)]
    weights = [rng.standard_normal(s).astype("float32") * 0.05 for s in shapes]
    modes = ["float"] + args.modes
    models = {(impl, mode): _model(libs[impl], args, weights, mode)
              for impl in args.impls for mode in modes}
    best = {}
    for key, model in models.items():  # compile outside the timed rounds
        model.predict(x[: args.batch * 2], batch_size=args.batch, verbose=0)
    for _ in range(args.repeat):
        for key, model in models.items():
            start = time.perf_counter()
            model.predict(x, batch_size=args.batch, verbose=0)
            best[key] = min(best.get(key, float("inf")), time.perf_counter() - start)
    rate = {key: args.samples / t for key, t in best.items()}
    print(f"Dense x{args.depth} width {args.width}, predict {args.samples} rows, batch "
          f"{args.batch} (rows/s, best of {args.repeat} interleaved rounds)")
    print(f"{'impl':8s}" + "".join(f"{m:>10s}" for m in modes)
          + "".join(f"{m + '/float':>13s}" for m in args.modes))
    for impl in args.impls:
        print(f"{impl:8s}" + "".join(f"{rate[impl, m]:10.0f}" for m in modes)
              + "".join(f"{rate[impl, m] / rate[impl, 'float']:13.2f}" for m in args.modes))
    if set(args.impls) >= {"kj", "keras"}:
        print("kj/keras " + "  ".join(f"{m}: {rate['kj', m] / rate['keras', m]:.2f}x"
                                      for m in modes))


if __name__ == "__main__":
    main()
