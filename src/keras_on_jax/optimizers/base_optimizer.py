"""`keras.optimizers.Optimizer`: Keras 3's optimizer API with Optax as the update engine.

Each built-in optimizer exposes `optimizer.transform`, an
`optax.GradientTransformationExtraArgs` that computes its update with Keras's exact
numerics. Its state is a NamedTuple whose fields are the Keras slot names (`momentum`,
`velocity`, ...) plus `count` (the step counter); the Keras slot `Variable`s hold that
state, in Keras 3.15's order and with Keras's names, so `.keras` files line up
positionally. `update(grads, state, params, learning_rate=...)` returns optax-style
updates (`new_params = optax.apply_updates(params, updates)`).

The surrounding Keras machinery (gradient clipping, decoupled weight decay, EMA,
gradient accumulation, loss-scale factor, constraints, iteration counter) lives in this
base class, with every state change made through `Variable.assign`, so the same Python
code runs eagerly and, through `stateless_apply`, inside `jax.jit`.

Custom optimizers written the Keras way (override `build` and
`update_step(gradient, variable, learning_rate)`) also work: when a subclass provides no
transform, `update_step` is called per variable as in Keras.
"""

from __future__ import annotations

import re
import warnings

import jax
import jax.numpy as jnp
import optax

from keras_on_jax.backend import config, naming, scopes
from keras_on_jax.backend.variables import Variable
from keras_on_jax.optimizers import compiled_apply
from keras_on_jax.optimizers.schedules import learning_rate_schedule

# ----------------------------------------------------------------------------------------
# Small helpers shared by the transforms
# ----------------------------------------------------------------------------------------


def _value(x):
    if isinstance(x, Variable):
        return x.get_value()
    return x


def tree_map_multi(fn, tree, *rest):
    """Map `fn` over the leaves of `tree` and the matching leaves of `rest`.

    `fn` returns a tuple; the result is a tuple of trees shaped like `tree`. A `None`
    in `rest` gives `None` leaves (an unused optional slot).
    """
    leaves, treedef = jax.tree.flatten(tree)
    others = [[None] * len(leaves) if r is None else treedef.flatten_up_to(r) for r in rest]
    outs = [fn(*args) for args in zip(leaves, *others)]
    if not outs:
        return ()
    n = len(outs[0])
    return tuple(treedef.unflatten([o[i] for o in outs]) for i in range(n))


def zeros_like_tree(params):
    return jax.tree.map(jnp.zeros_like, params)


def make_transform(init_fn, update_fn):
    """An `optax.GradientTransformationExtraArgs` (updates take `learning_rate=`)."""
    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def require_params(params, name):
    if params is None:
        raise ValueError(
            f"The `{name}` transformation needs `params` (Keras's update reads the "
            "variables' dtype and value). Received: params=None"
        )


def resolve_learning_rate(default, learning_rate, count):
    """The learning rate an update uses: the extra arg, else the factory default."""
    lr = default if learning_rate is None else learning_rate
    if callable(lr) and not isinstance(lr, Variable):
        lr = lr(count)
    return _value(lr)


def per_variable_transform(name, state_cls, learning_rate, init_slots, leaf):
    """An optax transformation that updates each variable on its own (Keras's
    `update_step`), around the math given as `leaf`.

    The state is `state_cls(count, *init_slots(params))`: `count` first, then one tree
    per slot. For each variable, `leaf(g, p, lr, t, *slots)` receives the gradient and
    the learning rate cast to the variable's dtype (as Keras casts them) and the 1-based
    step `t` in that dtype, and returns `(update, *new_slots)`. A slot that is `None` in
    the state (an option that is off) stays `None`.
    """

    def init_fn(params):
        return state_cls(jnp.zeros([], jnp.int32), *init_slots(params))

    def update_fn(updates, state, params=None, *, learning_rate=None, **extra):
        require_params(params, name)
        lr0 = resolve_learning_rate(default_lr, learning_rate, state.count)

        def cast_leaf(g, p, *slots):
            dtype = p.dtype
            lr = jnp.asarray(lr0).astype(dtype)
            t = (state.count + 1).astype(dtype)
            return leaf(g.astype(dtype), p, lr, t, *slots)

        slots = state[1:]
        upd, *new_slots = tree_map_multi(cast_leaf, updates, params, *slots)
        new_slots = [None if old is None else new for old, new in zip(slots, new_slots)]
        return upd, state_cls(state.count + 1, *new_slots)

    default_lr = learning_rate
    return make_transform(init_fn, update_fn)


