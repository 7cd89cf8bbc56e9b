"""The real keras-tuner package, unchanged, tunes keras_on_jax models via the drop-in runner."""

import textwrap

import pytest
from runner_utils import run_script

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

    searches = {
        "RandomSearch": dict(max_trials=2),
        "Hyperband": dict(max_epochs=2, factor=2, hyperband_iterations=1),
        "BayesianOptimization": dict(max_trials=3, num_initial_points=2),
    }
    name = sys.argv[2]
    cls = getattr(keras_tuner, name)
    tuner = cls(build, objective="val_accuracy", directory=sys.argv[1],
                project_name=name, seed=1, overwrite=True, **searches[name])
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    best_model = tuner.get_best_models(num_models=1)[0]
    best_hp = tuner.get_best_hyperparameters(1)[0]
    assert best_hp.values["units"] in (4, 8, 12) and best_hp.values["lr"] in (1e-2, 1e-3)
    assert type(best_model).__module__.startswith("keras_on_jax"), type(best_model)
    assert best_model.layers[0].units == best_hp.values["units"]
    assert best_model.predict(x[:3], verbose=0).shape == (3, 1)
    assert len(tuner.oracle.trials) >= 2
    # The reloaded best checkpoint scores what the oracle recorded on the validation rows
    # (validation_split takes the last 25%).
    best_score = tuner.oracle.get_best_trials(1)[0].score
    acc = best_model.evaluate(x[48:], y[48:], verbose=0, return_dict=True)["accuracy"]
    assert abs(acc - best_score) < 1e-6, (acc, best_score)
    print("TUNED", name, best_hp.values["units"])
''')


@pytest.mark.parametrize("tuner", ["RandomSearch", "Hyperband", "BayesianOptimization"])
def test_keras_tuner_unchanged_via_runner(tmp_path, tuner):
    out = run_script(tmp_path, "tune.py", TUNE_SCRIPT, str(tmp_path / "runs"), tuner)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"TUNED {tuner}" in out.stdout


COMPAT_SCRIPT = textwrap.dedent('''
    import keras
    import keras.src.ops
    import keras_on_jax
    from keras.src.ops import *  # noqa: F403
    from keras import *  # noqa: F403

    assert keras.version().startswith("3."), keras.version()
    assert keras.__version__ == keras_on_jax.__version__
    assert keras.src.ops is keras_on_jax.ops and matmul is keras_on_jax.ops.matmul
    assert utils is keras_on_jax.utils and applications is keras_on_jax.applications
    assert "io" not in keras.__all__ and "training" not in keras.__all__
    assert keras.utils.legacy.serialize_keras_object(keras.layers.ReLU())["class_name"] == "ReLU"
    try:
        import keras.src.no_such_module
    except ImportError as e:
        print("IMPORT-ERROR", type(e).__name__)
    try:
        keras.src.no_such_name
    except AttributeError as e:
        print("ATTR-ERROR", e)
    print("COMPAT OK")
''')


def test_runner_exposes_what_keras_tuner_imports(tmp_path):
    out = run_script(tmp_path, "compat.py", COMPAT_SCRIPT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "COMPAT OK" in out.stdout
    assert "IMPORT-ERROR ModuleNotFoundError" in out.stdout
    assert "ATTR-ERROR `keras.src.no_such_name` is not provided by keras_on_jax" in out.stdout
