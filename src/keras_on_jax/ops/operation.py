"""`keras.Operation`: a computation that records a graph node when called on KerasTensors.

Every built-in op (`keras.ops.add`, `x + y`, `x[:, 0]`, ...) is an `Operation` subclass
made from one line of `ops/op_table.py` (see `ops/builtin_ops.py`); users subclass it
directly, as in Keras 3:

```python
class Scale(keras.Operation):
    def __init__(self, factor, name=None):
        super().__init__(name=name)
        self.factor = factor

    def call(self, x):
        return x * self.factor

y = Scale(2.0)(keras.Input((3,)))   # a KerasTensor; the call is a graph node
```

Called on arrays, an operation runs `call`; called on KerasTensors (anywhere in the
arguments), it infers the outputs with `compute_output_spec` and records a `Node`.
"""

from __future__ import annotations

import inspect

from keras_on_jax.backend import naming
from keras_on_jax.backend.keras_tensor import Node, has_symbolic_args
from keras_on_jax.ops.output_specs import compute_output_spec, with_context

# Values Keras's automatic config keeps (anything else makes `get_config` explicit).
_AUTO_CONFIG_TYPES = (str, int, float, bool, type(None))


class Operation:
    """Base class of Keras operations (`keras.Operation`).

    Subclasses implement `call(*args, **kwargs)` and, when shapes cannot be inferred by
    tracing `call`, `compute_output_spec(*args, **kwargs)` returning KerasTensors.
    `get_config` is automatic when the constructor takes only plain Python values.
    """

    _keras_names = ("keras", None)  # how files name this base class (module, registered)

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        if cls.get_config is Operation.get_config:
            instance._auto_config = _auto_config(cls, args, kwargs)
        return instance

    def __init__(self, name=None):
        if name is None:
            name = naming.auto_name(naming.to_snake_case(type(self).__name__))
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name} (of type {type(name)})"
            )
        self.name = name
        self._inbound_nodes = []
        self._outbound_nodes = []

    def __call__(self, *args, **kwargs):
        if has_symbolic_args(args, kwargs):
            return self.symbolic_call(*args, **kwargs)
        return self.call(*args, **kwargs)

    def symbolic_call(self, *args, **kwargs):
        """Infer the outputs of a call on KerasTensors and record it as a graph node."""
        outputs = self.compute_output_spec(*args, **kwargs)
        Node(self, call_args=args, call_kwargs=kwargs, outputs=outputs)
        return outputs

    def call(self, *args, **kwargs):
        raise NotImplementedError(
            f"Operation {type(self).__name__} does not have a `call()` method implemented."
        )

    def compute_output_spec(self, *args, **kwargs):
        try:
            return compute_output_spec(self.call, *args, **kwargs)
        except Exception as e:
            raise with_context(
                e,
                "Could not automatically infer the output shape / dtype of "
                f"'{self.name}' (of type {type(self).__name__}). Either the "
                f"`{type(self).__name__}.call()` method is incorrect, or you need to "
                f"implement the `{type(self).__name__}.compute_output_spec() / "
                f"compute_output_shape()` method. Error encountered:\n\n{e}"
            ) from e

    # ---- config ------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name}
        if type(self).get_config is not Operation.get_config:
            return config  # a subclass's own get_config extends this
        if getattr(self, "_auto_config", None) is None:
            raise NotImplementedError(
                f"Object {type(self).__name__} was created by passing non-serializable "
                "argument values in `__init__()` (or positional-only / variadic "
                "arguments), and therefore the object must override `get_config()` in "
                "order to be serializable. Please implement `get_config()`."
            )
        config.update(self._auto_config)
        params = inspect.signature(type(self).__init__).parameters
        takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
        if "name" not in params and not takes_kwargs:
            config.pop("name")
        return config

    @classmethod
    def from_config(cls, config):
        try:
            return cls(**config)
        except Exception as e:
            raise TypeError(
                f"Error when deserializing class '{cls.__name__}' using config={config}.\n\n"
                f"Exception encountered: {e}"
            ) from e

    # ---- graph access ------------------------------------------------------------------
    @property
    def input(self):
        """The input tensor(s) of the first call on symbolic inputs."""
        return self._node_attribute(0, "input_tensors", "input")

    @property
    def output(self):
        """The output tensor(s) of the first call on symbolic inputs."""
        return self._node_attribute(0, "output_tensors", "output")

    def _node_attribute(self, node_index, attr, what):
        if not self._inbound_nodes:
            raise AttributeError(
                f"The layer {self.name} has never been called and thus has no defined {what}."
            )
        if len(self._inbound_nodes) <= node_index:
            raise ValueError(
                f"Asked to get {what} at node {node_index}, but the operation has only "
                f"{len(self._inbound_nodes)} inbound nodes."
            )
        values = getattr(self._inbound_nodes[node_index], attr)
        return values[0] if len(values) == 1 else values

    def __repr__(self):
        return f"<Operation name={self.name}>"


def _auto_config(cls, args, kwargs):
    """The constructor arguments (defaults applied, `name` dropped) when they are all
    plain Python values, as Keras records them for `get_config`; None otherwise."""
    try:
        sig = inspect.signature(cls.__init__)
        bound = sig.bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if any(p.kind is p.POSITIONAL_ONLY for p in params[1:]):
        return None
    bound.apply_defaults()
    config = dict(bound.arguments)
    config.pop(params[0].name)
    config.pop("name", None)
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            config.update(config.pop(p.name, {}))
        elif p.kind is p.VAR_POSITIONAL and config.pop(p.name, ()):
            return None
    if not all(isinstance(v, _AUTO_CONFIG_TYPES) for v in _leaves(config)):
        return None
    return config


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


__all__ = ["Operation", "compute_output_spec"]
