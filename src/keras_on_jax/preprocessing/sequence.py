"""keras.preprocessing.sequence."""

from keras_on_jax.utils.sequence_utils import pad_sequences as pad_sequences
