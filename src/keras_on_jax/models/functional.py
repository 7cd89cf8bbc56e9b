"""Functional models: a graph of layer and op calls from `keras.Input`s to outputs.

The graph's operations are layers and `keras.Operation`s (the nodes `keras.ops`
functions, operators and slices record on KerasTensors); `model.layers` lists the layers,
`model.operations` all of them, in Keras's order.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax import serialization
from keras_on_jax.backend import dtypes
from keras_on_jax.layers.layer import Layer, _flatten
from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.models.model import Model
from keras_on_jax.ops.function import fill_in, map_graph, run_nodes, structure_like
from keras_on_jax.training.data_adapters import densify_sparse


@jax.tree_util.register_pytree_node_class
class HostPreprocessed(tuple):
    """A batch whose host-only leading layers have already run (see `_host_preprocess`).

    It holds the inputs of the compiled part of a Functional model, in the order of its
    host plan's `device_inputs`. It is a pytree, so it travels through `jax.jit`, the
    step's `lax.scan` and the data distribution unchanged; `Functional.call` recognizes it
    and runs only the graph nodes after the host layers.
    """

    def tree_flatten(self):
        return tuple(self), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(children)


class _HostPlan:
    """How a Functional model splits into host-only leading layers and the compiled rest."""

    def __init__(self, host_nodes, device_nodes, device_inputs):
        self.host_nodes = host_nodes
        self.device_nodes = device_nodes
        self.device_inputs = device_inputs


def _is_string_dtype(dtype):
    return dtype in ("string", "str") or (
        isinstance(dtype, np.dtype) and dtype.kind in "OSU"
    )


class Functional(Model):
    """A model defined by its inputs and outputs: `keras.Model(inputs, outputs)`."""

    # Inputs must match the `Input`s' known dimensions but the batch size (a `Sequential`
    # checks ranks only, as Keras 3's does: see `Sequential.build`).
    _checks_input_dims = True

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, inputs, outputs, name=None, **kwargs):
        trainable = kwargs.pop("trainable", True)
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        if isinstance(inputs, dict):
            for k, v in inputs.items():
                if not isinstance(v, KerasTensor):
                    raise ValueError(f"Functional model inputs must be KerasTensors; received {k}={v!r}")
        for t in _flatten(inputs) + _flatten(outputs):
            if not isinstance(t, KerasTensor):
                raise ValueError(
                    "All `inputs` and `outputs` values of a Functional model must be KerasTensors "
                    f"(made by `keras.Input` and layer calls). Received: {t!r} (of type {type(t)})"
                )
        if not all(_is_input_tensor(t) for t in _flatten(inputs)):
            inputs, outputs = _clone_from_inputs(inputs, outputs)
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        flat_inputs = _flatten(inputs)
        flat_outputs = _flatten(outputs)
        self._input_tensors = flat_inputs
        self._output_tensors = flat_outputs
        nodes, layers = map_graph(flat_inputs, flat_outputs)
        self._graph_nodes = [n for n in nodes if not n.is_input]
        self._operations = layers
        self._functional_layers = [op for op in layers if isinstance(op, Layer)]
        self._tracked_attrs.append("_functional_layers")
        self.built = True
        self._build_shapes = structure_like(inputs, [t.shape for t in flat_inputs])

    @property
    def layers(self):
        return list(self._functional_layers)

    @property
    def operations(self):
        """The layers and ops of the graph, in the order of `get_config()["layers"]`."""
        return list(self._operations)

    @property
    def inputs(self):
        return list(self._input_tensors)

    @property
    def outputs(self):
        return list(self._output_tensors)

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def input_names(self):
        return [t._keras_history[0].name for t in self._input_tensors]

    @property
    def output_names(self):
        names = []
        for t in self._output_tensors:
            names.append(t._keras_history[0].name)
        return names

    def _standardize_inputs(self, inputs, host_ids=()):
        """Flat list of inputs, ranks and dtypes adjusted to the model's `Input`s.

        Inputs whose tensor id is in `host_ids` (read only by host layers) and strings stay
        NumPy arrays; the rest become JAX arrays.
        """
        flat_ref = self._input_tensors
        if isinstance(self._inputs_struct, dict):
            if not isinstance(inputs, dict):
                if len(flat_ref) == 1:
                    inputs = {next(iter(self._inputs_struct)): inputs}
                else:
                    raise ValueError(
                        f"Model '{self.name}' expects a dict of inputs with keys "
                        f"{list(self._inputs_struct)}. Received: {type(inputs)}"
                    )
            missing = [k for k in self._inputs_struct if k not in inputs]
            if missing:
                raise ValueError(
                    f"Model '{self.name}': missing input(s) {missing}. Received keys: {list(inputs)}"
                )
            flat = [inputs[k] for k in sorted(self._inputs_struct)]
        elif isinstance(inputs, dict):
            names = [t._keras_history[0].name for t in flat_ref]
            if all(n in inputs for n in names):
                flat = [inputs[n] for n in names]
            elif len(inputs) == len(flat_ref):
                flat = list(inputs.values())
            else:
                raise ValueError(
                    f"Model '{self.name}' expects inputs named {names}. Received keys: {list(inputs)}"
                )
        elif isinstance(inputs, (list, tuple)):
            flat = list(inputs)
        else:
            flat = [inputs]
        if len(flat) != len(flat_ref):
            raise ValueError(
                f'Layer "{self.name}" expects {len(flat_ref)} input(s), but it received '
                f"{len(flat)} input tensors."
            )
        out = []
        for x, ref in zip(flat, flat_ref):
            x = densify_sparse(x)
            if x is None:
                out.append(x)
                continue
            if isinstance(x, KerasTensor):
                out.append(x)
                continue
            if not hasattr(x, "dtype") or isinstance(x, np.ndarray) or id(ref) in host_ids:
                x = np.asarray(x)
                if x.dtype.kind in "OUS" or id(ref) in host_ids:
                    # Strings stay NumPy arrays (for host layers); ranks adjust as below.
                    if x.ndim == len(ref.shape) - 1 and ref.shape[-1] == 1:
                        x = np.expand_dims(x, -1)
                    elif x.ndim == len(ref.shape) + 1 and x.ndim > 1 and x.shape[-1] == 1:
                        x = np.squeeze(x, -1)
                    out.append(x)
                    continue
            x = jnp.asarray(x)
            if dtypes.standardize_dtype(x.dtype) != ref.dtype:
                try:  # int64 inputs are int32 arrays unless JAX's x64 mode is on
                    target = jax.dtypes.canonicalize_dtype(ref.dtype)
                except (TypeError, ValueError):
                    target = ref.dtype
                if x.dtype != target:
                    x = x.astype(target)
            shape = tuple(x.shape)
            ref_shape = ref.shape
            if len(shape) == len(ref_shape) - 1 and ref_shape[-1] == 1:
                x = jnp.expand_dims(x, -1)
            elif len(shape) == len(ref_shape) + 1 and shape[-1] == 1:
                x = jnp.squeeze(x, -1)
            shape = tuple(x.shape)
            # As Keras 3's input spec of a Functional model: the batch size is never checked.
            expected = (None, *ref_shape[1:]) if ref_shape else ref_shape
            if len(shape) != len(expected) or self._checks_input_dims and any(
                r is not None and s != r for s, r in zip(shape, expected)
            ):
                raise ValueError(
                    f"Input {len(out)} with name '{ref._keras_history.operation.name}' of "
                    f"layer '{self.name}' is incompatible with the layer: "
                    f"expected shape={expected}, found shape={shape}"
                )
            out.append(x)
        return out

    # ---- host-only leading layers (string preprocessing) -------------------------------------
    @property
    def _runs_on_host(self):
        """A model made only of host layers (e.g. a text-preprocessing sub-model) is one too."""
        nodes = self._graph_nodes
        return bool(nodes) and all(getattr(n.operation, "_runs_on_host", False) for n in nodes)

    def _host_plan(self):
        """Split the graph into its leading host-only layers and the compiled rest.

        Host nodes are calls of layers marked `_runs_on_host` (`StringLookup`,
        `IntegerLookup`, `TextVectorization`, `Hashing`, or a model made only of them) whose
        inputs are all model inputs or outputs of other host nodes. Returns None when there
        are none; otherwise a `_HostPlan` whose `device_inputs` are the tensors the
        compiled part starts from (model inputs it reads directly, and host outputs).
        """
        if "_host_plan_cache" in self.__dict__:
            return self.__dict__["_host_plan_cache"]
        available = {id(t) for t in self._input_tensors}
        host_nodes, device_nodes = [], []
        for node in self._graph_nodes:
            if getattr(node.operation, "_runs_on_host", False) and all(
                id(t) in available for t in node.input_tensors
            ):
                host_nodes.append(node)
                available.update(id(t) for t in node.output_tensors)
            else:
                device_nodes.append(node)
        plan = None
        if host_nodes:
            needed = {id(t) for n in device_nodes for t in n.input_tensors}
            needed.update(id(t) for t in self._output_tensors)
            candidates = list(self._input_tensors) + [
                t for n in host_nodes for t in n.output_tensors
            ]
            device_inputs, seen = [], set()
            for t in candidates:
                if id(t) in needed and id(t) not in seen:
                    seen.add(id(t))
                    device_inputs.append(t)
            plan = _HostPlan(host_nodes, device_nodes, device_inputs)
        self.__dict__["_host_plan_cache"] = plan
        return plan

    def _host_preprocess(self, x):
        """Run the model's leading host-only layers on the batch inputs `x` (NumPy).

        `fit`/`evaluate`/`predict` and the `*_on_batch` methods call this on each batch
        before the compiled step, which cannot carry strings; the step then receives a
        `HostPreprocessed` tuple of the numeric inputs of the rest of the graph, and
        `call` runs only that rest. Without host layers, `x` is returned unchanged.
        """
        plan = self._host_plan()
        if plan is None or x is None or isinstance(x, HostPreprocessed):
            return x
        by_id = {id(t): t for t in self._input_tensors}
        for t in plan.device_inputs:
            if id(t) in by_id and _is_string_dtype(t.dtype):
                users = [n.operation.name for n in plan.device_nodes
                         if any(u is t for u in n.input_tensors)]
                raise ValueError(
                    f"Model '{self.name}': input '{t.name}' has dtype string, but it is read by "
                    f"layer(s) {users}, which run inside the compiled step. Only layers that "
                    "run on the host (StringLookup, IntegerLookup, TextVectorization, "
                    "Hashing) can take string inputs; make them the first layers applied "
                    "to this input."
                )
        device_ids = {id(t) for t in plan.device_inputs}
        host_ids = {id(t) for t in self._input_tensors if id(t) not in device_ids}
        flat = self._standardize_inputs(x, host_ids=host_ids)
        values = {id(t): v for t, v in zip(self._input_tensors, flat)}
        for node in plan.host_nodes:
            args = fill_in(node.call_args, values)
            kwargs = fill_in(node.call_kwargs, values)
            outputs = node.operation(*args, **kwargs)
            for t, y in zip(node.output_tensors, _flatten(outputs)):
                values[id(t)] = y
        return HostPreprocessed(values[id(t)] for t in plan.device_inputs)

    def call(self, inputs, training=None, mask=None):
        if isinstance(inputs, HostPreprocessed):
            # The host layers already ran (see `_host_preprocess`): run the rest.
            plan = self._host_plan()
            values = {id(t): x for t, x in zip(plan.device_inputs, inputs)}
            return self._run_nodes(plan.device_nodes, values, training)
        flat = self._standardize_inputs(inputs)
        values = {id(t): x for t, x in zip(self._input_tensors, flat)}
        masks = _flatten(mask) if mask is not None else []
        if masks and len(masks) == len(flat):
            from keras_on_jax.layers.layer import set_keras_mask

            for x, m in zip(flat, masks):
                set_keras_mask(x, m)
        from keras_on_jax.models import placement

        if placement.spans_devices(self) and placement.is_concrete(flat):
            # `keras.device` scopes on 2+ devices: an eager call runs each part there.
            return placement.segmented_call(self, flat, training)
        return self._run_nodes(self._graph_nodes, values, training)

    def _is_placed(self):
        from keras_on_jax.models import placement

        return placement.is_placed(self)

    def _placed_function(self, kind, mode, groups):
        from keras_on_jax.models import placement

        return placement.make_function(self, kind, mode, groups)

    def _run_nodes(self, nodes, values, training):
        def call_node(node, values):
            args = fill_in(node.call_args, values)
            return node.operation(*args, **node_call_kwargs(node, values, training))

        run_nodes(nodes, values, call_node)
        flat_outputs = [values[id(t)] for t in self._output_tensors]
        return structure_like(self._outputs_struct, flat_outputs)

    def compute_output_spec(self, *args, **kwargs):
        return structure_like(
            self._outputs_struct,
            [KerasTensor(t.shape, t.dtype) for t in self._output_tensors],
        ) if _flatten(args) and all(
            isinstance(a, KerasTensor) and a.shape == r.shape
            for a, r in zip(_flatten(args[0]) if args else [], self._input_tensors)
        ) else super().compute_output_spec(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        return structure_like(self._outputs_struct, [t.shape for t in self._output_tensors])

    def get_layer(self, name=None, index=None):
        return Model.get_layer(self, name=name, index=index)

    def get_config(self):
        from keras_on_jax.models import functional_config

        return functional_config.functional_get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from keras_on_jax.models import functional_config

        return functional_config.functional_from_config(cls, config, custom_objects=custom_objects)


def _is_input_tensor(t):
    from keras_on_jax.layers.core.input_layer import InputLayer

    return t._keras_history is not None and isinstance(t._keras_history.operation, InputLayer)


def _clone_from_inputs(inputs, outputs):
    """A model whose inputs are intermediate tensors starts from new `Input`s named
    `<tensor name>CLONE` in their place, the graph between them and the outputs called
    again on those (as Keras 3's `clone_graph_nodes`): the layers that made the
    intermediate tensors stay outside the model, and its config names real inputs."""
    from keras_on_jax.layers.core.input_layer import Input

    flat_inputs, flat_outputs = _flatten(inputs), _flatten(outputs)
    nodes, _ = map_graph(flat_inputs, flat_outputs)
    new_inputs = [
        t if _is_input_tensor(t) else Input(batch_shape=t.shape, dtype=t.dtype,
                                             sparse=t.sparse, name=f"{t.name}CLONE")
        for t in flat_inputs
    ]
    values = {id(t): new for t, new in zip(flat_inputs, new_inputs)}

    def call_node(node, values):
        args = fill_in(node.call_args, values)
        return node.operation(*args, **fill_in(node.call_kwargs, values))

    run_nodes([n for n in nodes if not n.is_input], values, call_node)
    return (structure_like(inputs, new_inputs),
            structure_like(outputs, [values[id(t)] for t in flat_outputs]))


def node_call_kwargs(node, values, training):
    """The keyword arguments of `node`'s call, with the model's `training` where the node
    did not fix its own."""
    kwargs = fill_in(node.call_kwargs, values)
    signature = getattr(node.operation, "_call_signature", None)  # ops take no `training`
    if (training is not None and signature is not None and "training" in signature.parameters
            and not _explicit_training(node.operation, kwargs)):
        kwargs["training"] = training
    return kwargs


def _explicit_training(operation, kwargs):
    """Whether a node's recorded `training` was chosen by the user (`Dropout(...)(x,
    training=True)`, `base_model(x, training=False)`): it then holds whatever the model is
    called with, as the FAQ says. Keras 3 records every layer's default `training`
    (`Dropout` -> False, `RandomFlip` -> True) in the nodes it saves; a value equal to the
    call signature's default is such a record, and the model's own `training` wins."""
    value = kwargs.get("training")
    if value is None:
        return False
    param = operation._call_signature.parameters.get("training")
    default = None if param is None or param.default is inspect.Parameter.empty else param.default
    return value != default


# Keras 3 writes its Functional class by its source module.
serialization.register_public_class(Functional, "keras.src.models.functional", "Functional")
