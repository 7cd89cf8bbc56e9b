"""`python -m keras_on_jax script.py [args]`: run an unchanged Keras script on keras_on_jax."""

from __future__ import annotations

import os
import runpy
import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m keras_on_jax script.py [args...]\n\n"
              "Runs a Keras script with `import keras` (and, when TensorFlow is not "
              "installed, the Keras FAQ's `tensorflow` spellings) resolved to keras_on_jax.")
        return 0 if argv else 2
    if argv[0] == "-m":
        if len(argv) < 2:
            print("usage: python -m keras_on_jax -m module [args...]", file=sys.stderr)
            return 2
        from keras_on_jax import _aliases

        _aliases.install()
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    script = argv[0]
    if not os.path.exists(script):
        print(f"keras_on_jax: can't open file {script!r}: no such file", file=sys.stderr)
        return 2
    from keras_on_jax import _aliases

    _aliases.install()
    sys.argv = argv
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
