"""File formats: `.keras` archives, `.weights.h5`, legacy `.h5`, JSON, checkpoint folders.

Above `models/`: the formats walk models and their optimizers. Object (de)serialization
itself is the low `keras_on_jax.serialization` core.
"""