# ----------------------------------------------------------------------------------------
# Gradient clipping as optax transformations (Keras numerics)
# ----------------------------------------------------------------------------------------


def clip_by_norm(clipnorm):
    """Keras's per-variable `clipnorm`: `g * clipnorm / max(||g||, clipnorm)`.

    (optax has no per-leaf L2-norm clip; `clip_by_block_rms` uses the RMS.)
    """

    def update_fn(updates, state, params=None):
        def clip(g):
            l2sum = jnp.sum(jnp.square(g), keepdims=True)
            pred = l2sum > 0
            l2sum_safe = jnp.where(pred, l2sum, jnp.ones_like(l2sum))
            l2norm = jnp.where(pred, jnp.sqrt(l2sum_safe), l2sum)
            return (g * clipnorm) / jnp.maximum(l2norm, clipnorm)

        return jax.tree.map(clip, updates), state

    return optax.GradientTransformation(optax.init_empty_state, update_fn)


def clip_by_global_norm(clipnorm):
    """Keras's `global_clipnorm`: `g * clipnorm * min(1/norm, 1/clipnorm)`.

    Unlike `optax.clip_by_global_norm`, a non-finite global norm turns every gradient
    into NaN (Keras's behaviour, which `LossScaleOptimizer` relies on).
    """

    def update_fn(updates, state, params=None):
        leaves = jax.tree.leaves(updates)
        norm = jnp.sqrt(jnp.sum(jnp.stack([jnp.sum(jnp.square(g)) for g in leaves])))
        scale = clipnorm * jnp.minimum(1.0 / norm, 1.0 / clipnorm)
        scale = scale + (norm - norm)
        return jax.tree.map(lambda g: g * scale, updates), state

    return optax.GradientTransformation(optax.init_empty_state, update_fn)


# ----------------------------------------------------------------------------------------
# Initializers (resolved lazily: the initializers package is a sibling)
# ----------------------------------------------------------------------------------------


def _get_initializer(initializer):
    if callable(initializer):
        return initializer
    if isinstance(initializer, str):
        key = initializer.lower()
        if key in ("zeros", "zero"):
            return lambda shape, dtype=None: jnp.zeros(shape, dtype=dtype)
        if key in ("ones", "one"):
            return lambda shape, dtype=None: jnp.ones(shape, dtype=dtype)
        try:
            from keras_on_jax import initializers
        except ImportError:  # pragma: no cover - sibling package missing
            initializers = None
        if initializers is not None and hasattr(initializers, "get"):
            return initializers.get(initializer)
    raise ValueError(
        f"Could not interpret initializer identifier: {initializer!r}. Expected "
        "a callable `initializer(shape, dtype)` or a string such as 'zeros'."
    )


def constant_initializer(value):
    def init(shape, dtype=None):
        return jnp.full(shape, value, dtype=dtype)

    return init


# ----------------------------------------------------------------------------------------
# The optimizer base class
# ----------------------------------------------------------------------------------------


