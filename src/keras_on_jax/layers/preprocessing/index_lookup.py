"""`StringLookup` and `IntegerLookup`: map tokens to indices through a vocabulary.

Both run on the host (NumPy dictionaries), outside the compiled step, exactly like Keras 3's
TensorFlow lookup tables but without TensorFlow. Apply them to the data before the model
(`ids = lookup(raw)`; `model.fit(ids, ...)`), or make them the first layers of a Functional
or Sequential model (`keras.Input(shape=(1,), dtype="string")` -> `StringLookup` -> ...):
`fit`/`evaluate`/`predict` and the `*_on_batch` methods then run them on each batch on the
host before the compiled step (`Model._host_preprocess`).

Saving: the vocabulary passed to the constructor is in `get_config()["vocabulary"]`, as in
Keras 3. A vocabulary learned by `adapt` is written by `save_assets` to
`assets/<layer path>/vocabulary.txt` exactly as Keras 3 does (read back by `load_assets`),
and also by `save_own_variables` into the layer's weights store under the key
`"vocabulary"` (UTF-8 bytes for strings, int64 for integers), next to `"idf_weights"` in
`tf_idf` mode, and read back by `load_own_variables`.
"""

from __future__ import annotations

import collections
import os

import numpy as np

from keras_on_jax.backend import config
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.layers.preprocessing._hash import fingerprint64, siphash24
from keras_on_jax.layers.preprocessing._host_layer import HostLayer, to_numpy_input, to_str_array

_INT64_MAX = np.iinfo(np.int64).max


def encode_numpy(indices, output_mode, depth, dtype="float32"):
    """NumPy twin of `encode_categorical_inputs` for host-side layers (indices outside
    `[0, depth)` encode to zeros)."""
    indices = np.asarray(indices, dtype=np.int64)
    if output_mode == "int":
        return indices
    if indices.ndim == 0:
        indices = indices[None]
    if output_mode == "one_hot" and indices.ndim > 1 and indices.shape[-1] == 1:
        indices = indices.reshape(indices.shape[:-1])
    valid = (indices >= 0) & (indices < depth)
    onehot = np.zeros(indices.shape + (depth,), dtype=dtype)
    pos = np.nonzero(valid)
    onehot[pos + (indices[pos],)] = 1
    if output_mode == "one_hot":
        return onehot
    axis = 1 if indices.ndim > 1 else 0
    if output_mode == "multi_hot":
        return onehot.max(axis=axis) if onehot.shape[axis] else onehot.sum(axis=axis)
    return onehot.sum(axis=axis)


def listify(x):
    if isinstance(x, np.ndarray):
        return x.tolist()
    if hasattr(x, "__array__") and not isinstance(x, (list, tuple, str)):
        return np.asarray(x).tolist()
    return x


