"""`keras.utils.model_to_dot` / `keras.utils.plot_model`: a model's layer graph as a picture.

Drawing needs pydot (and graphviz for `plot_model`), as in Keras. When they are missing,
`plot_model` prints Keras's install message and returns `None` instead of raising (Keras
does that only inside IPython), so scripts that plot on the way (the Keras guides) still
run; see docs/differences.md.
"""

from __future__ import annotations

import os

import jax

try:
    import pydot
except ImportError:  # pragma: no cover - depends on the environment
    try:
        import pydot_ng as pydot
    except ImportError:
        try:
            import pydotplus as pydot
        except ImportError:
            pydot = None


def check_pydot():
    return pydot is not None


def check_graphviz():
    if not check_pydot():
        return False
    try:
        pydot.Dot.create(pydot.Dot())
        return True
    except (OSError, pydot.PydotException):
        return False


def _shape_of(structure, attr):
    leaves = jax.tree.leaves(structure, is_leaf=lambda x: hasattr(x, attr))
    values = [getattr(x, attr) for x in leaves]
    if not values:
        return None
    if isinstance(structure, dict):
        return ", ".join(f"{k}: {getattr(v, attr)}" for k, v in structure.items())
    return str(values[0]) if len(values) == 1 and not isinstance(structure, (list, tuple)) \
        else str(values)


def _map_ordered(fn, structure):
    """`fn` over a nested structure, keeping dict order (as keras.tree does)."""
    if isinstance(structure, dict):
        return {k: _map_ordered(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map_ordered(fn, v) for v in structure)
    return fn(structure)


def _activation_name(layer):
    act = layer.activation
    return getattr(act, "name", None) or getattr(act, "__name__", None) or str(act)


def _label(layer, show_layer_names, show_layer_activations, show_dtype, show_shapes,
           show_trainable):
    class_name = type(layer).__name__
    colspan = max(1, int(show_dtype) + int(show_trainable) + (2 if show_shapes else 0))
    title = f"<b>{layer.name}</b> ({class_name})" if show_layer_names else f"<b>{class_name}</b>"
    table = ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
             f'<tr><td colspan="{colspan}" bgcolor="black">'
             f'<font point-size="16" color="white">{title}</font></td></tr>')
    if show_layer_activations and getattr(layer, "activation", None) is not None:
        table += (f'<tr><td bgcolor="white" colspan="{colspan}"><font point-size="14">'
                  f"Activation: <b>{_activation_name(layer)}</b></font></td></tr>")
    cells = []
    if show_shapes:
        try:
            in_shape, out_shape = _shape_of(layer.input, "shape"), _shape_of(layer.output, "shape")
        except (ValueError, AttributeError):
            in_shape = out_shape = None
        if class_name != "InputLayer":
            cells.append(f"Input shape: <b>{in_shape or '?'}</b>")
        cells.append(f"Output shape: <b>{out_shape or '?'}</b>")
    if show_dtype:
        try:
            dtype = _map_ordered(lambda x: x.dtype, layer.output)
        except (ValueError, AttributeError):
            dtype = None
        cells.append(f"Output dtype: <b>{dtype or '?'}</b>")
    row = "".join(f'<td bgcolor="white"><font point-size="14">{c}</font></td>' for c in cells)
    if show_trainable and getattr(layer, "weights", None):
        color, text = ("forestgreen", "Trainable") if layer.trainable else ("firebrick", "Non-trainable")
        row += f'<td bgcolor="{color}"><font point-size="14" color="white"><b>{text}</b></font></td>'
    if row:
        table += f"<tr>{row}</tr>"
    return table + "</table>>"


def _add_edge(dot, src, dst):
    src_id, dst_id = str(id(src)), str(id(dst))
    if not dot.get_edge(src_id, dst_id):
        edge = pydot.Edge(src_id, dst_id)
        edge.set("penwidth", "2")
        dot.add_edge(edge)


def _is_model(layer):
    from keras_on_jax.models.functional import Functional
    from keras_on_jax.models.sequential import Sequential

    return isinstance(layer, (Functional, Sequential))


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False,
                 show_trainable=False, splines="ortho", **kwargs):
    """Convert a Keras model to dot format (a `pydot.Dot`, or a `pydot.Cluster` if `subgraph`)."""
    from keras_on_jax.models.functional import Functional
    from keras_on_jax.models.sequential import Sequential

    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.")
    if not check_pydot():
        raise ImportError("You must install pydot (`pip install pydot`) for model_to_dot to work.")
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")
    flags = dict(show_layer_names=show_layer_names, show_layer_activations=show_layer_activations,
                 show_dtype=show_dtype, show_shapes=show_shapes, show_trainable=show_trainable)

    def make_node(layer):
        node = pydot.Node(str(id(layer)), label=_label(layer, **flags))
        node.set("fontname", "Helvetica")
        node.set("border", "0")
        node.set("margin", "0")
        return node

    if isinstance(model, Sequential):
        layers = model.layers
    elif not isinstance(model, Functional):
        dot.add_node(make_node(model))  # a subclassed model is one box
        return dot
    else:
        layers = model.operations  # ops are boxes too, as in Keras 3
    for layer in layers:
        if expand_nested and _is_model(layer):
            dot.add_subgraph(model_to_dot(layer, show_shapes, show_dtype, show_layer_names, rankdir,
                                          expand_nested, subgraph=True,
                                          show_layer_activations=show_layer_activations,
                                          show_trainable=show_trainable))
        else:
            dot.add_node(make_node(layer))
    if isinstance(model, Sequential):
        if not expand_nested:
            for a, b in zip(layers, layers[1:]):
                _add_edge(dot, a, b)
            return dot
        layers = layers[1:]
    own_nodes = {id(n) for n in getattr(model, "_graph_nodes", ())}
    for layer in layers:
        for node in layer._inbound_nodes:
            if isinstance(model, Functional) and id(node) not in own_nodes:
                continue
            for input_index, tensor in enumerate(node.input_tensors):
                history = tensor._keras_history
                if history is None:
                    continue
                source, _, output_index = history
                destination = layer
                if expand_nested:
                    while _is_model(source):
                        source, _, output_index = source.outputs[output_index]._keras_history
                    while _is_model(destination):
                        if isinstance(destination, Functional) and not isinstance(destination, Sequential):
                            destination = destination.inputs[input_index]._keras_history[0]
                        else:
                            destination = destination.layers[0]
                _add_edge(dot, source, destination)
    return dot


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho", **kwargs):
    """Convert a Keras model to dot format and save it to `to_file`.

    Without pydot or graphviz this prints how to install them and returns `None`.
    """
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.")
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    from keras_on_jax.utils import io_utils

    if not check_pydot():
        io_utils.print_msg("You must install pydot (`pip install pydot`) for `plot_model` to work.")
        return None
    if not check_graphviz():
        io_utils.print_msg("You must install graphviz (see instructions at "
                           "https://graphviz.gitlab.io/download/) for `plot_model` to work.")
        return None
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines)
    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf":
        try:
            from IPython import display

            return display.Image(filename=to_file)
        except ImportError:
            pass
    return None