class Optimizer:
    """Abstract optimizer base class (Keras 3's `keras.optimizers.Optimizer`).

    Subclasses either provide `_make_transform()` (an optax transformation whose state
    fields are the slot names registered with `_set_slots`) or, Keras-style, override
    `update_step(gradient, variable, learning_rate)`.
    """

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        self._lock = False
        if kwargs.pop("decay", None) is not None:
            warnings.warn(
                "Argument `decay` is no longer supported and will be ignored.", stacklevel=2
            )
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if name is None:
            name = naming.auto_name(naming.to_snake_case(self.__class__.__name__))
        self.name = name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps:
            if not gradient_accumulation_steps >= 2:
                raise ValueError(
                    "`gradient_accumulation_steps` must be an integer >= 2. "
                    f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
                )
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(
                    f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}"
                )
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can "
                f"be set. Received: clipnorm={clipnorm}, "
                f"clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._trainable_variables_indices = {}
        self._slots = {}
        self._iterations = Variable(
            0,
            name="iteration",
            dtype="int32",
            trainable=False,
            aggregation="only_first_replica",
            path=f"{self.name}/iteration",
        )
        self._track_variable(self._iterations)
        if isinstance(learning_rate, learning_rate_schedule.LearningRateSchedule):
            self._learning_rate = learning_rate
        elif callable(learning_rate) and not isinstance(learning_rate, Variable):
            self._learning_rate = learning_rate
        else:
            if not isinstance(learning_rate, float):
                raise ValueError(
                    "Argument `learning_rate` should be float, or an instance "
                    "of LearningRateSchedule, or a callable "
                    "(that takes in the current iteration value "
                    "and returns the corresponding learning rate value). "
                    f"Received instead: learning_rate={learning_rate}"
                )
            self._learning_rate = Variable(
                learning_rate,
                name="learning_rate",
                dtype=config.floatx(),
                trainable=False,
                aggregation="only_first_replica",
                path=f"{self.name}/learning_rate",
            )
            self._track_variable(self._learning_rate)

    # ---- variables ----------------------------------------------------------------------
    def _check_super_called(self):
        if not hasattr(self, "_lock"):
            raise RuntimeError(
                f"In optimizer '{self.__class__.__name__}', you forgot to call "
                "`super().__init__()` as the first statement in the `__init__()` method."
            )

    def _track_variable(self, variable):
        if not any(v is variable for v in self._variables):
            self._variables.append(variable)

    def _untrack_variable(self, variable):
        self._variables = [v for v in self._variables if v is not variable]

    @property
    def variables(self):
        """All optimizer variables, in Keras 3.15's order (the `.keras` file order)."""
        return self._variables[:]

    @property
    def iterations(self):
        """The step counter (a Variable), or `iterations // gradient_accumulation_steps`."""
        if self.gradient_accumulation_steps:
            return jnp.floor_divide(self._iterations.get_value(), self.gradient_accumulation_steps)
        return self._iterations

    def _var_key(self, variable):
        return id(variable)

    def _get_variable_index(self, variable):
        return self._trainable_variables_indices[self._var_key(variable)]

    def _overwrite_variable_with_gradient(self, variable):
        return getattr(variable, "overwrite_with_gradient", False)

    def add_variable(
        self,
        shape,
        initializer="zeros",
        dtype=None,
        aggregation="none",
        layout=None,
        name=None,
    ):
        """Create, track and return an optimizer variable named `<optimizer>/<name>`."""
        self._check_super_called()
        initializer = _get_initializer(initializer)
        if name is None:
            name = naming.auto_name("variable")
        variable = Variable(
            initializer=initializer,
            shape=shape,
            dtype=dtype,
            trainable=False,
            aggregation=aggregation,
            name=name,
            path=f"{self.name}/{name}",
        )
        self._track_variable(variable)
        return variable

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A slot shaped like `reference_variable`, named `<ref path with _>_<name>`."""
        name = name or "var"
        if hasattr(reference_variable, "path"):
            name = f"{reference_variable.path.replace('/', '_')}_{name}"
        else:
            ref = str(reference_variable.name).replace("/", "_").replace(":", "_")
            name = f"{ref}_{name}"
        return self.add_variable(
            shape=reference_variable.shape,
            initializer=initializer,
            dtype=reference_variable.dtype,
            name=name,
        )

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """Slots for each variable; several names are interleaved per variable (Keras)."""
        names = [name] if isinstance(name, str) else list(name)
        if isinstance(initializer, (list, tuple)):
            inits = list(initializer)
        else:
            inits = [initializer] * len(names)
        if len(inits) != len(names):
            raise ValueError(
                "The number of initializers must match the number of names. "
                f"Received: name={name}, initializer={initializer}"
            )
        out = tuple([] for _ in names)
        for variable in trainable_variables:
            for i, (n, init) in enumerate(zip(names, inits)):
                if self._overwrite_variable_with_gradient(variable):
                    out[i].append(None)
                else:
                    out[i].append(
                        self.add_variable_from_reference(variable, name=n, initializer=init)
                    )
        return out[0] if isinstance(name, str) else out

    def build(self, variables):
        """Create the slot variables for `variables` (EMA averages, accumulators)."""
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(
                variables, "average"
            )
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = []
        for i, variable in enumerate(variables):
            self._trainable_variables_indices[self._var_key(variable)] = i
            if self.gradient_accumulation_steps:
                self._accumulated_gradients.append(
                    self.add_variable_from_reference(variable, name="gradient_accumulator")
                )
        self._trainable_variables = list(variables)
        self.built = True

    def _set_slots(self, **slots):
        """Register the slot variables that hold `self.transform`'s state fields."""
        self._slots = dict(slots)

    def _check_variables_are_known(self, variables):
        for v in variables:
            if self._var_key(v) not in self._trainable_variables_indices:
                raise ValueError(
                    f"Unknown variable: {v}. This optimizer can only "
                    "be called for the variables it was originally built with. "
                    "When working with a new set of variables, you should "
                    "recreate a new optimizer instance."
                )

    def set_weights(self, weights):
        """Set the optimizer variables from a list of arrays (in `variables` order)."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been "
                "built. Please call `optimizer.build(trainable_variables)` first."
            )
        for variable, weight in zip(self._variables, weights):
            if tuple(variable.shape) != tuple(jnp.shape(weight)):
                raise ValueError(
                    f"Optimizer variable {variable.path} has shape {variable.shape} not "
                    f"compatible with provided weight shape {tuple(jnp.shape(weight))}."
                )
            variable.assign(weight)

    def save_own_variables(self, store):
        """Write the variables positionally: `store["0"]`, `store["1"]`, ..."""
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        """Read the variables positionally; warn and skip when the counts differ."""
        if len(store.keys()) != len(self.variables):
            msg = (
                f"Skipping variable loading for optimizer '{self.name}', "
                f"because it has {len(self.variables)} variables whereas "
                f"the saved optimizer has {len(store.keys())} variables. "
            )
            if len(self.variables) == 0:
                msg += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        for i, variable in enumerate(self.variables):
            variable.assign(store[str(i)])

    # ---- learning rate ------------------------------------------------------------------
    @property
    def learning_rate(self):
        return self._get_current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        prev = self._learning_rate if isinstance(self._learning_rate, Variable) else None
        if isinstance(learning_rate, learning_rate_schedule.LearningRateSchedule):
            self._learning_rate = learning_rate
        elif callable(learning_rate) and not isinstance(learning_rate, Variable):
            self._learning_rate = learning_rate
        else:
            if isinstance(self._learning_rate, learning_rate_schedule.LearningRateSchedule):
                raise TypeError(
                    "This optimizer was created with a `LearningRateSchedule`"
                    " object as its `learning_rate` constructor argument, "
                    "hence its learning rate is not settable. If you need the"
                    " learning rate to be settable, you should instantiate "
                    "the optimizer with a float `learning_rate` argument."
                )
            if not isinstance(self._learning_rate, Variable):
                raise TypeError(
                    f"The learning rate of optimizer '{self.name}' is a callable and "
                    "cannot be set to a number. Received: "
                    f"learning_rate={learning_rate}"
                )
            self._learning_rate.assign(learning_rate)
        if prev is not None and not isinstance(self._learning_rate, Variable):
            self._untrack_variable(prev)

    # `lr`: tf.keras (Keras 2) spelling of `learning_rate`, used by the keras-io callbacks
    # guide; Keras 3 removed it (see docs/differences.md).
    @property
    def lr(self):
        return self.learning_rate

    @lr.setter
    def lr(self, value):
        self.learning_rate = value

    def _get_current_learning_rate(self):
        if isinstance(self._learning_rate, learning_rate_schedule.LearningRateSchedule):
            return self._learning_rate(self._iterations.get_value())
        if isinstance(self._learning_rate, Variable):
            return self._learning_rate
        if callable(self._learning_rate):
            return self._learning_rate()
        return self._learning_rate

    # ---- optax engine -------------------------------------------------------------------
    def _make_transform(self):
        return None

    @property
    def transform(self):
        """This optimizer's update as an `optax.GradientTransformationExtraArgs`.

        Built from the current hyperparameters on each access. `update(grads, state,
        params, learning_rate=None)` returns optax updates; the state's fields are
        `count` and the Keras slot names. `None` for Keras-style custom optimizers
        that override `update_step` instead.
        """
        return self._make_transform()

    def _read_state(self, indices, state_cls):
        fields = {}
        for field in state_cls._fields:
            if field == "count":
                fields[field] = jnp.asarray(_value(self.iterations), dtype="int32")
                continue
            slot = self._slots.get(field)
            if slot is None:
                fields[field] = None  # an optional slot this configuration does not use
            elif isinstance(slot, list):
                fields[field] = [slot[i].get_value() for i in indices]
            else:
                fields[field] = slot.get_value()
        return state_cls(**fields)

    def _write_state(self, state, indices):
        for field in state._fields:
            if field == "count":
                continue  # the base class owns the step counter
            slot = self._slots.get(field)
            value = getattr(state, field)
            if slot is None or value is None:
                continue
            if isinstance(slot, list):
                for i, v in zip(indices, value):
                    slot[i].assign(v)
            else:
                slot.assign(value)

    # ---- applying gradients -------------------------------------------------------------
    def assign(self, variable, value):
        variable.assign(value)

    def assign_add(self, variable, value):
        variable.assign_add(value)

    def assign_sub(self, variable, value):
        variable.assign_sub(value)

    def update_step(self, gradient, variable, learning_rate):
        """Update one (built) variable with its gradient. The built-in optimizers run
        their optax transformation on it; a custom optimizer overrides this method."""
        if self._make_transform() is None:
            raise NotImplementedError(
                f"Optimizer '{self.__class__.__name__}' must override `update_step` or "
                "`_make_transform`."
            )
        self._backend_update_step([gradient], [variable], learning_rate)

    def apply_gradients(self, grads_and_vars):
        """Apply `(gradient, variable)` pairs; returns the `iterations` Variable."""
        grads, trainable_variables = zip(*grads_and_vars)
        self.apply(grads, trainable_variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Update the variables with `grads` (1:1 with the variables built with)."""
        grads = list(grads)
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer "
                    "must already be built on a list of variables. "
                    "Call `optimizer.build(trainable_variables)` first. "
                )
            if len(grads) != len(self._trainable_variables_indices):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the "
                    "gradients must match `optimizer.variables` one-to-one. "
                    f"Received a list of {len(grads)} gradients, but the "
                    f"optimizer is tracking {len(self._trainable_variables)} "
                    "trainable variables."
                )
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                if scopes.in_step_tracing():
                    # Slot variables cannot be born inside the compiled step: the
                    # trainer builds this optimizer eagerly and traces again.
                    raise scopes.OptimizerBuiltWhileTracing(self, trainable_variables)
                with scopes.NameScope(self.name):
                    self.build(trainable_variables)
                self.built = True
            self._check_variables_are_known(trainable_variables)

        grads = [None if g is None else _to_array(g) for g in grads]
        if compiled_apply.run(self, grads, trainable_variables):
            return
        self._apply_filtered(grads, trainable_variables)

    def _apply_filtered(self, grads, trainable_variables):
        """`apply` once the optimizer is built and the gradients are arrays."""
        grads, trainable_variables = self._filter_empty_gradients(grads, trainable_variables)
        # As Keras 3: every variable passed in is updated, whatever its current
        # `trainable` flag. The trainer passes the set frozen at compile() (the FAQ's GAN
        # case: a model keeps training weights that were frozen later for another model).
        grads, trainable_variables = self._overwrite_variables_directly_with_gradients(
            grads, trainable_variables
        )
        if grads:
            scale = self.loss_scale_factor
            if scale is not None:
                grads = [g / scale for g in grads]
            self._backend_apply_gradients(grads, trainable_variables)
            for variable in trainable_variables:
                constraint = getattr(variable, "constraint", None)
                if constraint is not None:
                    variable.assign(constraint(variable.get_value()))
        self._iterations.assign_add(1)

    def _filter_empty_gradients(self, grads, variables):
        kept_g, kept_v, missing = [], [], []
        for g, v in zip(grads, variables):
            if g is None:
                missing.append(getattr(v, "path", getattr(v, "name", repr(v))))
            else:
                kept_g.append(g)
                kept_v.append(v)
        if not kept_g:
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss."
                " If using `model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=3,
            )
        return kept_g, kept_v

    def _overwrite_variables_directly_with_gradients(self, grads, variables):
        if not any(self._overwrite_variable_with_gradient(v) for v in variables):
            return grads, variables
        kept_g, kept_v = [], []
        for g, v in zip(grads, variables):
            if not self._overwrite_variable_with_gradient(v):
                kept_g.append(g)
                kept_v.append(v)
                continue
            if self.gradient_accumulation_steps:
                steps = self.gradient_accumulation_steps
                is_update = (self._iterations.get_value() + 1) % steps == 0
                acc = self._accumulated_gradients[self._get_variable_index(v)]
                new_g = jnp.maximum(g, acc.get_value())
                v.assign(jnp.where(is_update, new_g, v.get_value()))
                acc.assign(jnp.where(is_update, jnp.zeros_like(new_g), new_g))
            else:
                v.assign(g)
        return kept_g, kept_v

    def _clip_transform(self):
        if self.clipnorm and self.clipnorm > 0:
            return clip_by_norm(self.clipnorm)
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return optax.clip(self.clipvalue)
        return None

    def _clip_gradients(self, grads):
        clip = self._clip_transform()
        if clip is None:
            return grads
        clipped, _ = clip.update(list(grads), clip.init(None))
        return clipped

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exclude variables (by identity, or by name substrings) from weight decay."""
        self._exclude_from_weight_decay = (
            {self._var_key(v) for v in var_list} if var_list else set()
        )
        if var_names and len(var_names) > 0:
            self._exclude_from_weight_decay_pattern = re.compile("|".join(set(var_names)))
        else:
            self._exclude_from_weight_decay_pattern = None
        self._exclude_from_weight_decay_cache = {}

    def _use_weight_decay(self, variable):
        cache = self.__dict__.setdefault("_exclude_from_weight_decay_cache", {})
        key = self._var_key(variable)
        if key in cache:
            return cache[key]
        use = True
        if key in getattr(self, "_exclude_from_weight_decay", set()):
            use = False
        pattern = getattr(self, "_exclude_from_weight_decay_pattern", None)
        if use and pattern is not None and re.search(pattern, variable.name) is not None:
            use = False
        cache[key] = use
        return use

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                dtype = variable.dtype
                lr = jnp.asarray(_value(self.learning_rate)).astype(dtype)
                wd = jnp.asarray(self.weight_decay).astype(dtype)
                value = variable.get_value()
                variable.assign(value - value * wd * lr)

    def _backend_apply_gradients(self, grads, trainable_variables):
        if self.gradient_accumulation_steps:
            steps = self.gradient_accumulation_steps
            is_update = (self._iterations.get_value() + 1) % steps == 0
            current_vars = [v.get_value() for v in trainable_variables]
            current_opt = [v.get_value() for v in self.variables]
            acc_grads = [
                self._accumulated_gradients[self._get_variable_index(v)]
                for v in trainable_variables
            ]
            new_accs = [
                jnp.where(is_update, jnp.zeros_like(a.get_value()), g + a.get_value())
                for g, a in zip(grads, acc_grads)
            ]
            grads = [
                jnp.where(is_update, (g + a.get_value()) / steps, g)
                for g, a in zip(grads, acc_grads)
            ]
            grads = self._clip_gradients(grads)
            self._apply_weight_decay(trainable_variables)
            self._backend_update_step(grads, trainable_variables, self.learning_rate)
            for v, old in zip(trainable_variables, current_vars):
                v.assign(jnp.where(is_update, v.get_value(), old))
            for v, old in zip(self.variables, current_opt):
                v.assign(jnp.where(is_update, v.get_value(), old))
            for new, a in zip(new_accs, acc_grads):
                a.assign(new)
        else:
            grads = self._clip_gradients(grads)
            self._apply_weight_decay(trainable_variables)
            self._backend_update_step(grads, trainable_variables, self.learning_rate)

        if self.use_ema:
            self._update_model_variables_moving_average(self._trainable_variables)
            if self.ema_overwrite_frequency is not None:
                overwrite = (_value(self.iterations) + 1) % self.ema_overwrite_frequency == 0
                yes = overwrite.astype("int32")
                no = jnp.logical_not(overwrite).astype("int32")
                for var, avg in zip(
                    self._trainable_variables, self._model_variables_moving_average
                ):
                    if avg is not None:
                        var.assign(avg.get_value() * yes + var.get_value() * no)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        transform = self._make_transform()
        if transform is None:
            for grad, var in zip(grads, trainable_variables):
                self.update_step(grad, var, learning_rate)
            return
        indices = [self._get_variable_index(v) for v in trainable_variables]
        state = self._read_state(indices, self._state_cls)
        params = [v.get_value() for v in trainable_variables]
        updates, new_state = transform.update(
            list(grads), state, params, learning_rate=_value(learning_rate)
        )
        self._write_state(new_state, indices)
        new_params = optax.apply_updates(params, updates)
        for v, p in zip(trainable_variables, new_params):
            v.assign(p)

    def _update_model_variables_moving_average(self, trainable_variables):
        if not self.use_ema:
            return
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is None:
                continue
            not_first = jnp.not_equal(_value(self.iterations), 0)
            momentum = not_first.astype(var.dtype) * self.ema_momentum
            average.assign(momentum * average.get_value() + (1 - momentum) * var.get_value())

    def _overwrite_model_variables_with_average_value(self, trainable_variables):
        if len(trainable_variables) != len(self._model_variables_moving_average):
            raise ValueError(
                f"The length of model variables ({len(trainable_variables)}) "
                "to override does not match the length of model variables "
                "stored in the optimizer "
                f"({len(self._model_variables_moving_average)}). Please "
                "check if the optimizer was called on your model."
            )
        for var, avg in zip(trainable_variables, self._model_variables_moving_average):
            if avg is not None:
                var.assign(avg.get_value())

    def finalize_variable_values(self, var_list):
        """With `use_ema=True`, overwrite `var_list` with their moving averages."""
        if self.use_ema:
            self._overwrite_model_variables_with_average_value(var_list)

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        """Pure `apply`: returns `(new_trainable_values, new_optimizer_values)`."""
        self._check_super_called()
        if not self.built:
            raise ValueError(
                f"To call `stateless_apply`, {self.__class__.__name__} "
                "must be built (i.e. its variables must have been created). "
                "You can build it via `optimizer.build(trainable_variables)`."
            )
        variables = self.variables
        if len(optimizer_variables) != len(variables):
            raise ValueError(
                "Argument `optimizer_variables` must be a list of tensors "
                f"corresponding 1:1 to {self.__class__.__name__}().variables. "
                f"Received list with length {len(optimizer_variables)}, but "
                f"expected {len(variables)} variables."
            )
        if len(trainable_variables) != len(self._trainable_variables):
            raise ValueError(
                "Argument `trainable_variables` must be a list of tensors "
                "corresponding 1:1 to the trainable variables list that "
                "the optimizer was built with. Received "
                f"len(trainable_variables) == {len(trainable_variables)} "
                "whereas the optimizer was built with "
                f"{len(self._trainable_variables)} variables."
            )
        mapping = list(zip(self._trainable_variables, trainable_variables)) + list(
            zip(variables, optimizer_variables)
        )
        with scopes.StatelessScope(state_mapping=mapping) as scope:
            self.apply(grads)
        new_trainable = [scope.get_current_value(v) for v in self._trainable_variables]
        new_optimizer = [scope.get_current_value(v) for v in variables]
        return new_trainable, new_optimizer

    def scale_loss(self, loss):
        """Multiply `loss` by `loss_scale_factor` (when set)."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    # ---- config -------------------------------------------------------------------------
    def _obj_type(self):
        return "Optimizer"

    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, learning_rate_schedule.LearningRateSchedule):
            learning_rate = learning_rate_schedule.serialize(lr)
        elif isinstance(lr, Variable):
            learning_rate = float(lr.numpy())
        elif isinstance(lr, jax.Array):
            learning_rate = float(lr)
        elif callable(lr):
            learning_rate = {
                "module": getattr(lr, "__module__", None),
                "class_name": "function",
                "config": getattr(lr, "__name__", repr(lr)),
                "registered_name": "function",
            }
        else:
            learning_rate = 0.5
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            if lr.get("class_name") == "function":
                fn = (custom_objects or {}).get(lr.get("config"))
                if fn is None:
                    raise ValueError(
                        "Cannot rebuild the learning-rate function "
                        f"{lr.get('config')!r}: pass it in `custom_objects`."
                    )
                config["learning_rate"] = fn
            else:
                config["learning_rate"] = learning_rate_schedule.deserialize(
                    lr, custom_objects=custom_objects
                )
        return cls(**config)

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}, built={self.built}>"


