"""The `<weight>_initializer`, `<weight>_regularizer` and `<weight>_constraint` arguments
that Keras layers take for each of their weights (`kernel`, `bias`, ...). Not public."""

from __future__ import annotations

from keras_on_jax import constraints, initializers, regularizers

_KINDS = (("initializer", initializers), ("regularizer", regularizers), ("constraint", constraints))


def option_names(weights):
    """The argument names: each weight's initializer, then regularizers, then constraints."""
    return tuple(f"{weight}_{kind}" for kind, _ in _KINDS for weight in weights)


def set_weight_options(layer, weights, arguments):
    """Resolve `arguments["<w>_initializer"]`, `["<w>_regularizer"]` and `["<w>_constraint"]`
    (a constructor's `locals()` will do) for each name `w` in `weights` into attributes of
    `layer` with those names: all initializers first, then regularizers, then constraints."""
    for kind, module in _KINDS:
        for weight in weights:
            key = f"{weight}_{kind}"
            setattr(layer, key, module.get(arguments[key]))


def weight_options_config(layer, weights, activity_regularizer=False):
    """The options as config entries in Keras's order: the initializers, the regularizers
    (then the layer's `activity_regularizer`, when asked), the constraints."""
    config = {}
    for kind, module in _KINDS:
        for weight in weights:
            key = f"{weight}_{kind}"
            config[key] = module.serialize(getattr(layer, key))
        if kind == "regularizer" and activity_regularizer:
            config["activity_regularizer"] = regularizers.serialize(layer._activity_regularizer)
    return config
