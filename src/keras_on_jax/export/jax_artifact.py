"""`format="jax"`: a directory that a JAX process serves without the model's code.

Layout:
  manifest.json            format version, endpoints (file, inputs, outputs), variables
  <endpoint>.jax_exported  `jax.export.Exported.serialize()`: the endpoint lowered to
                           StableHLO with a symbolic batch axis, for CPU, CUDA and TPU
  variables.npz            the tracked variables' values keyed by name (NumPy, no pickle)
  variable_collections.npz the collections, keyed `<collection>/<index>` (if any)

Each exported function is `f(variables, *args)` where `variables` is the dict stored in
`variables.npz`, so plain JAX serves it:
`jax.export.deserialize(blob).call(dict(np.load("variables.npz")), x)`. A variable whose
dtype NumPy cannot store (bfloat16, float8) is stored as unsigned integers of its width
and the function bit-casts it back, so that line holds for every model.
"""

from __future__ import annotations

import json
import os
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import dtypes
from keras_on_jax.export import signatures

FORMAT_NAME = "keras_on_jax.export.jax"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VARIABLES = "variables.npz"
COLLECTIONS = "variable_collections.npz"
SUFFIX = ".jax_exported"
DEFAULT_PLATFORMS = ("cpu", "cuda", "tpu")
_RESERVED = frozenset({"variables", "trainable_variables", "non_trainable_variables",
                       "endpoints", "manifest", "path"})


# ---- writing ------------------------------------------------------------------------------
def _storage_dtype(dtype):
    """The NumPy dtype a value of `dtype` is stored as in an .npz file."""
    dtype = jnp.dtype(dtype)
    if dtype.isbuiltin == 1:
        return dtype
    return np.dtype(f"uint{dtype.itemsize * 8}")


def _to_storage(value):
    value = np.asarray(value)
    storage = _storage_dtype(value.dtype)
    return value if storage == value.dtype else value.view(storage)


def _from_storage(value, dtype):
    dtype = jnp.dtype(dtype)
    return value if value.dtype == dtype else jax.lax.bitcast_convert_type(value, dtype)


def _unique_keys(variables):
    keys, seen = [], set()
    for v in variables:
        base = getattr(v, "path", None) or v.name
        key, n = base, 1
        while key in seen:
            key, n = f"{base}_{n}", n + 1
        seen.add(key)
        keys.append(key)
    return keys


def write(archive, dirpath, verbose=True, platforms=None):
    """Write `archive` (an `ExportArchive`) as the directory `dirpath`."""
    variables = archive.variables
    keys = _unique_keys(variables)
    var_dtypes = [dtypes.standardize_dtype(v.dtype) for v in variables]
    storage = {k: jax.ShapeDtypeStruct(tuple(v.shape), _storage_dtype(d))
               for k, v, d in zip(keys, variables, var_dtypes)}
    exported = {}
    for name, endpoint in archive._endpoints.items():
        if name in _RESERVED:
            raise ValueError(
                f"Endpoint name '{name}' is reserved in format='jax' (the loaded object has "
                f"an attribute of that name). Reserved names: {sorted(_RESERVED)}"
            )
        pure = endpoint.function(variables)

        def served(params, *args, pure=pure):
            return pure([_from_storage(params[k], d) for k, d in zip(keys, var_dtypes)], *args)

        args = signatures.pack_args(endpoint.signature,
                                    signatures.symbolic_structs(endpoint.signature))
        exported[name] = _export(served, storage, args, platforms, name)

    os.makedirs(dirpath, exist_ok=True)
    for name, exp in exported.items():
        with open(os.path.join(dirpath, name + SUFFIX), "wb") as f:
            f.write(exp.serialize())
    np.savez(os.path.join(dirpath, VARIABLES),
             **{k: _to_storage(v.value) for k, v in zip(keys, variables)})
    collections = {}
    flat_collections = {}
    for cname, cvars in archive._collections.items():
        collections[cname] = [dtypes.standardize_dtype(v.dtype) for v in cvars]
        for i, v in enumerate(cvars):
            flat_collections[f"{cname}/{i}"] = _to_storage(v.value)
    if flat_collections:
        np.savez(os.path.join(dirpath, COLLECTIONS), **flat_collections)
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "jax_version": jax.__version__,
        "default_endpoint": next(iter(exported)),
        "endpoints": {
            name: {
                "file": name + SUFFIX,
                "platforms": list(exp.platforms),
                "inputs": signatures.describe(archive._endpoints[name].signature),
                "outputs": [str(a) for a in exp.out_avals],
            }
            for name, exp in exported.items()
        },
        "variables": [
            {"key": k, "path": getattr(v, "path", v.name), "dtype": d,
             "trainable": bool(v.trainable)}
            for k, v, d in zip(keys, variables, var_dtypes)
        ],
        "variable_collections": collections,
    }
    with open(os.path.join(dirpath, MANIFEST), "w") as f:
        json.dump(manifest, f, indent=2)
    if verbose:
        from keras_on_jax.utils import io_utils

        lines = [f"Saved artifact at '{dirpath}'. The following endpoints are available:", ""]
        for name, exp in exported.items():
            lines.append(f"* Endpoint '{name}'")
            lines.append("  Args:")
            for spec in manifest["endpoints"][name]["inputs"]:
                dims = ", ".join("batch" if d is None else str(d) for d in spec["shape"])
                lines.append(f"    {spec['name']}: {spec['dtype']}[{dims}]")
            lines.append("  Returns: " + ", ".join(manifest["endpoints"][name]["outputs"]))
        io_utils.print_msg("\n".join(lines))


