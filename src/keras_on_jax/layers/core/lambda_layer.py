"""`Lambda`: wraps an arbitrary expression as a layer.

Config format follows Keras 3: a Python lambda is stored as marshalled bytecode
(`{"class_name": "__lambda__", "config": {"code", "defaults", "closure"}}`), and a named
function by name (`{"module": "builtins", "class_name": "function", "config": name, ...}`).
Loading bytecode executes arbitrary code, so `from_config` refuses it unless
`safe_mode=False` is passed.
"""

from __future__ import annotations

import binascii
import codecs
import inspect
import marshal
import os
import types

import jax

from keras_on_jax import serialization
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.layers.layer import Layer, _map_shapes, _trace_output_spec


def func_dump(func):
    """Serialize a Python function to `(code, defaults, closure)` as Keras does."""
    raw_code = marshal.dumps(func.__code__)
    if os.name == "nt":
        raw_code = raw_code.replace(b"\\", b"/")
    code = codecs.encode(raw_code, "base64").decode("ascii")
    defaults = func.__defaults__
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return code, defaults, closure


def func_load(code, defaults=None, closure=None, globs=None):
    """Rebuild a function serialized by `func_dump` (executes bytecode: trusted input only)."""
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
    if isinstance(defaults, list):
        defaults = tuple(defaults)

    def cell(value):
        def dummy():
            value  # noqa: B018

        return dummy.__closure__[0]

    if closure is not None:
        closure = tuple(cell(v) for v in closure)
    try:
        raw_code = codecs.decode(code.encode("ascii"), "base64")
    except (UnicodeEncodeError, binascii.Error):
        raw_code = code.encode("raw_unicode_escape")
    code = marshal.loads(raw_code)  # noqa: S302 - only reached with safe_mode=False
    return types.FunctionType(code, globs if globs is not None else globals(),
                              name=code.co_name, argdefs=defaults, closure=closure)


def _is_lambda_config(config):
    return isinstance(config, dict) and config.get("class_name") == "__lambda__"


def _raise_for_lambda_deserialization(safe_mode):
    if safe_mode:
        raise ValueError(
            "Requested the deserialization of a `Lambda` layer whose `function` is a "
            "Python lambda. This carries a potential risk of arbitrary code execution "
            "and thus it is disallowed by default. If you trust the source of the "
            "artifact, you can override this error by passing `safe_mode=False` to the "
            "loading function, or calling `keras.config.enable_unsafe_deserialization()`."
        )


class Lambda(Layer):
    """Wraps an arbitrary expression as a `Layer` object.

    Args:
        function: the function to evaluate; takes the input as first argument (and
            `mask`/`training` if its signature names them).
        output_shape: expected output shape without the batch dimension, or a function
            of the input shape; inferred by tracing when None.
        mask: a mask, or a function `(inputs, previous_mask) -> mask`.
        arguments: optional dict of keyword arguments passed to `function`.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(
                f"Lambda(function=...) expects a callable. Received: function={function!r}"
            )
        self.arguments = arguments or {}
        self.function = function
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape
        try:
            function_args = inspect.getfullargspec(function).args
        except TypeError:
            function_args = []
        self._fn_expects_training_arg = "training" in function_args
        self._fn_expects_mask_arg = "mask" in function_args
        self.built = True

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            try:
                inputs = _map_shapes(input_shape, lambda s: KerasTensor(s, dtype=self.compute_dtype))
                spec = _trace_output_spec(self, (inputs,), {})
                return jax.tree.map(lambda t: t.shape, spec,
                                    is_leaf=lambda t: isinstance(t, KerasTensor))
            except Exception as e:
                raise NotImplementedError(
                    "We could not automatically infer the shape of the Lambda's output. "
                    "Please specify the `output_shape` argument for this Lambda layer."
                ) from e
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        first = input_shape
        while isinstance(first, (list, tuple, dict)) and first and not all(
            d is None or isinstance(d, int) for d in (first.values() if isinstance(first, dict) else first)
        ):
            first = next(iter(first.values())) if isinstance(first, dict) else first[0]
        batch_size = first[0] if first else None
        return _map_shapes(self._output_shape, lambda s: (batch_size, *s))

    def compute_output_spec(self, *args, **kwargs):
        if self._output_shape is None:
            return _trace_output_spec(self, args, kwargs)
        return super().compute_output_spec(*args, **kwargs)

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        config = {"function": self._serialize_function_to_config(self.function)}
        if self._output_shape is not None:
            if callable(self._output_shape):
                config["output_shape"] = self._serialize_function_to_config(self._output_shape)
            else:
                config["output_shape"] = self._output_shape
        if self.mask is not None:
            if callable(self.mask):
                config["mask"] = self._serialize_function_to_config(self.mask)
            else:
                config["mask"] = serialization.serialize_keras_object(self.mask)
        config["arguments"] = serialization.serialize_keras_object(self.arguments)
        base_config = super().get_config()
        return {**base_config, **config}

    @staticmethod
    def _serialize_function_to_config(fn):
        if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
            code, defaults, closure = func_dump(fn)
            return {"class_name": "__lambda__",
                    "config": {"code": code, "defaults": defaults, "closure": closure}}
        if callable(fn):
            return serialization.serialize_keras_object(fn)
        raise ValueError(
            f"Invalid input type for serialization. Received: {fn} of type {type(fn)}."
        )

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        config = dict(config)
        effective = safe_mode if safe_mode is not None else serialization.in_safe_mode()
        safe_mode = effective is not False

        def load(fn_config):
            if callable(fn_config):
                # Already rebuilt by the loader (a Keras 2 bytecode `function` list, or a
                # `__lambda__` entry it resolved under the caller's safe mode).
                return fn_config
            if _is_lambda_config(fn_config):
                _raise_for_lambda_deserialization(safe_mode)
                inner = fn_config["config"]
                return func_load(inner["code"], defaults=inner["defaults"],
                                 closure=inner["closure"])
            return serialization.deserialize_keras_object(fn_config, custom_objects=custom_objects)

        config["function"] = load(config["function"])
        if "output_shape" in config:
            output_shape = load(config["output_shape"])
            if isinstance(output_shape, list) and all(isinstance(e, (int, type(None))) for e in output_shape):
                output_shape = tuple(output_shape)
            config["output_shape"] = output_shape
        if "mask" in config:
            config["mask"] = load(config["mask"])
        if "arguments" in config:
            config["arguments"] = serialization.deserialize_keras_object(config["arguments"], custom_objects=custom_objects)
        return super().from_config(config)
