"""`JaxLayer` and `FlaxLayer`: a pure JAX model, or a `flax.linen` module, as a Keras layer.

`JaxLayer(call_fn, init_fn=None, params=None, state=None, seed=None)` maps the arguments of
`call_fn` by name (`params`, `state`, `rng`, `inputs`, `training`; only `inputs` is
required). Every array leaf of `params` becomes a trainable weight and every array leaf of
`state` a non-trainable one; `self.params` / `self.state` keep the user's structure with
`Variable`s at the leaves. A `call_fn` with `state` returns `(outputs, new_state)`, and the
new state is assigned to the state variables (inside the compiled step that assignment is
recorded by the trainer's `StatelessScope`, like any other layer update). Random keys are
raw `uint32[2]` keys, as Keras 3 passes them: the call key comes from the layer's own
`SeedGenerator` (in training only), the init key from the global one.

`FlaxLayer(module, method=None, variables=None)` wraps a linen module: the `"params"`
collection is trainable, every other collection (`batch_stats`, ...) is state, updated
through `module.apply(..., mutable=DenyList(["params"]))`; a `dropout` key is passed in
training.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax.backend import dtypes, naming, scopes
from keras_on_jax.backend import random as backend_random
from keras_on_jax.backend.variables import Variable
from keras_on_jax.layers.layer import Layer
from keras_on_jax.serialization import deserialize_keras_object, serialize_keras_object

_CALL_FN_ARGUMENTS = ("params", "state", "rng", "inputs", "training")
_INIT_FN_ARGUMENTS = ("rng", "inputs", "training")


def _key_data(key):
    """A raw `uint32[2]` key, the form Keras 3 hands to `call_fn` / `init_fn`."""
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    return key


def _is_tracer(x):
    return isinstance(x, jax.core.Tracer)


def _is_variable(x):
    # Our Variables are nnx Variables, which JAX sees as pytree nodes: keep them whole.
    return isinstance(x, Variable)


class JaxLayer(Layer):
    """Keras layer that wraps a JAX model given as pure functions.

    Args:
        call_fn: the function computing the model. Its arguments are taken by name among
            `params`, `state`, `rng`, `inputs` (required) and `training`. With `state`, it
            returns `(outputs, new_state)`.
        init_fn: optional function of `rng`, `inputs` (required) and `training` returning
            the initial `params` (or `(params, state)` when `call_fn` takes `state`); it is
            called at build time with ones of the input shape.
        params: a pytree of initial trainable parameters.
        state: a pytree of initial non-trainable state.
        seed: seed of the layer's `SeedGenerator` (used when `call_fn` takes `rng`).
        native_serialization_platforms: accepted for Keras 3 compatibility (it only
            matters for Keras's TensorFlow backend) and kept in the config.
    """

    def __init__(self, call_fn, init_fn=None, params=None, state=None, seed=None,
                 native_serialization_platforms=None, **kwargs):
        super().__init__(**kwargs)
        self.call_fn = call_fn
        self.init_fn = init_fn
        self.tracked_params = self._create_variables(params, trainable=True)
        self.tracked_state = self._create_variables(state, trainable=False)
        if self.params is not None or self.state is not None:
            self.built = True

        self.call_fn_arguments = self._validate_signature(
            call_fn, "call_fn", _CALL_FN_ARGUMENTS, ("inputs",))
        self.call_fn_has_params = "params" in self.call_fn_arguments
        self.call_fn_has_state = "state" in self.call_fn_arguments
        if "rng" in self.call_fn_arguments:
            self.seed_generator = backend_random.SeedGenerator(seed)
        else:
            self.seed_generator = None

        if (init_fn is None and params is None and state is None
                and (self.call_fn_has_params or self.call_fn_has_state)):
            raise ValueError(
                "`init_fn`, `params` and `state` cannot all be `None` when "
                "`call_fn` takes a `params` or a `state` argument."
            )
        if init_fn:
            self.init_fn_arguments = self._validate_signature(
                init_fn, "init_fn", _INIT_FN_ARGUMENTS, ("inputs",))
        self.jax2tf_native_serialization_platforms = native_serialization_platforms

    # ---- arguments ----------------------------------------------------------------------
    @staticmethod
    def _validate_signature(fn, fn_name, allowed, required):
        if not callable(fn):
            raise TypeError(
                f"Argument `{fn_name}` must be a callable. Received: {fn_name}={fn!r}"
            )
        parameters = inspect.signature(fn).parameters
        for name in required:
            if name not in parameters:
                raise ValueError(f"Missing required argument in `{fn_name}`: `{name}`")
        names = []
        for name in parameters:
            if name not in allowed:
                raise ValueError(
                    f"Unsupported argument in `{fn_name}`: `{name}`, supported arguments "
                    f"are `{'`, `'.join(allowed)}`"
                )
            names.append(name)
        return names

    # ---- variables ----------------------------------------------------------------------
    def _create_variables(self, values, trainable):
        """Replace every array leaf of `values` by a weight; return them flat."""

        def create(value):
            if isinstance(value, Variable):  # e.g. `jax.tree.map(np.asarray, layer.params)`
                value = value.get_raw_value()
            if isinstance(value, (jax.Array, np.ndarray, np.generic)) or (
                    isinstance(value, (bool, int, float)) and not isinstance(value, Variable)):
                array = jnp.asarray(value)
                dtype = None if dtypes.is_float_dtype(array.dtype) else array.dtype
                if _is_tracer(array):
                    raise scopes.VariableCreatedWhileTracing("variable")
                return self.add_weight(
                    tuple(array.shape), initializer=lambda shape, dtype=None, a=array: a,
                    dtype=dtype, trainable=trainable, name=naming.auto_name("variable"))
            return value

        variables = jax.tree_util.tree_map(create, values, is_leaf=_is_variable)
        # Plain attribute writes: the structures stay the user's (dicts, lists, pytrees).
        object.__setattr__(self, "params" if trainable else "state", variables)
        flat = jax.tree_util.tree_leaves(variables, is_leaf=_is_variable)
        return [v for v in flat if isinstance(v, Variable)]

    # ---- rngs ---------------------------------------------------------------------------
    def _get_init_seed(self):
        """One raw key for `init_fn`, drawn from the global seed generator."""
        return _key_data(backend_random.draw_seed(None))

    def _get_init_rng(self):
        return self._get_init_seed()

    def _get_call_seed(self):
        """One raw key for `call_fn`, drawn from the layer's seed generator."""
        return _key_data(self.seed_generator.next())

    def _get_call_rng(self, training):
        return self._get_call_seed() if training else None

    # ---- build / call -------------------------------------------------------------------
    def _initialize_weights(self, input_shape):
        def is_shape(s):
            return isinstance(s, (tuple, list)) and all(
                d is None or isinstance(d, (int, np.integer)) for d in s)

        def ones(shape):
            return jnp.ones([1 if d is None else int(d) for d in shape])

        init_inputs = jax.tree_util.tree_map(ones, input_shape, is_leaf=is_shape)
        if any(_is_tracer(x) for x in jax.tree_util.tree_leaves(init_inputs)):
            if scopes.in_spec_tracing():
                raise scopes.VariableCreatedWhileTracing("variable")
            raise ValueError("'JaxLayer' cannot be built in a tracing scope")
        init_args = []
        for name in self.init_fn_arguments:
            if name == "rng":
                init_args.append(self._get_init_rng())
            elif name == "inputs":
                init_args.append(init_inputs)
            else:  # training
                init_args.append(True)
        result = self.init_fn(*init_args)
        if self.call_fn_has_state:
            init_params, init_state = result
        else:
            init_params, init_state = result, None
        self.tracked_params = self._create_variables(init_params, trainable=True)
        self.tracked_state = self._create_variables(init_state, trainable=False)

    def build(self, input_shape):
        if (self.params is None and self.state is None
                and (self.call_fn_has_params or self.call_fn_has_state)):
            self._initialize_weights(input_shape)
        self.built = True

    def call(self, inputs, training=False):
        def read(x):
            return x.value if isinstance(x, Variable) else x

        inputs = jax.tree_util.tree_map(
            lambda x: jnp.asarray(x) if isinstance(x, (np.ndarray, np.generic)) else x, inputs)
        args = []
        for name in self.call_fn_arguments:
            if name == "params":
                args.append(jax.tree_util.tree_map(read, self.params, is_leaf=_is_variable))
            elif name == "state":
                args.append(jax.tree_util.tree_map(read, self.state, is_leaf=_is_variable))
            elif name == "rng":
                args.append(self._get_call_rng(training))
            elif name == "inputs":
                args.append(inputs)
            else:
                args.append(training)
        if not self.call_fn_has_state:
            return self.call_fn(*args)
        outputs, new_state = self.call_fn(*args)

        def assign(value, target):
            if isinstance(target, Variable):
                target.assign(value)
            elif value is not target and not _same_constant(value, target):
                raise ValueError(
                    "Structure mismatch: the structure of the state returned by `call` does "
                    "not match the structure of the state at initialization time."
                )

        jax.tree_util.tree_map(assign, new_state, self.state)
        return outputs

    # ---- config -------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update({
            "call_fn": serialize_keras_object(self.call_fn),
            "init_fn": serialize_keras_object(self.init_fn),
            "native_serialization_platforms": self.jax2tf_native_serialization_platforms,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("call_fn", "init_fn"):
            if not callable(config.get(key)):  # the loader may have resolved them already
                config[key] = deserialize_keras_object(config.get(key))
        return super().from_config(config)


def _same_constant(value, target):
    """A non-array leaf of the state (configuration) handed back unchanged."""
    return (isinstance(target, (str, bytes, bool, int, float)) and type(value) is type(target)
            and value == target)


class FlaxLayer(JaxLayer):
    """Keras layer that wraps a `flax.linen.Module`.

    Args:
        module: the `flax.linen.Module` instance.
        method: the method computing the model (default `__call__`): a method of the
            module, or a function taking the module first. Its arguments are `inputs` and
            optionally `training`.
        variables: the module's variables as `module.init` returns them (a `"params"`
            collection and optionally state collections); `None` initializes them at
            build time with `module.init`.
        **kwargs: `seed` and the base `Layer` arguments.
    """

    def __init__(self, module, method=None, variables=None, **kwargs):
        from flax.linen import DenyList  # late: only needed when this layer is used

        self.module = module
        self.method = method
        mutable = DenyList(["params"])

        def apply_with_training(params, state, rng, inputs, training):
            return self.module.apply(
                self._params_and_state_to_variables(params, state), inputs, rngs=rng,
                method=self.method, mutable=mutable, training=training)

        def apply_without_training(params, state, rng, inputs):
            return self.module.apply(
                self._params_and_state_to_variables(params, state), inputs, rngs=rng,
                method=self.method, mutable=mutable)

        def init_with_training(rng, inputs, training):
            return self._variables_to_params_and_state(self.module.init(
                rng, inputs, method=self.method, training=training))

        def init_without_training(rng, inputs):
            return self._variables_to_params_and_state(self.module.init(
                rng, inputs, method=self.method))

        target = method if method is not None else module.__call__
        if "training" in inspect.signature(target).parameters:
            call_fn, init_fn = apply_with_training, init_with_training
        else:
            call_fn, init_fn = apply_without_training, init_without_training
        params, state = self._variables_to_params_and_state(variables)
        super().__init__(call_fn=call_fn, init_fn=init_fn, params=params, state=state,
                         **kwargs)

    @staticmethod
    def _params_and_state_to_variables(params, state):
        if params and state:
            return {**params, **state}
        return params or state or {}

    @staticmethod
    def _variables_to_params_and_state(variables):
        if variables is None:
            return None, None
        if "params" not in variables:
            return {}, variables
        if len(variables) == 1:
            return variables, {}
        params = {"params": variables["params"]}
        state = {k: v for k, v in variables.items() if k != "params"}
        return params, state

    def _get_init_rng(self):
        return {"params": self._get_init_seed(), "dropout": self._get_init_seed()}

    def _get_call_rng(self, training):
        return {"dropout": self._get_call_seed()} if training else {}

    def get_config(self):
        if not hasattr(self.module, "get_config"):
            raise TypeError(
                f"Cannot serialize object {self.module!r} of type {type(self.module)}. To "
                "be serializable, a class must implement the `get_config()` method."
            )
        method = self.method
        if getattr(method, "__self__", None) is not None and method.__self__ == self.module:
            method = method.__name__  # a method bound to the module is saved by name
        config = super().get_config()
        config.pop("call_fn")
        config.pop("init_fn")
        config["module"] = serialize_keras_object(self.module)
        config["method"] = serialize_keras_object(method)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        module = config["module"]
        if isinstance(module, dict):
            module = deserialize_keras_object(module)
        method = config.get("method")
        if isinstance(method, str):
            method = getattr(module, method)  # a method bound to the module, saved by name
        elif method is not None and not callable(method):
            method = deserialize_keras_object(method)
        config["module"] = module
        config["method"] = method
        return Layer.from_config.__func__(cls, config)