BaseOptimizer = Optimizer

# `Optimizer.__init__`'s arguments, which every built-in optimizer also lists in its own
# signature (the Keras argument list users read) and forwards unchanged.
_BASE_ARGUMENTS = (
    "learning_rate",
    "weight_decay",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "loss_scale_factor",
    "gradient_accumulation_steps",
    "name",
)


def base_arguments(args):
    """The base-class arguments out of a subclass constructor's `locals()`, with its
    `**kwargs`: `super().__init__(**bo.base_arguments(locals()))` forwards them."""
    return {key: args[key] for key in _BASE_ARGUMENTS} | args.get("kwargs", {})


def _to_array(x):
    if isinstance(x, Variable):
        return x.get_value()
    return jnp.asarray(x)


base_optimizer_keyword_args = """name: String. The name to use for the optimizer's variables.
        weight_decay: Float. If set, decoupled weight decay is applied.
        clipnorm: Float. If set, each gradient is clipped to this L2 norm.
        clipvalue: Float. If set, each gradient is clipped to [-clipvalue, clipvalue].
        global_clipnorm: Float. If set, all gradients are clipped to this global norm.
        use_ema: Boolean. Keep an exponential moving average of the weights.
        ema_momentum: Float, the EMA momentum (default 0.99).
        ema_overwrite_frequency: Int or None. Overwrite the weights with their EMA every
            this many steps.
        loss_scale_factor: Float or None. Multiply the loss by it before computing
            gradients and divide the gradients by it.
        gradient_accumulation_steps: Int or None. Update every this many steps, with
            the average of the accumulated gradients.
"""
