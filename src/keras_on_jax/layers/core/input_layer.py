"""`InputLayer` and `keras.Input`: the entry points of a Functional model."""

from __future__ import annotations

from keras_on_jax.backend import dtypes
from keras_on_jax.layers.layer import Layer
from keras_on_jax.backend.keras_tensor import KerasTensor, Node


class InputLayer(Layer):
    """A layer holding a model input placeholder.

    Args:
        shape: shape tuple without the batch size.
        batch_size: optional static batch size.
        dtype: input dtype (default `floatx()`).
        sparse: must be False: sparse tensors are not implemented here (Keras 3 on JAX
            has them for some layers); sparse data fed to a dense input is densified.
        ragged: must be False: ragged tensors are not supported on JAX (as in Keras 3).
        batch_shape: full shape including the batch size (instead of shape/batch_size).
        input_tensor: an existing KerasTensor to wrap.
        name: layer name.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None,
                 batch_shape=None, input_tensor=None, optional=False, name=None, **kwargs):
        # Keras 2 configs spell the full shape `batch_input_shape`.
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        super().__init__(name=name, **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError(
                "You cannot pass both `shape` and `batch_shape` at the same time. "
                f"Received: shape={shape}, batch_shape={batch_shape}"
            )
        if shape is None and batch_shape is None and input_tensor is None:
            raise ValueError("You must pass a `shape` argument to `keras.Input` / InputLayer.")
        if input_tensor is not None:
            batch_shape = input_tensor.shape
        elif batch_shape is None:
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size, *tuple(shape))
        self._batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self._input_dtype = dtypes.standardize_dtype(
            dtype.name if hasattr(dtype, "name") and not isinstance(dtype, str) and hasattr(dtype, "compute_dtype") else dtype
        )
        self.sparse = bool(sparse)
        if self.sparse:
            raise ValueError(
                "`sparse=True` is not supported with the jax backend of keras_on_jax: "
                "sparse tensors are not implemented. Use a dense input (`sparse=False`); "
                "sparse data given to it (SciPy sparse matrices, "
                "`jax.experimental.sparse.BCOO`) is densified, as Keras does."
            )
        self.ragged = bool(ragged)
        if self.ragged:
            raise ValueError("`ragged=True` is not supported with the jax backend")
        self.optional = optional
        if input_tensor is None:
            input_tensor = KerasTensor(self._batch_shape, dtype=self._input_dtype, name=self.name)
        self._input_tensor = input_tensor
        Node(self, call_args=(), call_kwargs={}, outputs=input_tensor)
        self.built = True

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def dtype(self):
        return self._input_dtype

    def call(self):
        return

    @property
    def output(self):
        return self._input_tensor

    def get_config(self):
        return {
            "batch_shape": list(self._batch_shape),
            "dtype": self._input_dtype,
            "sparse": self.sparse,
            "ragged": self.ragged,
            "name": self.name,
            "optional": self.optional,
        }


def Input(shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None,
          name=None, tensor=None, optional=False):
    """Create a symbolic input for a Functional model: `keras.Input(shape=(784,))`."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       ragged=ragged, batch_shape=batch_shape, name=name, input_tensor=tensor,
                       optional=optional)
    return layer.output
