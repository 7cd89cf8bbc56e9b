"""ResNet50 forward pass: keras_on_jax vs real Keras 3 (JAX backend), same machine, same
weights.

A batch of 32 images at 224x224x3 goes through `model.predict(x, batch_size=32)` (one jitted
inference step) in each implementation, each in its own process. The weights are random,
written once by real Keras to a `.weights.h5` file and loaded by both, and the two outputs
are checked against each other. After `--warmup` calls (compilation included), the median of
`--repeats` timed calls is reported, and the ratio keras_on_jax / Keras (below 1: faster).

    python benchmarks/bench_resnet50.py                 # 2 warmup calls, median of 5
    python benchmarks/bench_resnet50.py --repeats 3 --warmup 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BATCH, SIZE = 32, 224


def _images():
    import numpy as np

    return np.random.default_rng(0).uniform(0, 255, (BATCH, SIZE, SIZE, 3)).astype("float32")


def make_weights(path):
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    import numpy as np

    model = keras.applications.ResNet50(weights=None)
    rng = np.random.default_rng(0)
    for w in model.weights:  # keep activations in a sane range (BN variances stay 1)
        if "variance" not in w.path:
            w.assign((rng.standard_normal(w.shape) * 0.02
                      + (1.0 if "gamma" in w.path else 0.0)).astype(w.dtype))
    model.save_weights(path)


def run(impl, weights, out, warmup, repeats):
    import numpy as np

    if impl == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras as lib
        build = lib.applications.ResNet50
    else:
        import keras_on_jax.applications as lib_apps
        build = lib_apps.ResNet50
    t0 = time.perf_counter()
    model = build(weights=None)
    model.load_weights(weights)
    build_s = time.perf_counter() - t0
    x = _images()
    t0 = time.perf_counter()
    y = model.predict(x, batch_size=BATCH, verbose=0)
    first_s = time.perf_counter() - t0
    for _ in range(max(0, warmup - 1)):
        model.predict(x, batch_size=BATCH, verbose=0)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict(x, batch_size=BATCH, verbose=0)
        times.append(time.perf_counter() - t0)
    np.save(out, np.asarray(y))
    return {"impl": impl, "build_s": build_s, "first_call_s": first_s,
            "median_s": statistics.median(times), "times_s": times}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--_child", nargs=3, metavar=("IMPL", "WEIGHTS", "OUT"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        print(json.dumps(run(*args._child, args.warmup, args.repeats)))
        return

    import numpy as np

    env = dict(os.environ, KERAS_BACKEND="jax")
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "resnet50.weights.h5")
        subprocess.run([sys.executable, "-c",
                        f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
                        f"import bench_resnet50 as b; b.make_weights({weights!r})"],
                       check=True, env=env)
        results = {}
        for impl in ("keras", "kj"):
            out = os.path.join(tmp, f"{impl}.npy")
            proc = subprocess.run([sys.executable, __file__, "--warmup", str(args.warmup),
                                   "--repeats", str(args.repeats), "--_child", impl, weights,
                                   out], check=True, env=env, capture_output=True, text=True)
            results[impl] = json.loads(proc.stdout.strip().splitlines()[-1])
        y_kj, y_keras = (np.load(os.path.join(tmp, f"{i}.npy")) for i in ("kj", "keras"))
        diff = float(np.max(np.abs(y_kj - y_keras)))
        top1_agree = float(np.mean(y_kj.argmax(-1) == y_keras.argmax(-1)))

    import jax

    print(f"ResNet50 predict, batch {BATCH} at {SIZE}x{SIZE}, device {jax.devices()[0]}, "
          f"{args.warmup} warmup, median of {args.repeats}")
    print(f"{'impl':<14}{'build s':>10}{'1st call s':>12}{'median s':>11}{'img/s':>9}")
    for impl, name in (("keras", "keras 3"), ("kj", "keras_on_jax")):
        r = results[impl]
        print(f"{name:<14}{r['build_s']:>10.2f}{r['first_call_s']:>12.2f}"
              f"{r['median_s']:>11.3f}{BATCH / r['median_s']:>9.1f}")
    print(f"ratio keras_on_jax / keras 3 (median time): "
          f"{results['kj']['median_s'] / results['keras']['median_s']:.3f}")
    print(f"outputs: max |difference| {diff:.2e}, top-1 agreement {top1_agree:.0%}, "
          f"output range [{y_keras.min():.2e}, {y_keras.max():.2e}]")


if __name__ == "__main__":
    main()
