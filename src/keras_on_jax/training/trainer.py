"""compile / fit / evaluate / predict over one compiled, pure step.

The model's variables (trainable, non-trainable, optimizer, metrics) are gathered once per
compile into four lists. A step is `(state, batch) -> (logs, state)`: it runs the ordinary
stateful `train_step(data)` (or a user override) under a `StatelessScope` that maps every
variable to its traced value, and reads the new values back out of the scope. The step is
`jax.jit`-compiled once and reused, with the state buffers donated; with
`steps_per_execution=N` it runs N steps in one call (`lax.scan`). After each call the new
arrays are rebound into the Variables (no copy), so callbacks always see current weights
and their writes (weights, learning rate) take effect at the next step.

A user `train_step(self, state, data)` in Keras 3's JAX style receives and returns the
same four lists directly.
"""

from __future__ import annotations

import inspect
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from keras_on_jax import serialization
from keras_on_jax.backend import random as random_lib
from keras_on_jax.backend import scopes
from keras_on_jax.backend.variables import set_raw_values
from keras_on_jax.training import data_adapters
from keras_on_jax.training.compile_utils import (CompileLoss, CompileMetrics, flatten_logs,
                                                 to_host_logs)
from keras_on_jax.training.data_adapters import pack_x_y_sample_weight as _pack
from keras_on_jax.training.data_adapters import unpack_x_y_sample_weight


def _tree_flat(x):
    return jax.tree.leaves(x)


def _batch_size_of(x):
    leaves = _tree_flat(x)
    n = leaves[0].shape[0] if leaves else 1
    from keras_on_jax.distribute import context

    padding = context.padding()  # a padded batch (TPUStrategy) counts its real rows only
    if padding is not None and leaves and padding.row_mask_for(leaves[0]) is not None:
        return padding.num_rows
    return n


def _step_data(data):
    from keras_on_jax.distribute import context

    return context.step_data(data)


def _takes_state(method):
    try:
        params = [p for p in inspect.signature(method).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) == 2