class IndexLookup(HostLayer):
    """Shared implementation of `StringLookup` / `IntegerLookup` (Keras's `IndexLookup`)."""

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype,
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 sparse=False, pad_to_max_tokens=False, oov_method="floormod", name=None,
                 salt=None, **kwargs):
        cls = type(self).__name__
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"{cls}: if set, `max_tokens` must be greater than 1. "
                             f"Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{cls}: if pad_to_max_tokens is True, must set `max_tokens`. "
                             f"Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError(f"{cls}: `num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"{cls}: invalid value for argument oov_method. Expected one of "
                             f"('floormod', 'farmhash'). Received: oov_method={oov_method!r}")
        is_int_vocab = vocabulary_dtype != "string"
        if salt is not None:
            if is_int_vocab and oov_method != "farmhash":
                raise ValueError(f"{cls}: `salt` can only be used when "
                                 f"`oov_method='farmhash'`. Received: oov_method={oov_method}")
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = list(salt)
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                raise ValueError(f"{cls}: the `salt` argument can only be a tuple of 2 "
                                 f"integers, or a single integer. Received: salt={salt}.")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        modes = ("int", "one_hot", "multi_hot", "count", "tf_idf")
        if output_mode not in modes:
            raise ValueError(f"{cls}: invalid value for argument output_mode. Expected one "
                             f"of {modes}. Received: output_mode={output_mode!r}")
        if invert and output_mode != "int":
            raise ValueError(f"{cls}: `output_mode` must be `'int'` when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        if sparse:
            raise ValueError(f"{cls}: `sparse=True` is not supported by keras_on_jax. "
                             "Received: sparse=True")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{cls}: `idf_weights` should only be set if `output_mode` is "
                             f"`'tf_idf'`. Received: idf_weights={idf_weights} and "
                             f"output_mode={output_mode}")
        frozen = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        if kwargs:
            raise ValueError(f"{cls}: unrecognized keyword argument(s): {kwargs}")
        super().__init__(name=name)
        self.invert = invert
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self._frozen_vocab_size = frozen
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._set_tokens([])
        self.idf_weights = None
        self.reset_state(force=True)
        if output_mode == "tf_idf":
            if self._has_input_vocabulary and idf_weights is None:
                raise ValueError(f"{cls}: when specifying the `vocabulary` argument in TF-IDF "
                                 "output mode, the `idf_weights` argument must also be "
                                 "provided.")
            if idf_weights is not None:
                self.idf_weights = np.asarray(idf_weights, dtype=config.floatx())
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ---- token conversions ---------------------------------------------------------------
    def _is_string(self):
        return self.vocabulary_dtype == "string"

    def _tokens_of(self, arr):
        """Flat Python list of tokens (str or int) from an input array."""
        arr = np.asarray(arr)
        if self._is_string():
            return list(to_str_array(arr, getattr(self, "encoding", "utf-8")).reshape(-1))
        return [int(v) for v in arr.reshape(-1)]

    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    # ---- vocabulary ----------------------------------------------------------------------------
    def vocabulary_size(self):
        """The size of the vocabulary, including the mask and OOV indices."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary, index `i` holding the token that maps to `i`."""
        vocab = [self.oov_token] * self._token_start_index() + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        if not include_special_tokens:
            vocab = vocab[self._token_start_index():]
        return vocab

    def _set_tokens(self, tokens):
        self._tokens = list(tokens)
        start = self._token_start_index()
        self._index = {t: start + i for i, t in enumerate(self._tokens)}
        self._inverse = {start + i: t for i, t in enumerate(self._tokens)}

    def _record_vocabulary_size(self):
        self._frozen_vocab_size = self.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (a list/array of tokens, or a text file with one per line)."""
        cls = type(self).__name__
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"{cls}: `idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(f"{cls}: `idf_weights` should only be set if output_mode is "
                             f"`'tf_idf'`. Received: output_mode={self.output_mode} and "
                             f"idf_weights={idf_weights}")
        if isinstance(vocabulary, str):
            if not os.path.exists(vocabulary):
                raise ValueError(f"{cls}: vocabulary file {vocabulary} does not exist.")
            if self.output_mode == "tf_idf":
                raise ValueError(f"{cls}: output_mode `'tf_idf'` does not support loading a "
                                 "vocabulary from file.")
            with open(vocabulary, encoding="utf-8") as f:
                lines = f.read().splitlines()
            vocabulary = lines if self._is_string() else [int(v) for v in lines]
        vocabulary = self._tokens_of(np.asarray(vocabulary if not isinstance(vocabulary, np.ndarray) else vocabulary))
        if len(vocabulary) == 0:
            raise ValueError(f"{cls}: cannot set an empty vocabulary. "
                             f"Received: vocabulary={vocabulary}")
        token_start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices
        found_special = vocabulary[:token_start] == special
        tokens = vocabulary[token_start:] if found_special else vocabulary
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(f"{cls}: the passed vocabulary has at least one repeated term. "
                             f"Please uniquify your dataset. The repeated terms are: {repeated}")
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(
                f"{cls}: found reserved mask token at unexpected location in `vocabulary`. "
                "Either remove all mask and OOV tokens, or include them only at the start of "
                f"the vocabulary in precisely this order: {special}. Received: "
                f"mask_token={self.mask_token}")
        if self.oov_token is not None and self.invert and self.oov_token in tokens:
            raise ValueError(
                f"{cls}: found reserved OOV token at unexpected location in `vocabulary`. "
                "Either remove all mask and OOV tokens, or include them only at the start of "
                f"the vocabulary in precisely this order: {special}. Received: "
                f"oov_token={self.oov_token}")
        new_size = token_start + len(tokens)
        if self.max_tokens is not None and new_size > self.max_tokens:
            raise ValueError(f"{cls}: attempted to set a vocabulary larger than the maximum "
                             f"vocab size. Received vocabulary size is {new_size}; "
                             f"`max_tokens` is {self.max_tokens}.")
        self._set_tokens(tokens)
        self._record_vocabulary_size()
        if self.output_mode == "tf_idf" and idf_weights is not None:
            idf_weights = np.asarray(idf_weights)
            if len(vocabulary) != len(idf_weights):
                raise ValueError(f"{cls}: `idf_weights` must be the same length as vocabulary. "
                                 f"len(idf_weights) is {len(idf_weights)}; len(vocabulary) is "
                                 f"{len(vocabulary)}")
            if idf_weights.ndim != 1:
                raise ValueError(f"{cls}: TF-IDF data must be a 1-index array.")
            front = 0 if found_special else token_start
            front_value = 0 if found_special else np.average(idf_weights)
            back = (self.max_tokens - front - len(idf_weights)
                    if self.pad_to_max_tokens and self.max_tokens is not None else 0)
            self.idf_weights = np.pad(idf_weights, (front, back), "constant",
                                      constant_values=(front_value, 0)).astype(config.floatx())

    # ---- adapt -------------------------------------------------------------------------------------
    def adapt(self, data, steps=None):
        """Build the vocabulary from `data`: tokens sorted by count (descending), ties broken
        by token (descending), truncated to `max_tokens`.

        `data`: a list, NumPy/JAX array (a rank-1 array is a batch of one-token documents),
        or any other iterable of batches (`steps` limits how many are read).
        """
        self.reset_state()
        if hasattr(data, "__iter__") and not isinstance(data, (list, tuple, np.ndarray, str)) and not hasattr(data, "__array__"):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            arr = to_numpy_input(data, self.name)
            if arr.ndim == 1:
                arr = arr[:, None]
            self.update_state(arr)
        self.finalize_state()

    def update_state(self, data):
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             "vocabulary via `vocabulary` argument or `set_vocabulary()` method.")
        arr = to_numpy_input(data, self.name)
        if arr.ndim == 0:
            arr = arr[None]
        if arr.ndim == 1:
            arr = arr[None]
        docs = [self._tokens_of(row) for row in arr]
        self._update_from_docs(docs)

    def _update_from_docs(self, docs):
        """Count tokens of a list of documents (each a list of tokens)."""
        for doc in docs:
            self._token_counts.update(doc)
            if self.output_mode == "tf_idf":
                self._doc_counts.update(set(doc))
        if self.output_mode == "tf_idf":
            self._num_documents += len(docs)

    def finalize_state(self):
        if self._has_input_vocabulary or not self._token_counts:
            self._record_vocabulary_size()
            return
        counts = dict(self._token_counts)
        if self.mask_token is not None:
            counts.pop(self.mask_token, None)
        if self.oov_token is not None:
            counts.pop(self.oov_token, None)
        if self._is_string():
            order = sorted(counts, key=lambda t: (counts[t], t.encode("utf-8")), reverse=True)
        else:
            order = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens:
            order = order[: self.max_tokens - self._token_start_index()]
        self._set_tokens(order)
        if self.output_mode == "tf_idf":
            doc_counts = np.array([self._doc_counts[t] for t in order], dtype=np.float64)
            idf = np.log(1 + self._num_documents / (1 + doc_counts)).astype(config.floatx())
            mean = np.mean(idf) if len(idf) else 0.0
            idf = np.pad(idf, (self._token_start_index(), 0), constant_values=mean)
            if self.pad_to_max_tokens and self.max_tokens is not None:
                idf = np.pad(idf, (0, self.max_tokens - idf.size), constant_values=0)
            self.idf_weights = idf.astype(config.floatx())
        self.reset_state()
        self._record_vocabulary_size()

    def reset_state(self, force=False):
        if self._has_input_vocabulary and not force:
            return
        self._token_counts = collections.Counter()
        self._doc_counts = collections.Counter()
        self._num_documents = 0

    # ---- lookup -----------------------------------------------------------------------------------
    def _oov_index(self, token):
        if self.num_oov_indices == 1:
            return self._oov_start_index()
        if self.num_oov_indices == 0:
            raise ValueError(
                f"Layer '{self.name}': when `num_oov_indices=0` all inputs should be in "
                f"vocabulary, found OOV value {token!r}, consider setting "
                "`num_oov_indices=1`.")
        if not self._is_string() and self.oov_method != "farmhash":
            bucket = token % self.num_oov_indices
        else:
            data = (token if self._is_string() else str(token)).encode("utf-8")
            if self.salt is not None:
                bucket = siphash24(self.salt[0], self.salt[1], data) % self.num_oov_indices
            else:
                bucket = fingerprint64(data) % self.num_oov_indices
        return self._oov_start_index() + bucket

    def _lookup_tokens(self, tokens):
        mask_value = 0 if self.output_mode == "int" else _INT64_MAX
        out = []
        for t in tokens:
            if self.mask_token is not None and t == self.mask_token:
                out.append(mask_value)
            else:
                idx = self._index.get(t)
                out.append(idx if idx is not None else self._oov_index(t))
        return out

    def _invert_tokens(self, indices):
        out = []
        for i in indices:
            if self.mask_token is not None and i == 0:
                out.append(self.mask_token)
            else:
                out.append(self._inverse.get(i, self.oov_token))
        return out

    def _depth(self):
        if self.output_mode != "int" and not self.pad_to_max_tokens and self._frozen_vocab_size is None:
            raise RuntimeError(
                f"Layer '{self.name}': when using `output_mode={self.output_mode}` and "
                "`pad_to_max_tokens=False`, you must set the layer's vocabulary before "
                "calling it. Either pass a `vocabulary` argument to the layer, or call "
                "`adapt` with some sample data.")
        return self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size

    def _encode(self, indices):
        """Encode an int64 index array (may hold -1 padding) per `output_mode`."""
        if self.output_mode == "int":
            return indices
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = encode_numpy(indices, mode, self._depth(), dtype=config.floatx())
        if self.output_mode == "tf_idf":
            if self.idf_weights is None:
                raise ValueError(f"Layer '{self.name}': when `output_mode` is `'tf_idf'`, "
                                 "`idf_weights` must be provided.")
            out = out * self.idf_weights.astype(out.dtype)
        return out

    def call(self, inputs):
        arr = to_numpy_input(inputs, self.name)
        shape = arr.shape
        if self.invert:
            idx = [int(v) for v in np.asarray(arr).reshape(-1)]
            values = self._invert_tokens(idx)
            if self._is_string():
                return np.array(values, dtype=object).reshape(shape).astype(str)
            return np.array(values, dtype=np.int64).reshape(shape)
        indices = np.array(self._lookup_tokens(self._tokens_of(arr)), dtype=np.int64).reshape(shape)
        return self._encode(indices)

    # ---- shapes, config, saving -------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    def compute_output_spec(self, inputs):
        if self.output_mode == "int":
            dtype = ("string" if self._is_string() else "int64") if self.invert else "int64"
        else:
            dtype = config.floatx()
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype)

    def build(self, input_shape=None):
        self.built = True

    def get_build_config(self):
        return {}

    def build_from_config(self, config_):
        self.build(None)

    def get_config(self):
        base = super().get_config()
        base.update({
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": listify(self.input_idf_weights),
            "vocabulary": listify(self.input_vocabulary),
            "vocabulary_size": self._frozen_vocab_size,
            "oov_method": self.oov_method,
            "salt": self.salt,
        })
        return base

    def save_own_variables(self, store):
        if self.input_vocabulary is None and self._tokens:
            if self._is_string():
                store["vocabulary"] = np.array([t.encode("utf-8") for t in self._tokens], dtype=object).astype(bytes)
            else:
                store["vocabulary"] = np.asarray(self._tokens, dtype=np.int64)
        if self.output_mode == "tf_idf" and self.idf_weights is not None:
            store["idf_weights"] = np.asarray(self.idf_weights)

    def load_own_variables(self, store):
        if "vocabulary" in store and self.input_vocabulary is None:
            vocab = np.asarray(store["vocabulary"])
            if self._is_string():
                tokens = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in vocab.reshape(-1)]
            else:
                tokens = [int(v) for v in vocab.reshape(-1)]
            self._set_tokens(tokens)
            self._record_vocabulary_size()
        if self.output_mode == "tf_idf" and "idf_weights" in store:
            self.idf_weights = np.asarray(store["idf_weights"], dtype=config.floatx())

    def save_assets(self, dir_path):
        """Keras 3's asset: `vocabulary.txt`, the full vocabulary joined by newlines."""
        if self.input_vocabulary is not None:
            return  # the vocabulary is in the config
        vocabulary = self.get_vocabulary(include_special_tokens=True)
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(str(w) for w in vocabulary))

    def load_assets(self, dir_path):
        if self.input_vocabulary is not None or dir_path is None:
            return
        path = os.path.join(dir_path, "vocabulary.txt")
        if not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        values = lines if self._is_string() else [int(v) for v in lines]
        if self.output_mode == "tf_idf":
            if self.idf_weights is None:
                return
            self.set_vocabulary(values, idf_weights=np.asarray(self.idf_weights)[:len(values)])
        else:
            self.set_vocabulary(values)


