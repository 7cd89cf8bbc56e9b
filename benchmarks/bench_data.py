"""Streamed sources vs in-memory arrays: the `mlp` workload fed from a generator and a PyDataset.

Prints samples/s for each source and the ratio to in-memory arrays, in one process (same
model shape, fresh model per source, one warm-up epoch each). `--prefetch` also routes
the streamed adapters through `py_dataset_adapter.PrefetchingAdapter` (device double
buffering), `--workers N` sets the PyDataset's thread workers.

    python benchmarks/bench_data.py
    python benchmarks/bench_data.py --batch 256 --epochs 3 --workers 4 --prefetch
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
    parser.add_argument("--prefetch", action="store_true")
    args = parser.parse_args(argv)

    import numpy as np

    import keras_on_jax as keras
    from keras_on_jax.training import data_adapters
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

    original = data_adapters.get_data_adapter

    def get_data_adapter(data, *a, **k):
        if pda.is_py_dataset(data):
            adapter = pda.PyDatasetAdapter(data, shuffle=k.get("shuffle", False),
                                           steps=k.get("steps"))
        else:
            adapter = original(data, *a, **k)
        if args.prefetch and not isinstance(adapter, data_adapters.ArrayDataAdapter):
            adapter = pda.PrefetchingAdapter(adapter)
        return adapter

    data_adapters.get_data_adapter = get_data_adapter

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
    results = {}
    for name, make in sources.items():
        m = model()
        kwargs = make()
        m.fit(epochs=1, verbose=0, **kwargs)  # warm-up: compile
        t0 = time.perf_counter()
        m.fit(epochs=args.epochs, verbose=0, **kwargs)
        results[name] = n * args.epochs / (time.perf_counter() - t0)
    base = results["arrays"]
    for name, sps in results.items():
        print(f"{name:10s} {sps:12.0f} samples/s   ratio to arrays {sps / base:5.2f}")
    print(json.dumps({"batch": args.batch, "prefetch": args.prefetch, "workers": args.workers,
                      "samples_per_s": {k: round(v) for k, v in results.items()},
                      "ratio_to_arrays": {k: round(v / base, 3) for k, v in results.items()}}))


if __name__ == "__main__":
    main()