class Trainer:
    """Training, evaluation and inference for `keras.Model`."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None
        self._compiled_trainable = None
        self._functions = {}
        self.stop_training = False
        self.history = None
        self.steps_per_execution = 1
        self._run_eagerly = False
        self.jit_compile = True
        self._compile_config = None
        # A model created inside `strategy.scope()` belongs to that strategy (as in
        # TensorFlow), also for predict without compile().
        self._distribution = _current_distribution()

    # ---- compile ------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True, **kwargs):
        """Configure the model for training (Keras 3 arguments)."""
        from keras_on_jax import metrics as metrics_module
        from keras_on_jax import optimizers

        if "experimental_steps_per_execution" in kwargs:
            steps_per_execution = kwargs.pop("experimental_steps_per_execution")
        kwargs.pop("sample_weight_mode", None)
        if kwargs:
            raise ValueError(f"Invalid keyword argument(s) in `compile()`: {sorted(kwargs)}.")
        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(
                "`steps_per_execution` must be a positive int. "
                f"Received: steps_per_execution={steps_per_execution!r}"
            )
        self.optimizer = optimizers.get(optimizer)
        if auto_scale_loss:
            from keras_on_jax.backend import dtype_policies

            if dtype_policies.global_policy().compute_dtype == "float16" or self.dtype_policy.compute_dtype == "float16":
                LossScaleOptimizer = getattr(optimizers, "LossScaleOptimizer", None)
                if LossScaleOptimizer is not None and not isinstance(self.optimizer, LossScaleOptimizer):
                    self.optimizer = LossScaleOptimizer(self.optimizer)
        self.loss = loss
        self._compile_loss = CompileLoss(loss, loss_weights) if loss is not None else None
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics)
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.steps_per_execution = steps_per_execution
        self._run_eagerly = bool(run_eagerly)
        self.jit_compile = (not run_eagerly) if jit_compile == "auto" else bool(jit_compile)
        # The FAQ: compile() freezes the set of trained variables until the next compile.
        self._compiled_trainable = list(self.trainable_variables) if self.built else None
        self._functions = {}
        self.compiled = True
        # The FAQ compiles inside `strategy.scope()` and calls fit outside it.
        self._distribution = self._active_distribution()
        self._compile_config = {
            "optimizer": optimizer if isinstance(optimizer, str) else None,
            "loss": loss, "loss_weights": loss_weights, "metrics": metrics,
            "weighted_metrics": weighted_metrics, "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution, "jit_compile": jit_compile,
        }

    @property
    def run_eagerly(self):
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value):
        self._run_eagerly = bool(value)
        self._functions = {}

    @property
    def compiled_loss(self):
        """Keras 2's `self.compiled_loss(y, y_pred, sample_weight, regularization_losses)`.

        As in Keras 2, calling it also updates the `loss` metric in `self.metrics`.
        """
        if self._compile_loss is None:
            return None
        return _TrackedCompileLoss(self._compile_loss, self._loss_tracker)

    @property
    def compiled_metrics(self):
        """Keras 2's `self.compiled_metrics.update_state(y, y_pred, sample_weight)`."""
        return self._compile_metrics

    @property
    def metrics(self):
        """Keras 3's list: the loss tracker, the compiled metrics as one `CompileMetrics`
        (when `compile()` was given `metrics` or `weighted_metrics`), the per-output loss
        trackers, then the metrics the model and its layers hold as attributes (a nested
        model's compiled ones excluded)."""
        out = []
        if self.compiled:
            if self._loss_tracker is not None:
                out.append(self._loss_tracker)
            if self._compile_metrics is not None and self._compile_metrics.requested:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        return out + self._attribute_metrics()

    def _attribute_metrics(self):
        """The metrics held as attributes by the model and its layers (not the trainer's
        own trackers, nor those of a nested model, whose trainer is not the one running)."""
        own = (self._loss_tracker, self._compile_metrics)
        out = [m for m in self._own_metrics() if all(m is not o for o in own)]
        for layer in self._flatten_layers(include_self=False):
            if isinstance(layer, Trainer):
                continue
            out.extend(m for m in layer._own_metrics() if all(m is not o for o in out))
        return out

    @property
    def metrics_names(self):
        """The names of the values `evaluate()` returns, in its order (Keras 2's list:
        the compiled metrics' own names where Keras 3 says `"compile_metrics"`)."""
        names, inner, extra = [], [], []
        attribute_ids = {id(m) for m in self._attribute_metrics()}
        for m in self.metrics:
            if isinstance(m, CompileMetrics):
                inner.extend(getattr(s, "_compile_name", s.name) for s in m.metrics)
            elif id(m) in attribute_ids:
                extra.append(m.name)
            else:
                names.append(m.name)
        names += inner
        return names + [n for n in dict.fromkeys(extra) if n not in names]

    @property
    def metrics_variables(self):
        out, seen = [], set()
        for m in self.metrics:
            for v in m.variables:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def _assert_compiled(self, what):
        if not self.compiled:
            raise ValueError(
                f"You must call `compile()` before calling `{what}()`."
            )

    # ---- the step methods (overridable) --------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        losses = []
        if self._compile_loss is not None:
            if not self._compile_loss.built:  # called before fit(): build lazily, as Keras
                self._compile_loss.build(self._output_names_for(y_pred))
            losses.append(self._compile_loss.compute(y, y_pred, sample_weight))
        from keras_on_jax.backend.config import floatx

        for loss in self.losses:
            losses.append(jnp.sum(jnp.asarray(loss, dtype=floatx())))
        if not losses:
            return jnp.zeros((), dtype=floatx())
        total = losses[0]
        for loss in losses[1:]:
            total = total + loss
        return total

    def stateless_compute_loss(self, trainable_variables, non_trainable_variables,
                               metrics_variables, x=None, y=None, y_pred=None,
                               sample_weight=None, training=True):
        """`compute_loss` as a pure function of the given variable values (Keras 3's JAX
        API). Returns `(loss, (trainable_variables, non_trainable_variables,
        metrics_variables))`, the last two updated by the loss computation."""
        mapping = list(zip(self.trainable_variables, trainable_variables))
        mapping += zip(self.non_trainable_variables, non_trainable_variables)
        mapping += zip(self.metrics_variables, metrics_variables)
        # collect_losses: only losses added inside this scope count (none), plus weight
        # regularization of the given values, as in Keras.
        with scopes.StatelessScope(mapping, collect_losses=True) as scope:
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=training)

        def current(variables, values):
            out = []
            for v, old in zip(variables, values):
                new = scope.get_current_value(v)
                out.append(old if new is None else new)
            return out

        return loss, (trainable_variables,
                      current(self.non_trainable_variables, non_trainable_variables),
                      current(self.metrics_variables, metrics_variables))

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        logs = {}
        # A metric held as an attribute never replaces a compiled metric's log of the same
        # name (Keras 3 lets it: a `Mean(name="loss")` tracker, never updated by the
        # built-in step, would log the loss as 0).
        extra = {id(m) for m in self._attribute_metrics()}
        for m in self.metrics:
            result = m.result()
            entries = result if isinstance(result, dict) else {
                getattr(m, "_compile_name", m.name): result}
            for key, value in entries.items():
                if id(m) not in extra or key not in logs:
                    logs[key] = value
        return self._in_metrics_order(logs)

    def _in_metrics_order(self, logs):
        """`logs` in `metrics_names` order (the loss, the output losses, the metrics), then
        the step's other logs, as Keras's `_flatten_metrics_in_order` lists them."""
        names = [n for n in self.metrics_names if n in logs]
        rest = {k: v for k, v in logs.items() if k not in names}
        return {**{n: logs[n] for n in names}, **rest}

    def _value_and_grad(self, fn, variables):
        """`fn()` reads Variables; return `(value, aux, grads)` w.r.t. `variables`.

        Updates `fn` makes to other variables (BatchNorm statistics, seeds) are re-applied
        in the enclosing scope, so they reach the step's new state.
        """
        updated = []

        def pure(values):
            with scopes.StatelessScope(list(zip(variables, values)), collect_losses=True) as scope:
                value, aux = fn()
                ids = {id(v) for v in variables}
                updated[:] = [v for v in scope.updated_variables() if id(v) not in ids]
                new_values = [scope.get_current_value(v) for v in updated]
            return value, (aux, new_values)

        values = [v.value for v in variables]
        (value, (aux, new_values)), grads = jax.value_and_grad(pure, has_aux=True)(values)
        for v, new in zip(updated, new_values):
            v.assign(new)
        return value, aux, grads

    def train_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        trainable = self._trainable_for_step()

        def forward():
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=True)
            return scale_loss(self.optimizer, loss), (loss, y_pred)

        _, (loss, y_pred), grads = self._value_and_grad(forward, trainable)
        if trainable:
            self.optimizer.apply(grads, trainable)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                 training=False)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # ---- state and compiled functions -----------------------------------------------------------
    def _active_distribution(self):
        """The distribution that places this model's steps: the one in scope, else the one
        the model was created or compiled under; None when there is none."""
        return _current_distribution() or getattr(self, "_distribution", None)

    def _is_placed(self):
        """Whether the compiled steps run as per-device segments instead of one program.
        Only a Functional model whose `keras.device` scopes span devices does; it then
        builds its steps with `_placed_function(kind, mode, groups)` (models/placement.py)."""
        return False

    def _trainable_for_step(self):
        if self._compiled_trainable is None:
            self._compiled_trainable = list(self.trainable_variables)
        return self._compiled_trainable

    def _state_groups(self, kind):
        trainable = self._trainable_for_step()
        ids = {id(v) for v in trainable}
        non_trainable = [v for v in self.variables if id(v) not in ids]
        if kind == "predict":
            return [trainable, non_trainable]
        metric_vars = self.metrics_variables
        if kind == "test":
            return [trainable, non_trainable, metric_vars]
        optimizer_vars = [v for opt in self._step_optimizers() for v in opt.variables]
        return [trainable, non_trainable, optimizer_vars, metric_vars]

    def _step_optimizers(self):
        """`self.optimizer`, then any other optimizer the model holds as an attribute (a
        custom `train_step`'s own optimizers, as in the FAQ's GAN): their state is part of
        the compiled step's state like the main optimizer's."""
        from keras_on_jax.optimizers.base_optimizer import Optimizer

        found = [self.optimizer] if self.optimizer is not None else []
        for value in vars(self).values():
            if isinstance(value, Optimizer) and all(value is not o for o in found):
                found.append(value)
        return found

    def _make_function(self, kind, mode):
        groups = self._state_groups(kind)
        if self._is_placed():  # `keras.device` scopes on 2+ devices: per-device segments
            return self._placed_function(kind, mode, groups)
        method = {"train": self.train_step, "test": self.test_step, "predict": self.predict_step}[kind]
        jax_style = _takes_state(method)
        if not jax_style:
            # Unseeded random ops in a step (`keras.random.normal(shape)`, the tf.keras GAN
            # guide's `tf.random.normal`) draw from the global SeedGenerator, whose state
            # is threaded through the step like the model's own.
            groups = [*groups, [random_lib.global_seed_generator().state]]
        flat_vars = [v for g in groups for v in g]
        sizes = [len(g) for g in groups]

        def split(state):
            out, i = [], 0
            for n in sizes:
                out.append(list(state[i:i + n]))
                i += n
            return out

        key_order = []
        # Predict never changes trainable variables: only the rest comes back.
        written = sizes[0] if kind == "predict" else 0

        def one_step(state, data):
            with scopes.StepTracingScope(), _step_data(data) as data:
                # `_step_data`: a padded batch (TPUStrategy) knows its real rows.
                logs, new_state = _one_step(state, data)
            if isinstance(logs, dict) and kind != "predict":  # predict: outputs, as they nest
                # `{m.name: m.result() for m in self.metrics}` holds the compiled metrics'
                # dict: its entries are logs of their own (Keras's `pythonify_logs`).
                logs = flatten_logs(logs)
                key_order[:] = list(logs.keys())
            return logs, new_state[written:]

        def _one_step(state, data):
            if jax_style:
                if kind == "predict":
                    trainable, non_trainable = split(state)
                    outputs, non_trainable = method((trainable, non_trainable), data)
                    return outputs, [*trainable, *non_trainable]
                logs, new_groups = method(tuple(split(state)), data)
                return logs, [v for g in new_groups for v in g]
            # A GradientTape in a user step differentiates a re-run of the step (see
            # gradient_tape.replay_root), so any arithmetic in it is differentiable.
            from keras_on_jax.training.gradient_tape import replay_root

            with replay_root(lambda: method(data), flat_vars, state, self), \
                    scopes.StatelessScope(list(zip(flat_vars, state))) as scope:
                logs = method(data)
            new_state = [scope.get_current_value(v) for v in flat_vars]
            return logs, new_state

        if mode == "step":
            fn = one_step
        elif mode == "stacked":
            def fn(state, data):
                def body(carry, batch):
                    logs, carry = one_step(carry, batch)
                    return carry, logs

                state, logs = jax.lax.scan(body, state, data)
                if kind == "predict":
                    return logs, state
                return jax.tree.map(lambda v: v[-1], logs), state
        else:  # "gather": the data lives on device; each step gathers its rows.
            def take(data, rows):
                return jax.tree.map(lambda a: jnp.take(a, rows, axis=0), data)

            def fn(state, data, index):
                if index.shape[0] == 1:
                    return one_step(state, take(data, index[0]))

                def body(carry, rows):
                    logs, carry = one_step(carry, take(data, rows))
                    return carry, logs

                state, logs = jax.lax.scan(body, state, index)
                return jax.tree.map(lambda v: v[-1], logs), state

        if self.jit_compile and not self._run_eagerly:
            fn = jax.jit(fn, donate_argnums=0 if kind != "predict" else ())
        return fn, flat_vars, key_order, flat_vars[written:], {}

    def _function(self, kind, mode="step"):
        seed_state = random_lib.global_seed_generator().state
        held = self.__dict__.get("_global_seed_ref")
        if held is None or held.state is not seed_state:
            # `set_random_seed` made a new global generator: steps thread the new state.
            self._functions = {}
            self._global_seed_ref = _GlobalSeedRef(seed_state)
        key = (kind, mode)
        entry = self._functions.get(key)
        if entry is None:
            entry = self._make_function(kind, mode)
            self._functions[key] = entry
        return entry

    def _build_optimizer_and_retry(self, run):
        """`run()`, building any optimizer a custom step first uses inside the trace
        (`scopes.OptimizerBuiltWhileTracing`) eagerly, then tracing again."""
        while True:
            try:
                return run()
            except scopes.OptimizerBuiltWhileTracing as e:
                with scopes.NameScope(e.optimizer.name):
                    e.optimizer.build(e.variables)
                e.optimizer.built = True
                self._functions = {}

    def _run(self, kind, *args, mode="step"):
        return self._build_optimizer_and_retry(lambda: self._run_once(kind, *args, mode=mode))

    def _run_once(self, kind, *args, mode="step"):
        fn, flat_vars, key_order, written_vars, ahead = self._function(kind, mode)
        state = [v.get_raw_value() for v in flat_vars]
        if mode == "gather" and args[-1].shape in ahead:
            fn = ahead[args[-1].shape]  # compiled ahead of the epoch (see _compile_ahead)
        dist = self._active_distribution()
        real_rows = None
        if dist is not None:
            state = dist.distribute_state(flat_vars, state)
            if mode != "gather":
                axis = 1 if mode == "stacked" else 0
                if kind == "predict":
                    real_rows = np.shape(jax.tree.leaves(args[0])[0])[axis]
                args = (dist.distribute_batch(args[0], stacked=mode == "stacked"),)
        logs, new_state = fn(state, *args)
        if real_rows is not None:
            # A strategy may pad a partial batch to its fixed shape (TPUStrategy): keep
            # the outputs of the real rows.
            logs = jax.tree.map(lambda a: a if a.shape[axis] == real_rows
                                else jax.lax.slice_in_dim(a, 0, real_rows, axis=axis), logs)
        set_raw_values(written_vars, new_state)
        if isinstance(logs, dict) and key_order:
            # jit returns dicts with sorted keys; Keras reports them in metric order.
            logs = {k: logs[k] for k in key_order if k in logs}
        return logs

    # ---- building before the first step ---------------------------------------------------------
    def _output_names_for(self, y_pred):
        if isinstance(y_pred, dict):
            return list(y_pred.keys())
        n = len(y_pred) if isinstance(y_pred, (list, tuple)) else 1
        names = list(getattr(self, "output_names", None) or [])
        if len(names) == n:
            return names
        return ["output"] if n == 1 else [f"output_{i + 1}" for i in range(n)]

    def _symbolic_build(self, x, y=None, kind="train"):
        """Build the model, the loss, the metrics and the optimizer from one batch's specs."""
        def to_struct(a):
            a = jnp.asarray(a) if not hasattr(a, "shape") else a
            return jax.ShapeDtypeStruct(a.shape, a.dtype)

        if not self.__dict__.get("_fully_built", False):
            self._fully_built = self.built and all(l.built for l in self._flatten_layers())
        need_model = not self._fully_built
        if need_model and kind != "predict" and _without_call(self):
            # A model with no `call()` whose own `train_step` / `test_step` runs its built
            # sub-models (the tf.keras GAN of the "Customizing what happens in fit()" guide):
            # there is no forward pass to build from (Keras 3 raises here, tf.keras ran it).
            self.built = True
            self._fully_built = True
            need_model = False
            metrics = self._compile_metrics
            if (self._compile_loss is None and not metrics._metrics_spec
                    and not metrics._weighted_spec):
                metrics.built = True  # nothing to build: no compiled loss or metrics
        if need_model or (self.compiled and kind != "predict" and (
            (self._compile_loss is not None and not self._compile_loss.built)
            or not self._compile_metrics.built
        )):
            x_struct = jax.tree.map(to_struct, x)

            from keras_on_jax.layers.layer import _global_seed_mapping

            seed_mapping = _global_seed_mapping()  # outside the trace: may create the generator

            def forward(xs):
                with scopes.StatelessScope(seed_mapping):
                    return self(xs, training=False)

            try:
                with scopes.SpecTracingScope():
                    y_pred = jax.eval_shape(forward, x_struct)
            except scopes.VariableCreatedWhileTracing:
                # Subclassed models create weights on first call: build on concrete zeros.
                from keras_on_jax.layers.layer import build_eagerly

                build_eagerly(self, (jax.tree.map(lambda s: jax.ShapeDtypeStruct((1, *s.shape[1:]), s.dtype), x_struct),), {})
                with scopes.SpecTracingScope():
                    y_pred = jax.eval_shape(forward, x_struct)
            if not self.built:
                self.built = True
            self._fully_built = True
            if self.compiled and kind != "predict":
                names = self._output_names_for(y_pred)
                if self._compile_loss is not None and not self._compile_loss.built:
                    self._compile_loss.build(names)
                if not self._compile_metrics.built:
                    loss_fns = self._compile_loss.loss_fns if self._compile_loss is not None else None
                    self._compile_metrics.build(names, y, y_pred, loss_fns)
                self._functions = {}
        if kind == "train" and self.optimizer is not None and not getattr(self.optimizer, "built", False):
            self.optimizer.build(self._trainable_for_step())
            self._functions = {}

    # ---- fit / evaluate / predict -----------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, **kwargs):
        """Train the model; returns a `History` object."""
        from keras_on_jax.callbacks import CallbackList

        self._assert_compiled("fit")
        from keras_on_jax import config as keras_config

        if keras_config.max_epochs() and keras_config.max_epochs() < epochs:
            warnings.warn(f"Limiting epochs to {keras_config.max_epochs()}", stacklevel=2)
            epochs = keras_config.max_epochs()
        for legacy in ("max_queue_size", "workers", "use_multiprocessing"):
            kwargs.pop(legacy, None)
        if kwargs:
            raise ValueError(f"Invalid keyword argument(s) in `fit()`: {sorted(kwargs)}.")
        if validation_split and validation_data is None:
            if not data_adapters.is_array_data(x):
                raise ValueError(
                    "`validation_split` is only supported for Tensors or NumPy arrays, found "
                    f"following types in the input: {type(x)}"
                )
            (x, y, sample_weight), validation_data = data_adapters.train_validation_split(
                (x, y, sample_weight), validation_split
            )
        elif validation_split and not 0 <= validation_split < 1:
            raise ValueError(
                f"`validation_split` must be in the range [0, 1). Received: {validation_split}"
            )
        adapter = data_adapters.get_data_adapter(
            x, y, sample_weight, batch_size=batch_size, steps=steps_per_epoch, shuffle=shuffle,
            class_weight=class_weight,
        )
        val_adapter = None
        if validation_data is not None:
            vx, vy, vsw = unpack_x_y_sample_weight(validation_data)
            val_adapter = data_adapters.get_data_adapter(
                vx, vy, vsw, batch_size=validation_batch_size or batch_size,
                steps=validation_steps, shuffle=False,
            )
        if verbose == "auto":
            verbose = 1
        callbacks = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            verbose=verbose, epochs=epochs, steps=adapter.num_batches,
        )
        self.stop_training = False
        spe = self.steps_per_execution
        chunk = self._gather_chunk(adapter, "train", spe, callbacks)
        if chunk is not None:
            self._compile_ahead(adapter, "train", chunk)
        _reset_adapter(adapter)
        callbacks.on_train_begin()
        # BackupAndRestore may ask to resume at (epoch, batch) of an interrupted run.
        start_epoch, skip = self.__dict__.pop("_resume_position", (initial_epoch, 0))
        training_logs = None
        logs = {}
        for epoch in range(start_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            logs = self._epoch(adapter, "train", spe, callbacks, skip=skip)
            skip = 0
            if logs is None:
                break
            epoch_logs = to_host_logs(logs)
            if val_adapter is not None and _should_validate(epoch, validation_freq):
                val_logs = self._evaluate_adapter(val_adapter, callbacks, verbose=0)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
        callbacks.on_train_end(logs=training_logs)
        return self.history

    def _epoch(self, adapter, kind, spe, callbacks, skip=0):
        chunk = self._gather_chunk(adapter, kind, spe, callbacks)
        if chunk is not None:
            return self._epoch_on_device(adapter, kind, chunk, callbacks, skip)
        begin = getattr(callbacks, f"on_{kind}_batch_begin")
        end = getattr(callbacks, f"on_{kind}_batch_end")
        logs = None
        step = 0
        built = False
        pending = []
        for batch in adapter.iter_epoch():
            x, y, sw = batch
            x = self._host_batch(x)
            if not built:
                self._symbolic_build(x, y, kind=kind)
                built = True
            if step < skip:
                step += 1
                continue
            if spe == 1:
                begin(step)
                logs = self._run(kind, _pack(x, y, sw))
                end(step, logs)
                step += 1
            else:
                pending.append(_pack(x, y, sw))
                if len(pending) == spe:
                    logs = self._run_group(kind, pending, step, begin, end)
                    step += len(pending)
                    pending = []
            if self.stop_training and kind == "train":
                break
        if pending:
            logs = self._run_group(kind, pending, step, begin, end)
        if logs is None and skip and step >= skip:
            return self.get_metrics_result()
        if logs is None and kind == "train":
            raise ValueError(
                "Unexpected value for `steps_per_epoch` or empty data: the training data "
                "produced no batch."
            )
        return logs

    # ---- arrays in memory: the data goes to the device once, steps gather their rows -----------
    _DEVICE_DATA_LIMIT = 1 << 30  # bytes; larger arrays are sliced on the host per batch

    def _gather_chunk(self, adapter, kind, spe, callbacks):
        """How many steps one compiled call runs when the data can live on the device.

        None means: stream batches from the host. With default settings (spe == 1), steps
        are fused only where no one can observe the difference: no callback other than
        the progress bar and History has batch-level hooks.
        """
        if not isinstance(adapter, data_adapters.ArrayDataAdapter) or self._has_host_layers():
            return None
        if self._is_placed():  # per-device segments: batches stream from the host
            return None
        if not self.jit_compile or self._run_eagerly or self._active_distribution() is not None:
            return None
        leaves = data_adapters._flat((adapter.x, adapter.y, adapter.sample_weight))
        if not all(isinstance(a, (np.ndarray, jax.Array)) and a.dtype.kind in "biuf" for a in leaves):
            return None
        if sum(a.nbytes for a in leaves) > self._DEVICE_DATA_LIMIT:
            return None
        if spe > 1:
            return spe
        if _has_user_batch_hooks(callbacks, kind):
            return 1
        steps = adapter.num_batches
        if jax.default_backend() == "cpu" and self._has_convolutions():
            # XLA:CPU runs convolutions inside a loop much slower than dispatched alone.
            return 1
        verbose = (callbacks.params or {}).get("verbose", 0) if hasattr(callbacks, "params") else 0
        if verbose == 1:
            return max(1, min(steps, 16))
        return max(1, steps)

    def _has_host_layers(self):
        """Whether a layer runs on the host (string preprocessing): batches then stream."""
        return any(getattr(l, "_runs_on_host", False) for l in self._flatten_layers())

    def _host_batch(self, x):
        """`x` after the model's leading host-only layers (`Model._host_preprocess`)."""
        preprocess = getattr(self, "_host_preprocess", None)
        return preprocess(x) if preprocess is not None else x

    def _has_convolutions(self):
        cached = getattr(self, "_has_conv_cache", None)
        if cached is None:
            cached = any("Conv" in type(l).__name__ for l in self._flatten_layers())
            self._has_conv_cache = cached
        return cached

    def _device_data(self, adapter, kind):
        data = getattr(adapter, "_device_data", None)
        if data is None:
            data = jax.device_put(_pack(adapter.x, adapter.y, adapter.sample_weight))
            adapter._device_data = data
        first_rows = slice(0, min(adapter.batch_size, adapter.n))
        self._symbolic_build(
            data_adapters.slice_arrays(adapter.x, first_rows),
            data_adapters.slice_arrays(adapter.y, first_rows), kind=kind,
        )
        return data

    def _compile_ahead(self, adapter, kind, chunk):
        """Compile the fused multi-step program before the first epoch starts.

        The program's shape (steps per call) is only known once fit has looked at its
        callbacks; compiling it here keeps XLA compilation out of the epochs themselves.
        """
        if chunk <= 1 or not self.jit_compile or self._run_eagerly:
            return
        data = self._device_data(adapter, kind)
        steps = len([b for b in _epoch_rows_count(adapter) if b == adapter.batch_size])
        size = min(chunk, steps)
        if size <= 1:
            return
        shape = (size, adapter.batch_size)

        def compile_ahead():
            fn, flat_vars, _, _, ahead = self._function(kind, "gather")
            if shape not in ahead:
                state = [v.get_raw_value() for v in flat_vars]
                ahead[shape] = fn.lower(state, data, jax.ShapeDtypeStruct(shape, "int32")).compile()

        self._build_optimizer_and_retry(compile_ahead)

    def _epoch_on_device(self, adapter, kind, chunk, callbacks, skip=0):
        begin = getattr(callbacks, f"on_{kind}_batch_begin")
        end = getattr(callbacks, f"on_{kind}_batch_end")
        data = self._device_data(adapter, kind)
        rows = _epoch_rows(adapter)
        logs = None
        step = min(skip, len(rows))
        full = [r for r in rows[step:] if len(r) == adapter.batch_size]
        partial = [r for r in rows[step:] if len(r) != adapter.batch_size]
        if not full and not partial:
            return self.get_metrics_result() if skip else None
        for start in range(0, len(full), chunk):
            index = np.asarray(full[start:start + chunk], dtype="int32")
            begin(step)
            logs = self._run(kind, data, index, mode="gather")
            step += len(index)
            end(step - 1, logs)
            if self.stop_training and kind == "train":
                return logs
        for r in partial:
            begin(step)
            logs = self._run(kind, data, np.asarray([r], dtype="int32"), mode="gather")
            end(step, logs)
            step += 1
        return logs

    def _run_group(self, kind, batches, step, begin, end):
        shapes = [tuple(a.shape for a in _tree_flat(b)) for b in batches]
        begin(step)
        if all(s == shapes[0] for s in shapes):
            stacked = jax.tree.map(lambda *a: np.stack([np.asarray(v) for v in a]), *batches)
            logs = self._run(kind, stacked, mode="stacked")
        else:
            logs = None
            for b in batches:
                logs = self._run(kind, b)
        end(step + len(batches) - 1, logs)
        return logs

    def _evaluate_adapter(self, adapter, callbacks, verbose=0):
        _reset_adapter(adapter)
        self.reset_metrics()
        callbacks.on_test_begin()
        logs = self._epoch(adapter, "test", self.steps_per_execution, callbacks)
        host = to_host_logs(logs) if logs is not None else {}
        callbacks.on_test_end(host)
        return host

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """Return the loss and metric values (a list, a scalar, or a dict)."""
        from keras_on_jax.callbacks import CallbackList

        self._assert_compiled("evaluate")
        for legacy in ("max_queue_size", "workers", "use_multiprocessing"):
            kwargs.pop(legacy, None)
        if kwargs:
            raise ValueError(f"Invalid keyword argument(s) in `evaluate()`: {sorted(kwargs)}.")
        adapter = data_adapters.get_data_adapter(x, y, sample_weight, batch_size=batch_size,
                                                 steps=steps, shuffle=False)
        if verbose == "auto":
            verbose = 1
        callbacks = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=adapter.num_batches,
        )
        logs = self._evaluate_adapter(adapter, callbacks, verbose)
        return self._format_eval(logs, return_dict)

    def _format_eval(self, logs, return_dict):
        if return_dict:
            return logs
        values = list(self._in_metrics_order(logs).values())
        if len(values) == 1:
            return values[0]
        return values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, **kwargs):
        """Return the model outputs as NumPy arrays, for inputs of any length."""
        from keras_on_jax.callbacks import CallbackList

        for legacy in ("max_queue_size", "workers", "use_multiprocessing"):
            kwargs.pop(legacy, None)
        if kwargs:
            raise ValueError(f"Invalid keyword argument(s) in `predict()`: {sorted(kwargs)}.")
        if (verbose == 0 and callbacks is None and steps is None
                and isinstance(x, (np.ndarray, jax.Array)) and x.dtype.kind in "biuf"
                and 0 < x.shape[0] <= (batch_size or 32)):
            # One batch: no adapter, no callbacks, one compiled call (the latency path).
            x = self._host_batch(x)
            self._symbolic_build(x, kind="predict")
            return jax.device_get(self._run("predict", (x,)))
        adapter = data_adapters.get_data_adapter(x, None, None, batch_size=batch_size,
                                                 steps=steps, shuffle=False)
        if verbose == "auto":
            verbose = 1
        callbacks = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=adapter.num_batches,
        )
        callbacks.on_predict_begin()
        outputs = []
        step = 0
        for batch in adapter.iter_epoch():
            bx = self._host_batch(batch[0])
            if step == 0:
                self._symbolic_build(bx, kind="predict")
            callbacks.on_predict_batch_begin(step)
            out = self._run("predict", (bx,))
            outputs.append(out)
            callbacks.on_predict_batch_end(step, {"outputs": out})
            step += 1
        callbacks.on_predict_end()
        if not outputs:
            raise ValueError("Unexpected result of `predict_function` (empty batch_outputs).")
        host = jax.device_get(outputs)
        return jax.tree.map(lambda *parts: np.concatenate(parts, axis=0), *host)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._assert_compiled("train_on_batch")
        if class_weight is not None:
            sample_weight = data_adapters.apply_class_weight(y, class_weight, sample_weight)
        x, y, sample_weight = (data_adapters.standardize_arrays(v, n) if v is not None else None
                               for v, n in ((x, "x"), (y, "y"), (sample_weight, "sample_weight")))
        x = self._host_batch(x)
        self._symbolic_build(x, y, kind="train")
        self.reset_metrics()
        logs = to_host_logs(self._run("train", _pack(x, y, sample_weight)))
        return logs if return_dict else self._format_eval(logs, False)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled("test_on_batch")
        x = self._host_batch(x)
        self._symbolic_build(x, y, kind="test")
        self.reset_metrics()
        logs = to_host_logs(self._run("test", _pack(x, y, sample_weight)))
        return logs if return_dict else self._format_eval(logs, False)

    def predict_on_batch(self, x):
        x = self._host_batch(x)
        self._symbolic_build(x, kind="predict")
        return jax.device_get(self._run("predict", (x,)))

    # ---- the pure path -----------------------------------------------------------------------------------
    def get_compile_config(self):
        return self._compile_config

    def compile_from_config(self, config):
        config = serialization.deserialize_keras_object(config) if "module" in (config or {}) else config
        if config:
            self.compile(**config)

    # Hooks of the serialization core: the `compile_config` entry of a saved model.
    # (The module loads on first save/load, not at `import keras_on_jax`.)
    def _saved_compile_config(self):
        from keras_on_jax.training import compile_config

        return compile_config.serialize_compile_config(self)

    def _compile_from_saved_config(self, config, custom_objects=None):
        from keras_on_jax.training import compile_config

        compile_config.compile_model_from_config(self, config, custom_objects)

    # ---- Keras 3 JAX-trainer members ---------------------------------------------------------
    def _step_function(self, kind):
        for key, entry in self._functions.items():
            if key[0] == kind:
                return entry[0]
        return None

    def _clear_step_function(self, value, name):
        if value is not None:
            raise ValueError(f"`{name}` can only be reset to None (the next call compiles it "
                             f"again). Received: {value!r}")
        self._functions = {}

    @property
    def train_function(self):
        """The compiled train step `(state, data) -> (logs, state)`, None until made."""
        return self._step_function("train")

    @train_function.setter
    def train_function(self, value):
        self._clear_step_function(value, "train_function")

    @property
    def test_function(self):
        """The compiled test step, None until made."""
        return self._step_function("test")

    @test_function.setter
    def test_function(self, value):
        self._clear_step_function(value, "test_function")

    @property
    def predict_function(self):
        """The compiled predict step, None until made."""
        return self._step_function("predict")

    @predict_function.setter
    def predict_function(self, value):
        self._clear_step_function(value, "predict_function")

    def jax_state_sync(self):
        """Write the compiled steps' state back into the Variables. Here every step call
        already rebinds its new state into the Variables, so there is nothing pending."""

    def compute_loss_and_updates(self, trainable_variables, non_trainable_variables,
                                 metrics_variables, x, y, sample_weight, training=False,
                                 optimizer_variables=None):
        """The loss as a pure function of the variable values (for `jax.grad`).

        Returns `(loss, (unscaled_loss, y_pred, non_trainable_variables,
        metrics_variables))`; `loss` is scaled by the optimizer in training.
        """
        mapping = list(zip(self.trainable_variables, trainable_variables))
        mapping += zip(self.non_trainable_variables, non_trainable_variables)
        mapping += zip(self.metrics_variables, metrics_variables)
        kwargs = {"training": training} if "training" in self._call_signature.parameters else {}
        with scopes.StatelessScope(mapping, collect_losses=True) as scope:
            y_pred = self(x, **kwargs)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=training)

        def current(variables, values):
            return [old if scope.get_current_value(v) is None else scope.get_current_value(v)
                    for v, old in zip(variables, values)]

        unscaled = loss
        if training and self.optimizer is not None:
            opt_mapping = list(zip(self.optimizer.variables, optimizer_variables or []))
            with scopes.StatelessScope(opt_mapping):
                loss = scale_loss(self.optimizer, loss)
        return loss, (unscaled, y_pred,
                      current(self.non_trainable_variables, non_trainable_variables),
                      current(self.metrics_variables, metrics_variables))

    def make_train_function(self, force=False):
        return self._function("train", self.steps_per_execution)[0]

    def make_test_function(self, force=False):
        return self._function("test", self.steps_per_execution)[0]

    def make_predict_function(self, force=False):
        return self._function("predict", 1)[0]