class StringLookup(IndexLookup):
    """Maps strings to integer indices (`keras.layers.StringLookup`). Runs on the host.

    Runs on the host (NumPy) outside the compiled step: call it on NumPy string arrays or
    Python lists and feed the integer (int64 NumPy) or float32 result to the model, or use it
    as a leading layer of a Functional/Sequential model (after
    `keras.Input(shape=(1,), dtype="string")`): `fit`/`evaluate`/`predict` then apply it to
    each batch on the host before the compiled step, and saving keeps its vocabulary.
    Index 0 is the mask (if `mask_token` is set), then `num_oov_indices` OOV indices, then
    the vocabulary. `invert=True` maps indices back to strings.

    Args:
        max_tokens: maximum vocabulary size (including mask and OOV indices).
        num_oov_indices: number of out-of-vocabulary buckets (OOV strings are hashed with
            FarmHash Fingerprint64, or SipHash with `salt`, exactly as Keras/TensorFlow).
        mask_token: token mapped to index 0 (None: no mask).
        oov_token: token returned for OOV indices when `invert=True`.
        vocabulary: list/array of strings or a text file path.
        idf_weights: IDF weights for `output_mode="tf_idf"`.
        invert: map indices to strings.
        output_mode: `"int"`, `"one_hot"`, `"multi_hot"`, `"count"` or `"tf_idf"`.
        pad_to_max_tokens: pad non-int outputs to `max_tokens`.
        encoding: text encoding of bytes inputs.
        salt: key of the OOV hash.
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None,
                 salt=None, **kwargs):
        self.encoding = encoding
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, vocabulary_dtype="string", **kwargs)

    def get_config(self):
        base = super().get_config()
        del base["vocabulary_dtype"]
        base["encoding"] = self.encoding
        return base


class IntegerLookup(IndexLookup):
    """Maps integers to contiguous indices (`keras.layers.IntegerLookup`). Runs on the host.

    Runs on the host (NumPy) outside the compiled step: call it on integer NumPy arrays or
    lists and feed the result to the model, or use it as a leading layer of a model, where
    `fit`/`evaluate`/`predict` apply it to each batch on the host before the compiled step
    (such models stream their batches from the host). OOV values go to
    `oov_start + value % num_oov_indices` (`oov_method="floormod"`) or a FarmHash bucket
    (`"farmhash"`). Arguments as `StringLookup`, with `oov_token=-1` and `mask_token=None`
    by default and `vocabulary_dtype="int64"`.
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, name=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If `max_tokens` is set for `IntegerLookup`, it must be greater "
                             f"than 1. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("The value of `num_oov_indices` argument for `IntegerLookup` "
                             f"must >= 0. Received: num_oov_indices={num_oov_indices}")
        if vocabulary_dtype != "int64":
            raise ValueError("IntegerLookup: only `vocabulary_dtype='int64'` is supported at "
                             f"this time. Received: vocabulary_dtype={vocabulary_dtype}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         vocabulary_dtype=vocabulary_dtype, idf_weights=idf_weights,
                         invert=invert, output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, oov_method=oov_method,
                         salt=salt, name=name, **kwargs)

    def get_config(self):
        base = super().get_config()
        if base["oov_token"] is not None:
            base["oov_token"] = int(base["oov_token"])
        if base["mask_token"] is not None:
            base["mask_token"] = int(base["mask_token"])
        if base["vocabulary"] is not None:
            base["vocabulary"] = [int(v) for v in base["vocabulary"]]
        return base
