"""The real keras-tuner package, unchanged, tunes keras_on_jax models via the drop-in runner."""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("keras_tuner")

TUNE_SCRIPT = textwrap.dedent('''
    import sys
    import numpy as np
    import keras
    import keras_tuner

    rng = np.random.default_rng(0)
    x = rng.random((64, 4)).astype("float32")
    y = (x.sum(1) > 2).astype("float32")

    def build(hp):
        model = keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(hp.Int("units", 4, 12, step=4), activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(hp.Choice("lr", [1e-2, 1e-3])),
                      loss="binary_crossentropy", metrics=["accuracy"])
        return model

    searches = [
        (keras_tuner.RandomSearch, dict(max_trials=2)),
        (keras_tuner.Hyperband, dict(max_epochs=2, factor=2, hyperband_iterations=1)),
        (keras_tuner.BayesianOptimization, dict(max_trials=3, num_initial_points=2)),
    ]
    for cls, kwargs in searches:
        tuner = cls(build, objective="val_accuracy", directory=sys.argv[1],
                    project_name=cls.__name__, seed=1, overwrite=True, **kwargs)
        tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
        best_model = tuner.get_best_models(num_models=1)[0]
        best_hp = tuner.get_best_hyperparameters(1)[0]
        assert best_hp.values["units"] in (4, 8, 12) and best_hp.values["lr"] in (1e-2, 1e-3)
        assert type(best_model).__module__.startswith("keras_on_jax"), type(best_model)
        assert best_model.layers[0].units == best_hp.values["units"]
        assert best_model.predict(x[:3], verbose=0).shape == (3, 1)
        assert len(tuner.oracle.trials) >= 2
        print("TUNED", cls.__name__, best_hp.values["units"])
''')

# Thin compatibility applied outside the package, standing in for the fixes listed in the
# report (keras.version() "3.x", keras.src.ops, keras.utils.legacy, preprocessing layers,
# keras.applications.efficientnet, star-importable lazy modules). Remove once they land.
SHIM = textwrap.dedent('''
    import sys, types, inspect
    import keras_on_jax, keras_on_jax.ops
    from keras_on_jax import _aliases
    from keras_on_jax.io import serialization as _s
    _aliases.install()
    if not keras_on_jax.version().startswith("3."):
        keras_on_jax.version = lambda: "3.15.1"
    try:
        __import__("keras.src.ops")
    except ImportError:
        src = types.ModuleType("keras.src"); src.__path__ = []; src.ops = keras_on_jax.ops
        sys.modules["keras.src"] = src; sys.modules["keras.src.ops"] = keras_on_jax.ops
    for n in sorted(keras_on_jax._LAZY_MODULES):
        getattr(keras_on_jax, n)
    L = keras_on_jax.layers
    for n in ["RandomRotation", "RandomTranslation", "RandomContrast", "Resizing"]:
        if not hasattr(L, n):
            setattr(L, n, type(n, (L.Layer,), {}))
    A = keras_on_jax.applications
    if not hasattr(A, "efficientnet"):
        A.efficientnet = types.SimpleNamespace(**{f"EfficientNetB{i}": None for i in range(8)})
    U = keras_on_jax.utils
    if not hasattr(U, "legacy"):
        def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                                     printable_module_name="object"):
            objs = {**(module_objects or {}), **(custom_objects or {})}
            if isinstance(identifier, dict):
                cls = objs.get(identifier["class_name"]) or _s.get_registered_object(identifier["class_name"])
                config = identifier.get("config", {})
                if "custom_objects" in inspect.signature(cls.from_config).parameters:
                    return cls.from_config(config, custom_objects=objs)
                return cls.from_config(config)
            if isinstance(identifier, str):
                return objs.get(identifier) or _s.get_registered_object(identifier)
            return identifier

        def serialize_keras_object(obj):
            return {"class_name": _s.get_registered_name(type(obj)), "config": obj.get_config()}

        U.legacy = types.SimpleNamespace(serialize_keras_object=serialize_keras_object,
                                         deserialize_keras_object=deserialize_keras_object)
    from keras_on_jax.__main__ import main
    sys.exit(main(sys.argv[1:]))
''')


def _run(args, tmp_path):
    script = tmp_path / "tune.py"
    script.write_text(TUNE_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run([sys.executable, *args, str(script), str(tmp_path / "runs")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    for name in ("RandomSearch", "Hyperband", "BayesianOptimization"):
        assert f"TUNED {name}" in out.stdout


def test_keras_tuner_with_compat_shim(tmp_path):
    shim = tmp_path / "shim_runner.py"
    shim.write_text(SHIM)
    _run([str(shim)], tmp_path)


@pytest.mark.xfail(strict=True, reason=(
    "keras_on_jax lacks what keras_tuner imports: keras.version() '3.x', keras.src.ops, "
    "keras.utils.legacy, RandomRotation/RandomTranslation/RandomContrast/Resizing, "
    "keras.applications.efficientnet, star-import of lazy submodules"))
def test_keras_tuner_unchanged_via_runner(tmp_path):
    _run(["-m", "keras_on_jax"], tmp_path)
