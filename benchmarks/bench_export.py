"""Serving latency of exported models: ONNX Runtime on `model.export(format="onnx")`, the
`format="jax"` artifact through `keras_on_jax.export.load`, this package's
`model.predict`, and real Keras 3's `model.predict` (JAX backend), in one process.

The workload is the digits convnet of `examples/digits_convnet.py` (8x8x1 images,
Conv2D 32 -> MaxPooling2D -> Conv2D 64 -> GlobalAveragePooling2D -> Dropout -> Dense 10),
the same weights in all four. Each is timed on one sample and on a batch of 64; a
measurement is the mean of enough back-to-back calls to last ~0.1 s, and the four
alternate measurement by measurement (machine drift hits all alike). Reported: the median
per-call latency in milliseconds, and each one's speed relative to real Keras's predict.
Outputs are returned to the host (NumPy) by every path, as a server would.

    python benchmarks/bench_export.py               # 7 measurements each
    python benchmarks/bench_export.py --rounds 11
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")  # real Keras runs on JAX too


def build(k):
    """The digits convnet, written once for both Keras implementations `k`."""
    layers = k.layers
    return k.Sequential([
        k.Input(shape=(8, 8, 1)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])


def servers(workdir):
    """`{name: predict(x) -> numpy}` for the four paths, on the same weights."""
    import keras
    import numpy as np
    import onnxruntime as ort

    import keras_on_jax
    from keras_on_jax.export import load

    keras_on_jax.utils.set_random_seed(0)
    ours = build(keras_on_jax)
    theirs = build(keras)
    theirs.set_weights(ours.get_weights())
    onnx_path = os.path.join(workdir, "digits.onnx")
    jax_path = os.path.join(workdir, "digits_jax")
    ours.export(onnx_path, format="onnx", verbose=False)
    ours.export(jax_path, format="jax", verbose=False)
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    artifact = load(jax_path)
    return {
        "onnxruntime": lambda x: session.run(None, {input_name: x})[0],
        "jax_artifact": lambda x: np.asarray(artifact.serve(x)),
        "keras_on_jax_predict": lambda x: ours.predict(x, verbose=0),
        "keras3_predict": lambda x: theirs.predict(x, verbose=0),
    }


def _measure(fn, x, reps):
    start = time.perf_counter()
    for _ in range(reps):
        fn(x)
    return (time.perf_counter() - start) / reps


def main(argv=None):
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        paths = servers(workdir)
        for batch in (1, 64):
            x = rng.uniform(0, 1, (batch, 8, 8, 1)).astype("float32")
            reference = paths["keras3_predict"](x)
            reps = {}
            for name, fn in paths.items():
                np.testing.assert_allclose(fn(x), reference, atol=1e-4)  # also warms up
                one = _measure(fn, x, 3)
                reps[name] = max(3, int(0.1 / max(one, 1e-6)))
            times = {name: [] for name in paths}
            for _ in range(args.rounds):
                for name, fn in paths.items():
                    times[name].append(_measure(fn, x, reps[name]))
            results[batch] = {name: statistics.median(t) for name, t in times.items()}

    print("| path | batch 1 (ms) | batch 64 (ms) | vs Keras 3 predict, batch 1 | batch 64 |")
    print("|---|---|---|---|---|")
    for name in results[1]:
        speedups = [results[b]["keras3_predict"] / results[b][name] for b in (1, 64)]
        print(f"| {name} | {results[1][name] * 1e3:.3f} | {results[64][name] * 1e3:.3f} | "
              f"{speedups[0]:.1f}x | {speedups[1]:.1f}x |")
    print(json.dumps({f"batch_{b}_ms": {n: round(t * 1e3, 4) for n, t in r.items()}
                      for b, r in results.items()}))


if __name__ == "__main__":
    main()
