"""Keras 2's `TFOpLambda` / `SlicingOpLambda` layers, read as `keras.ops` calls.

tf.keras 2 records a TensorFlow function called on symbolic tensors (`x + 1`,
`tf.concat([a, b], -1)`, `x[:, 0]`) as a layer naming the function
(`{"class_name": "TFOpLambda", "config": {"function": "math.add", ...}}`) whose inbound
node holds the call's first argument and its keyword arguments. Reading a Functional
config, each such layer becomes the `keras.ops` call computing the same thing, so the
loaded model's graph holds Keras 3 op nodes (and saves as Keras 3 writes it). A function
without a counterpart here is refused when the file is read, naming it and the layer.
"""

from __future__ import annotations

import ast

import numpy as np

from keras_on_jax import ops

# TensorFlow function (its last dotted component: `math.add`, `__operators__.add` and `add`
# are one) -> (keras.ops function, the TF parameters in TF's positional order).
# A parameter is written `tf_name>ops_name` when keras.ops names it differently,
# `tf_name=value` when keras.ops has no such parameter (the call must leave it at that
# value), and `tf_name` when both name it alike. `name` is always ignored.
_BINARY = "x>x1 y>x2"
_UNARY = "x"
_REDUCTION = "input_tensor>x axis keepdims"
TF_FUNCTIONS = {
    **{f: (f, _BINARY) for f in ("add", "subtract", "multiply", "maximum", "minimum", "equal",
                                  "not_equal", "greater", "greater_equal", "less", "less_equal",
                                  "logical_and", "logical_or", "logical_xor")},
    "truediv": ("true_divide", _BINARY), "divide": ("divide", _BINARY),
    "floordiv": ("floor_divide", _BINARY), "floor_div": ("floor_divide", _BINARY),
    "pow": ("power", _BINARY), "mod": ("mod", _BINARY), "floormod": ("mod", _BINARY),
    "squared_difference": ("subtract", _BINARY),  # squared in `_post`
    **{f: (f, _UNARY) for f in ("negative", "abs", "square", "sqrt", "rsqrt", "exp", "expm1",
                                 "log", "log1p", "sin", "cos", "tan", "tanh", "sinh", "cosh",
                                 "sigmoid", "erf", "round", "floor", "ceil", "sign",
                                 "reciprocal", "logical_not", "softplus", "softsign")},
    **{tf: (f, _UNARY) for tf, f in (("is_nan", "isnan"), ("is_inf", "isinf"),
                                      ("is_finite", "isfinite"), ("atan", "arctan"),
                                      ("asin", "arcsin"), ("acos", "arccos"))},
    **{f: (f, "features>x") for f in ("relu", "relu6", "elu", "selu", "silu", "gelu")},
    "swish": ("silu", "features>x"),
    "leaky_relu": ("leaky_relu", "features>x alpha>negative_slope"),
    "softmax": ("softmax", "logits>x axis"), "log_softmax": ("log_softmax", "logits>x axis"),
    "reduce_mean": ("mean", _REDUCTION), "reduce_sum": ("sum", _REDUCTION),
    "reduce_max": ("max", _REDUCTION), "reduce_min": ("min", _REDUCTION),
    "reduce_prod": ("prod", _REDUCTION), "reduce_std": ("std", _REDUCTION),
    "reduce_variance": ("var", _REDUCTION), "reduce_logsumexp": ("logsumexp", _REDUCTION),
    "reduce_any": ("any", _REDUCTION), "reduce_all": ("all", _REDUCTION),
    "argmax": ("argmax", "input>x axis"), "argmin": ("argmin", "input>x axis"),
    "concat": ("concatenate", "values>xs axis"), "stack": ("stack", "values>x axis"),
    "reshape": ("reshape", "tensor>x shape>newshape"),
    "transpose": ("transpose", "a>x perm>axes conjugate=False"),
    "expand_dims": ("expand_dims", "input>x axis"),
    "squeeze": ("squeeze", "input>x axis squeeze_dims=None"),
    "cast": ("cast", "x dtype"), "where": ("where", "condition x>x1 y>x2"),
    "where_v2": ("where", "condition x>x1 y>x2"),
    "tile": ("tile", "input>x multiples>repeats"),
    "zeros_like": ("zeros_like", "input>x dtype optimize=True"),
    "ones_like": ("ones_like", "input>x dtype optimize=True"),
    "clip_by_value": ("clip", "t>x clip_value_min>x_min clip_value_max>x_max"),
    "matmul": ("matmul", "a>x1 b>x2 transpose_a transpose_b adjoint_a=False adjoint_b=False "
                         "a_is_sparse=False b_is_sparse=False output_type=None"),
    "split": ("split", "value>x num_or_size_splits>indices_or_sections axis num=None"),
    "pad": ("pad", "tensor>x paddings>pad_width mode constant_values"),
    "gather": ("take", "params>x indices validate_indices=None axis batch_dims=0"),
    "cumsum": ("cumsum", "x axis exclusive=False reverse=False"),
    "cumprod": ("cumprod", "x axis exclusive=False reverse=False"),
    "one_hot": ("one_hot", "indices>x depth>num_classes on_value=None off_value=None axis dtype"),
    "getitem": ("get_item", "tensor>x slice_spec>key"),
}


