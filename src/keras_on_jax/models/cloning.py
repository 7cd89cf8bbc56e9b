"""`keras.models.clone_model`: the same architecture with new weights."""

from __future__ import annotations

from keras_on_jax.backend.keras_tensor import KerasTensor
from keras_on_jax.layers.core.input_layer import Input, InputLayer


def _default_clone(layer):
    return layer.__class__.from_config(layer.get_config())


def _map(structure, fn):
    if isinstance(structure, KerasTensor):
        return fn(structure)
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map(s, fn) for s in structure)
    if isinstance(structure, dict):
        return {k: _map(v, fn) for k, v in structure.items()}
    return structure


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """Clone a Sequential or Functional model: new layers (new weights), same graph.

    Args:
        model: the model to clone.
        input_tensors: optional `keras.Input` tensors to build the clone on.
        clone_function: `layer -> new layer` (default: `from_config(get_config())`).
        call_function: `(layer, *args, **kwargs) -> outputs`, to change how layers are
            called in the clone.
        recursive: also clone the layers inside nested Sequential/Functional models.
    """
    from keras_on_jax.models.functional import Functional
    from keras_on_jax.models.sequential import Sequential

    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s) for clone_model: {sorted(kwargs)}")
    clone_function = clone_function or _default_clone
    cache = {}

    def cloned(layer):
        if id(layer) not in cache:
            if recursive and isinstance(layer, (Sequential, Functional)):
                cache[id(layer)] = clone_model(layer, clone_function=clone_function,
                                               call_function=call_function, recursive=True)
            else:
                cache[id(layer)] = clone_function(layer)
        return cache[id(layer)]

    if isinstance(model, Sequential):
        layers = [cloned(l) for l in model.layers]
        if input_tensors is not None:
            inputs = input_tensors[0] if isinstance(input_tensors, (list, tuple)) else input_tensors
            new = Sequential([InputLayer(input_tensor=inputs)] + layers, name=model.name)
        elif model._functional is not None:
            first = model._seq_layers[0]
            new = Sequential([Input(batch_shape=first.batch_shape, dtype=first.dtype)] + layers,
                             name=model.name)
        else:
            new = Sequential(layers, name=model.name)
        return new
    if not isinstance(model, Functional):
        raise ValueError(
            "Arguments clone_function and input_tensors are only supported for Sequential "
            "and Functional models; to clone a subclassed model, use "
            f"`model.__class__.from_config(model.get_config())`. Received: {type(model)}"
        )
    tensor_map = {}
    flat_inputs = model.inputs
    if input_tensors is not None:
        given = list(input_tensors) if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(given) != len(flat_inputs):
            raise ValueError(
                f"clone_model: expected {len(flat_inputs)} input tensors, received {len(given)}."
            )
        for old, new in zip(flat_inputs, given):
            tensor_map[id(old)] = new
    else:
        for old in flat_inputs:
            layer = old._keras_history[0]
            tensor_map[id(old)] = Input(batch_shape=old.shape, dtype=old.dtype, name=layer.name)
    for node in model._graph_nodes:
        layer = cloned(node.operation)
        args = _map(node.call_args, lambda t: tensor_map[id(t)])
        kwargs = _map(node.call_kwargs, lambda t: tensor_map[id(t)])
        outputs = call_function(layer, *args, **kwargs) if call_function else layer(*args, **kwargs)
        flat_new = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        from keras_on_jax.layers.layer import _flatten

        for old, new in zip(node.output_tensors, _flatten(flat_new)):
            tensor_map[id(old)] = new
    new_inputs = _map(model._inputs_struct, lambda t: tensor_map[id(t)])
    new_outputs = _map(model._outputs_struct, lambda t: tensor_map[id(t)])
    return Functional(new_inputs, new_outputs, name=model.name)
