"""Functional model configs: Keras 3's `args`/`kwargs` node format, and Keras 2's lists.

Writing follows Keras 3 (spec 2.3.6): each layer envelope gets `name` and
`inbound_nodes` (one `{"args", "kwargs"}` dict per call of the layer inside this model,
symbolic tensors as `__keras_tensor__` with `[layer, node, tensor]` history), and
`input_layers` / `output_layers` keep the user's structure (a nested Functional model's
node index is 1-based there). Reading accepts both that and Keras 2's
`[[name, node, tensor, kwargs], ...]` lists, where nested models count one extra node.
"""

from __future__ import annotations

import collections

from keras_on_jax import serialization
from keras_on_jax.models import keras2_ops
from keras_on_jax.ops.builtin_ops import resolve_op_class
from keras_on_jax.backend.keras_tensor import KerasTensor


def _operations(model):
    """The model's layers and ops (Keras writes both in `layers`)."""
    return getattr(model, "operations", None) or model.layers


_TF_OP_LAYERS = ("TFOpLambda", "SlicingOpLambda")


def _legacy_op_entry(envelope):
    """An op node of a legacy `.h5` config (Keras 3 writes them without a module, so
    `Add` could be the layer): ops' configs have no `trainable`, layers' always do."""
    config = envelope.get("config")
    if envelope.get("module") or not isinstance(config, dict) or "trainable" in config:
        return None
    cls = resolve_op_class(envelope["class_name"], None)
    return None if cls is None else cls.from_config(config)


def _model_nodes(model):
    return {id(n) for n in getattr(model, "_graph_nodes", [])}


def _kept_nodes(layer, node_ids):
    return [n for n in layer._inbound_nodes if id(n) in node_ids]


def _is_functional(layer):
    from keras_on_jax.models.functional import Functional

    return isinstance(layer, Functional)


def functional_get_config(model):
    from keras_on_jax.layers.core.input_layer import InputLayer

    node_ids = _model_nodes(model)
    for t in model._input_tensors:
        layer = t._keras_history[0]
        node_ids.add(id(layer._inbound_nodes[t._keras_history[1]]))
    kept_index = {}
    for layer in _operations(model):
        for i, node in enumerate(_kept_nodes(layer, node_ids)):
            kept_index[id(node)] = i

    def tensor_ref(t, outer=False):
        layer, node_index, tensor_index = t._keras_history
        node = layer._inbound_nodes[node_index]
        idx = kept_index.get(id(node), node_index)
        if outer and _is_functional(layer):
            idx += 1
        return [layer.name, idx, tensor_index]

    def ser_arg(value):
        if isinstance(value, KerasTensor):
            cfg = serialization.serialize_keras_object(value)
            if value._keras_history is not None:
                cfg["config"]["keras_history"] = tensor_ref(value)
            return cfg
        if isinstance(value, (list, tuple)):
            return [ser_arg(v) for v in value]
        if isinstance(value, dict):
            return {k: ser_arg(v) for k, v in value.items()}
        return serialization.serialize_keras_object(value)

    layer_configs = []
    for layer in _operations(model):
        entry = serialization.serialize_keras_object(layer)
        entry["name"] = layer.name
        nodes = []
        if not isinstance(layer, InputLayer):
            for node in _kept_nodes(layer, node_ids):
                nodes.append({"args": ser_arg(list(node.call_args)),
                              "kwargs": ser_arg(dict(node.call_kwargs))})
        entry["inbound_nodes"] = nodes
        layer_configs.append(entry)

    def struct(s):
        if isinstance(s, KerasTensor):
            return tensor_ref(s, outer=True)
        if isinstance(s, (list, tuple)):
            return [struct(x) for x in s]
        if isinstance(s, dict):
            return {k: struct(v) for k, v in s.items()}
        return s

    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layer_configs,
        "input_layers": struct(model._inputs_struct),
        "output_layers": struct(model._outputs_struct),
    }


def _is_ref(x):
    return (isinstance(x, (list, tuple)) and len(x) == 3 and isinstance(x[0], str)
            and isinstance(x[1], int) and isinstance(x[2], int))


