"""The larger sweep of damaged and hostile model files (issue 16), run by hand.

    PYTHONPATH=src python benchmarks/fuzz_model_files.py [--scale 10] [--seed 0] [--children 2]

Writes the files of `tests/io/hostile_files.py` at `--scale` (scale 1 is the CI sample,
about 530 files; scale 10 about 3,000), loads each in a child process under a 4 GiB
address-space limit and a per-file timeout, and prints the figures: files tried, loaded,
clean errors (ordinary exception naming the file), and anything else (unnamed errors, raw
exceptions, crashes, hangs), with each case that broke its expectation.
"""

import argparse
import collections
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "io"))

import hostile_files as hf  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--children", type=int, default=2)
    parser.add_argument("--chain", type=int, default=3000, help="length of the valid chain model")
    parser.add_argument("--keep", help="write the files here (an empty or new folder) and "
                        "keep them")
    args = parser.parse_args()

    import keras_on_jax as kj

    root = args.keep or tempfile.mkdtemp(prefix="fuzz_model_files_")
    os.makedirs(root, exist_ok=True)
    if os.listdir(root):
        parser.error(f"--keep {root}: the folder must be empty or absent")
    t0 = time.time()
    cases, bases = hf.make_cases(root, scale=args.scale, seed=args.seed, kj=kj)
    hf.add_chain_case(cases, root, kj, n=args.chain)
    t1 = time.time()
    records = hf.run_cases(cases, bases, root, children=args.children, case_timeout=120)
    t2 = time.time()

    by_category = collections.defaultdict(collections.Counter)
    for r in records:
        by_category[r["category"]][r["outcome"].split(":")[0]] += 1
    kinds = ["loaded", "clean", "unnamed", "raw", "crash", "hang"]
    print(f"{'category':26s}" + "".join(f"{k:>9s}" for k in kinds))
    for category, counts in sorted(by_category.items()):
        print(f"{category:26s}" + "".join(f"{counts.get(k, 0):9d}" for k in kinds))
    total = hf.summary(records)
    other = sum(v for k, v in total.items() if k not in ("loaded", "clean"))
    bad = hf.failures(records)
    print(f"\nfiles tried: {len(records)}  loaded: {total.get('loaded', 0)}  clean errors: "
          f"{total.get('clean', 0)}  anything else: {other}  outcomes against expectation: "
          f"{len(bad)}")
    print(f"made in {t1 - t0:.0f} s, loaded in {t2 - t1:.0f} s with {args.children} children "
          f"(scale {args.scale}, seed {args.seed})")
    for r in bad:
        print(f"  {r['id']} [{r['op']}; {r['note']}] expected {r['expect']}, got "
              f"{r['outcome']}: {r['message'][:300]}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if bad or other else 0


if __name__ == "__main__":
    sys.exit(main())
