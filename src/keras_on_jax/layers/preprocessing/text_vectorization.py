"""`TextVectorization`: standardize, split, n-gram and index strings."""

from __future__ import annotations

import re

import numpy as np

from keras_on_jax.backend import config
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.layers.preprocessing._host_layer import HostLayer, to_numpy_input, to_str_array
from keras_on_jax.layers.preprocessing.index_lookup import StringLookup, listify
from keras_on_jax.serialization import deserialize_keras_object, serialize_keras_object

_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


def _ngrams(tokens, widths):
    out = []
    for n in widths:
        out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out


class TextVectorization(HostLayer):
    """Turns raw strings into integer sequences or token-count vectors
    (`keras.layers.TextVectorization`).

    Runs on the host (NumPy / Python strings) outside the compiled step: call it on a list or
    NumPy array of strings (shape `(batch,)` or `(batch, 1)`) and feed the result to the
    model (`int64` NumPy arrays for `output_mode="int"`, float32 otherwise), or use it as a
    leading layer of a Functional/Sequential model (`keras.Input(shape=(1,),
    dtype="string")` -> `TextVectorization` -> `Embedding` -> ...): `fit`/`evaluate`/
    `predict` and the `*_on_batch` methods then apply it to each batch on the host before
    the compiled step, `model(strings)` runs it eagerly, and `model.save` keeps its
    vocabulary. It cannot run inside a jit-compiled function. Processing is
    Keras 3's: standardize (ASCII lower-casing as `tf.strings.lower`, and/or removal of
    ``!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'``), split (whitespace, characters, or a callable),
    n-grams (joined with a space), then a `StringLookup` with mask token `""` (index 0) and
    one OOV index `"[UNK]"` (index 1).

    Args:
        max_tokens: maximum vocabulary size (including the mask and OOV tokens).
        standardize: `None`, `"lower_and_strip_punctuation"` (default), `"lower"`,
            `"strip_punctuation"`, or a callable (receiving a NumPy array of `str`).
        split: `None`, `"whitespace"` (default), `"character"`, or a callable mapping one
            standardized string to a list of tokens.
        ngrams: `None`, an int `n` (all n-grams up to `n`), or a tuple of widths.
        output_mode: `"int"`, `"multi_hot"`, `"count"` or `"tf_idf"`.
        output_sequence_length: pad/truncate `"int"` outputs to this length.
        pad_to_max_tokens: pad non-int outputs to `max_tokens`.
        vocabulary, idf_weights: a precomputed vocabulary (and IDF weights for tf_idf).
        encoding: encoding of bytes inputs.
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None,
                 **kwargs):
        if sparse:
            raise ValueError("TextVectorization: `sparse=True` is not supported by "
                             "keras_on_jax. Received: sparse=True")
        if ragged:
            raise ValueError("TextVectorization: `ragged=True` is not supported by "
                             "keras_on_jax. Received: ragged=True")
        if not (standardize is None or callable(standardize) or standardize in _STANDARDIZE):
            raise ValueError("TextVectorization: invalid value for argument standardize. "
                             f"Expected one of {_STANDARDIZE}, None or a callable. Received: "
                             f"standardize={standardize!r}")
        if not (split is None or callable(split) or split in _SPLIT):
            raise ValueError("TextVectorization: invalid value for argument split. Expected "
                             f"one of {_SPLIT}, None or a callable. Received: split={split!r}")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        modes = ("int", "one_hot", "multi_hot", "count", "tf_idf")
        if output_mode not in modes:
            raise ValueError("TextVectorization: invalid value for argument output_mode. "
                             f"Expected one of {modes}. Received: output_mode={output_mode!r}")
        if not (ngrams is None or isinstance(ngrams, int)
                or isinstance(ngrams, tuple) and all(isinstance(i, int) for i in ngrams)):
            raise ValueError("TextVectorization: `ngrams` must be None, an integer, or a tuple "
                             f"of integers. Received: ngrams={ngrams}")
        if output_mode == "int" and not (isinstance(output_sequence_length, int)
                                         or output_sequence_length is None):
            raise ValueError("TextVectorization: `output_sequence_length` must be either None "
                             "or an integer when `output_mode` is 'int'. Received: "
                             f"output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError("TextVectorization: `output_sequence_length` must not be set if "
                             f"`output_mode` is not 'int'. Received "
                             f"output_sequence_length={output_sequence_length}.")
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = ragged
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            sparse=sparse, has_input_vocabulary=has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size)

    def build(self, input_shape=None):
        self.built = True

    def get_build_config(self):
        return {}

    def build_from_config(self, config_):
        self.build(None)

    # ---- preprocessing ---------------------------------------------------------------------------
    def _standardize_array(self, strings):
        if callable(self._standardize):
            out = self._standardize(strings.astype(str) if strings.size else strings)
            return to_str_array(np.asarray(out))
        flat = strings.reshape(-1)
        res = np.empty(flat.shape, dtype=object)
        for i, s in enumerate(flat):
            if self._standardize in ("lower_and_strip_punctuation", "lower"):
                s = s.translate(_ASCII_LOWER)
            if self._standardize in ("lower_and_strip_punctuation", "strip_punctuation"):
                s = _PUNCTUATION.sub("", s)
            res[i] = s
        return res.reshape(strings.shape)

    def _preprocess(self, inputs):
        """Standardized strings -> a list of token lists (split) or a string array."""
        arr = to_numpy_input(inputs, self.name)
        strings = to_str_array(arr, self._encoding)
        if self._standardize is not None:
            strings = self._standardize_array(strings)
        if self._split is None:
            if self._ngrams is not None:
                raise ValueError("TextVectorization: `ngrams` requires `split` to be set.")
            return strings
        if strings.ndim > 1:
            if strings.shape[-1] != 1:
                raise ValueError(
                    "TextVectorization: when using `TextVectorization` to tokenize strings, "
                    "the input rank must be 1 or the last shape dimension must be 1. "
                    f"Received: inputs.shape={strings.shape} with rank={strings.ndim}")
            strings = strings.reshape(strings.shape[:-1])
        if strings.ndim == 0:
            strings = strings.reshape(1)
        docs = []
        for s in strings.reshape(-1):
            if self._split == "whitespace":
                tokens = s.split()
            elif self._split == "character":
                tokens = list(s)
            else:
                tokens = [t.decode(self._encoding) if isinstance(t, bytes) else str(t)
                          for t in self._split(s)]
            if self._ngrams is not None:
                tokens = _ngrams(tokens, self._ngrams)
            docs.append(tokens)
        return docs

    # ---- vocabulary --------------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Build the vocabulary from `data`: a list or array of strings, or any iterable of
        batches of strings (`steps` limits the number of batches read)."""
        self.reset_state()
        if hasattr(data, "__iter__") and not isinstance(data, (list, tuple, np.ndarray, str)) and not hasattr(data, "__array__"):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                if isinstance(batch, tuple):
                    batch = batch[0]
                self.update_state(batch)
        else:
            arr = to_numpy_input(data, self.name)
            if arr.ndim == 1:
                arr = arr[:, None]
            self.update_state(arr)
        self.finalize_state()

    def update_state(self, data):
        if self._lookup_layer._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             "vocabulary via `vocabulary` argument or `set_vocabulary()` method.")
        pre = self._preprocess(data)
        if isinstance(pre, np.ndarray):
            if pre.ndim == 0:
                pre = pre.reshape(1, 1)
            elif pre.ndim == 1:
                pre = pre.reshape(1, -1)
            docs = [list(row.reshape(-1)) for row in pre]
        else:
            docs = pre
        self._lookup_layer._update_from_docs(docs)

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary; index 0 is the mask `""` and index 1 the OOV token `"[UNK]"`
        (in int mode)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def save_assets(self, dir_path):
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._lookup_layer.load_assets(dir_path)

    # ---- call -------------------------------------------------------------------------------------
    def call(self, inputs):
        lookup = self._lookup_layer
        pre = self._preprocess(inputs)
        if isinstance(pre, np.ndarray):
            indices = np.array(lookup._lookup_tokens(list(pre.reshape(-1))),
                               dtype=np.int64).reshape(pre.shape)
            if self._output_mode == "int":
                if self._output_sequence_length is not None and indices.ndim >= 1:
                    indices = _fit_length(indices, self._output_sequence_length, 0)
                return indices
            return lookup._encode(indices)
        rows = [lookup._lookup_tokens(doc) for doc in pre]
        if self._output_mode == "int":
            length = self._output_sequence_length
            if length is None:
                length = max((len(r) for r in rows), default=0)
            out = np.zeros((len(rows), length), dtype=np.int64)
            for i, r in enumerate(rows):
                r = r[:length]
                out[i, :len(r)] = r
            return out
        width = max((len(r) for r in rows), default=0)
        padded = np.full((len(rows), max(width, 1)), -1, dtype=np.int64)
        for i, r in enumerate(rows):
            padded[i, :len(r)] = r
        return lookup._encode(padded)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = input_shape + (1,)
        else:
            input_shape = input_shape + (None,)
        return self._lookup_layer.compute_output_shape(input_shape)

    def compute_output_spec(self, inputs):
        dtype = "int64" if self._output_mode == "int" else config.floatx()
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype)

    def get_config(self):
        base = super().get_config()
        standardize = self._standardize
        split = self._split
        if callable(standardize):
            standardize = serialize_keras_object(standardize)
        if callable(split):
            split = serialize_keras_object(split)
        base.update({
            "max_tokens": self._lookup_layer.max_tokens,
            "standardize": standardize,
            "split": split,
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": self._lookup_layer.pad_to_max_tokens,
            "sparse": self._lookup_layer.sparse,
            "ragged": self._ragged,
            "vocabulary": listify(self._lookup_layer.input_vocabulary),
            "idf_weights": listify(self._lookup_layer.input_idf_weights),
            "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        })
        return base

    @classmethod
    def from_config(cls, config_):
        config_ = dict(config_)
        for key in ("standardize", "split"):
            if config_.get(key) is not None and not isinstance(config_[key], str) and not callable(config_[key]):
                config_[key] = deserialize_keras_object(config_[key])
        if isinstance(config_.get("ngrams"), list):
            config_["ngrams"] = tuple(config_["ngrams"])
        return super().from_config(config_)


def _fit_length(indices, length, pad):
    cur = indices.shape[-1]
    if cur >= length:
        return indices[..., :length]
    widths = [(0, 0)] * (indices.ndim - 1) + [(0, length - cur)]
    return np.pad(indices, widths, constant_values=pad)