def _export(served, storage, args, platforms, name):
    from jax import export

    jitted = jax.jit(served)
    if platforms is not None:
        return export.export(jitted, platforms=tuple(platforms))(storage, *args)
    try:
        return export.export(jitted, platforms=DEFAULT_PLATFORMS)(storage, *args)
    except Exception as e:  # some lowering exists only for the platform at hand
        here = export.default_export_platform()
        warnings.warn(
            f"Endpoint '{name}' could not be lowered for all of {list(DEFAULT_PLATFORMS)} "
            f"({type(e).__name__}: {e}); it is exported for '{here}' only. Pass "
            "`platforms=[...]` to choose the platforms explicitly.",
            stacklevel=4,
        )
        return export.export(jitted, platforms=(here,))(storage, *args)


# ---- loading ------------------------------------------------------------------------------
class ExportedEndpoint:
    """One endpoint of a loaded artifact: call it with arrays shaped like its inputs."""

    def __init__(self, name, exported, params, inputs):
        self.name = name
        self.exported = exported
        self.inputs = inputs
        self._params = params
        self._call = jax.jit(exported.call)
        in_args, _ = jax.tree.unflatten(exported.in_tree, exported.in_avals)
        self._arg_avals = tuple(in_args[1:])

    def __call__(self, *args):
        if len(args) != len(self._arg_avals):
            raise TypeError(
                f"Endpoint '{self.name}' takes {len(self._arg_avals)} positional "
                f"argument(s) ({[i['name'] for i in self.inputs]}). Received {len(args)}."
            )
        try:
            args = jax.tree.map(_cast, args, self._arg_avals)
        except ValueError as e:
            raise ValueError(
                f"Endpoint '{self.name}' expects arguments structured like "
                f"{self._arg_avals}. Received: {jax.tree.map(np.shape, args)}"
            ) from e
        return self._call(self._params, *args)

    def __repr__(self):
        return f"<ExportedEndpoint '{self.name}' inputs={self.inputs}>"


def _cast(x, aval):
    if getattr(x, "dtype", None) == aval.dtype:
        return x
    return jnp.asarray(x, dtype=aval.dtype)


class LoadedArtifact:
    """What `keras_on_jax.export.load(path)` returns.

    Each endpoint is an attribute (`loaded.serve(x)`); calling the object runs the first
    endpoint. `variables`, `trainable_variables` and `non_trainable_variables` hold the
    stored values; each variable collection is an attribute too.
    """

    def __init__(self, path, manifest, endpoints, variables, collections):
        self.path = path
        self.manifest = manifest
        self.endpoints = list(endpoints)
        for name, endpoint in endpoints.items():
            setattr(self, name, endpoint)
        self._default = endpoints[manifest["default_endpoint"]]
        self.variables = [v for _, v in variables]
        self.trainable_variables = [v for t, v in variables if t]
        self.non_trainable_variables = [v for t, v in variables if not t]
        for name, values in collections.items():
            setattr(self, name, values)

    def __call__(self, *args):
        return self._default(*args)


def load(path):
    """Load a `format="jax"` artifact written by `model.export` or `ExportArchive`.

    Needs only JAX and NumPy: the model's code and this package's layers are not used.

    Returns:
        A `LoadedArtifact`: `loaded(x)` or `loaded.serve(x)` returns the outputs.
    """
    from jax import export

    manifest_path = os.path.join(path, MANIFEST)
    if not os.path.isfile(manifest_path):
        raise ValueError(
            f"No exported artifact at '{path}': expected a directory written by "
            f"`model.export(..., format='jax')` holding '{MANIFEST}'."
        )
    with open(manifest_path) as f:
        manifest = json.load(f)
    if manifest.get("format") != FORMAT_NAME or manifest.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"'{manifest_path}' is not a {FORMAT_NAME} artifact of version <= "
            f"{FORMAT_VERSION}. Received format={manifest.get('format')!r}, "
            f"format_version={manifest.get('format_version')!r}."
        )
    with np.load(os.path.join(path, VARIABLES), allow_pickle=False) as stored:
        params = {k: jnp.asarray(stored[k]) for k in stored.files}
    endpoints = {}
    for name, entry in manifest["endpoints"].items():
        with open(os.path.join(path, entry["file"]), "rb") as f:
            exported = export.deserialize(bytearray(f.read()))
        endpoints[name] = ExportedEndpoint(name, exported, params, entry["inputs"])
    variables = [(v["trainable"], _from_storage(params[v["key"]], v["dtype"]))
                 for v in manifest["variables"]]
    collections = {}
    if manifest["variable_collections"]:
        with np.load(os.path.join(path, COLLECTIONS), allow_pickle=False) as stored:
            for cname, cdtypes in manifest["variable_collections"].items():
                collections[cname] = [_from_storage(jnp.asarray(stored[f"{cname}/{i}"]), d)
                                      for i, d in enumerate(cdtypes)]
    return LoadedArtifact(path, manifest, endpoints, variables, collections)
