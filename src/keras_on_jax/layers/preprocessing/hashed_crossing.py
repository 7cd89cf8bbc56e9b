"""`HashedCrossing`: cross categorical features with the hashing trick."""

from __future__ import annotations

import numpy as np

from keras_on_jax.backend import config
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.layers.preprocessing._hash import fingerprint64
from keras_on_jax.layers.preprocessing._host_layer import HostLayer, to_numpy_input, to_str_array
from keras_on_jax.layers.preprocessing.index_lookup import encode_numpy

_M64 = (1 << 64) - 1
_MUL = 0xC6A4A7935BD1E995
_HASH_KEY = 0xDECAFCAFFE  # TensorFlow's default key of `tf.sparse.cross_hashed`


def _shift_mix(v):
    return v ^ (v >> 47)


def _fingerprint_cat64(fp1, fp2):
    """TensorFlow's `FingerprintCat64`: combine two 64-bit fingerprints."""
    result = fp1 ^ _MUL
    result ^= (_shift_mix((fp2 * _MUL) & _M64) * _MUL) & _M64
    result = (result * _MUL) & _M64
    result = (_shift_mix(result) * _MUL) & _M64
    return _shift_mix(result)


def cross_hashed(columns, num_bins):
    """`tf.sparse.cross_hashed` of equally long 1-D columns (one value per row), dense:
    each row's values fingerprinted in order (integers as themselves, strings with
    FarmHash Fingerprint64), combined from TensorFlow's default key, modulo `num_bins`."""
    out = np.empty(len(columns[0]), dtype=np.int64)
    for row, values in enumerate(zip(*columns)):
        hashed = _HASH_KEY
        for value in values:
            feature = (fingerprint64(value.encode("utf-8")) if isinstance(value, str)
                       else int(value) & _M64)
            hashed = _fingerprint_cat64(hashed, feature)
        out[row] = hashed % num_bins if num_bins > 0 else hashed % ((1 << 63) - 1)
    return out


class HashedCrossing(HostLayer):
    """Crosses categorical features with the hashing trick (`keras.layers.HashedCrossing`):
    `hash(feature_1, ..., feature_n) % num_bins`, bit-exact with Keras (which computes it
    with TensorFlow's `tf.sparse.cross_hashed`).

    Runs on the host (NumPy) outside the compiled step: call it on the feature arrays
    (integers or strings, each of shape `()`, `(batch,)` or `(batch, 1)`) and feed the
    result to the model, or use it as a leading layer after `keras.Input`s.

    Args:
        num_bins: number of hash bins.
        output_mode: `"int"` (default, int64 bin indices) or `"one_hot"`.
        sparse: must be False (True needs Keras's TensorFlow backend).
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None,
                 **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype if dtype is not None else config.floatx(),
                         **kwargs)
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        if output_mode not in ("int", "one_hot"):
            raise ValueError(
                "Unknown value for `output_mode` argument of HashedCrossing. Allowed values "
                f"are: ('int', 'one_hot'). Received: output_mode={output_mode}"
            )
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse

    @staticmethod
    def _check_inputs(inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("`HashedCrossing` should be called on a list or tuple of "
                             f"inputs. Received: inputs={inputs}")
        if len(inputs) < 2:
            raise ValueError("`HashedCrossing` should be called on at least two inputs. "
                             f"Received: inputs={inputs}")

    def call(self, inputs):
        self._check_inputs(inputs)
        arrays = [to_numpy_input(x, self.name) for x in inputs]
        first = arrays[0].shape
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError("All `HashedCrossing` inputs should have shape `()`, "
                             f"`(batch_size)` or `(batch_size, 1)`. Received: inputs={inputs}")
        if any(a.shape != first for a in arrays[1:]):
            raise ValueError("All `HashedCrossing` inputs should have equal shape. "
                             f"Received: inputs={inputs}")
        if not all(a.dtype.kind in "iuSUO" for a in arrays):
            raise ValueError("All `HashedCrossing` inputs should have an integer or string "
                             f"dtype. Received: inputs={inputs}")
        columns = [to_str_array(a).reshape(-1) if a.dtype.kind in "SUO" else a.reshape(-1)
                   for a in arrays]
        bins = cross_hashed(columns, self.num_bins)
        if self.output_mode == "int":
            return bins.reshape(first).astype(self.dtype_policy.name)
        # Like Keras: a scalar feature gives a `(1, num_bins)` one-hot row.
        return encode_numpy(bins.reshape(first), "one_hot", self.num_bins,
                            dtype=self.dtype_policy.name)

    def compute_output_shape(self, input_shape):
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        if not first:
            return (1, self.num_bins)
        return first[:1] + (self.num_bins,)

    def compute_output_spec(self, inputs):
        self._check_inputs(inputs)
        shape = self.compute_output_shape([tuple(x.shape) for x in inputs])
        return KerasTensor(shape, dtype=self.dtype_policy.name)

    def get_config(self):
        return {"num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": self.dtype_policy.name}
