"""Honoured `keras.device(...)` placement: a Functional model run as per-device segments.

A layer called on symbolic inputs inside `with keras.device("gpu:1"):` records that device
on its graph node (`node.device`; a node outside any scope belongs to the default device,
`jax.devices()[0]`). When a Functional model's graph spans two or more devices (and no
distribution strategy is active), one XLA program cannot run it: an executable has one
device assignment. So the trainer's step for such a model is this executor instead:

- The graph's nodes (in execution order) are cut into maximal runs on one device:
  *segments*. Each segment is `jax.jit`-compiled once and runs on its device; the tensors
  crossing a segment boundary, and the variables a segment reads that live elsewhere (a
  shared layer called under two scopes), are moved with `jax.device_put`. Dispatch is
  asynchronous, so independent segments on different devices run concurrently.
- The loss and the metrics run on the device of the model's (first) output.
- Training (the built-in `train_step`): each segment's backward pass is a jitted
  `jax.vjp` of the segment on its own device, recomputing its forward (rematerialization;
  random layers draw the same numbers, their seed state being an input). Cotangents move
  back across the boundaries; each variable's gradient is summed on the variable's device,
  and the optimizer update runs per device, on the variables that live there.

Models without multi-device placement never reach this module's executor. It lives with
the Functional graph it walks, above the trainer whose step it replaces: the trainer asks
`model._is_placed()` and builds the step with `model._placed_function(...)`, which a
Functional model answers from here; `distribute/` knows nothing of it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from keras_on_jax.backend import dtypes, scopes
from keras_on_jax.backend.config import floatx
from keras_on_jax.layers.layer import (
    _call_stack,
    _CallContext,
    _cast_floats,
    _flatten,
    get_keras_mask,
    set_keras_mask,
)
from keras_on_jax.models.functional import Functional, node_call_kwargs
from keras_on_jax.ops.function import fill_in, structure_like
from keras_on_jax.training.data_adapters import unpack_x_y_sample_weight
from keras_on_jax.training.trainer import Trainer, scale_loss


def default_device():
    """The device of nodes called outside any `keras.device` scope."""
    dev = jax.config.jax_default_device
    if isinstance(dev, jax.Device):
        return dev
    if isinstance(dev, str):
        from keras_on_jax.distribute.device import get_device

        return get_device(dev)
    return jax.devices()[0]


def _device_of(value):
    devices = getattr(value, "devices", None)
    if devices is None:
        return None
    try:
        found = devices()
    except Exception:  # a tracer
        return None
    return next(iter(found)) if len(found) == 1 else None


def _overrides(model, name):
    return getattr(type(model), name) is not getattr(Trainer, name)


def is_placed(model):
    """Whether `model`'s compiled steps run as per-device segments (see module doc)."""
    if not isinstance(model, Functional) or "_graph_nodes" not in model.__dict__:
        return False
    if model._active_distribution() is not None:
        return False
    if any(_overrides(model, m) for m in ("train_step", "test_step", "predict_step",
                                          "compute_loss", "compute_metrics")):
        return False  # a custom step keeps the single-program path
    return spans_devices(model)


def spans_devices(model):
    """Whether a Functional model's graph is placed on two or more devices (no
    distribution active, no host-only layers)."""
    if not isinstance(model, Functional) or "_graph_nodes" not in model.__dict__:
        return False
    if model._active_distribution() is not None:
        return False
    if type(model).call is not Functional.call or model._host_plan() is not None:
        return False
    return len(_plan(model).devices) > 1


class _Segment:
    def __init__(self, device, nodes):
        self.device = device
        self.nodes = nodes
        self.inputs = []   # KerasTensors read by the segment, produced outside it
        self.outputs = []  # KerasTensors produced here, read later or model outputs
        self.reg_layers = []  # layers whose weight regularization this segment adds


