"""Rewrites of the ONNX graph jax2onnx writes, so that onnxruntime runs every node.

jax2onnx 0.17 lowers `lax.reduce_window_max` (Keras's max pooling) to a MaxPool over
*every* axis of the operand, with two unit axes put in front: channels-last 2D pooling
becomes a 4D MaxPool, which onnxruntime refuses ("Unsupported pooling size"; its kernels
pool 1 to 3 axes). Keras 3.15's own ONNX export on JAX writes the same node. Here such a
MaxPool becomes Transpose -> MaxPool over the pooled axes -> Transpose.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

_MAX_POOLED_AXES = 3  # what onnxruntime's MaxPool kernels accept


def fix_for_onnxruntime(model):
    """Rewrite `model` (an `onnx.ModelProto`) in place; returns it."""
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    for graph in list(_graphs(model.graph)):
        _rewrite_wide_max_pools(graph, opset)
    _drop_unused_initializers(model.graph)
    return model


def _drop_unused_initializers(graph):
    """Remove the constants no node reads any more (the rewritten Unsqueezes' axes)."""
    used = {name for g in _graphs(graph) for node in g.node for name in node.input}
    for g in _graphs(graph):
        used.update(v.name for v in (*g.input, *g.output))
    for g in _graphs(graph):
        unused = [i for i, init in enumerate(g.initializer) if init.name not in used]
        for i in reversed(unused):
            del g.initializer[i]


def _graphs(graph):
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _graphs(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _graphs(g)


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _rewrite_wide_max_pools(graph, opset):
    producers = {out: node for node in graph.node for out in node.output}
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers[name] = consumers.get(name, 0) + 1
    new_nodes, dropped = [], set()
    for node in graph.node:
        replacement = _split_max_pool(node, graph, opset, producers, consumers, dropped)
        new_nodes.extend(replacement if replacement is not None else [node])
    if not dropped:
        return
    kept = []
    for n in new_nodes:
        if n.output[0] not in dropped:
            copy = onnx.NodeProto()
            copy.CopyFrom(n)
            kept.append(copy)
    del graph.node[:]
    graph.node.extend(kept)
    infos = [v for v in graph.value_info if v.name not in dropped]
    if len(infos) != len(graph.value_info):
        copies = []
        for v in infos:
            copy = onnx.ValueInfoProto()
            copy.CopyFrom(v)
            copies.append(copy)
        del graph.value_info[:]
        graph.value_info.extend(copies)


def _unsqueezed_operand(value, producers, graph):
    """`(x, nodes)` when `value` is `Unsqueeze(Unsqueeze(x, [0]), [1])` (jax2onnx's
    pattern: the pooled operand with unit batch and channel axes put in front)."""
    chain, current = [], value
    for axis in (1, 0):
        node = producers.get(current)
        if node is None or node.op_type != "Unsqueeze":
            return None
        if _unsqueeze_axes(node, graph) != [axis]:
            return None
        chain.append(node)
        current = node.input[0]
    return current, chain


def _unsqueeze_axes(node, graph):
    """The axes of an Unsqueeze: an initializer input (opset 13+) or an attribute."""
    if len(node.input) >= 2:
        for init in graph.initializer:
            if init.name == node.input[1]:
                return [int(a) for a in numpy_helper.to_array(init).reshape(-1)]
        return None
    return list(_attrs(node).get("axes", [])) or None


def _split_max_pool(node, graph, opset, producers, consumers, dropped):
    if node.op_type != "MaxPool" or node.domain not in ("", "ai.onnx") or len(node.output) != 1:
        return None
    attrs = _attrs(node)
    kernel = list(attrs.get("kernel_shape", []))
    rank = len(kernel)
    if rank <= _MAX_POOLED_AXES or attrs.get("ceil_mode", 0) or attrs.get("storage_order", 0):
        return None
    if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        return None
    strides = list(attrs.get("strides", [1] * rank))
    pads = list(attrs.get("pads", [0] * 2 * rank))
    dilations = list(attrs.get("dilations", [1] * rank))
    pooled = [i for i in range(rank) if kernel[i] != 1 or strides[i] != 1 or dilations[i] != 1
              or pads[i] != 0 or pads[i + rank] != 0]
    kept = [i for i in range(rank) if i not in pooled]
    found = _unsqueezed_operand(node.input[0], producers, graph)
    if found is None or len(kept) < 2 or len(pooled) > _MAX_POOLED_AXES or not pooled:
        return None
    operand, unsqueezes = found
    # New layout: two unpooled axes (batch first, channels last where possible) in front.
    first = 0 if 0 in kept else kept[0]
    second = rank - 1 if rank - 1 in kept and rank - 1 != first else next(
        i for i in kept if i != first)
    spatial = [i for i in range(rank) if i not in (first, second)]
    perm = [first, second, *spatial]
    inverse = [int(i) for i in np.argsort(perm)]
    prefix = node.name or node.output[0]
    names = {k: f"{prefix}__{k}" for k in ("to_nc", "pooled", "back")}
    pool_attrs = {
        "kernel_shape": [kernel[i] for i in spatial],
        "strides": [strides[i] for i in spatial],
        "pads": [pads[i] for i in spatial] + [pads[i + rank] for i in spatial],
    }
    if any(dilations[i] != 1 for i in spatial):
        pool_attrs["dilations"] = [dilations[i] for i in spatial]
    nodes = [
        helper.make_node("Transpose", [operand], [names["to_nc"]], perm=perm,
                         name=f"{prefix}__transpose_in"),
        helper.make_node("MaxPool", [names["to_nc"]], [names["pooled"]],
                         name=f"{prefix}__pool", **pool_attrs),
        helper.make_node("Transpose", [names["pooled"]], [names["back"]], perm=inverse,
                         name=f"{prefix}__transpose_out"),
    ]
    # The original output keeps its (1, 1, ...) shape for the nodes that read it.
    if opset < 13:
        nodes.append(helper.make_node("Unsqueeze", [names["back"]], [node.output[0]],
                                      axes=[0, 1], name=f"{prefix}__unsqueeze"))
    else:
        axes_name = f"{prefix}__axes"
        graph.initializer.append(numpy_helper.from_array(np.array([0, 1], np.int64), axes_name))
        nodes.append(helper.make_node("Unsqueeze", [names["back"], axes_name], [node.output[0]],
                                      name=f"{prefix}__unsqueeze"))
    # The Unsqueezes that fed the old MaxPool go when nothing else reads them.
    for unsq in unsqueezes:
        if consumers.get(unsq.output[0], 0) == 1:
            dropped.add(unsq.output[0])
    return nodes
