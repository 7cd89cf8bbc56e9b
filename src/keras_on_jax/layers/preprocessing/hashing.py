"""`Hashing`: hash values (strings or integers) into a fixed number of bins."""

from __future__ import annotations

import numpy as np

from keras_on_jax.backend import config
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.layers.preprocessing._hash import fingerprint64, siphash24
from keras_on_jax.layers.preprocessing._host_layer import HostLayer, to_numpy_input, to_str_array
from keras_on_jax.layers.preprocessing.index_lookup import encode_numpy


class Hashing(HostLayer):
    """Hashes and bins categorical features (`keras.layers.Hashing`).

    Runs on the host (NumPy) outside the compiled step: call it on NumPy arrays or Python
    lists of strings or integers and feed the result to the model, or use it as a leading
    layer of a Functional/Sequential model (e.g. after `keras.Input(shape=(1,),
    dtype="string")`): `fit`/`evaluate`/`predict` then apply it to each batch on the host
    before the compiled step. Outputs are bit-exact
    with Keras/TensorFlow: values are converted to strings (integers in decimal, floats
    truncated to integers first) and hashed with FarmHash Fingerprint64
    (`tf.strings.to_hash_bucket_fast`), or SipHash-2-4 keyed by `salt`
    (`to_hash_bucket_strong`), modulo the number of bins.

    Args:
        num_bins: number of hash bins (including the mask bin when `mask_value` is set).
        mask_value: value mapped to bin 0 (the other values use bins `1..num_bins-1`).
        salt: int or pair of ints: use the keyed SipHash.
        output_mode: `"int"` (default, int64 NumPy array), `"one_hot"`, `"multi_hot"`,
            `"count"` (float NumPy arrays).
        sparse: must be False.
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else config.floatx()
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError("The `num_bins` for `Hashing` cannot be `None` or non-positive "
                             f"values. Received: num_bins={num_bins}.")
        if output_mode == "int" and self.dtype_policy.name not in ("int32", "int64"):
            raise ValueError("Hashing: when `output_mode=\"int\"`, `dtype` should be an integer "
                             f"type, 'int32' or 'int64'. Received: dtype={kwargs['dtype']}")
        modes = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in modes:
            raise ValueError("Hashing: invalid value for argument `output_mode`. Expected one "
                             f"of {modes}. Received: output_mode={output_mode}")
        if sparse:
            raise ValueError("Hashing: `sparse=True` is not supported by keras_on_jax. "
                             "Received: sparse=True")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = sparse
        self.salt = None
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                self.salt = list(salt)
            elif isinstance(salt, int):
                self.salt = [salt, salt]
            else:
                raise ValueError("The `salt` argument for `Hashing` can only be a tuple of size "
                                 f"2 integers, or a single integer. Received: salt={salt}.")

    def _hash_values_to_bins(self, arr):
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = arr == self.mask_value
            if arr.dtype.kind in "SUO":
                mv = self.mask_value
                mv = mv.decode("utf-8") if isinstance(mv, bytes) else str(mv)
                mask = to_str_array(arr) == mv
        if arr.dtype.kind == "f":
            arr = arr.astype(np.int64)
        strings = to_str_array(arr) if arr.dtype.kind in "SUO" else None
        flat = strings.reshape(-1) if strings is not None else arr.reshape(-1)
        out = np.empty(flat.shape, dtype=np.int64)
        for i, v in enumerate(flat):
            data = (v if strings is not None else str(int(v))).encode("utf-8")
            h = siphash24(self.salt[0], self.salt[1], data) if self.strong_hash else fingerprint64(data)
            out[i] = h % bins
        out = out.reshape(arr.shape)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    def call(self, inputs):
        arr = to_numpy_input(inputs, self.name)
        if self.output_mode == "one_hot" and arr.ndim and arr.shape[-1] == 1:
            arr = arr.reshape(arr.shape[:-1])
        indices = self._hash_values_to_bins(arr)
        if self.output_mode == "int":
            return indices.astype(self.dtype_policy.name)
        return encode_numpy(indices, self.output_mode, self.num_bins, dtype=self.dtype_policy.name)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.dtype_policy.name)

    def get_config(self):
        base = super().get_config()
        base.update({"num_bins": self.num_bins, "salt": self.salt,
                     "mask_value": self.mask_value, "output_mode": self.output_mode,
                     "sparse": self.sparse})
        return base
