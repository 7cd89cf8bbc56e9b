"""`keras.Function`: a graph of operations from input KerasTensors to outputs, callable.

The graph helpers here (`map_graph`, `fill_in`, `run_nodes`, ...) are the ones a
Functional model runs on too; `Function` is the stateless part of it, as in Keras 3:

```python
x1 = keras.KerasTensor((None, 3))
x2 = keras.KerasTensor((None, 3))
fn = keras.Function([x1, x2], keras.ops.sigmoid(x1 + x2))
fn([np.ones((4, 3)), np.ones((4, 3))])   # arrays in, arrays out
fn([keras.Input((3,)), keras.Input((3,))])   # KerasTensors in: a graph node
```
"""

from __future__ import annotations

import collections

import jax

from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.ops.operation import Operation


def flatten(structure):
    """The KerasTensors (or values) of a nested structure, in `jax.tree` order."""
    return jax.tree.leaves(structure, is_leaf=lambda x: isinstance(x, KerasTensor))


def structure_like(structure, flat):
    """Rebuild `structure` (lists/tuples/dicts of KerasTensors) from `flat`, in the
    order `jax.tree` flattens it (dict keys sorted) — the order of every flat list here.
    Dicts come back with `structure`'s key order, as Keras 3 returns them."""
    flat = list(flat)
    if isinstance(structure, KerasTensor):
        return flat[0]
    treedef = jax.tree.structure(structure, is_leaf=lambda x: isinstance(x, KerasTensor))
    return _keys_ordered_as(structure, jax.tree.unflatten(treedef, flat))


def _keys_ordered_as(structure, value):
    if isinstance(structure, dict):
        return {k: _keys_ordered_as(structure[k], value[k]) for k in structure}
    if isinstance(structure, (list, tuple)) and isinstance(value, (list, tuple)):
        items = [_keys_ordered_as(s, v) for s, v in zip(structure, value)]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    return value


def fill_in(structure, values):
    """`structure` with each KerasTensor replaced by `values[id(tensor)]`."""
    if isinstance(structure, KerasTensor):
        return values[id(structure)]
    if isinstance(structure, (list, tuple)):
        return type(structure)(fill_in(s, values) for s in structure)
    if isinstance(structure, dict):
        return {k: fill_in(v, values) for k, v in structure.items()}
    return structure


