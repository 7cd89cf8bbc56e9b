"""`keras.export.ExportArchive`: endpoints (functions with input signatures) over tracked
variables, written out as a TensorFlow SavedModel, an ONNX file or a `jax.export` artifact.

The API is Keras 3's (`track`, `add_endpoint`, `track_and_add_endpoint`,
`add_variable_collection`, `write_out`); `write_out` also takes `format=` here, since
this package runs without TensorFlow.
"""

from __future__ import annotations

import dataclasses

import jax

from keras_on_jax.backend import scopes
from keras_on_jax.backend.variables import Variable
from keras_on_jax.export import signatures
from keras_on_jax.layers.layer import Layer

DEFAULT_ENDPOINT_NAME = "serve"
FORMATS = ("tf_saved_model", "onnx", "jax")


@dataclasses.dataclass
class Endpoint:
    """One function of an archive: `fn(*args)` with `args` shaped like `signature`."""

    name: str
    fn: object
    signature: list
    kwargs: dict

    def function(self, variables):
        """`f(values, *args)`: the endpoint as a pure function of the variables' values
        and its arguments (nested like `signature`). Assignments made by `fn` (a layer's
        state updates) go to a `StatelessScope` and are dropped: an export serves
        inference."""
        fn = self.fn

        def pure(values, *args):
            with scopes.StatelessScope(list(zip(variables, values))):
                return fn(*args)

        return pure


def current_values(variables):
    return [v.value for v in variables]


