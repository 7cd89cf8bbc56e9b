"""LoRA fine-tuning of a small GPT-2 through KerasHub: tokens/s here vs real Keras 3.

KerasHub imports `keras`, so each library runs in its own process, one after the other:
this package under `python -m keras_on_jax` (KerasHub unchanged), real Keras 3 with
`KERAS_BACKEND=jax`. Each builds the same `GPT2CausalLM` (`--layers` layers, `--hidden`
hidden units, sequences of `--seq` tokens, `preprocessor=None`), calls
`backbone.enable_lora(--rank)`, compiles with KerasHub's defaults and fits random token
ids; one epoch warms up (compilation), then the best of `--epochs` timed epochs counts.
Reported: training tokens/s of each and the ratio.

    python benchmarks/bench_keras_hub_lora.py
    python benchmarks/bench_keras_hub_lora.py --layers 2 --hidden 128 --rows 64
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def _worker(args):
    import keras
    import keras_hub
    import numpy as np

    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=args.vocab, num_layers=args.layers, num_heads=args.hidden // 64,
        hidden_dim=args.hidden, intermediate_dim=4 * args.hidden, max_sequence_length=args.seq)
    model = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
    backbone.enable_lora(rank=args.rank)
    model.compile()
    rng = np.random.default_rng(0)
    ids = rng.integers(1, args.vocab, size=(args.rows, args.seq + 1)).astype("int32")
    x = {"token_ids": ids[:, :-1], "padding_mask": np.ones((args.rows, args.seq), "int32")}
    y = ids[:, 1:]
    model.fit(x, y, batch_size=args.batch, epochs=1, verbose=0)  # compiles
    best = float("inf")
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.fit(x, y, batch_size=args.batch, epochs=1, verbose=0)
        best = min(best, time.perf_counter() - start)
    print("RESULT " + json.dumps({"tokens_per_s": args.rows * args.seq / best,
                                  "trainable": len(model.trainable_weights)}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=5000)
    parser.add_argument("--rank", type=int, default=4)
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.worker:
        return _worker(args)
    argv = [a for a in (argv if argv is not None else sys.argv[1:])] + ["--worker"]
    results = {}
    for name, prefix, env in (
        ("keras_on_jax", [sys.executable, "-m", "keras_on_jax"], {}),
        ("keras 3", [sys.executable], {"KERAS_BACKEND": "jax"}),
    ):
        proc = subprocess.run(prefix + [os.path.abspath(__file__)] + argv, capture_output=True,
                              text=True, env={**os.environ, **env})
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not line:
            raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
        results[name] = json.loads(line[0][len("RESULT "):])
    print(f"GPT-2 LoRA fine-tuning through KerasHub: {args.layers} layers, hidden "
          f"{args.hidden}, sequence {args.seq}, rank {args.rank}, batch {args.batch}")
    print(f"{'library':<14}{'tokens/s':>12}{'trainable':>11}")
    for name, r in results.items():
        print(f"{name:<14}{r['tokens_per_s']:>12.0f}{r['trainable']:>11}")
    ratio = results["keras_on_jax"]["tokens_per_s"] / results["keras 3"]["tokens_per_s"]
    print(f"keras_on_jax / Keras 3: {ratio:.2f}x")


if __name__ == "__main__":
    main()