def leaves_like(reference, value):
    """The leaves of `value` where `reference` (a structure of KerasTensors) has its
    KerasTensors, in `jax.tree` order; ValueError when the structures differ (lists and
    tuples are interchangeable, as in Keras)."""
    if isinstance(reference, KerasTensor):
        if type(value) in (list, tuple) or isinstance(value, dict):
            raise ValueError(f"expected one tensor, received {type(value).__name__}")
        return [value]
    if isinstance(reference, dict):
        if not isinstance(value, dict) or set(value) != set(reference):
            raise ValueError(f"expected a dict with keys {sorted(reference)}")
        return [leaf for k in sorted(reference) for leaf in leaves_like(reference[k], value[k])]
    if isinstance(reference, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(reference):
            raise ValueError(f"expected a sequence of {len(reference)}")
        return [leaf for r, v in zip(reference, value) for leaf in leaves_like(r, v)]
    return []


def _build_map(flat_inputs, flat_outputs):
    """Nodes from the inputs to the outputs, depth first, and the operations in
    traversal order. A declared input ends the walk: the call that made an intermediate
    input is not part of the graph (as in Keras 3)."""
    # An explicit stack, not recursion: a chain of thousands of layers is a valid graph
    # (and a file may describe one).
    finished, in_progress = set(), set()
    nodes_in_decreasing_depth = []
    operation_indices = {}
    input_ids = {id(t) for t in flat_inputs}
    stack = []

    def enter(tensor):
        if tensor._keras_history is None:
            if id(tensor) in input_ids:
                return  # a bare `KerasTensor` given as an input
            raise ValueError(
                f"Graph disconnected: tensor {tensor} is not one of the inputs and was "
                "not made by a Keras layer or operation from them."
            )
        operation, node_index, _ = tensor._keras_history
        node = operation._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if not node.is_input and id(tensor) in input_ids:
            finished.add(id(node))
            return
        if id(node) in in_progress:
            raise ValueError(
                f"Tensor {tensor} from operation '{operation.name}' is part of a cycle."
            )
        if id(operation) not in operation_indices:
            operation_indices[id(operation)] = (len(operation_indices), operation)
        in_progress.add(id(node))
        stack.append((node, iter(node.input_tensors)))

    for out in flat_outputs:
        enter(out)
        while stack:
            node, parents = stack[-1]
            tensor = next(parents, None)
            if tensor is not None:
                enter(tensor)
                continue
            stack.pop()
            finished.add(id(node))
            in_progress.discard(id(node))
            nodes_in_decreasing_depth.append(node)
    return nodes_in_decreasing_depth, operation_indices


def map_graph(flat_inputs, flat_outputs):
    """Return `(nodes in execution order, operations in Keras order)` of a graph.

    The nodes include those of the graph's `InputLayer`s; an `InputLayer` fed by none of
    the inputs means the graph is disconnected (ValueError)."""
    nodes, operation_indices = _build_map(flat_inputs, flat_outputs)
    node_ids = {id(n) for n in nodes}
    node_depth, op_depth = {}, {}
    for node in reversed(nodes):
        depth = node_depth.setdefault(id(node), 0)
        depth = max(depth, op_depth.get(id(node.operation), 0))
        op_depth[id(node.operation)] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            if id(parent) in node_ids:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in flat_inputs:
        if t._keras_history is None:
            continue
        operation, node_index, _ = t._keras_history
        node = operation._inbound_nodes[node_index]
        if node.is_input and id(operation) not in op_depth:
            # An input nothing reads still belongs to the graph (losses may use it).
            op_depth[id(operation)] = 0
            operation_indices[id(operation)] = (-1, operation)
            nodes.append(node)
            node_depth[id(node)] = 0
    by_depth = collections.defaultdict(list)
    for node in nodes:
        by_depth[node_depth[id(node)]].append(node)
    ordered_nodes = [n for d in sorted(by_depth, reverse=True) for n in by_depth[d]]
    ops_by_depth = collections.defaultdict(list)
    for oid, depth in op_depth.items():
        ops_by_depth[depth].append(operation_indices[oid])
    operations = []
    for d in sorted(ops_by_depth, reverse=True):
        operations.extend(op for _, op in sorted(ops_by_depth[d], key=lambda p: p[0]))
    input_op_ids = {id(t._keras_history[0]) for t in flat_inputs if t._keras_history is not None}
    for node in ordered_nodes:
        if node.is_input and id(node.operation) not in input_op_ids:
            raise ValueError(
                f"Graph disconnected: cannot find the value of tensor "
                f"{node.output_tensors[0]} at layer '{node.operation.name}'. The following "
                "previous layers were accessed without issue: "
                f"{[op.name for op in operations if id(op) in input_op_ids]}"
            )
    return ordered_nodes, operations


def run_nodes(nodes, values, call_node):
    """Run the graph's `nodes` in order: `values` maps tensor ids to values (the inputs
    on entry, every computed tensor on return); `call_node(node, values)` computes one
    node's outputs. A node whose inputs are not all known is skipped."""
    for node in nodes:
        if any(id(t) not in values for t in node.input_tensors):
            continue
        outputs = call_node(node, values)
        for t, y in zip(node.output_tensors, flatten(outputs)):
            values[id(t)] = y
    return values


class Function(Operation):
    """A computation graph of Keras operations, reapplied to new inputs (`keras.Function`).

    Like a Functional model, but stateless: it tracks no variables and is not a layer.

    Args:
        inputs: a `KerasTensor` or nested structure (list, tuple, dict) of them.
        outputs: a `KerasTensor` or nested structure of them, computable from `inputs`.
        name: the name of the function.
    """

    def __init__(self, inputs, outputs, name=None):
        super().__init__(name=name)
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._inputs = flatten(inputs)
        self._outputs = flatten(outputs)
        for what, flat in (("inputs", self._inputs), ("outputs", self._outputs)):
            if not flat:
                raise ValueError(
                    f"`{what}` argument cannot be empty. Received:\ninputs={inputs}\n"
                    f"outputs={outputs}"
                )
            for x in flat:
                if not isinstance(x, KerasTensor):
                    raise ValueError(
                        f"All `{what}` values must be KerasTensors. Received: {what}="
                        f"{inputs if what == 'inputs' else outputs} including invalid "
                        f"value {x!r} of type {type(x)}"
                    )
        nodes, self._operations = map_graph(self._inputs, self._outputs)
        self._nodes = [n for n in nodes if not n.is_input]

    @property
    def operations(self):
        return list(self._operations)

    @property
    def inputs(self):
        """Flat list of the symbolic inputs of the Function."""
        return self._inputs

    @property
    def outputs(self):
        """Flat list of the symbolic outputs of the Function."""
        return self._outputs

    def call(self, inputs):
        """Computes the outputs for new inputs (arrays)."""
        flat = self._assert_input_compatibility(inputs)
        return self._run_through_graph(flat, lambda op: op)

    def compute_output_spec(self, inputs):
        flat = self._assert_input_compatibility(inputs)
        if all(x.shape == ref.shape for x, ref in zip(flat, self._inputs)):
            return structure_like(
                self._outputs_struct, [KerasTensor(t.shape, t.dtype) for t in self._outputs]
            )
        return self._run_through_graph(flat, lambda op: op.compute_output_spec)

    def compute_output_shape(self, input_shape):
        shapes = leaves_like(self._inputs_struct, _shapes_as_leaves(input_shape))
        specs = [KerasTensor(s, ref.dtype, sparse=ref.sparse)
                 for s, ref in zip(shapes, self._inputs)]
        spec = self.compute_output_spec(structure_like(self._inputs_struct, specs))
        return jax.tree.map(lambda t: t.shape, spec,
                            is_leaf=lambda x: isinstance(x, KerasTensor))

    def _run_through_graph(self, flat_inputs, operation_fn):
        values = {id(t): x for t, x in zip(self._inputs, flat_inputs)}

        def call_node(node, values):
            args = fill_in(node.call_args, values)
            return operation_fn(node.operation)(*args, **fill_in(node.call_kwargs, values))

        run_nodes(self._nodes, values, call_node)
        return structure_like(self._outputs_struct, [values[id(t)] for t in self._outputs])

    def _assert_input_compatibility(self, inputs):
        try:
            flat = leaves_like(self._inputs_struct, inputs)
        except ValueError:
            raise ValueError(
                "Function was called with an invalid input structure. Expected input "
                f"structure: {self._inputs_struct}\nReceived input structure: {inputs}"
            ) from None
        for x, ref in zip(flat, self._inputs):
            shape = tuple(getattr(x, "shape", ()))
            if len(shape) != len(ref.shape) or any(
                d is not None and r is not None and d != r for d, r in zip(shape, ref.shape)
            ):
                raise ValueError(
                    f"{type(self).__name__} was passed incompatible inputs. For input "
                    f"'{ref.name}', expected shape {ref.shape}, but received instead a "
                    f"tensor with shape {shape}."
                )
        return flat


class _Shape(tuple):
    """A shape held as one leaf while an input-shape structure is matched to inputs."""


def _shapes_as_leaves(structure):
    if isinstance(structure, (list, tuple)) and all(
        d is None or isinstance(d, int) for d in structure
    ):
        return _Shape(structure)
    if isinstance(structure, dict):
        return {k: _shapes_as_leaves(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_shapes_as_leaves(v) for v in structure]
    return structure


__all__ = ["Function", "map_graph", "run_nodes", "fill_in", "structure_like", "flatten"]
