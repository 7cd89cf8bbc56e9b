"""Streamed sources vs in-memory arrays: the `mlp` workload fed from a generator and a PyDataset.

Prints samples/s for each source and the ratio to in-memory arrays, in one process (same
model shape, one model per source, one warm-up epoch each, best of `--repeat` rounds). `--prefetch auto` (the
default) measures what `fit` does: streamed sources go through device double buffering
(`py_dataset_adapter.PrefetchingAdapter`) on accelerator backends only; `on` / `off`
force it either way. `--workers N` sets the PyDataset's thread workers.

    python benchmarks/bench_data.py
    python benchmarks/bench_data.py --batch 256 --epochs 3 --workers 4 --prefetch on
"""

from __future__ import annotations

import argparse
import json
import time

N, D, C = 30000, 784, 10


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; best one is kept")
    parser.add_argument("--prefetch", choices=("auto", "on", "off"), default="auto")
    args = parser.parse_args(argv)

    import jax
    import numpy as np

    import keras_on_jax as keras
    from keras_on_jax.training import py_dataset_adapter as pda

    rng = np.random.default_rng(1234)
    n = N - N % args.batch
    x = rng.standard_normal((n, D)).astype("float32")
    y = rng.integers(0, C, n).astype("int32")
    steps = n // args.batch

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return steps

        def __getitem__(self, i):
            s = slice(i * args.batch, (i + 1) * args.batch)
            return x[s], y[s]

    def generator():
        while True:
            for i in range(steps):
                s = slice(i * args.batch, (i + 1) * args.batch)
                yield x[s], y[s]

    if args.prefetch != "auto":
        forced = args.prefetch == "on"
        pda.device_prefetch_enabled = lambda: forced
    prefetching = pda.device_prefetch_enabled()

    def model():
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((D,)), keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(256, activation="relu"), keras.layers.Dense(C)])
        m.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return m

    sources = {
        "arrays": lambda: dict(x=x, y=y, batch_size=args.batch, shuffle=False),
        "generator": lambda: dict(x=generator(), steps_per_epoch=steps),
        "pydataset": lambda: dict(x=Batches(workers=args.workers), shuffle=False),
    }
    models = {}
    for name, make in sources.items():
        models[name] = model()
        models[name].fit(epochs=1, verbose=0, **make())  # warm-up: compile
    # Sources take turns, `--repeat` rounds; each keeps its best round (robust to load
    # from other processes on a shared machine).
    results = {name: 0.0 for name in sources}
    for _ in range(args.repeat):
        for name, make in sources.items():
            kwargs = make()
            t0 = time.perf_counter()
            models[name].fit(epochs=args.epochs, verbose=0, **kwargs)
            results[name] = max(results[name], n * args.epochs / (time.perf_counter() - t0))
    base = results["arrays"]
    for name, sps in results.items():
        print(f"{name:10s} {sps:12.0f} samples/s   ratio to arrays {sps / base:5.2f}")
    print(json.dumps({"batch": args.batch, "prefetch": args.prefetch,
                      "prefetching": prefetching, "backend": jax.default_backend(),
                      "workers": args.workers,
                      "samples_per_s": {k: round(v) for k, v in results.items()},
                      "ratio_to_arrays": {k: round(v / base, 3) for k, v in results.items()}}))


if __name__ == "__main__":
    main()