class _Plan:
    def __init__(self, model):
        nodes = model._graph_nodes
        segments = []
        for node in nodes:
            if node.device is not None:
                dev = node.device
            elif segments and not hasattr(node.operation, "variables"):
                dev = segments[-1].device  # an op (no weights) runs where its input was made
            else:
                dev = default_device()
            if segments and segments[-1].device == dev:
                segments[-1].nodes.append(node)
            else:
                segments.append(_Segment(dev, [node]))
        self.devices = {s.device for s in segments}
        producer = {}
        for i, seg in enumerate(segments):
            for node in seg.nodes:
                for t in node.output_tensors:
                    producer[id(t)] = i
        self.producer = producer
        needed = {}  # tensor id -> tensor, read by another segment or a model output
        seen_layers = set()
        for i, seg in enumerate(segments):
            ins = {}
            for node in seg.nodes:
                for t in node.input_tensors:
                    if producer.get(id(t)) != i:
                        ins.setdefault(id(t), t)
                layer = node.operation
                if id(layer) not in seen_layers and hasattr(layer, "_flatten_layers"):
                    seen_layers.add(id(layer))
                    seg.reg_layers.append(layer)
            seg.inputs = list(ins.values())
            for t in seg.inputs:
                needed[id(t)] = t
        for t in model._output_tensors:
            needed[id(t)] = t
        for seg in segments:
            seg.outputs = [t for node in seg.nodes for t in node.output_tensors
                           if id(t) in needed]
        self.segments = segments
        self._homes = None
        self.output_device = (segments[producer[id(model._output_tensors[0])]].device
                              if id(model._output_tensors[0]) in producer else default_device())

    def segment_variables(self, seg):
        out, seen = [], set()
        for node in seg.nodes:
            for v in getattr(node.operation, "variables", ()):
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    def homes(self):
        """`{id(variable): device}`: a layer's variables live on the device of the first
        segment that calls it (where a layer called in a scope was built)."""
        if self._homes is None:
            homes = {}
            for seg in self.segments:
                for v in self.segment_variables(seg):
                    homes.setdefault(id(v), seg.device)
            self._homes = homes
        return self._homes


def _plan(model):
    plan = model.__dict__.get("_placement_plan")
    if plan is None:
        plan = _Plan(model)
        model.__dict__["_placement_plan"] = plan
    return plan


def last_output_devices(model):
    """`{(layer name, node index): device}` for the segment-boundary outputs of the last
    step run through the executor: the devices those values were computed on."""
    return dict(model.__dict__.get("_placement_record", {}))


# ---- the pure pieces, each compiled for one device ---------------------------------------------
def _floatx_sum(terms):
    total = jnp.zeros((), dtype=floatx())
    for t in terms:
        total = total + jnp.sum(jnp.asarray(t, dtype=floatx()))
    return total


def _run_segment(seg, t_vars, nt_vars, t_vals, nt_vals, ins, in_masks, training,
                 raw_losses=None):
    """Run the segment's nodes as a pure function of variable values and inputs.

    Returns `(outputs, their masks, new non-trainable values, summed losses)`: the
    `add_loss` losses of the calls plus the weight regularization of the layers the
    segment owns. With a `raw_losses` list, the `add_loss` losses are appended to it
    instead of summed (eager calls)."""
    with scopes.StatelessScope(list(zip([*t_vars, *nt_vars], [*t_vals, *nt_vals])),
                               collect_losses=True) as scope:
        stack = _call_stack()
        pushed = not stack  # inside a model call, its context holds the masks
        if pushed:
            stack.append(_CallContext(training))
        try:
            values = {}
            for t, x, m in zip(seg.inputs, ins, in_masks):
                values[id(t)] = x
                if m is not None:
                    set_keras_mask(x, m)
            for node in seg.nodes:  # as `Functional._run_nodes`
                args = fill_in(node.call_args, values)
                kwargs = node_call_kwargs(node, values, training)
                with jax.default_device(seg.device):
                    outputs = node.operation(*args, **kwargs)
                for t, y in zip(node.output_tensors, _flatten(outputs)):
                    values[id(t)] = y
            outs = [values[id(t)] for t in seg.outputs]
            out_masks = [get_keras_mask(o) for o in outs]
        finally:
            if pushed:
                stack.pop()
        if raw_losses is not None:
            raw_losses.extend(scope.losses)
            loss = None
        else:
            reg = [r for layer in seg.reg_layers for sub in layer._flatten_layers()
                   for r in sub._weight_regularization_losses()]
            loss = _floatx_sum(list(scope.losses) + reg)
        new_nt = [scope.get_current_value(v) for v in nt_vars]
    return outs, out_masks, new_nt, loss


