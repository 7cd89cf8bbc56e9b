"""IMDB movie-review sentiment: 25,000 training and 25,000 test reviews as word indices."""

from __future__ import annotations

import json

import numpy as np

from keras_on_jax.datasets import _npz_utils
from keras_on_jax.datasets._sequences import limit_vocabulary, shift_words
from keras_on_jax.utils.file_utils import get_file

FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """Load IMDB: `(x_train, y_train), (x_test, y_test)`; `x` are `object` arrays of
    lists of word indices (shifted by `index_from`, prefixed with `start_char`, words
    outside `[skip_top, num_words)` replaced by `oov_char` or dropped when it is `None`,
    sequences of length `>= maxlen` removed), `y` are 0/1 labels."""
    path = get_file(fname=path, origin=f"{_npz_utils.ORIGIN_FOLDER}imdb.npz",
                    file_hash=FILE_HASH)
    f = _npz_utils.load_npz(path)
    x_train, labels_train = f["x_train"], f["y_train"]
    x_test, labels_test = f["x_test"], f["y_test"]

    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    x_train = shift_words(x_train, start_char, index_from)
    x_test = shift_words(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _npz_utils.remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = _npz_utils.remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                             "sequence was kept. Increase maxlen.")
    xs = limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(x_train)
    x_train, y_train = np.array(xs[:idx], dtype="object"), labels[:idx]
    x_test, y_test = np.array(xs[idx:], dtype="object"), labels[idx:]
    return (x_train, y_train), (x_test, y_test)


def get_word_index(path="imdb_word_index.json"):
    """The dict mapping words to their index in the IMDB data (before `index_from`)."""
    path = get_file(fname=path, origin=f"{_npz_utils.ORIGIN_FOLDER}imdb_word_index.json",
                    file_hash=WORD_INDEX_HASH)
    with open(path) as f:
        return json.load(f)
