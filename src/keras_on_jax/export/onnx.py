"""`format="onnx"`: an ONNX file written by jax2onnx from the traced function.

As Keras 3 does on JAX: the function is traced with a symbolic batch axis named `batch`,
weights become ONNX initializers, inputs are named as Keras names them
(`signatures.input_names`). A JAX primitive that jax2onnx cannot convert is reported with
the layer or the op node (`keras.ops` on KerasTensors) that used it.
"""

from __future__ import annotations

import functools
import logging
import re

import jax
import jax.numpy as jnp

from keras_on_jax.backend import scopes
from keras_on_jax.export import signatures

# Libraries some jax2onnx plugins convert (their own modules, never a Keras model's).
# jax2onnx imports every plugin on first use and logs a traceback for each whose library
# is missing; those lines are noise for a Keras export.
_PLUGIN_LIBRARIES = frozenset({"equinox", "dm_pix"})
_MISSING_PRIMITIVE = re.compile(r"No plugins registered for primitive '([^']+)'")
_SCOPE = "keras_on_jax_layer_{}"
_SCOPE_RE = re.compile(r"keras_on_jax_layer_(\d+)")


class _MissingPluginLibraryFilter(logging.Filter):
    def filter(self, record):
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, ModuleNotFoundError) and exc.name in _PLUGIN_LIBRARIES)


# jax2onnx 0.17 lowers `!=` (`keras.ops.not_equal`, Keras masks) to Equal -> Not and leaves
# the Equal's result untyped; onnx_ir then logs a warning for each such value as it skips
# its (optional) shape annotation. ONNX infers the type; the file is complete.
_UNTYPED_VALUE_MESSAGE = "The value type for shape %s is not known."


class _UntypedValueFilter(logging.Filter):
    def filter(self, record):
        return not str(record.msg).startswith(_UNTYPED_VALUE_MESSAGE)


def import_jax2onnx():
    try:
        import jax2onnx
    except ImportError as e:
        raise ImportError(
            "Exporting to ONNX (format='onnx') needs the `jax2onnx` package (with `onnx` and "
            "`onnx-ir`), which could not be imported: "
            f"{e}. Install them with `pip install onnx onnx-ir && "
            "pip install --no-deps jax2onnx==0.17.1`, or export with format='jax'."
        ) from e
    for name, log_filter in (("jax2onnx.plugins.plugin_system", _MissingPluginLibraryFilter),
                             ("onnx_ir.serde", _UntypedValueFilter)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, log_filter) for f in logger.filters):
            logger.addFilter(log_filter())
    return jax2onnx


def write(endpoint, filepath, what, layers=(), opset_version=None):
    """Write `endpoint` (an `archive.Endpoint`) as the ONNX file `filepath`.

    `what` names the exported object in errors; `layers` (and the op nodes of their
    Functional graphs) are searched for the one that used an unsupported primitive.
    """
    jax2onnx = import_jax2onnx()
    all_layers = _all_layers(layers)
    _check_no_host_layers(all_layers, what)
    operations = _all_operations(all_layers)
    signature = endpoint.signature
    inputs = [jax.ShapeDtypeStruct(dims, jnp.dtype(spec.dtype))
              for dims, spec in zip(signatures.dim_names(signature),
                                    signatures.flat_specs(signature))]

    def traced(*flat_inputs):
        args = signatures.pack_args(signature, flat_inputs)
        # Variables are read as constants (ONNX initializers); a state update made by the
        # function goes to the scope and is dropped.
        with scopes.StatelessScope():
            return endpoint.fn(*args)

    kwargs = {"input_names": signatures.input_names(signature), "return_mode": "proto"}
    if opset_version is not None:
        kwargs["opset"] = int(opset_version)
    try:
        model = jax2onnx.to_onnx(traced, inputs=inputs, **kwargs)
    except Exception as e:
        explained = _explain(e, what, traced, signature, operations)
        if explained is None:
            raise
        raise explained from e
    import onnx

    from keras_on_jax.export import onnx_graph

    onnx.save_model(onnx_graph.fix_for_onnxruntime(model), str(filepath))