class _Ref:
    __slots__ = ("layer", "node", "tensor")

    def __init__(self, layer, node, tensor):
        self.layer, self.node, self.tensor = layer, node, tensor


class _NotYet(Exception):
    """The output of call (layer name, node index) is not made yet."""


def _parse_k3_value(value):
    """Turn `__keras_tensor__` dicts into `_Ref`s; deserialize the rest lazily."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        h = value["config"].get("keras_history")
        if not h:
            raise ValueError(f"A symbolic tensor in a Functional config has no history: {value}")
        return _Ref(h[0], int(h[1]), int(h[2]))
    if isinstance(value, list):
        return [_parse_k3_value(v) for v in value]
    if isinstance(value, dict) and not ("class_name" in value and "config" in value):
        return {k: _parse_k3_value(v) for k, v in value.items()}
    return ("__raw__", value)


def _parse_node(node, layer_names, k2, keeps_structure=False):
    """Return (args, kwargs) with `_Ref`s, from a K3 dict node or a K2 list node.

    A Keras 2 node is a list of slots `[name, node, tensor(, kwargs)]`, one per input
    tensor; a TF-op layer (`keeps_structure`) writes a single input as the slot itself,
    and a constant input as `["_CONSTANT_VALUE", -1, value, kwargs]`.
    """
    if isinstance(node, dict):
        args = _parse_k3_value(node.get("args", []))
        kwargs = _parse_k3_value(node.get("kwargs", {}))
        return args, kwargs
    single = bool(node) and isinstance(node[0], str)
    slots = [node] if single else node
    refs = []
    kwargs = {}
    for slot in slots:
        if slot[0] == "_CONSTANT_VALUE":
            refs.append(("__raw__", slot[2]))
        else:
            refs.append(_Ref(slot[0], int(slot[1]), int(slot[2])))
        if len(slot) > 3 and slot[3]:
            kwargs = slot[3]

    def k2_kw(v):
        if _is_ref(v) and v[0] in layer_names:
            return _Ref(v[0], v[1], v[2])
        if isinstance(v, list) and v and all(_is_ref(x) and x[0] in layer_names for x in v):
            return [_Ref(x[0], x[1], x[2]) for x in v]
        return ("__raw__", v)

    kwargs = {k: k2_kw(v) for k, v in kwargs.items()}
    args = [refs[0]] if (single or (len(refs) == 1 and not keeps_structure)) else [refs]
    return args, kwargs


def _contains_k2_nodes(layer_configs):
    for entry in layer_configs:
        for node in entry.get("inbound_nodes", []) or []:
            if isinstance(node, list):
                return True
    return False


def functional_from_config(cls, config, custom_objects=None):
    from keras_on_jax.models.model import Model

    config = dict(config)
    layer_configs = config["layers"]
    k2 = _contains_k2_nodes(layer_configs) or config.get("_keras2", False)
    layers = {}
    order = []
    for entry in layer_configs:
        name = entry.get("name") or entry.get("config", {}).get("name")
        if entry.get("class_name") in _TF_OP_LAYERS:  # Keras 2: becomes keras.ops calls
            layers[name] = keras2_ops.TFOpCall(name, entry["config"]["function"])
            order.append(name)
            continue
        envelope = {k: v for k, v in entry.items() if k not in ("name", "inbound_nodes")}
        op = _legacy_op_entry(envelope)
        if op is not None:
            layers[name] = op
            order.append(name)
            continue
        layer = serialization.deserialize_keras_object(envelope, custom_objects=custom_objects)
        layers[name] = layer
        order.append(name)
    # In Keras 2 files, a nested model's first call is node 1 (its construction is node 0).
    def node_offset(layer_name, outer):
        layer = layers.get(layer_name)
        if layer is None:
            return 0
        if k2:
            return 1 if isinstance(layer, Model) else 0
        return 1 if outer and _is_functional(layer) else 0

    outputs = {}  # (layer_name, node_index) -> flat list of output tensors
    from keras_on_jax.layers.core.input_layer import InputLayer

    for name, layer in layers.items():
        if isinstance(layer, InputLayer):
            outputs[(name, 0)] = [layer.output]
    pending = {}
    for entry in layer_configs:
        name = entry.get("name") or entry.get("config", {}).get("name")
        nodes = entry.get("inbound_nodes", []) or []
        if isinstance(layers[name], InputLayer):
            continue
        keeps_structure = isinstance(layers[name], keras2_ops.TFOpCall)
        pending[name] = [_parse_node(n, layers, k2, keeps_structure) for n in nodes]
    done_count = {name: 0 for name in pending}

    def output(got, layer, node, tensor):
        if not 0 <= tensor < len(got):
            raise ValueError(f"Functional config of '{config.get('name')}' refers to output "
                             f"{tensor} of call {node} of layer '{layer}', which has "
                             f"{len(got)} output(s).")
        return got[tensor]

    def resolve(value):
        if isinstance(value, _Ref):
            idx = value.node - node_offset(value.layer, outer=False)
            got = outputs.get((value.layer, idx))
            if got is None:
                raise _NotYet((value.layer, idx))
            return output(got, value.layer, idx, value.tensor)
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, tuple) and value and value[0] == "__raw__":
            return serialization.deserialize_keras_object(value[1], custom_objects=custom_objects)
        return value

    # A call is made once its inputs exist: a queue of layers, each waiting on the call
    # output it misses, so any order of the layers in the file rebuilds in linear time.
    from keras_on_jax.layers.layer import _flatten

    queue = collections.deque(name for name in order if name in pending)
    queued = set(queue)
    waiting = {}  # (layer name, node index) -> layers whose next call needs its output
    while queue:
        name = queue.popleft()
        queued.discard(name)
        layer = layers[name]
        while done_count[name] < len(pending[name]):
            args, kwargs = pending[name][done_count[name]]
            try:
                r_args = resolve(args)
                r_kwargs = resolve(kwargs)
            except _NotYet as missing:
                waiting.setdefault(missing.args[0], []).append(name)
                break
            out = layer(*r_args, **r_kwargs)
            outputs[(name, done_count[name])] = _flatten(out)
            for waiter in waiting.pop((name, done_count[name]), ()):
                if waiter not in queued:
                    queue.append(waiter)
                    queued.add(waiter)
            done_count[name] += 1
    stuck = [n for n in pending if done_count[n] < len(pending[n])]
    if stuck:
        needs = {waiter: key for key, waiters in waiting.items() for waiter in waiters}
        details = "; ".join(
            f"'{n}' needs call {needs[n][1]} of '{needs[n][0]}'"
            + ("" if needs[n][0] in layers else " (no such layer)")
            for n in stuck if n in needs)
        raise ValueError(
            "The graph of the Functional model either has loops or disconnected nodes: "
            f"could not rebuild the calls of layers {stuck} of model "
            f"'{config.get('name')}' ({details})."
        )

    def struct(s):
        if _is_ref(s):
            idx = s[1] - node_offset(s[0], outer=True)
            got = outputs.get((s[0], idx))
            if got is None:
                raise ValueError(
                    f"Functional config of '{config.get('name')}' refers to node {s[1]} of "
                    f"layer '{s[0]}', which does not exist."
                )
            return output(got, s[0], idx, s[2])
        if isinstance(s, (list, tuple)):
            return [struct(x) for x in s]
        if isinstance(s, dict):
            return {k: struct(v) for k, v in s.items()}
        return s

    inputs = struct(config["input_layers"])
    outs = struct(config["output_layers"])
    # Keras 2 always writes lists; a one-element list means a single tensor.
    if k2 or not _is_ref(config["input_layers"]):
        if isinstance(inputs, list) and len(inputs) == 1 and k2:
            inputs = inputs[0]
    if isinstance(outs, list) and len(outs) == 1 and k2:
        outs = outs[0]
    from keras_on_jax.models.functional import Functional

    target = cls if isinstance(cls, type) and issubclass(cls, Functional) else Functional
    kwargs = {"name": config.get("name")}
    if "trainable" in config:
        kwargs["trainable"] = config["trainable"]
    return target(inputs=inputs, outputs=outs, **kwargs)
