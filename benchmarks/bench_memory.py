"""Resident memory over many build-fit-delete cycles (the keras-tuner pattern).

Each cycle builds a small model, compiles it, fits one epoch, evaluates, predicts, drops it
and calls `keras.backend.clear_session()`. Prints the resident set size (RSS, from
/proc/self/statm) after each cycle and a JSON summary on the last line: the growth from
cycle `--warmup` to the end, in MB and in percent.

    python benchmarks/bench_memory.py                 # 50 cycles, keras_on_jax
    python benchmarks/bench_memory.py --cycles 20 --no-clear
    python benchmarks/bench_memory.py --impl keras    # the same with real Keras 3 (JAX)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time


def rss_mb():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def cycle(keras, x, y, units):
    model = keras.Sequential([
        keras.Input((x.shape[1],)),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dropout(0.1),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, validation_split=0.2)
    model.evaluate(x, y, verbose=0)
    model.predict(x[:8], verbose=0)
    del model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--impl", choices=["kj", "keras"], default="kj")
    parser.add_argument("--no-clear", action="store_true", help="skip clear_session()")
    parser.add_argument("--vary-units", action="store_true",
                        help="a different layer width each cycle (new shapes: new compiles)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    if args.impl == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras
    else:
        import keras_on_jax as keras
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 16)).astype("float32")
    y = rng.standard_normal((256, 1)).astype("float32")
    samples = []
    t0 = time.perf_counter()
    for i in range(args.cycles):
        cycle(keras, x, y, 8 + (i % 4) * 8 if args.vary_units else 16)
        if not args.no_clear:
            keras.backend.clear_session()
        gc.collect()
        samples.append(rss_mb())
        if not args.quiet:
            print(f"cycle {i + 1:3d}  rss {samples[-1]:8.1f} MB", flush=True)
    base = samples[min(args.warmup, len(samples)) - 1]
    summary = {
        "impl": args.impl, "cycles": args.cycles, "warmup": args.warmup,
        "clear_session": not args.no_clear,
        "rss_after_warmup_mb": round(base, 1), "rss_final_mb": round(samples[-1], 1),
        "growth_mb": round(samples[-1] - base, 1),
        "growth_pct": round(100 * (samples[-1] - base) / base, 2),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