class ExportArchive:
    """Gathers serving endpoints and the variables they use, then writes an artifact.

    ```python
    export_archive = keras.export.ExportArchive()
    export_archive.track(model)
    export_archive.add_endpoint(
        name="serve",
        fn=model.call,
        input_signature=[keras.InputSpec(shape=(None, 3), dtype="float32")],
    )
    export_archive.write_out("path/to/location", format="jax")   # or "onnx", "tf_saved_model"
    ```

    `format="tf_saved_model"` (the default, as in Keras) needs TensorFlow;
    `format="onnx"` (one endpoint) needs `jax2onnx`; `format="jax"` needs nothing more and
    is reloaded by `keras_on_jax.export.load(path)`.
    """

    def __init__(self, format="saved_model"):
        # Keras 3 picks the archive class by `format` here; the file format is chosen at
        # `write_out(format=...)` in this package, so only Keras's default is accepted.
        if format != "saved_model":
            raise ValueError(f"Unsupported format: {format}")
        self._endpoints = {}
        self._trainable = []
        self._non_trainable = []
        self._collections = {}
        self._tracked = []

    # ---- what the archive holds ---------------------------------------------------------
    @property
    def variables(self):
        return self._trainable + self._non_trainable

    @property
    def trainable_variables(self):
        return list(self._trainable)

    @property
    def non_trainable_variables(self):
        return list(self._non_trainable)

    @property
    def endpoint_names(self):
        return list(self._endpoints)

    def track(self, resource):
        """Track the variables of a layer or model: endpoints read them as inputs of the
        exported function (stored beside it), not as constants baked into it."""
        if not isinstance(resource, Layer):
            raise ValueError(
                "Invalid resource type. Expected a Keras `Layer` or `Model`. "
                f"Received object {resource} of type '{type(resource)}'."
            )
        signatures.require_built(resource)
        known = {id(v) for v in self.variables}
        for source, target in ((resource.trainable_variables, self._trainable),
                               (resource.non_trainable_variables, self._non_trainable)):
            for v in source:
                if id(v) not in known:
                    known.add(id(v))
                    target.append(v)
        self._tracked.append(resource)

    def add_endpoint(self, name, fn, input_signature=None, **kwargs):
        """Register a serving endpoint `name` running `fn` on inputs of `input_signature`.

        Args:
            name: `str`, the endpoint's name.
            fn: a callable using tracked layers and models.
            input_signature: one entry per positional argument of `fn`, each a
                `keras.InputSpec`, a `KerasTensor`, an array (or a `tf.TensorSpec`), or a
                list/dict of them. Required.

        Returns:
            A function running the endpoint, compiled, on the current variable values.
        """
        if name in self._endpoints:
            raise ValueError(f"Endpoint name '{name}' is already taken.")
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"An endpoint name must be a valid Python identifier. Received: name={name!r}"
            )
        if input_signature is None:
            raise ValueError(
                "You must provide an `input_signature` argument to specify the shape and "
                "dtype of the function arguments. Example:\n\n"
                "export_archive.add_endpoint(\n"
                "    name='call',\n"
                "    fn=model.call,\n"
                "    input_signature=[\n"
                "        keras.InputSpec(\n"
                "            shape=(None, 224, 224, 3),\n"
                "            dtype='float32',\n"
                "        )\n"
                "    ],\n"
                ")"
            )
        unknown = sorted(set(kwargs) - {"is_static", "jax2tf_kwargs"})
        if unknown:
            raise ValueError(
                f"Unrecognized argument(s) for endpoint '{name}': {unknown}. Accepted: "
                "'is_static', 'jax2tf_kwargs' (format='tf_saved_model')."
            )
        endpoint = Endpoint(name, fn, signatures.standardize_signature(input_signature),
                            dict(kwargs))
        self._endpoints[name] = endpoint
        variables = self.variables
        pure = jax.jit(endpoint.function(variables))

        def run(*args):
            return pure(current_values(variables), *args)

        run.__name__ = name
        return run

    def track_and_add_endpoint(self, name, resource, input_signature, **kwargs):
        """`track(resource)`, then an endpoint `name` calling `resource` on its inputs."""
        self.track(resource)
        return self.add_endpoint(name, resource.__call__, input_signature, **kwargs)

    def add_variable_collection(self, name, variables):
        """Register a list of variables stored in the artifact under `name` (reloaded as
        an attribute of the loaded object)."""
        if not isinstance(variables, (list, tuple, set)):
            raise ValueError(
                "Expected `variables` to be a list/tuple/set. "
                f"Received instead object of type '{type(variables)}'."
            )
        if not all(isinstance(v, Variable) for v in variables):
            raise ValueError(
                "Expected all elements in `variables` to be `keras.Variable` instances. "
                "Found instead the following types: "
                f"{sorted({type(v).__name__ for v in variables})}"
            )
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"A collection name must be a valid Python identifier. Received: name={name!r}"
            )
        self._collections[name] = list(variables)

    def write_out(self, filepath, options=None, verbose=True, format="tf_saved_model",
                  **kwargs):
        """Write the artifact to `filepath`.

        Args:
            filepath: `str` or `pathlib.Path`.
            options: `tf.saved_model.SaveOptions` (`format="tf_saved_model"` only).
            verbose: print the endpoints written.
            format: `"tf_saved_model"` (needs TensorFlow; the default, as in Keras),
                `"onnx"` (a single endpoint; needs `jax2onnx`) or `"jax"` (a directory
                with a `jax.export` program per endpoint and the variables beside them).
            **kwargs: the format's options: `opset_version` for ONNX; `platforms` for
                `"jax"` (default: CPU, CUDA and TPU).
        """
        if not self._endpoints:
            raise ValueError("No endpoints have been set yet. Call add_endpoint().")
        if format not in FORMATS:
            raise ValueError(
                f"Unrecognized format={format}. Supported formats are: {list(FORMATS)}."
            )
        if options is not None and format != "tf_saved_model":
            raise ValueError(
                f"`options` (tf.saved_model.SaveOptions) apply to format='tf_saved_model' "
                f"only. Received: format={format!r}"
            )
        allowed = {"onnx": {"opset_version"}, "jax": {"platforms"}}.get(format, set())
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise ValueError(
                f"Unrecognized argument(s) for format='{format}': {unknown}. "
                f"Accepted: {sorted(allowed)}."
            )
        if format == "jax":
            from keras_on_jax.export import jax_artifact

            jax_artifact.write(self, filepath, verbose=verbose, **kwargs)
        elif format == "onnx":
            from keras_on_jax.export import onnx as onnx_export

            if len(self._endpoints) != 1:
                raise ValueError(
                    "An ONNX file holds one function: format='onnx' needs an archive with "
                    f"exactly one endpoint. Received endpoints: {self.endpoint_names}"
                )
            endpoint = next(iter(self._endpoints.values()))
            what = ", ".join(f"{type(t).__name__} '{t.name}'" for t in self._tracked)
            what = what or f"endpoint '{endpoint.name}'"
            onnx_export.write(endpoint, filepath, what=what, layers=self._tracked, **kwargs)
            if verbose:
                _print(f"Saved artifact at '{filepath}'.")
        else:
            from keras_on_jax.export import saved_model

            saved_model.write(self, filepath, options=options, verbose=verbose)


def _print(message):
    from keras_on_jax.utils import io_utils

    io_utils.print_msg(message)
