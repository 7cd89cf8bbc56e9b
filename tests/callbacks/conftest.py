"""A small fake model for callback tests (the trainer is written elsewhere)."""

import os

import numpy as np
import pytest


class FakeOptimizer:
    def __init__(self, learning_rate=0.01, name="sgd"):
        self.learning_rate = learning_rate
        self.iterations = 0
        self.name = name


class FakeModel:
    """Keras-3-like attributes: stop_training, optimizer, get/set_weights, save, save_weights."""

    def __init__(self, learning_rate=0.01, metrics=None):
        self.stop_training = False
        self.optimizer = FakeOptimizer(learning_rate)
        self.metrics = metrics or []
        self._weights = [np.zeros((2, 2), "float32"), np.zeros((2,), "float32")]
        self.saved = []  # (kind, path)

    def get_weights(self):
        return [w.copy() for w in self._weights]

    def set_weights(self, weights):
        self._weights = [np.array(w) for w in weights]

    def save(self, filepath, overwrite=True):
        self.saved.append(("model", str(filepath)))
        os.makedirs(os.path.dirname(str(filepath)) or ".", exist_ok=True)
        with open(filepath, "w") as f:
            f.write("model")

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(("weights", str(filepath)))
        with open(filepath, "w") as f:
            f.write("weights")


@pytest.fixture
def fake_model_cls():
    return FakeModel