def _parse(params):
    out = []
    for token in params.split():
        if "=" in token:
            name, fixed = token.split("=")
            out.append((name, None, ast.literal_eval(fixed)))
        else:
            tf_name, _, ops_name = token.partition(">")
            out.append((tf_name, ops_name or tf_name, None))
    return out


def _translate(function, values):
    """Keyword arguments of the keras.ops function for TF's arguments `values`."""
    if function == "matmul":
        a, b = values.pop("x1"), values.pop("x2")
        if values.pop("transpose_a", False):
            a = ops.swapaxes(a, -1, -2)
        if values.pop("transpose_b", False):
            b = ops.swapaxes(b, -1, -2)
        values.update(x1=a, x2=b)
    elif function == "split" and isinstance(values.get("indices_or_sections"), (list, tuple)):
        sizes = values["indices_or_sections"]  # TF gives sizes, NumPy split points
        values["indices_or_sections"] = [int(v) for v in np.cumsum(sizes)[:-1]]
    elif function == "pad":
        values["mode"] = str(values.get("mode") or "constant").lower()
        if values["mode"] != "constant" or values.get("constant_values") is None:
            values.pop("constant_values", None)
    elif function == "take":
        values["axis"] = values.get("axis") or 0  # tf.gather's default axis is 0
    elif function in ("argmax", "argmin") and values.get("axis") is None:
        values["axis"] = 0  # so is tf.math.argmax's
    elif function == "get_item":
        values["key"] = _slice_spec(values["key"])
    elif function == "one_hot" and values.get("axis") is None:
        values["axis"] = -1
    return values


def _slice_spec(spec):
    """SlicingOpLambda's `slice_spec`: slices as dicts, Ellipsis as a class marker."""

    def one(item):
        if isinstance(item, dict) and item.get("class_name") == "__ellipsis__":
            return Ellipsis
        if isinstance(item, dict) and set(item) == {"start", "stop", "step"}:
            return slice(item["start"], item["stop"], item["step"])
        return item

    return tuple(one(s) for s in spec) if isinstance(spec, (list, tuple)) else one(spec)


class TFOpCall:
    """A Keras 2 `TFOpLambda` layer of a file: calling it calls the keras.ops function."""

    def __init__(self, layer_name, function):
        key = function.rsplit(".", 1)[-1]
        if key not in TF_FUNCTIONS:
            raise ValueError(
                f"Layer '{layer_name}' of this Keras 2 file calls the TensorFlow function "
                f"`tf.{function}`, which has no keras.ops counterpart here, so the model "
                "cannot be rebuilt. (Supported TensorFlow functions: the common math, "
                "reduction, shape and slicing ones listed in keras_on_jax/models/keras2_ops.py.)"
            )
        self.name = layer_name
        self.function = function
        self.ops_function, params = TF_FUNCTIONS[key]
        self._post = key
        self._params = _parse(params)

    def __call__(self, *args, **kwargs):
        kwargs.pop("name", None)
        values = dict(zip((p[0] for p in self._params), args))
        for key, value in kwargs.items():
            if key in values:
                raise TypeError(f"Layer '{self.name}' (tf.{self.function}): argument "
                                f"'{key}' given twice.")
            values[key] = value
        call = {}
        for tf_name, ops_name, fixed in self._params:
            if tf_name not in values:
                continue
            value = values.pop(tf_name)
            if ops_name is not None:
                call[ops_name] = value
            elif value is not None and value != fixed:
                raise ValueError(
                    f"Layer '{self.name}' calls `tf.{self.function}` with {tf_name}={value!r}, "
                    f"which keras.ops.{self.ops_function} cannot do (only {tf_name}={fixed!r})."
                )
        if values:
            raise ValueError(f"Layer '{self.name}': `tf.{self.function}` arguments "
                             f"{sorted(values)} have no keras.ops counterpart.")
        out = getattr(ops, self.ops_function)(**_translate(self.ops_function, call))
        if self._post == "squared_difference":
            out = ops.square(out)
        return out
