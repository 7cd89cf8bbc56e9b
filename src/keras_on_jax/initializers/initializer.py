"""`Initializer`: the base class of all initializers."""

from __future__ import annotations


class Initializer:
    """Initializer base class: all Keras initializers inherit from this class.

    Subclasses implement `__call__(self, shape, dtype=None)`, returning an array of
    shape `shape` and dtype `dtype` (default `keras.config.floatx()`), and optionally
    `get_config()`; the default `from_config` calls the constructor with the config.
    """

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(
            f"Initializer subclasses must implement the `__call__()` method. "
            f"{type(self).__name__} does not."
        )

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())