class _TrackedCompileLoss:
    def __init__(self, compile_loss, tracker):
        self._compile_loss = compile_loss
        self._tracker = tracker

    def __getattr__(self, name):
        return getattr(self._compile_loss, name)

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None):
        total = self._compile_loss(y_true, y_pred, sample_weight=sample_weight,
                                   regularization_losses=regularization_losses)
        if self._tracker is not None:
            self._tracker.update_state(total, sample_weight=_batch_size_of(y_pred))
        return total


class _GlobalSeedRef:
    """Which global seed state the compiled steps thread (held outside layer tracking: it
    is not one of the model's variables)."""

    __slots__ = ("state",)

    def __init__(self, state):
        self.state = state


def _without_call(model):
    """True for a model that does not define `call()` but overrides a train/test step, and
    whose sub-layers are all built."""
    from keras_on_jax.layers.layer import Layer

    cls = type(model)
    if getattr(cls, "call", None) is not Layer.call:
        return False
    if cls.train_step is Trainer.train_step and cls.test_step is Trainer.test_step:
        return False
    return all(layer.built for layer in model._flatten_layers() if layer is not model)


def _reset_adapter(adapter):
    """Keras 3's `EpochIterator.reset()`: fit and evaluate call the data's `on_epoch_end()`
    once before their first epoch. (Streaming adapters call `on_epoch_begin()` /
    `on_epoch_end()` around each epoch they read to the end, in `iter_epoch()`.)"""
    on_end = getattr(adapter, "on_epoch_end", None)
    if on_end is not None:
        on_end()


def _epoch_rows_count(adapter):
    """The batch sizes of one epoch (no shuffle drawn)."""
    sizes = [min(adapter.batch_size, adapter.n - i) for i in range(0, adapter.n, adapter.batch_size)]
    if adapter.steps is None:
        return sizes
    return (sizes * (adapter.steps // max(1, len(sizes)) + 1))[: adapter.steps]


def _epoch_rows(adapter):
    """The row indices of every batch of one epoch, in the adapter's (shuffled) order."""
    return [np.arange(b.start, b.stop) if isinstance(b, slice) else b
            for b in adapter.epoch_plan()]


def _has_user_batch_hooks(callbacks, kind):
    observes = getattr(callbacks, "observes_batches", None)
    if observes is None:  # a user's own callback container: assume it watches batches
        return bool(getattr(callbacks, "callbacks", None))
    return observes(kind)


def _current_distribution():
    from keras_on_jax.distribute import context

    return context.current()


def scale_loss(optimizer, loss):
    """The loss a step differentiates: `loss` times the optimizer's loss scale
    (`LossScaleOptimizer`), or `loss` when it has none."""
    scale = getattr(optimizer, "scale_loss", None)
    return scale(loss) if scale is not None else loss


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq
