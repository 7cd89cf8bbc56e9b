"""The Keras `Layer`, as a Flax NNX module.

A layer is an `nnx.Module` (graph mode, `pytree=False`), so `nnx.state(layer)` and
`nnx.split(layer)` see its `Variable`s. Everything Keras users rely on is here: lazy
`build(input_shape)`, `call(inputs, training=None, mask=None)`, `add_weight`, the weight
lists, recursive `trainable`, `add_loss`/`losses`, `get_config`/`from_config`, symbolic calls
on `KerasTensor`s (recording the graph of a Functional model), masks, and dtype policies.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from keras_on_jax.backend import dtype_policies, dtypes, naming, remat, scopes
from keras_on_jax.backend.random import SeedGenerator
from keras_on_jax.backend.variables import Variable, assign_values
from keras_on_jax.layers import compiled_call
from keras_on_jax.layers.input_spec import assert_input_compatibility
from keras_on_jax.ops.operation import Operation
from keras_on_jax.backend.keras_tensor import KerasTensor, Node, any_symbolic

_CALL_CONTEXT = threading.local()

# Attributes of the base class that hold graph bookkeeping, not sublayers or weights.
_NOT_TRACKED = frozenset({
    "_inbound_nodes", "_outbound_nodes", "_tracked_attrs", "_trainable_variables",
    "_non_trainable_variables", "_losses", "_build_shapes", "_call_signature",
    "_input_shape_arg", "_nodes_by_depth", "_output_tensors", "_input_tensors",
    "_functional", "_compile_state", "_trainer", "_layer_call_ctx", "input_spec",
    "_loss_tracker", "_metrics_list", "_compiled_trainable", "_history", "_operations",
})


class _CallContext:
    def __init__(self, training):
        self.training = training
        self.masks = {}


def _call_stack():
    stack = getattr(_CALL_CONTEXT, "stack", None)
    if stack is None:
        stack = []
        _CALL_CONTEXT.stack = stack
    return stack


def current_call_context():
    stack = _call_stack()
    return stack[-1] if stack else None


def get_keras_mask(x):
    """The mask a layer attached to its output `x` during the current call, if any."""
    if isinstance(x, KerasTensor):
        return x._keras_mask
    ctx = _call_stack()
    if ctx:
        entry = ctx[0].masks.get(id(x))
        if entry is not None and entry[0] is x:
            return entry[1]
    if _is_concrete_array(x):
        return getattr(x, "_keras_mask", None)
    return None


def _is_concrete_array(x):
    return isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer)


def set_keras_mask(x, mask):
    if isinstance(x, KerasTensor):
        x._keras_mask = mask
        return
    ctx = _call_stack()
    if ctx and mask is not None:
        ctx[0].masks[id(x)] = (x, mask)
    if _is_concrete_array(x) and _is_concrete_array(mask):
        # Eager outputs carry their mask as `x._keras_mask`, as in Keras 3 on JAX
        # (never on tracers: a mask computed in a compiled step must not outlive it).
        try:
            x._keras_mask = mask
        except AttributeError:
            pass


def _shape_of(x):
    if isinstance(x, KerasTensor):
        return x.shape
    if hasattr(x, "shape"):
        return tuple(x.shape)
    return tuple(np.shape(x))


def _map_structure(fn, structure):
    return jax.tree.map(fn, structure, is_leaf=lambda x: isinstance(x, KerasTensor) or x is None)


def _flatten(structure):
    return jax.tree.leaves(structure, is_leaf=lambda x: isinstance(x, KerasTensor))


def _iter_tracked(value):
    """Yield layers, variables and seed generators inside a (nested) attribute value."""
    if isinstance(value, (Layer, Variable, SeedGenerator)):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _iter_tracked(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _iter_tracked(v)


def _iter_instances(value, cls):
    """Yield the instances of `cls` in a (nested) attribute value."""
    if isinstance(value, cls):
        yield value
    elif type(value) in (list, tuple):
        for v in value:
            if isinstance(v, (cls, list, tuple, dict)):
                yield from _iter_instances(v, cls)
    elif type(value) is dict:
        for v in value.values():
            yield from _iter_instances(v, cls)


def _contains_trackable(value):
    if isinstance(value, (Layer, Variable, SeedGenerator)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_trackable(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_trackable(v) for v in value.values())
    return False


def _empty_container_from_user_code(value):
    """`self.blocks = []` (then `self.blocks.append(layer)`, in `__init__` or `build`) in a
    user's or a library's layer (KerasHub's ViT encoder): Keras 3 tracks what the list
    receives later, and so does `_tracked()`. This package's own bookkeeping containers
    (compiled-function caches, node lists) are not followed."""
    if not isinstance(value, (list, dict)) or value:
        return False
    caller = sys._getframe(2).f_globals.get("__name__", "")
    return not (caller == "keras_on_jax" or caller.startswith("keras_on_jax."))


def _build_in_own_scope(build):
    """`build` running in the layer's name scope and leaving it built, as Keras 3's build
    wrapper: a parent's `build` may build its sublayers directly (KerasHub's attention
    layers do), and their weights' paths still name every layer on the way."""

    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        with self._own_name_scope():
            if self.__dict__.get("_path") is None:
                self._path = scopes.current_path()
            out = build(self, *args, **kwargs)
        self.built = True
        return out

    wrapper._in_own_scope = True
    return wrapper


class Layer(Operation, nnx.Module, pytree=False):
    """Base class of all Keras layers.

    As in Keras 3, a layer is a `keras.Operation` (what a symbolic graph's nodes call)
    that owns state; `Layer` defines its own calling, configuration and graph access.

    Args:
        trainable: whether the layer's variables are trained.
        name: the layer name (unique names like `dense_1` are made by default).
        dtype: a dtype or dtype policy name (`"float32"`, `"mixed_float16"`, ...).
        activity_regularizer: a regularizer applied to the layer's output.
        input_shape / input_dim / batch_size / batch_input_shape: Keras 2 and Sequential
            conveniences declaring the expected input of a first layer.
    """

    def __init_subclass__(cls, **kwargs):
        # Every Keras layer is a graph-mode NNX module (not a JAX pytree): its attributes
        # hold Python structure (configs, sublayer lists, graph nodes) as Keras layers do.
        kwargs.setdefault("pytree", False)
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_in_own_scope", False):
            cls.build = _build_in_own_scope(build)

    def __init__(self, *, activity_regularizer=None, trainable=True, dtype=None,
                 autocast=True, name=None, **kwargs):
        input_shape = kwargs.pop("input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_size = kwargs.pop("batch_size", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        input_length = kwargs.pop("input_length", None)
        kwargs.pop("weights", None) if "weights" in kwargs and kwargs["weights"] is None else None
        for legacy in ("autocast",):
            kwargs.pop(legacy, None)
        if kwargs:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        # Attributes a subclass set before calling `super().__init__()` stay tracked.
        self._tracked_attrs = list(self.__dict__.get("_tracked_attrs", ()))
        self._trainable_variables = []
        self._non_trainable_variables = []
        self._losses = []
        self._inbound_nodes = []
        self._outbound_nodes = []
        self._build_shapes = None
        self.built = False
        self.input_spec = None
        self.supports_masking = False
        if name is None:
            name = naming.auto_name(naming.to_snake_case(type(self).__name__))
        elif not isinstance(name, str) or "/" in name:
            raise ValueError(
                f"Argument `name` must be a string without '/'. Received: name={name!r}"
            )
        self.name = name
        self._trainable = bool(trainable)
        self._path = None
        self._dtype_policy = dtype_policies.get(dtype)
        self._remat_mode = remat.get_current_remat_mode()
        self.supports_jit = True
        self.autocast = autocast
        self._activity_regularizer = None
        if activity_regularizer is not None:
            from keras_on_jax import regularizers

            self._activity_regularizer = regularizers.get(activity_regularizer)
        # Keras 2 / Sequential: a first layer may declare its input. As in Keras 3 it is
        # not part of `get_config` (a Sequential keeps it as its `InputLayer`).
        if batch_input_shape is not None:
            self._input_shape_arg = tuple(batch_input_shape)
        elif input_shape is not None or input_dim is not None:
            if input_shape is None:
                input_shape = (input_dim,)
                if input_length is not None:
                    input_shape = (input_length,)
            if isinstance(input_shape, int):
                input_shape = (input_shape,)
            self._input_shape_arg = (batch_size, *tuple(input_shape))
        else:
            self._input_shape_arg = None
        self._call_signature = inspect.signature(self.call)
        self.call_signature_parameters = list(self._call_signature.parameters)

    # ---- attribute tracking ---------------------------------------------------------
    def __setattr__(self, name, value):
        # NNX forbids mutating a module from inside a trace; Keras layers may set
        # attributes in `call` (under the compiled step), so assignment is plain Python.
        if name not in _NOT_TRACKED:
            if (
                (_contains_trackable(value) or _empty_container_from_user_code(value))
                and name not in self.__dict__.get("_tracked_attrs", ())
            ):
                # Before `Layer.__init__` too (KerasHub's models assign their layers first).
                self.__dict__.setdefault("_tracked_attrs", []).append(name)
            if not getattr(_CALL_CONTEXT, "stack", None):
                compiled_call.structure_changed()  # compiled eager calls start over
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        object.__delattr__(self, name)
        if "_tracked_attrs" in self.__dict__ and name in self._tracked_attrs:
            self._tracked_attrs.remove(name)

    def _tracked(self):
        seen = set()
        for attr in self.__dict__.get("_tracked_attrs", ()):
            value = self.__dict__.get(attr)
            for obj in _iter_tracked(value):
                if id(obj) not in seen and obj is not self:
                    seen.add(id(obj))
                    yield obj

    @property
    def _layers(self):
        return [obj for obj in self._tracked() if isinstance(obj, Layer)]

    def _flatten_layers(self, include_self=True, recursive=True):
        """This layer's sublayers, depth first, in Keras 3's order: a layer's own sublayers
        are visited last-tracked first (Keras's `deque.extendleft`). KerasHub numbers LoRA
        layers by this order in its `.lora.h5` files."""
        out = [self] if include_self else []
        seen = {id(self)}
        queue = list(self._layers)
        while queue:
            layer = queue.pop(0)
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            if recursive:
                queue = list(reversed(layer._layers)) + queue
        return out

    def _own_variables(self):
        own = list(self._trainable_variables) + list(self._non_trainable_variables)
        ids = {id(v) for v in own}
        for obj in self._tracked():
            if isinstance(obj, Variable) and id(obj) not in ids:
                own.append(obj)
                ids.add(id(obj))
        return own

    def _seed_generators(self):
        return [obj for obj in self._tracked() if isinstance(obj, SeedGenerator)]

    # ---- metrics held as attributes (Keras 3 tracks them like sublayers) ----------------
    def _own_metrics(self):
        """The `keras.metrics.Metric`s among this layer's attributes (also inside lists,
        tuples and dicts), in the order they were set."""
        module = sys.modules.get("keras_on_jax.metrics.metric")
        if module is None:  # no metric exists before the metrics package is imported
            return []
        out = []
        for name, value in self.__dict__.items():
            if name not in _NOT_TRACKED:
                for metric in _iter_instances(value, module.Metric):
                    if all(metric is not m for m in out):
                        out.append(metric)
        return out

    @property
    def metrics(self):
        """The metrics this layer and its sublayers hold as attributes (Keras 3)."""
        out = []
        for layer in self._flatten_layers():
            out.extend(m for m in layer._own_metrics() if all(m is not o for o in out))
        return out

    @property
    def metrics_variables(self):
        return [v for m in self.metrics for v in m.variables]

    # ---- saving hooks (Keras 3: overridable; `super().save_own_variables(store)` works) ----
    # A store is a dict-like object of arrays; the file format behind it lives in `io/`.
    def save_own_variables(self, store):
        """Saves the layer's own variables into `store` as `"0"`, `"1"`, ... ."""
        for i, v in enumerate(self._own_variables()):
            store[str(i)] = np.asarray(v.numpy())

    def load_own_variables(self, store):
        """Loads the layer's own variables from `store` (count and shapes are checked)."""
        variables = self._own_variables()
        if len(store.keys()) != len(variables):
            raise ValueError(
                f"Layer '{self.name}' expected {len(variables)} variables, but received "
                f"{len(store.keys())} variables during loading. "
                f"Expected: {[v.name for v in variables]}"
            )
        assign_values(variables, [store[str(i)] for i in range(len(variables))])

    # ---- weights -------------------------------------------------------------------------
    @property
    def weights(self):
        out, seen = [], set()
        for v in self._own_variables():
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        for layer in self._layers:
            for v in layer.weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    @property
    def variables(self):
        out, seen = [], set()

        def add(v):
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)

        for v in self._own_variables():
            add(v)
        for sg in self._seed_generators():
            add(sg.state)
        for layer in self._layers:
            for v in layer.variables:
                add(v)
        return out

    @property
    def trainable_variables(self):
        if not self.trainable:
            return []
        return [v for v in self.variables if v.trainable]

    @property
    def non_trainable_variables(self):
        if not self.trainable:
            return self.variables
        return [v for v in self.variables if not v.trainable]

    def get_weights(self):
        return [np.array(v.numpy()) for v in self.weights]

    def set_weights(self, weights):
        layer_weights = self.weights
        if len(layer_weights) != len(weights):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list "
                f"of length {len(weights)}, but the layer was expecting "
                f"{len(layer_weights)} weights."
            )
        for variable, value in zip(layer_weights, weights):
            value = np.asarray(value)
            if tuple(variable.shape) != tuple(value.shape):
                raise ValueError(
                    f"Layer {self.name} weight shape {variable.shape} is not compatible "
                    f"with provided weight shape {value.shape}."
                )
        for variable, value in zip(layer_weights, weights):
            variable.assign(value)

    def count_params(self):
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer "
                "isn't built. You can build it manually via: "
                f"`{self.name}.build(input_shape)`."
            )
        return int(sum(np.prod(v.shape) for v in self.weights))

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._trainable = value
        for v in self._trainable_variables:
            v.trainable = value
        for layer in self._layers:
            layer.trainable = value

    # ---- dtypes ---------------------------------------------------------------------------
    @property
    def path(self):
        """The layer's path among variable scopes (`"model/dense"`); None until built."""
        path = self.__dict__.get("_path")
        if path is None and self.built:
            return self.name  # built outside any scope (a model built at construction)
        return path

    @property
    def dtype_policy(self):
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        policy = dtype_policies.get(value)
        current = self.__dict__.get("_dtype_policy")
        if isinstance(current, dtype_policies.DTypePolicyMap) and self.path:
            if self.path in current:
                del current[self.path]
            current[self.path] = policy
        else:
            self._dtype_policy = policy
        # As Keras: giving a built float layer a quantized policy quantizes it.
        if policy.quantization_mode is not None and self.built and not getattr(
                self, "_is_quantized", False):
            self.quantize(policy.quantization_mode)

    def _policy(self):
        """The layer's own policy (its entry when the policy is a `DTypePolicyMap`)."""
        policy = self._dtype_policy
        if isinstance(policy, dtype_policies.DTypePolicyMap) and self.path:
            return policy[self.path]
        return policy

    @property
    def dtype(self):
        return self._policy().variable_dtype

    @property
    def compute_dtype(self):
        return self._policy().compute_dtype

    @property
    def variable_dtype(self):
        return self._policy().variable_dtype

    @property
    def input_dtype(self):
        """The dtype inputs are converted to (the compute dtype)."""
        return self.compute_dtype

    @property
    def quantization_mode(self):
        """The quantization mode of this layer (`"int8"`, ...), None if not quantized."""
        return self._policy().quantization_mode

    @property
    def activity_regularizer(self):
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value):
        from keras_on_jax import regularizers

        self._activity_regularizer = regularizers.get(value)

    # ---- quantization (implemented by Dense, EinsumDense, Embedding, ...) -----------------
    def quantize(self, mode=None, type_check=True, config=None):
        """Quantize the layer's weights (`"int8"`, `"int4"`, `"float8"`); only layers that
        implement quantization accept it (see `layers/core/quantized.py`)."""
        raise QuantizationNotSupported(
            f"Layer {type(self).__name__} ('{self.name}') does not support quantization. "
            "The layers that do are Dense, EinsumDense, Embedding and ReversibleEmbedding."
        )

    def quantized_build(self, input_shape, mode, config=None):
        raise QuantizationNotSupported(
            f"Layer {type(self).__name__} ('{self.name}') has no quantized variables to "
            f"build. Received: mode={mode}"
        )

    def quantized_call(self, *args, **kwargs):
        """`call` of a quantized layer: the `_<mode>_call` of its quantization mode."""
        method = getattr(self, f"_{self.quantization_mode}_call", None)
        if method is None:
            raise QuantizationNotSupported(
                f"Layer {type(self).__name__} ('{self.name}') cannot run in quantization "
                f"mode {self.quantization_mode!r}."
            )
        return method(*args, **kwargs)

    # ---- rematerialization ------------------------------------------------------------------
    def rematerialized_call(self, layer_call, *args, **kwargs):
        """`layer_call` wrapped as the layer's `RematScope` mode asks (or unchanged)."""
        return remat.rematerialized(self, layer_call, args, kwargs)

    def _own_name_scope(self):
        """This layer's name scope, unless it is already the innermost one: for a `build`
        that a parent's `build` calls directly (as Keras 3 allows), which `__call__` has not
        scoped."""
        path = scopes.current_path()
        if path == self.name or path.endswith("/" + self.name):
            return _nullcontext()
        return scopes.NameScope(self.name)

    # ---- weights creation -------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   autocast=True, regularizer=None, constraint=None, aggregation="none",
                   overwrite_with_gradient=False, name=None, **kwargs):
        """Create a weight Variable owned by this layer."""
        from keras_on_jax import constraints, initializers, regularizers

        if "use_resource" in kwargs or "synchronization" in kwargs or "experimental_autocast" in kwargs:
            kwargs = {k: v for k, v in kwargs.items() if k not in ("use_resource", "synchronization", "experimental_autocast")}
        if kwargs:
            raise TypeError(f"add_weight() got unexpected keyword arguments: {list(kwargs)}")
        shape = () if shape is None else shape
        dtype = dtypes.standardize_dtype(dtype or self.variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtypes.is_float_dtype(dtype) else "zeros"
        initializer = initializers.get(initializer)
        name = name or "variable"
        path = None
        if scopes.current_path().endswith(self.name):
            scope = _nullcontext()
        elif self.path:
            # After build (`enable_lora`, `quantize`): beside the layer's other weights.
            scope, path = _nullcontext(), f"{self.path}/{name}"
        else:
            scope = scopes.NameScope(self.name)
        with scope:
            if self.__dict__.get("_path") is None:
                self._path = scopes.current_path()
            variable = Variable(initializer, shape=shape, dtype=dtype, trainable=trainable,
                                autocast=autocast, name=name, aggregation=aggregation,
                                path=path)
        if overwrite_with_gradient:
            variable.set_metadata("keras_overwrite_with_gradient", True)
        return self._register_weight(variable, regularizers.get(regularizer),
                                     constraints.get(constraint))

    def _register_weight(self, variable, regularizer=None, constraint=None):
        if variable.trainable:
            self._trainable_variables.append(variable)
        else:
            self._non_trainable_variables.append(variable)
        if not self.trainable:
            # As Keras: a weight made by a frozen layer (`Dense(2, trainable=False)`) is
            # frozen too; it stays among the trainable ones, for `trainable = True` later.
            variable.trainable = False
        if regularizer is not None:
            self.__dict__.setdefault("_weight_regularizers", []).append((variable, regularizer))
        if constraint is not None:
            variable.set_metadata("keras_constraint", constraint)
        return variable

    def add_variable(self, shape, initializer, dtype=None, trainable=True, autocast=True,
                     regularizer=None, constraint=None, name=None):
        return self.add_weight(shape=shape, initializer=initializer, dtype=dtype,
                               trainable=trainable, autocast=autocast,
                               regularizer=regularizer, constraint=constraint, name=name)

    # ---- losses ---------------------------------------------------------------------------
    def add_loss(self, loss):
        """Add a scalar loss term (e.g. an activity regularization) to this layer."""
        scope = scopes.get_stateless_scope()
        if scope is not None and scope.collect_losses:
            scope.losses.append(loss)
        else:
            self._losses.append(loss)

    def _weight_regularization_losses(self):
        out = []
        for variable, regularizer in self.__dict__.get("_weight_regularizers", []):
            out.append(regularizer(variable.value))
        return out

    @property
    def losses(self):
        """Losses added by `add_loss` in the last call, plus weight regularization."""
        out = []
        scope = scopes.get_stateless_scope()
        if scope is not None and scope.collect_losses:
            out.extend(scope.losses)
        for layer in self._flatten_layers():
            if scope is None or not scope.collect_losses:
                out.extend(layer._losses)
            out.extend(layer._weight_regularization_losses())
        return out

    def _clear_losses(self):
        for layer in self._flatten_layers():
            layer._losses = []

    # ---- building -------------------------------------------------------------------------
    def build(self, input_shape=None):
        self.built = True

    def _maybe_build(self, args, kwargs):
        if self.built:
            return
        first = args[0] if args else next(iter(kwargs.values()), None)
        shapes = _map_structure(lambda x: _shape_of(x) if x is not None else None, first)
        if isinstance(first, dict):
            shapes = {k: _shape_of(v) for k, v in first.items()}
        # `build(self, foo_shape, bar_shape)`: the shapes of `call`'s `foo` and `bar`.
        shapes_dict = _build_shapes_dict(self, args, kwargs)
        if shapes_dict is not None:
            # Keras 3's build config: `input_shape` for one shape, else `shapes_dict`.
            shapes = (next(iter(shapes_dict.values())) if len(shapes_dict) == 1
                      else {"shapes_dict": shapes_dict})
        self._build_shapes = shapes
        with scopes.NameScope(self.name):
            self._path = scopes.current_path()
            if shapes_dict is not None:
                self.build(**shapes_dict)
            else:
                self.build(shapes)
        self.built = True
        compiled_call.structure_changed()  # built inside a call: compiled calls start over

    def build_from_config(self, config):
        shape = config.get("input_shape") if config else None
        shapes_dict = config.get("shapes_dict") if config else None
        if (shape is not None or shapes_dict is not None) and not self.built:
            with scopes.NameScope(self.name):
                self._path = scopes.current_path()
                if shapes_dict is not None:
                    shapes_dict = {k: _restore_shape(v) for k, v in shapes_dict.items()}
                    self.build(**shapes_dict)
                else:
                    self.build(_restore_shape(shape))
            self._build_shapes = (_restore_shape(shape) if shapes_dict is None
                                  else {"shapes_dict": shapes_dict})
        self.built = True

    def get_build_config(self):
        if isinstance(self._build_shapes, dict) and set(self._build_shapes) == {"shapes_dict"}:
            return dict(self._build_shapes)  # Keras 3's form for a multi-argument `build`
        if self._build_shapes is not None:
            return {"input_shape": self._build_shapes}
        return None

    # ---- calling -----------------------------------------------------------------------------
    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(
            f"Layer {type(self).__name__} does not have a `call()` method implemented."
        )

    def __call__(self, *args, **kwargs):
        record = getattr(_CALL_CONTEXT, "tape_record", None)  # set while a GradientTape records
        if record is not None:
            return record(self, args, kwargs)
        if any_symbolic((args, kwargs)):
            return self._symbolic_call(args, kwargs)
        if not getattr(_CALL_CONTEXT, "stack", None):
            outputs = compiled_call.call(self, args, kwargs)
            if outputs is not compiled_call._NOT_COMPILED:
                return outputs
        return self._eager_call(args, kwargs)

    def _resolve_training(self, kwargs):
        params = self._call_signature.parameters
        ctx = current_call_context()
        training = kwargs.get("training", None)
        if training is None and ctx is not None:
            training = ctx.training
        if "training" in params:
            if training is None:
                default = params["training"].default
                training = None if default is inspect.Parameter.empty else default
            kwargs["training"] = training
        else:
            kwargs.pop("training", None)
        return training

    def _eager_call(self, args, kwargs):
        args = list(args)
        if args and isinstance(args[0], (np.ndarray, float, int, np.generic)) and (
            np.asarray(args[0]).dtype.kind not in "OSU"  # strings stay NumPy (host layers)
        ):
            args[0] = jnp.asarray(args[0])
        first_name = _first_arg_name(self._call_signature, args, kwargs)
        first = args[0] if args else kwargs.get(first_name)
        if first is not None and self.input_spec is not None:
            assert_input_compatibility(self.input_spec, first, self.name)
        stack = _call_stack()
        training = self._resolve_training(kwargs)
        if "mask" in self._call_signature.parameters and kwargs.get("mask") is None and first is not None:
            mask = _map_structure(get_keras_mask, first)
            if any(m is not None for m in _flatten(mask)) or (mask is not None and not isinstance(mask, (list, tuple, dict))):
                kwargs["mask"] = mask
        _fill_named_masks(self._call_signature, args, kwargs)
        outer = not stack
        ctx = _CallContext(training) if outer else stack[-1]
        if not outer and "training" in kwargs:
            ctx = _CallContext(kwargs["training"])
            ctx.masks = stack[0].masks
        stack.append(ctx)
        try:
            if not self.built:
                self._maybe_build(args, kwargs)
                if first is not None and self.input_spec is not None:
                    assert_input_compatibility(self.input_spec, first, self.name)
            if outer:
                scopes.note_outer_layer_call(self)
                self._clear_losses()
            if (self.autocast and dtypes.is_float_dtype(self.compute_dtype)
                    and getattr(self, "_convert_input_args", True)):
                # As Keras 3: floating arrays among the arguments, positional or keyword,
                # are cast to the compute dtype (a layer may opt out, as Keras's
                # `_convert_input_args = False`; KerasHub's preprocessing layers do).
                args = [_cast_floats(a, self.compute_dtype) for a in args]
                kwargs.update((k, _cast_floats(v, self.compute_dtype)) for k, v in kwargs.items())
            call = self.quantized_call if self.quantization_mode is not None else self.call
            if self._remat_mode is not None:
                call = self.rematerialized_call(call, *args, **kwargs)
            with scopes.NameScope(self.name):
                if self.compute_dtype != self.variable_dtype:
                    with scopes.AutocastScope(self.compute_dtype):
                        outputs = call(*args, **kwargs)
                else:
                    outputs = call(*args, **kwargs)
            if self._activity_regularizer is not None:
                for out in _flatten(outputs):
                    self.add_loss(self._activity_regularizer(out))
            if _overrides(type(self), "compute_mask") or self.supports_masking:
                previous = kwargs.get("mask")
                if previous is None and "mask" not in self._call_signature.parameters and first is not None:
                    previous = _map_structure(get_keras_mask, first)  # as Keras: the inputs' mask
                out_mask = self.compute_mask(first, previous)
                if out_mask is not None:
                    if isinstance(outputs, (list, tuple)) and isinstance(out_mask, (list, tuple)):
                        for o, m in zip(outputs, out_mask):
                            set_keras_mask(o, m)
                    elif not isinstance(outputs, (list, tuple, dict)):
                        set_keras_mask(outputs, out_mask)
        finally:
            stack.pop()
        return outputs

    def _symbolic_call(self, args, kwargs):
        first = args[0] if args else kwargs.get(
            _first_arg_name(self._call_signature, args, kwargs), next(iter(kwargs.values())))
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, first, self.name)
        if not self.built:
            self._maybe_build(args, kwargs)
            if not _overrides(type(self), "build") and any(not l.built for l in self._layers):
                # As Keras 3: a layer without its own `build` builds the sublayers it holds
                # by running `call` on the symbolic inputs (an output shape given by
                # `compute_output_shape` would otherwise never run them).
                _trace_output_spec(self, args, kwargs)
            if self.input_spec is not None:
                assert_input_compatibility(self.input_spec, first, self.name)
        spec_kwargs = kwargs
        if "mask" in self._call_signature.parameters and kwargs.get("mask") is None:
            # As in Keras, `call` sees the inputs' mask while the output is inferred; the
            # node keeps the user's kwargs (the Functional run passes masks itself).
            in_mask = _map_structure(lambda x: getattr(x, "_keras_mask", None), first)
            if any(m is not None for m in _flatten(in_mask)):
                spec_kwargs = {**kwargs, "mask": in_mask}
        outputs = self.compute_output_spec(*args, **spec_kwargs)
        call_kwargs = dict(kwargs)
        node = Node(self, call_args=args, call_kwargs=call_kwargs, outputs=outputs)
        from keras_on_jax.distribute.device import current_device

        node.device = current_device()  # the `keras.device(...)` scope of this call
        # Symbolic masks, so that a Functional model knows which layers produce them.
        if _overrides(type(self), "compute_mask") or self.supports_masking:
            try:
                in_mask = _map_structure(lambda x: getattr(x, "_keras_mask", None), first)
                out_mask = self.compute_mask(first, in_mask)
            except Exception:  # mask inference is best effort at graph-building time
                out_mask = None
            if out_mask is not None and isinstance(outputs, KerasTensor):
                outputs._keras_mask = out_mask if isinstance(out_mask, KerasTensor) else KerasTensor(_shape_of(out_mask), "bool")
        return outputs

    def symbolic_call(self, *args, **kwargs):
        """The output KerasTensors of a call on KerasTensors (no graph node is recorded)."""
        return self.compute_output_spec(*args, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        """Infer output KerasTensors: `compute_output_shape` when defined, else by tracing."""
        first = args[0] if args else next(iter(kwargs.values()))
        if _overrides(type(self), "compute_output_shape"):
            # `compute_output_shape(self, foo_shape, bar_shape)`: shapes of `call`'s foo, bar.
            shapes_dict = _build_shapes_dict(self, args, kwargs, self.compute_output_shape)
            if shapes_dict is not None:
                out_shape = self.compute_output_shape(**shapes_dict)
            else:
                shapes = _map_structure(lambda x: _shape_of(x) if x is not None else None,
                                        first)
                if isinstance(first, dict):
                    shapes = {k: _shape_of(v) for k, v in first.items()}
                out_shape = self.compute_output_shape(shapes)
            dtype = self.compute_dtype
            if _is_shape(out_shape):
                return KerasTensor(out_shape, dtype=dtype)
            return _map_shapes(out_shape, lambda s: KerasTensor(s, dtype=dtype))
        return _trace_output_spec(self, args, kwargs)

    def compute_output_shape(self, input_shape):
        spec = self.compute_output_spec(
            _map_shapes(input_shape, lambda s: KerasTensor(s, dtype=self.compute_dtype))
        )
        return _map_structure(lambda t: t.shape, spec)

    def compute_mask(self, inputs, previous_mask=None):
        if not self.supports_masking:
            return None
        return previous_mask

    # ---- graph access -------------------------------------------------------------------------
    def _get_node_attribute(self, attr, what):
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer '{self.name}' has never been called and thus has no defined {what}."
            )
        # As Keras 3: the first call's tensors, also for a layer called again (a shared
        # layer, or the earlier layers of a `Sequential` rebuilt by each `add`).
        return self._get_at(0, attr)

    def _get_at(self, node_index, attr):
        node = self._inbound_nodes[node_index]
        if attr == "input":
            tensors = node.input_tensors
        else:
            tensors = node.output_tensors
        return tensors[0] if len(tensors) == 1 else tensors

    @property
    def input(self):
        return self._get_node_attribute("input", "input")

    @property
    def output(self):
        return self._get_node_attribute("output", "output")

    def get_input_at(self, node_index):
        return self._get_at(node_index, "input")

    def get_output_at(self, node_index):
        return self._get_at(node_index, "output")

    @property
    def input_shape(self):
        return _map_structure(lambda t: t.shape, self.input)

    @property
    def output_shape(self):
        return _map_structure(lambda t: t.shape, self.output)

    # ---- config ---------------------------------------------------------------------------------
    def get_config(self):
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": _serialize_dtype_policy(self.dtype_policy),
        }
        if self._activity_regularizer is not None:
            from keras_on_jax import regularizers

            config["activity_regularizer"] = regularizers.serialize(self._activity_regularizer)
        return config

    # Hooks of the serialization core: a layer nested in another object's config is left
    # for the owner's `from_config`, and Keras 2 keys are translated before `from_config`.
    _deserialize_nested_in_owner = True

    @classmethod
    def _translate_keras2_config(cls, config):
        from keras_on_jax.layers import legacy_config  # only loading needs it

        return legacy_config.translate_layer_config(cls, config, Layer)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = dtype_policies.get(config["dtype"])
        try:
            return cls(**config)
        except TypeError as e:
            raise TypeError(
                f"Error when deserializing class '{cls.__name__}' using config={config}.\n\n"
                f"Exception encountered: {e}"
            ) from e

    # ---- states -----------------------------------------------------------------------------------
    def reset_states(self):
        for layer in self._flatten_layers(include_self=False):
            if hasattr(layer, "reset_states"):
                layer.reset_states()

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    def __str__(self):  # as Keras 3 (`print(layer)`), not flax.nnx's multi-line tree
        return self.__repr__()

    # ---- the pure path ----------------------------------------------------------------------------
    def stateless_call(self, trainable_variables, non_trainable_variables, *args,
                       return_losses=False, **kwargs):
        """Call the layer as a pure function of the given variable values.

        Returns `(outputs, non_trainable_variables)`, or
        `(outputs, non_trainable_variables, losses)` with `return_losses=True`.
        """
        trainable = self.trainable_variables
        non_trainable = self.non_trainable_variables
        if len(trainable_variables) != len(trainable) or len(non_trainable_variables) != len(non_trainable):
            raise ValueError(
                f"Layer '{self.name}': stateless_call expects {len(trainable)} trainable and "
                f"{len(non_trainable)} non-trainable values; received "
                f"{len(trainable_variables)} and {len(non_trainable_variables)}."
            )
        mapping = list(zip(trainable, trainable_variables)) + list(zip(non_trainable, non_trainable_variables))
        with scopes.StatelessScope(mapping, collect_losses=True) as scope:
            outputs = self(*args, **kwargs)
            losses = list(scope.losses)
            for layer in self._flatten_layers():
                losses.extend(layer._weight_regularization_losses())
        new_non_trainable = []
        for v, old in zip(non_trainable, non_trainable_variables):
            new = scope.get_current_value(v)
            new_non_trainable.append(old if new is None else new)
        if return_losses:
            return outputs, new_non_trainable, losses
        return outputs, new_non_trainable


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _is_tensor_arg(value):
    """A JAX array, or a non-empty nested structure of only JAX arrays (and None)."""
    if isinstance(value, jax.Array):
        return True
    if isinstance(value, (list, tuple, dict)) and len(value) > 0:
        leaves = jax.tree.leaves(value, is_leaf=lambda x: x is None)
        return bool(leaves) and all(x is None or isinstance(x, jax.Array) for x in leaves) and any(
            isinstance(x, jax.Array) for x in leaves)
    return False


def _first_arg_name(signature, args, kwargs):
    """The name of `call`'s first argument when the call passes it by keyword (Keras 3's
    "first argument", whose mask propagates and which autocasts), else None."""
    if args or not kwargs:
        return None
    for name, param in signature.parameters.items():
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            return name if name in kwargs else None
    return None


def _fill_named_masks(signature, args, kwargs):
    """Keras's `{arg}_mask` convention: with several tensor arguments, a `call` argument
    named `<name>_mask` that is not given receives the mask attached to argument `<name>`
    (e.g. `query_mask` from `query`), as Keras 3's `Layer.__call__` does."""
    params = signature.parameters
    names = [n for n in params if n.endswith("_mask") and n[:-5] in params]
    if not names:
        return
    try:
        bound = signature.bind_partial(*args, **kwargs).arguments
    except TypeError:
        return
    tensors = {k: v for k, v in bound.items() if _is_tensor_arg(v)}
    if len(tensors) < 2:
        return
    for name in names:
        source = name[:-5]
        if source not in tensors or (name in bound and (bound[name] is not None or name not in kwargs)):
            continue  # given explicitly (positionally, or as a non-None keyword)
        mask = _map_structure(get_keras_mask, tensors[source])
        if any(m is not None for m in _flatten(mask)):
            kwargs[name] = mask


def _overrides(cls, method):
    base = getattr(Layer, method, None)
    return getattr(cls, method, None) is not base


def _is_shape(x):
    return isinstance(x, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer)) for d in x)


def _map_shapes(structure, fn):
    if _is_shape(structure):
        return fn(tuple(structure))
    if isinstance(structure, dict):
        return {k: _map_shapes(v, fn) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map_shapes(v, fn) for v in structure)
    return structure


def _build_shapes_dict(layer, args, kwargs, target=None):
    """For a `build` (or `compute_output_shape`, `target`) with several arguments
    (`build(self, decoder_sequence_shape, encoder_sequence_shape)`), Keras 3's keyword
    shapes: each `<name>_shape` is the shape of `call`'s tensor argument `<name>` (left out
    when not given). None for a one-argument method, which gets the first argument's shape."""
    target = layer.build if target is None else target
    names = [n for n, p in inspect.signature(target).parameters.items()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if len(names) <= 1:
        return None
    call_args = layer._call_signature.bind_partial(*args, **kwargs).arguments
    method = target.__name__
    shapes = {}
    for name in names:
        if not name.endswith("_shape") or name[:-len("_shape")] not in layer._call_signature.parameters:
            raise ValueError(
                f"For a `{method}()` method with more than one argument, all arguments "
                "should have a `_shape` suffix and match an argument from `call()`. E.g. "
                f"`{method}(self, foo_shape, bar_shape)` For layer '{type(layer).__name__}', "
                f"received `{method}()` argument `{name}`, which does not match a `call()` "
                "argument."
            )
        value = call_args.get(name[:-len("_shape")])
        if name != "mask_shape" and value is not None and all(
                hasattr(x, "shape") for x in _flatten(value)):
            shapes[name] = _map_structure(_shape_of, value)
    return shapes


def _restore_shape(shape):
    if isinstance(shape, dict):
        return {k: _restore_shape(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [tuple(s) for s in shape]
    return tuple(shape) if shape is not None else None


def _cast_floats(structure, dtype):
    def cast(x):
        if hasattr(x, "dtype") and not isinstance(x, KerasTensor) and jnp.issubdtype(x.dtype, jnp.floating) and x.dtype != dtype:
            return jnp.asarray(x).astype(dtype)
        return x

    return _map_structure(cast, structure)


def _serialize_dtype_policy(policy):
    return dtype_policies.serialize(policy)


class QuantizationNotSupported(ValueError):
    """A layer asked to quantize that cannot (`model.quantize` warns and skips it)."""


_PROBE_SIZES = (83, 89)


def build_eagerly(layer, args, kwargs):
    """Call `layer` once on concrete zeros (no trace), so lazily-created weights exist."""

    def to_zeros(x):
        if isinstance(x, KerasTensor):
            return jnp.zeros(tuple(1 if d is None else d for d in x.shape), dtype=x.dtype)
        if isinstance(x, jax.ShapeDtypeStruct):
            # float64 NumPy batches are float32 arrays unless JAX's x64 mode is on.
            return jnp.zeros(x.shape, dtype=jax.dtypes.canonicalize_dtype(x.dtype))
        return x

    z_args = _map_structure(to_zeros, args)
    z_kwargs = _map_structure(to_zeros, kwargs)
    with scopes.StatelessScope(_global_seed_mapping()):
        layer._eager_call(list(z_args), dict(z_kwargs))


def _global_seed_mapping():
    """Carry the global seed generator into a build-only stateless scope, so an unseeded
    `keras.random.*` in `call` (the guides' VAE `Sampling`) draws; the draw is discarded."""
    from keras_on_jax.backend import random as random_lib

    state = random_lib.global_seed_generator().state
    return [(state, state.value)]


def _trace_output_spec(layer, args, kwargs):
    """Infer output specs by tracing `call` with `jax.eval_shape`.

    Unknown dimensions are probed with two different sizes; an output dimension that
    changes with them is unknown (None) in the result.
    """
    leaves = _flatten((args, kwargs))
    has_none = any(isinstance(x, KerasTensor) and None in x.shape for x in leaves)

    seed_mapping = _global_seed_mapping()  # outside the trace: may create the generator

    def run(size):
        def to_struct(x):
            if isinstance(x, KerasTensor):
                shape = tuple(size if d is None else d for d in x.shape)
                return jax.ShapeDtypeStruct(shape, x.dtype)
            return x

        s_args = _map_structure(to_struct, args)
        s_kwargs = _map_structure(to_struct, kwargs)
        is_struct = lambda x: isinstance(x, jax.ShapeDtypeStruct)  # noqa: E731
        flat, treedef = jax.tree.flatten((s_args, s_kwargs), is_leaf=lambda x: is_struct(x) or x is None)
        positions = [i for i, x in enumerate(flat) if is_struct(x)]

        def fn(*arrays):
            filled = list(flat)
            for i, a in zip(positions, arrays):
                filled[i] = a
            a, k = jax.tree.unflatten(treedef, filled)
            with scopes.StatelessScope(seed_mapping):
                with scopes.SymbolicScope():
                    return layer._eager_call(a, dict(k))

        return jax.eval_shape(fn, *[flat[i] for i in positions])

    def run_guarded(size):
        with scopes.SpecTracingScope():
            return run(size)

    try:
        try:
            first = run_guarded(_PROBE_SIZES[0])
        except scopes.VariableCreatedWhileTracing:
            build_eagerly(layer, args, kwargs)
            first = run_guarded(_PROBE_SIZES[0])
        second = run_guarded(_PROBE_SIZES[1]) if has_none else first
    except Exception as e:
        raise type(e)(
            f"Exception encountered when calling {type(layer).__name__}.call() on symbolic "
            f"inputs (layer '{layer.name}'): {e}"
        ) from e

    def merge(a, b):
        shape = tuple(None if da != db else da for da, db in zip(a.shape, b.shape))
        return KerasTensor(shape, dtype=a.dtype)

    return jax.tree.map(merge, first, second)
