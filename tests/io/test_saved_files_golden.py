"""Files this package writes stay the same: `.keras` members, `.weights.h5`, legacy `.h5`
and `to_json()` of three models, compared with recordings in `tests/fixtures/saved_files/`.

The recordings were written by `tests/fixtures/saved_files/record.py` with the code from
before the serialization core left `io/` (issue 13). Weights (and optimizer state) are
set from `np.linspace`, so the files depend neither on random draws nor on the machine's
float arithmetic. Record again only for a deliberate change of a format, and say so in the
commit.
"""

import os

import numpy as np
import pytest

import keras_on_jax as kj
from saved_files_models import MODELS, Shift, artifacts

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                        "saved_files")


def _fixture(name, kind):
    return os.path.join(FIXTURES, f"{name}.{kind}")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_files_are_unchanged(name, tmp_path):
    got = artifacts(MODELS[name](), str(tmp_path))
    for kind, text in got.items():
        with open(_fixture(name, kind), encoding="utf-8") as fh:
            assert text == fh.read(), f"{name}: {kind} differs from the recording"


def test_recorded_files_load_back(tmp_path):
    """The recorded configs are real: they rebuild the models (custom layer included)."""
    for name in sorted(MODELS):
        with open(_fixture(name, "to_json"), encoding="utf-8") as fh:
            model = kj.models.model_from_json(fh.read())
        assert model.name == name
        reference = MODELS[name]()
        model.set_weights(reference.get_weights())
        x = np.linspace(0, 1, int(np.prod(reference.inputs[0].shape[1:])) * 2,
                        dtype="float32").reshape((2, *reference.inputs[0].shape[1:]))
        for a, b in zip(kj.tree.flatten(model.predict(x, verbose=0)),
                        kj.tree.flatten(reference.predict(x, verbose=0))):
            np.testing.assert_allclose(a, b, atol=1e-6)
        if name == "functional_custom":
            assert isinstance(model.get_layer("shift"), Shift)
            assert model.get_layer("shift").offset == 0.25