def is_concrete(values):
    """Whether `values` are concrete arrays (an eager call), not tracers or symbols."""
    leaves = jax.tree.leaves(values)
    return bool(leaves) and all(isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer)
                                for x in leaves)


def segmented_call(model, flat_inputs, training):
    """An eager `model(x)` of a model placed on several devices: each segment runs on its
    device (un-jitted) on the variables' current values; variable updates (BatchNorm
    statistics, seeds) are assigned back where the variables live."""
    plan = _plan(model)
    homes = plan.homes()
    tensors = {id(t): x for t, x in zip(model._input_tensors, flat_inputs)}
    masks = {id(t): get_keras_mask(x) for t, x in zip(model._input_tensors, flat_inputs)}
    losses = []
    record = {}
    for seg in plan.segments:
        dev = seg.device
        seg_vars = plan.segment_variables(seg)
        vals = [_put(v.value, dev) for v in seg_vars]
        ins = [_put(tensors[id(t)], dev) for t in seg.inputs]
        in_masks = [_put(masks.get(id(t)), dev) for t in seg.inputs]
        outs, out_masks, new, _ = _run_segment(seg, [], seg_vars, [], vals, ins, in_masks,
                                               training, raw_losses=losses)
        for v, old, value in zip(seg_vars, vals, new):
            if value is not old:
                v.assign(_put(value, homes.get(id(v), dev)))
        for t, o, m in zip(seg.outputs, outs, out_masks):
            tensors[id(t)] = o
            masks[id(t)] = m
            layer, node_index, _ = t._keras_history
            record[(layer.name, node_index)] = _device_of(o)
    model.__dict__["_placement_record"] = record
    scope = scopes.get_stateless_scope()
    if scope is not None and scope.collect_losses:
        scope.losses.extend(losses)
    else:
        model._losses.extend(losses)
    return structure_like(model._outputs_struct, [tensors[id(t)] for t in model._output_tensors])


def _is_float(x):
    return hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.inexact)


class _SegmentFns:
    """The jitted forward and backward of one segment (`jit=False`: eager)."""

    def __init__(self, seg, t_vars, nt_vars, jit):
        self.seg, self.t_vars, self.nt_vars = seg, t_vars, nt_vars

        def forward(t_vals, nt_vals, ins, in_masks, training):
            return _run_segment(seg, t_vars, nt_vars, t_vals, nt_vals, ins, in_masks, training)

        def backward(t_vals, nt_vals, ins, in_masks, cot_outs, cot_loss, training, diff_in,
                     float_out):
            def f(tv, dxs):
                xs = list(ins)
                for i, dx in zip(diff_in, dxs):
                    xs[i] = dx
                outs, _, _, loss = _run_segment(seg, t_vars, nt_vars, tv, nt_vals, xs,
                                                in_masks, training)
                return [outs[i] for i in float_out], loss

            _, vjp = jax.vjp(f, list(t_vals), [ins[i] for i in diff_in])
            return vjp((list(cot_outs), cot_loss))

        if jit:
            forward = jax.jit(forward, static_argnames=("training",))
            backward = jax.jit(backward, static_argnames=("training", "diff_in", "float_out"))
        self.forward, self.backward = forward, backward


