"""`format="tf_saved_model"`: a TensorFlow SavedModel through `jax2tf`, when TensorFlow
is installed.

As Keras 3's JAX backend does: the tracked variables become `tf.Variable`s of the saved
object, each endpoint is `jax2tf.convert` of the pure function of (variables, inputs)
with a polymorphic batch axis, wrapped in a `tf.function`, and the first endpoint is also
the `serving_default` signature. `tf.saved_model.load(path).serve(x)` runs it.
"""

from __future__ import annotations

import importlib
import inspect

import jax
import numpy as np

from keras_on_jax.export import signatures


def import_tensorflow():
    # Imported only here, when a SavedModel is asked for (src/ never imports TensorFlow at
    # import time).
    try:
        tf = importlib.import_module("tensorflow")
    except ImportError as e:
        raise ImportError(
            "Exporting a TensorFlow SavedModel (format='tf_saved_model') needs TensorFlow "
            f"(the `tensorflow` package), which could not be imported: {e}. Install it "
            "(`pip install tensorflow`), or export with format='onnx' or format='jax', "
            "which need no TensorFlow."
        ) from e
    from jax.experimental import jax2tf

    return tf, jax2tf


def _poly(spec_or_shape):
    """jax2tf's polymorphic shape string: `(batch, 8, 3)`, other unknown sizes named."""
    return "(" + ", ".join(str(d) for d in spec_or_shape) + ")"


def write(archive, filepath, options=None, verbose=True):
    tf, jax2tf = import_tensorflow()
    variables = archive.variables
    root = tf.__internal__.tracking.AutoTrackable()  # the object Keras 3 saves, too

    def to_tf(v):
        return tf.Variable(np.asarray(v.value), trainable=bool(v.trainable), name=v.name)

    tf_vars = [to_tf(v) for v in variables]
    root.variables = list(tf_vars)
    root.trainable_variables = [t for t, v in zip(tf_vars, variables) if v.trainable]
    root.non_trainable_variables = [t for t, v in zip(tf_vars, variables) if not v.trainable]
    for cname, cvars in archive._collections.items():
        setattr(root, cname, [to_tf(v) for v in cvars])
    var_polys = [_poly(v.shape) for v in variables]

    functions = {}
    for name, endpoint in archive._endpoints.items():
        kwargs = dict(endpoint.kwargs)
        jax2tf_kwargs = dict(kwargs.pop("jax2tf_kwargs", None) or {})
        kwargs.pop("is_static", None)  # the function is pure either way (see archive.py)
        if kwargs:
            raise ValueError(f"Unknown arguments for endpoint '{name}': {sorted(kwargs)}")
        signature = endpoint.signature
        dims = iter(signatures.dim_names(signature))
        arg_polys = jax.tree.map(lambda _: _poly(next(dims)), signature,
                                 is_leaf=signatures.is_spec)
        jax2tf_kwargs.setdefault("polymorphic_shapes", [var_polys, *arg_polys])
        converted = jax2tf.convert(endpoint.function(variables), **jax2tf_kwargs)
        names = iter(signatures.input_names(signature))
        tf_signature = jax.tree.map(
            lambda spec: tf.TensorSpec(spec.shape, tf.as_dtype(spec.dtype), name=next(names)),
            signature, is_leaf=signatures.is_spec)

        def serve(*args, converted=converted):
            return converted(list(tf_vars), *args)

        serve.__signature__ = _positional_signature(endpoint.fn, len(signature))
        functions[name] = tf.function(serve, input_signature=tf_signature, autograph=False)
        setattr(root, name, functions[name])

    concrete = {name: fn.get_concrete_function() for name, fn in functions.items()}
    if "serving_default" not in concrete:
        concrete["serving_default"] = next(iter(concrete.values()))
    tf.saved_model.save(root, str(filepath), signatures=concrete, options=options)
    if verbose:
        from keras_on_jax.utils import io_utils

        described = []
        for name, fn in concrete.items():
            if name == "serving_default" and name not in functions:
                continue
            lines = fn.pretty_printed_signature(verbose=True).split("\n")
            described.append("\n".join([f"* Endpoint '{name}'", *lines[1:]]))
        io_utils.print_msg(f"Saved artifact at '{filepath}'. The following endpoints are "
                           "available:\n\n" + "\n\n".join(described))


def _positional_signature(fn, count):
    """A signature of `count` positional parameters, named as `fn`'s where it has them
    (the SavedModel signature shows these names)."""
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params[:count]]
    names += [f"args_{i}" for i in range(len(names), count)]
    return inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                              for n in names])
