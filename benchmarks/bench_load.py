"""Time to load valid model files, and to create many small variables (issue 16's guards
must not slow either down).

    PYTHONPATH=src python benchmarks/bench_load.py [--repeats 5]

Builds MobileNetV2 (weights=None, 3.5 M parameters, 156 layers) once, saves it as `.keras`
and `.h5` (whole model) and `.weights.h5`, then prints the best of `--repeats` times of
`load_model` / `load_weights` for each, and the time to create 20,000 small variables. To
compare two versions of the package, run it with each on `PYTHONPATH` on the same machine.
"""

import argparse
import json
import os
import tempfile
import time


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import keras_on_jax as kj
    from keras_on_jax.backend import Variable

    model = kj.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), classes=10)
    out = {"params": model.count_params()}
    with tempfile.TemporaryDirectory() as d:
        paths = {k: os.path.join(d, f"m{k}") for k in (".keras", ".h5", ".weights.h5")}
        model.save(paths[".keras"])
        model.save(paths[".h5"])
        model.save_weights(paths[".weights.h5"])
        for k in (".keras", ".h5"):
            kj.saving.load_model(paths[k])  # warm-up: compiles nothing, caches imports
            out[f"load_model{k}"] = best_of(lambda k=k: kj.saving.load_model(paths[k]),
                                            args.repeats)
        out["load_weights.weights.h5"] = best_of(
            lambda: model.load_weights(paths[".weights.h5"]), args.repeats)
    init = kj.initializers.Zeros()
    out["20000 variables"] = best_of(
        lambda: [Variable(init, shape=(16,), name="v") for _ in range(20000)], args.repeats)
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}))


if __name__ == "__main__":
    main()