def _put(x, device):
    return jax.device_put(x, device) if x is not None else None


def make_function(model, kind, mode, groups):
    """The trainer's `(fn, flat_vars, key_order, written_vars, ahead)` for a placed model."""
    plan = _plan(model)
    jit = bool(model.jit_compile) and not model._run_eagerly
    flat_vars = [v for g in groups for v in g]
    trainable, non_trainable = groups[0], groups[1]
    t_ids = {id(v) for v in trainable}
    nt_ids = {id(v) for v in non_trainable}
    seg_fns = []
    for seg in plan.segments:
        seg_vars = plan.segment_variables(seg)
        t_vars = [v for v in seg_vars if id(v) in t_ids]
        nt_vars = [v for v in seg_vars if id(v) in nt_ids]
        seg_fns.append(_SegmentFns(seg, t_vars, nt_vars, jit))
    metric_vars = groups[-1] if kind in ("train", "test") else []
    head_dev = plan.output_device
    key_order = []
    written = len(trainable) if kind == "predict" else 0
    homes = plan.homes()
    home = {id(v): homes.get(id(v), default_device()) for v in [*trainable, *non_trainable]}

    def head(metric_vals, y_pred_flat, seg_losses, y, sw, batch_n, train):
        """Loss (with its gradient w.r.t. the outputs and the segments' losses) and
        metrics, on the output device."""
        with scopes.StatelessScope(list(zip(metric_vars, metric_vals))) as outer:
            updated = []

            def loss_of(yp_flat, sl):
                with scopes.StatelessScope([]) as inner:
                    y_pred = structure_like(model._outputs_struct, yp_flat)
                    # `Trainer.compute_loss`, with the layers' losses gathered per segment
                    loss = _floatx_sum(sl)
                    if model._compile_loss is not None:
                        compiled = model._compile_loss.compute(y, y_pred, sw)
                        loss = compiled + loss.astype(compiled.dtype) if sl else compiled
                    updated[:] = inner.updated_variables()
                    new = [inner.get_current_value(v) for v in updated]
                scaled = scale_loss(model.optimizer, loss) if train else loss
                return scaled, (loss, new)

            if train:
                scaled, vjp, (loss, new) = jax.vjp(loss_of, list(y_pred_flat), list(seg_losses),
                                                   has_aux=True)
                cot_yp, cot_sl = vjp(jnp.ones_like(scaled))
            else:
                _, (loss, new) = loss_of(list(y_pred_flat), list(seg_losses))
                cot_yp = cot_sl = None
            for v, value in zip(updated, new):
                v.assign(value)
            y_pred = structure_like(model._outputs_struct, list(y_pred_flat))
            model._loss_tracker.update_state(loss, sample_weight=batch_n)
            logs = model.compute_metrics(None, y, y_pred, sw)
            new_metric = [outer.get_current_value(v) for v in metric_vars]
        if isinstance(logs, dict):
            key_order[:] = list(logs.keys())
        return logs, new_metric, cot_yp, cot_sl

    if jit:
        head = jax.jit(head, static_argnames=("batch_n", "train"))

    opt_fns = {}

    def optimizer_step(opt_vars, t_vars, t_vals, grads, opt_vals, device):
        """One device's optimizer update; also says which optimizer variables it wrote."""
        key = (device, tuple(id(v) for v in t_vars))
        if key not in opt_fns:
            info = {}

            def pure(t_vals, grads, opt_vals):
                with scopes.StatelessScope(list(zip([*t_vars, *opt_vars],
                                                    [*t_vals, *opt_vals]))) as scope:
                    model.optimizer.apply(grads, t_vars)
                    ids = {id(u) for u in scope.updated_variables()}
                    info["written"] = [id(v) in ids for v in opt_vars]
                    return ([scope.get_current_value(v) for v in t_vars],
                            [scope.get_current_value(v) for v in opt_vars])

            opt_fns[key] = (jax.jit(pure) if jit else pure), info
        fn, info = opt_fns[key]
        new_t, new_o = fn(t_vals, grads, opt_vals)  # traces (and fills `info`) on first use
        return new_t, new_o, info["written"]

    def step(state, data):
        record = {}
        vals = {id(v): s for v, s in zip(flat_vars, state)}
        x, y, sw = unpack_x_y_sample_weight(data)
        flat_x = model._standardize_inputs(x)
        if model.autocast and dtypes.is_float_dtype(model.compute_dtype):
            flat_x = _cast_floats(flat_x, model.compute_dtype)
        tensors = {id(t): v for t, v in zip(model._input_tensors, flat_x)}
        masks = {}
        training = kind == "train"
        saved = []
        for fns in seg_fns:
            seg, dev = fns.seg, fns.seg.device
            ins = [_put(tensors[id(t)], dev) for t in seg.inputs]
            in_masks = [_put(masks.get(id(t)), dev) for t in seg.inputs]
            t_vals = [_put(vals[id(v)], dev) for v in fns.t_vars]
            nt_vals = [_put(vals[id(v)], dev) for v in fns.nt_vars]
            outs, out_masks, new_nt, loss = fns.forward(t_vals, nt_vals, ins, in_masks,
                                                        training=training)
            saved.append((t_vals, nt_vals, ins, in_masks, outs, loss))
            for v, value in zip(fns.nt_vars, new_nt):
                vals[id(v)] = value
            for t, o, m in zip(seg.outputs, outs, out_masks):
                tensors[id(t)] = o
                if m is not None:
                    masks[id(t)] = m
                layer, node_index, _ = t._keras_history
                record[(layer.name, node_index)] = _device_of(o)
        model.__dict__["_placement_record"] = record
        y_pred_flat = [_put(tensors[id(t)], head_dev) for t in model._output_tensors]
        if kind == "predict":
            new_state = [_put(vals[id(v)], home.get(id(v))) for v in flat_vars]
            return structure_like(model._outputs_struct, y_pred_flat), new_state[written:]
        seg_losses = [_put(s[5], head_dev) for s in saved]
        leaves = jax.tree.leaves(x)
        batch_n = int(leaves[0].shape[0]) if leaves else 1
        metric_vals = [_put(vals[id(v)], head_dev) for v in metric_vars]
        logs, new_metric, cot_yp, cot_sl = head(
            metric_vals, y_pred_flat, seg_losses, _put(y, head_dev), _put(sw, head_dev),
            batch_n=batch_n, train=training)
        for v, value in zip(metric_vars, new_metric):
            vals[id(v)] = value
        if training:
            _backward(cot_yp, cot_sl, saved, vals, home)
        for v in non_trainable:  # back where it lives (a later segment may have written it)
            vals[id(v)] = _put(vals[id(v)], home[id(v)])
        new_state = [vals[id(v)] for v in flat_vars]
        return logs, new_state[written:]

    def _backward(cot_yp, cot_sl, saved, vals, home):
        cots = {}

        def add_cot(t, c):
            dev = plan.segments[plan.producer[id(t)]].device
            c = _put(c, dev)
            cots[id(t)] = c if id(t) not in cots else cots[id(t)] + c

        for t, c in zip(model._output_tensors, cot_yp):
            if id(t) in plan.producer and _is_float(c):
                add_cot(t, c)
        grads = {}
        for i in reversed(range(len(seg_fns))):
            fns = seg_fns[i]
            seg, dev = fns.seg, fns.seg.device
            t_vals, nt_vals, ins, in_masks, outs, _ = saved[i]
            float_out = tuple(j for j, o in enumerate(outs) if _is_float(o))
            diff_in = tuple(j for j, (t, x) in enumerate(zip(seg.inputs, ins))
                            if id(t) in plan.producer and _is_float(x))
            if not fns.t_vars and not diff_in:
                continue
            cot_outs = [cots.get(id(seg.outputs[j]), None) for j in float_out]
            cot_outs = [jnp.zeros_like(outs[j]) if c is None else _put(c, dev)
                        for j, c in zip(float_out, cot_outs)]
            g_t, g_in = fns.backward(t_vals, nt_vals, ins, in_masks, cot_outs,
                                     _put(cot_sl[i], dev), training=True, diff_in=diff_in,
                                     float_out=float_out)
            for v, g in zip(fns.t_vars, g_t):
                g = _put(g, home[id(v)])
                grads[id(v)] = g if id(v) not in grads else grads[id(v)] + g
            for j, g in zip(diff_in, g_in):
                add_cot(seg.inputs[j], g)
        _apply_gradients(grads, vals, home)

    def _apply_gradients(grads, vals, home):
        optimizer = model.optimizer
        if optimizer is None or not trainable:
            return
        opt_vars = groups[2]  # train: [trainable, non-trainable, optimizer, metrics]
        t_vars = [v for v in trainable if id(v) in grads]
        if not t_vars:
            return
        by_device = {}
        if _per_device_update(optimizer):
            for v in t_vars:
                by_device.setdefault(home[id(v)], []).append(v)
        else:  # updates that need every gradient at once run on one device
            dev = _device_of(vals[id(opt_vars[0])]) if opt_vars else default_device()
            by_device[dev or default_device()] = t_vars
        new_opt = {}
        for dev, group in by_device.items():
            t_vals = [_put(vals[id(v)], dev) for v in group]
            g = [_put(grads[id(v)], dev) for v in group]
            group_opt = _optimizer_vars_for(optimizer, opt_vars, group) \
                if len(by_device) > 1 else opt_vars
            o_vals = [_put(vals[id(v)], dev) for v in group_opt]
            new_t, new_o, flags = optimizer_step(group_opt, group, t_vals, g, o_vals, dev)
            for v, value in zip(group, new_t):
                vals[id(v)] = _put(value, home[id(v)])
            for v, value, changed in zip(group_opt, new_o, flags):
                if changed and id(v) not in new_opt:
                    new_opt[id(v)] = value
        for v in opt_vars:
            if id(v) in new_opt:
                vals[id(v)] = new_opt[id(v)]

    if mode == "step":
        fn = step
    else:  # "stacked": several batches stacked on a leading axis, run one after another
        def fn(state, data):
            n = jax.tree.leaves(data)[0].shape[0]
            outputs, logs = [], None
            current = list(state)
            for i in range(n):
                logs, new = step(current, jax.tree.map(lambda a, i=i: a[i], data))
                current = current[:written] + list(new)
                outputs.append(logs)
            if kind == "predict":
                return jax.tree.map(lambda *a: jnp.stack(a), *outputs), current[written:]
            return logs, current[written:]
    return fn, flat_vars, key_order, flat_vars[written:], {}


def _optimizer_vars_for(optimizer, opt_vars, group):
    """The optimizer variables one device's update reads: all but the per-variable slots
    of variables outside `group`."""
    keep = {optimizer._get_variable_index(v) for v in group}
    others = set()
    for slot in getattr(optimizer, "_slots", {}).values():
        if isinstance(slot, list):
            others.update(id(s) for i, s in enumerate(slot) if i not in keep and s is not None)
    return [v for v in opt_vars if id(v) not in others]


def _per_device_update(optimizer):
    """Whether each variable's update needs only its own gradient (no global clipping,
    loss scaling, gradient accumulation, EMA, or a joint Optax state)."""
    from keras_on_jax.optimizers.base_optimizer import Optimizer

    return (type(optimizer)._backend_update_step is Optimizer._backend_update_step
            and type(optimizer).apply is Optimizer.apply
            and getattr(optimizer, "global_clipnorm", None) is None
            and not getattr(optimizer, "use_ema", False)
            and not getattr(optimizer, "gradient_accumulation_steps", None)
            and getattr(optimizer, "loss_scale_factor", None) is None)
