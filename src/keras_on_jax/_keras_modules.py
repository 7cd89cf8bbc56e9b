"""Which of our packages holds the objects of each public Keras module.

Declared to the serialization core from the door (`keras_on_jax/__init__.py` runs this
first), so the core itself names no package above it. A declared package is imported
only when a lookup needs it: losses, metrics and optimizers still load lazily.

The order is the search order for envelopes that name no known module (Keras 2 files):
`Identity` is the layer before the initializer, `MeanSquaredError` the loss before the
metric. Built-in functions are looked up in declaration order too.
"""

from keras_on_jax.serialization import register_class_resolver, register_namespace

register_namespace("keras.layers", "keras_on_jax.layers", serves=("keras",))
register_namespace("keras.models", "keras_on_jax.models", serves=("keras",), writes=False)
register_namespace("keras.optimizers", "keras_on_jax.optimizers")
register_namespace("keras.optimizers.schedules", "keras_on_jax.optimizers.schedules")
register_namespace("keras.activations", "keras_on_jax.activations", functions=True)
register_namespace("keras.losses", "keras_on_jax.losses", functions=True)
register_namespace("keras.metrics", "keras_on_jax.metrics", functions=True)
register_namespace("keras.initializers", "keras_on_jax.initializers", functions=True)
register_namespace("keras.regularizers", "keras_on_jax.regularizers", functions=True)
register_namespace("keras.constraints", "keras_on_jax.constraints", functions=True)
register_namespace("keras", "keras_on_jax.backend.dtype_policies", serves=("keras.dtype_policies",))
register_namespace("keras.random", "keras_on_jax.backend.random")
register_namespace("keras.random", "keras_on_jax.random", searched=False)
register_namespace("keras.quantizers", "keras_on_jax.quantizers")


def _op_class(class_name, module):
    # Op classes are made on first use from the op table (ops/op_table.py).
    from keras_on_jax.ops.builtin_ops import resolve_op_class

    return resolve_op_class(class_name, module)


# Op nodes of Functional graphs (`keras.src.ops.numpy` `Add`, the `Operation` base).
register_class_resolver(_op_class, module_prefixes=("keras.src.ops.", "keras.ops.", "keras_on_jax.ops."),
                        class_names=("Operation",))
