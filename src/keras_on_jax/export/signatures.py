"""Input signatures of exported functions: what each argument's shape and dtype are.

A signature is a structure (list of positional arguments, each a spec or a nest of specs)
of `keras.InputSpec`s with a `shape`, a `dtype` and an optional `name`, as in Keras 3's
`keras/src/export/export_utils.py`. Every exporter flattens it the same way (`jax.tree`
order: dict keys sorted) and names its inputs the same way (`input_names`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import dtypes
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.layers.input_spec import InputSpec


def is_spec(x):
    return isinstance(x, InputSpec)


def require_built(layer, kind="layer"):
    """Export reads a layer's variables: it must have them (`kind`: "layer" / "model")."""
    if not layer.built:
        raise ValueError(
            f"The {kind} '{layer.name}' has not yet been built. It must be built before "
            "export: call it once on data (or build it)."
        )


def model_input_signature(model):
    """The signature `model.export` uses when none is given (Keras 3's rule).

    A Functional model takes one argument: its whole input structure. A Sequential model
    takes its one input. A subclassed model takes what it was first called (built) with.
    """
    from keras_on_jax.models.functional import Functional
    from keras_on_jax.models.model import Model
    from keras_on_jax.models.sequential import Sequential

    if not isinstance(model, Model):
        raise TypeError(
            "The model must be a `keras.Model`. "
            f"Received: model={model} of the type {type(model)}"
        )
    require_built(model, "model")
    if isinstance(model, Functional):
        return [jax.tree.map(make_input_spec, model._inputs_struct)]
    if isinstance(model, Sequential):
        return [make_input_spec(t) for t in model.inputs]
    shapes = getattr(model, "_build_shapes", None)
    if shapes is None:
        raise ValueError(
            f"The model '{model.name}' has never been called, so the shapes of its inputs "
            "are unknown. Call it once on data before export, or pass `input_signature` "
            "(for example `[keras.InputSpec(shape=(None, 3), dtype='float32')]`)."
        )
    return [_specs_from_shapes(shapes, model.compute_dtype)]


def _specs_from_shapes(shapes, dtype):
    if isinstance(shapes, dict):
        return {k: _specs_from_shapes(v, dtype) for k, v in shapes.items()}
    if isinstance(shapes, (list, tuple)) and not all(
        d is None or isinstance(d, (int, np.integer)) for d in shapes
    ):
        return type(shapes)(_specs_from_shapes(s, dtype) for s in shapes)
    return InputSpec(shape=(None, *tuple(shapes)[1:]), dtype=dtype)


def make_input_spec(x):
    """An `InputSpec` (batch axis unknown) for a spec, a KerasTensor or an array.

    Accepted: `keras.InputSpec` (kept as given: shape and dtype required), `KerasTensor`,
    arrays, `jax.ShapeDtypeStruct`, and anything with `shape` and `dtype` such as a
    `tf.TensorSpec`.
    """
    if isinstance(x, InputSpec):
        if x.shape is None or x.dtype is None:
            raise ValueError(f"The `shape` and `dtype` must be provided. Received: x={x}")
        return x
    if isinstance(x, KerasTensor):
        return InputSpec(shape=(None, *x.shape[1:]), dtype=x.dtype, name=x.name)
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        shape = tuple(None if d is None else int(d) for d in x.shape)
        name = getattr(x, "name", None)
        return InputSpec(shape=(None, *shape[1:]) if shape else (),
                         dtype=dtypes.standardize_dtype(x.dtype),
                         name=name if isinstance(name, str) else None)
    raise TypeError(
        f"Unsupported x={x} of the type ({type(x)}). Supported types are: "
        "`keras.InputSpec`, `keras.KerasTensor` and backend tensor."
    )


def standardize_signature(input_signature):
    """`input_signature` as a list (one entry per positional argument) of spec nests.

    A lone spec (not in a list) is one argument, as Keras accepts it. Specs are kept as
    given (an explicit fixed batch size stays fixed); tensors get an unknown batch axis.
    """
    if not isinstance(input_signature, (list, tuple)):
        input_signature = [input_signature]
    return [jax.tree.map(make_input_spec, arg, is_leaf=_is_leaf_input)
            for arg in input_signature]


def _is_leaf_input(x):
    return isinstance(x, (InputSpec, KerasTensor)) or (
        hasattr(x, "shape") and hasattr(x, "dtype")
    )


def flat_specs(signature):
    return jax.tree.leaves(signature, is_leaf=is_spec)


def pack_args(signature, flat_values):
    """The positional arguments (nested like `signature`) for flat input values."""
    treedef = jax.tree.structure(signature, is_leaf=is_spec)
    return jax.tree.unflatten(treedef, list(flat_values))


def input_names(signature):
    """Names of the flat inputs, as Keras 3 gives them: the spec's name or `input_{i}`."""
    return [spec.name or f"input_{i}" for i, spec in enumerate(flat_specs(signature))]


def dim_names(signature):
    """Per flat input, its shape with every unknown size named: `batch` for axis 0
    (shared by all inputs) and `dim_{input}_{axis}` elsewhere (Keras 3's ONNX names)."""
    out = []
    for i, spec in enumerate(flat_specs(signature)):
        out.append(tuple(
            ("batch" if axis == 0 else f"dim_{i}_{axis}") if size is None else int(size)
            for axis, size in enumerate(spec.shape)
        ))
    return out


def describe(signature):
    """One line per flat input, for messages and manifests."""
    return [
        {"name": name, "shape": [None if isinstance(d, str) else d for d in dims],
         "dtype": dtypes.standardize_dtype(spec.dtype)}
        for name, dims, spec in zip(input_names(signature), dim_names(signature),
                                    flat_specs(signature))
    ]


def symbolic_structs(signature):
    """Per flat input, a `jax.ShapeDtypeStruct` whose unknown sizes are `jax.export`
    symbolic dimensions named as in `dim_names` (one shared `batch`)."""
    from jax import export

    scope = export.SymbolicScope()
    out = []
    for dims, spec in zip(dim_names(signature), flat_specs(signature)):
        text = ", ".join(str(d) for d in dims)
        shape = export.symbolic_shape(text, scope=scope) if dims else ()
        out.append(jax.ShapeDtypeStruct(shape, jnp.dtype(dtypes.standardize_dtype(spec.dtype))))
    return out
