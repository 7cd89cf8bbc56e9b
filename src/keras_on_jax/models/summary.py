"""`model.summary()`: Keras's table of layers, output shapes and parameter counts."""

from __future__ import annotations

import math
import shutil

import numpy as np


def _count(weights):
    return int(sum(math.prod(w.shape) for w in {id(w): w for w in weights}.values()))


def _memory(weights):
    return sum(math.prod(w.shape) * np.dtype(w.dtype).itemsize
               for w in {id(w): w for w in weights}.values())


def readable_memory_size(size):
    for unit in ["B", "KB", "MB", "GB", "TB", "PB"]:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _format_shape(layer):
    def fmt(shape):
        return "(" + ", ".join(str(d) for d in shape) + ")"

    if layer._inbound_nodes:
        outs = layer._inbound_nodes[-1].output_tensors
        shapes = [fmt(t.shape) for t in outs]
        return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"
    if getattr(layer, "_build_shapes", None) is not None:
        try:
            out = layer.compute_output_shape(layer._build_shapes)
            if isinstance(out, tuple) and all(d is None or isinstance(d, int) for d in out):
                return fmt(out)
            return str(out)
        except Exception:
            return "?"
    return "?"


def _is_sequential_like(model):
    from keras_on_jax.models.functional import Functional
    from keras_on_jax.models.sequential import Sequential

    if isinstance(model, Sequential):
        return True
    if not isinstance(model, Functional):
        return True
    for layer in model.operations:
        if len(layer._inbound_nodes) > 1:
            return False
        for node in layer._inbound_nodes:
            if len(node.input_tensors) > 1:
                return False
    return len(model.inputs) == 1 and len(model.outputs) == 1


def _connections(layer, model):
    parts = []
    for node in layer._inbound_nodes:
        for t in node.input_tensors:
            inbound, node_index, tensor_index = t._keras_history
            parts.append(f"{inbound.name}[{node_index}][{tensor_index}]")
    return ", ".join(parts) or "-"


def _wrap(text, width):
    text = str(text)
    lines = []
    while len(text) > width:
        lines.append(text[:width])
        text = text[width:]
    lines.append(text)
    return lines


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  expand_nested=False, show_trainable=False):
    sequential_like = _is_sequential_like(model)
    from keras_on_jax.models.sequential import Sequential

    # A Functional model lists its ops too (`model.operations`), as Keras 3 does.
    layers = model.layers if isinstance(model, Sequential) else (
        getattr(model, "operations", None) or getattr(model, "layers", []))
    if sequential_like:
        default_length, positions = 88, positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        align = ["left", "left", "right"]
    else:
        default_length, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        align = ["left", "left", "right", "left"]
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("center")
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    inner = [w - 3 for w in widths]

    def row_lines(fields):
        cells = [_wrap(f, w) for f, w in zip(fields, inner)]
        height = max(len(c) for c in cells)
        out = []
        for i in range(height):
            parts = []
            for cell, w, a in zip(cells, inner, align):
                text = cell[i] if i < len(cell) else ""
                parts.append(text.rjust(w) if a == "right" else (text.center(w) if a == "center" else text.ljust(w)))
            out.append("│ " + " │ ".join(parts) + " │")
        return out

    def fields_for(layer, prefix=""):
        if not hasattr(layer, "built"):  # an op: no weights
            params = "0"
        elif not layer.built:
            params = "0 (unbuilt)"
        else:
            params = f"{layer.count_params():,}"
        fields = [f"{prefix}{layer.name} ({type(layer).__name__})", _format_shape(layer), params]
        if not sequential_like:
            fields.append(_connections(layer, model))
        if show_trainable:
            fields.append(("Y" if layer.trainable else "N") if getattr(layer, "weights", None) else "-")
        return fields

    rows = []

    def add(layer, level=0):
        prefix = "   " * level + "└ " if level else ""
        rows.append(fields_for(layer, prefix))
        if expand_nested and getattr(layer, "layers", None):
            for sub in layer.layers:
                add(sub, level + 1)

    for layer in layers:
        add(layer)

    lines = [f'Model: "{model.name}"']
    lines.append("┏" + "┳".join("━" * (w - 1) for w in widths) + "┓")
    lines.extend(l.replace("│", "┃") for l in row_lines(header))
    lines.append("┡" + "╇".join("━" * (w - 1) for w in widths) + "┩")
    for i, fields in enumerate(rows):
        lines.extend(row_lines(fields))
        if i < len(rows) - 1:
            lines.append("├" + "┼".join("─" * (w - 1) for w in widths) + "┤")
    lines.append("└" + "┴".join("─" * (w - 1) for w in widths) + "┘")
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    opt = model.optimizer if getattr(model, "compiled", False) and getattr(model, "optimizer", None) is not None else None
    opt_vars = list(opt.variables) if opt is not None and getattr(opt, "built", False) else []
    total = _count(trainable) + _count(non_trainable) + _count(opt_vars)
    total_mem = _memory(trainable) + _memory(non_trainable) + _memory(opt_vars)
    lines.append(f" Total params: {total:,} ({readable_memory_size(total_mem)})")
    lines.append(f" Trainable params: {_count(trainable):,} ({readable_memory_size(_memory(trainable))})")
    lines.append(f" Non-trainable params: {_count(non_trainable):,} ({readable_memory_size(_memory(non_trainable))})")
    if opt_vars:
        lines.append(f" Optimizer params: {_count(opt_vars):,} ({readable_memory_size(_memory(opt_vars))})")
    text = "\n".join(lines)
    if print_fn is None:
        print(text)
    else:
        print_fn(text)