def _explain(error, what, traced, signature, operations):
    """An error saying what could not be exported and where, or None to let `error` be."""
    version = _version("jax2onnx")
    if type(error).__name__ == "InconclusiveDimensionOperation":
        # jax2onnx traces with a symbolic batch size; some computations need it concrete.
        operation = _failing_operation(error)
        where = f" in {_describe(operation.name, operation)}" if operation else ""
        return ValueError(
            f"Cannot export {what} to ONNX with a variable batch size: tracing failed{where}. "
            "Give `input_signature` a fixed batch size (for example "
            "`keras.InputSpec(shape=(1, ...), dtype=...)`) or export with format='jax'. "
            f"JAX reported: {error}"
        )
    match = _MISSING_PRIMITIVE.search(str(error))
    eqn = _failing_equation(error)
    if match is None and eqn is None:
        if not isinstance(error, NotImplementedError):
            return None
        return NotImplementedError(
            f"Cannot export {what} to ONNX: jax2onnx {version} cannot convert it: {error} "
            "Export with format='jax' (any JAX program) instead."
        )
    primitive = match.group(1) if match else eqn.primitive.name
    users = _operations_using(primitive, eqn, traced, signature, operations)
    if users:
        where = "used by " + ", ".join(_describe(path, op) for path, op in users)
    else:
        where = f"used outside any layer of {what}"
    problem = "has no conversion for" if match else "could not convert"
    detail = "" if match else ": " + str(error).strip().rstrip(".")
    return NotImplementedError(
        f"Cannot export {what} to ONNX: jax2onnx {version} {problem} the JAX primitive "
        f"'{primitive}', {where}{detail}. Write that computation with other operations, "
        "or export with format='jax' (any JAX program)."
    )


def _describe(path, operation):
    """`layer 'model/dense' (Dense)` or, for an op node, `op 'model/fft' (FFT)`."""
    from keras_on_jax.layers.layer import Layer

    kind = "layer" if isinstance(operation, Layer) else "op"
    return f"{kind} '{path}' ({type(operation).__name__})"


def _failing_operation(error):
    """The innermost layer or op whose `call` is on the traceback of `error`, or None."""
    from keras_on_jax.ops.operation import Operation

    found, tb = None, error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        owner = frame.f_locals.get("self")
        if frame.f_code.co_name == "call" and isinstance(owner, Operation):
            found = owner
        tb = tb.tb_next
    return found


def _failing_equation(error):
    """The innermost JAX equation jax2onnx was lowering when `error` was raised (found
    on the traceback), or None when the error came from elsewhere."""
    from jax.extend.core import JaxprEqn

    found, tb = None, error.__traceback__
    while tb is not None:
        eqn = tb.tb_frame.f_locals.get("eqn")
        if isinstance(eqn, JaxprEqn):
            found = eqn
        tb = tb.tb_next
    return found


def _version(distribution):
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(unknown version)"


def _all_layers(roots):
    seen, out = set(), []
    for root in roots:
        for layer in root._flatten_layers():
            if id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
    return out


def _all_operations(layers):
    """The layers, then the op nodes of the Functional graphs among them."""
    from keras_on_jax.layers.layer import Layer

    ops = [op for layer in layers for op in getattr(layer, "_operations", ())
           if not isinstance(op, Layer)]
    return list(layers) + list({id(op): op for op in ops}.values())


def _check_no_host_layers(layers, what):
    for layer in layers:
        if getattr(layer, "_runs_on_host", False):
            raise ValueError(
                f"Cannot export {what}: layer '{layer.name}' ({type(layer).__name__}) runs "
                "on the host (it processes strings or Python values with NumPy), so it "
                "cannot be part of an exported graph. Export the part of the model after it "
                "and apply the layer in the serving code."
            )


def _operations_using(primitive, eqn, traced, signature, operations):
    """`(path, operation)` for each innermost layer or op node whose `call` emitted
    `primitive` (on the operands of `eqn`, when given): the function is traced again
    with each one's `call` inside a `jax.named_scope`, and the name stacks of the
    matching equations are read back."""
    for index, operation in enumerate(operations):
        # An instance attribute shadows the class's `call` (removed below).
        object.__setattr__(operation, "call", _scoped(operation.call, _SCOPE.format(index)))
    try:
        closed = jax.make_jaxpr(traced)(*signatures.symbolic_structs(signature))
    except Exception:  # the diagnosis is best effort: the caller reports the primitive
        return []
    finally:
        for operation in operations:
            operation.__dict__.pop("call", None)
    stacks = list(_name_stacks_of(closed.jaxpr, primitive, ""))
    if eqn is not None:
        same = [(stack, e) for stack, e in stacks if _operands(e) == _operands(eqn)]
        stacks = same or stacks
    found = []
    for stack, _ in stacks:
        indices = [int(i) for i in _SCOPE_RE.findall(stack)]
        if not indices:
            continue
        path = "/".join(operations[i].name for i in indices)
        if all(path != p for p, _ in found):
            found.append((path, operations[indices[-1]]))
    return found


def _operands(eqn):
    return [str(v.aval) for v in eqn.invars]


def _scoped(call, scope):
    @functools.wraps(call)
    def scoped(*args, **kwargs):
        with jax.named_scope(scope):
            return call(*args, **kwargs)

    return scoped


def _name_stacks_of(jaxpr, primitive, prefix):
    for eqn in jaxpr.eqns:
        stack = f"{prefix}/{eqn.source_info.name_stack}"
        if eqn.primitive.name == primitive:
            yield stack, eqn
        for value in eqn.params.values():
            for item in value if isinstance(value, (tuple, list)) else (value,):
                inner = getattr(item, "jaxpr", item)
                if hasattr(inner, "eqns"):
                    yield from _name_stacks_of(inner, primitive, stack)
