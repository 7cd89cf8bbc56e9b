"""What every quantizable layer shares (Keras 3's `layer.quantize(mode)` machinery).

A quantizable layer lists, per quantization mode, the names of the variables its files
hold (`variable_serialization_spec`, Keras's order), builds the quantized variables
(`quantized_build`), and runs `_int8_call` / `_int4_call` / `_float8_call` instead of
`call` once its dtype policy names a mode. `quantize(mode)` replaces the float weight by
its quantized form and sets the policy to `"<mode>_from_<policy>"`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

from keras_on_jax.backend import dtype_policies
from keras_on_jax.layers.layer import QuantizationNotSupported
from keras_on_jax.quantizers import quantizers as q
from keras_on_jax.quantizers.quantization_config import (
    Int4QuantizationConfig,
    get_block_size_for_layer,
    validate_and_resolve_config,
)


class QuantizableMixin:
    """Shared `quantize` / save / load of a layer whose main weight is `_lora_base`.

    A concrete class opts in with `_quantizable = True` in its own body: Keras refuses
    (with `type_check=True`) to quantize subclasses, whose `call` may differ.

    A layer mixin gives the int modes' math: `_quantized_weight(value, mode, config)` ->
    `(weight, scale, zero)` (int4 packed; zero None unless grouped), its inverse
    `_dequantized_weight()`, and `_contract(inputs, weight)`, the layer's product of its
    inputs with a weight (for the LoRA update). The variables are `_lora_base`,
    `<_base_name>_scale` and `<_base_name>_zero`.
    """

    _base_name = "kernel"  # the spec's name of the main weight

    def _init_quantization(self, quantization_config):
        if isinstance(quantization_config, dict):
            from keras_on_jax import quantizers

            quantization_config = quantizers.deserialize(quantization_config)
        self.quantization_config = quantization_config

    # ---- quantize ---------------------------------------------------------------------
    def quantize(self, mode=None, type_check=True, config=None):
        """Quantize the layer's weights in place.

        Args:
            mode: `"int8"`, `"int4"` or `"float8"` (optional when `config` gives it).
            type_check: refuse subclasses of this layer class (their `call` may differ).
            config: a `keras.quantizers.QuantizationConfig` (default: the mode's).
        """
        config = validate_and_resolve_config(mode, config)
        mode = config.mode
        self._check_quantize_args(mode)
        if type_check and type(self).__dict__.get("_quantizable") is not True:
            raise QuantizationNotSupported(
                f"Layer {type(self).__name__} does not have a `quantize` method implemented."
            )
        if mode not in self.variable_serialization_spec:
            raise QuantizationNotSupported(
                f"Layer {type(self).__name__} ('{self.name}') cannot be quantized to "
                f"{mode!r}; supported modes: {[m for m in self.variable_serialization_spec if m]}."
            )
        self.quantization_config = config
        self._quantize(mode, config)
        if self._policy().quantization_mode is None:
            name = mode
            if mode == "int4":
                block_size = get_block_size_for_layer(self, config)
                name = f"int4/{-1 if block_size is None else block_size}"
            self.dtype_policy = f"{name}_from_{self._policy().name}"

    def _check_quantize_args(self, mode):
        if not self.built:
            raise ValueError(
                f"Cannot quantize a layer that isn't yet built. Layer '{self.name}' "
                f"(of type '{type(self).__name__}') is not built yet."
            )
        if getattr(self, "_is_quantized", False):
            raise ValueError(f"Layer '{self.name}' is already quantized with "
                             f"dtype_policy='{self._policy().name}'. Received: mode={mode}")
        if mode == "int8" and self.compute_dtype == "float16":
            raise ValueError(
                f"Quantization mode='{mode}' doesn't work well with compute_dtype='float16'. "
                "Consider loading model/layer with another dtype policy such as "
                "'mixed_bfloat16' or 'mixed_float16' before calling `quantize()`."
            )

    def quantized_build(self, shape, mode, config=None):
        builder = getattr(self, f"_{mode}_build", None)
        if builder is None or mode not in self.variable_serialization_spec:
            raise QuantizationNotSupported(
                f"Invalid quantization mode for layer {type(self).__name__}. Expected one of "
                f"{[m for m in self.variable_serialization_spec if m]}. Received: "
                f"quantization_mode={mode}"
            )
        if mode == "float8":
            builder()
        else:
            builder(shape, config)
        self._is_quantized = True

    def _quantize(self, mode, config):
        base = getattr(self, self._lora_base)
        shape = tuple(base.shape)
        if mode == "float8":
            self.quantized_build(shape, mode)
            return
        value, scale, zero = self._quantized_weight(base.value, mode, config)
        self._replace_weight(self._lora_base)
        others = self._quantize_other_weights(mode, config)
        self.quantized_build(shape, mode, config)
        getattr(self, self._lora_base).assign(value)
        getattr(self, f"{self._base_name}_scale").assign(scale)
        if zero is not None:
            getattr(self, f"{self._base_name}_zero").assign(zero)
        for name, other in others.items():
            getattr(self, name).assign(other)

    def _quantize_other_weights(self, mode, config):
        """Quantized values of the layer's other float weights, by variable name (after
        each is forgotten with `_replace_weight`)."""
        return {}

    def _add_lora(self, outputs, inputs):
        """The quantized outputs plus the LoRA update `(alpha / rank) * (inputs . A) @ B`."""
        if not self.lora_enabled:
            return outputs
        a, b = self._lora_factors()
        lora = jnp.matmul(self._contract(inputs, a.value), b.value)
        return (outputs + (self.lora_alpha / self.lora_rank) * lora).astype(self.compute_dtype)

    def _replace_weight(self, attr):
        """Forget the float weight `attr` before its quantized form is built."""
        variable = self.__dict__.get(attr)
        for group in (self._trainable_variables, self._non_trainable_variables):
            group[:] = [v for v in group if v is not variable]
        regs = self.__dict__.get("_weight_regularizers")
        if regs:
            regs[:] = [(v, r) for v, r in regs if v is not variable]
        delattr(self, attr)

    # ---- files ------------------------------------------------------------------------
    def _merged_for_saving(self):
        """Overrides of saved values by spec name (LoRA merged in); None drops a name."""
        base = getattr(self, self._lora_base)
        mode = self.quantization_mode
        if mode not in ("int8", "int4"):
            return {self._base_name: self._lora_merged(base)}
        names = (self._base_name, f"{self._base_name}_scale", f"{self._base_name}_zero")
        if not self.lora_enabled:
            return dict(zip(names, (base, getattr(self, names[1]),
                                    getattr(self, names[2], None))))
        # Dequantize, merge the LoRA update, quantize again (as Keras writes it).
        merged = self._dequantized_weight() + self._lora_delta()
        config = Int4QuantizationConfig(block_size=getattr(self, "_int4_block_size", None))
        return dict(zip(names, self._quantized_weight(merged, mode, config)))

    def _spec(self):
        mode = self.quantization_mode
        spec = self.variable_serialization_spec
        if mode not in spec:
            raise QuantizationNotSupported(
                f"Invalid quantization mode. Expected one of {[m for m in spec if m]}. "
                f"Received: quantization_mode={mode}"
            )
        return spec[mode]

    def _plain(self):
        return self.quantization_mode is None and not self.lora_enabled

    def save_own_variables(self, store):
        """Store the variables of `variable_serialization_spec` (LoRA merged), as Keras."""
        if not self.built:
            return
        if self._plain():
            # Every own variable, as any layer: the same datasets as Keras for these
            # classes, and a subclass's extra variables are kept too.
            return super().save_own_variables(store)
        overrides = self._merged_for_saving()
        index = 0
        for name in self._spec():
            value = overrides[name] if name in overrides else getattr(self, name, None)
            if value is None:
                continue
            store[str(index)] = np.asarray(value.value if hasattr(value, "value") else value)
            index += 1

    def load_own_variables(self, store):
        if not self.built:
            return
        if self._plain() and len(store.keys()) == len(self._own_variables()):
            return super().load_own_variables(store)
        targets = []
        for name in self._spec():
            attr = self._lora_base if name == self._base_name else name
            variable = getattr(self, attr, None)
            if variable is not None:
                targets.append(variable)
        if len(store.keys()) != len(targets):
            raise ValueError(
                f"Layer '{self.name}' expected {len(targets)} variables, but received "
                f"{len(store.keys())} variables during loading. Expected: "
                f"{[v.name for v in targets]}"
            )
        for i, variable in enumerate(targets):
            variable.assign(store[str(i)])
        self._reset_lora()

    def _quantization_config_entry(self):
        from keras_on_jax import quantizers

        return {"quantization_config": quantizers.serialize(self.quantization_config)}


class KernelQuantization(QuantizableMixin):
    """What `Dense` and `EinsumDense` share: Keras's file layout, float8 training, and
    bias / activation after the quantized product (`_contract`)."""

    @property
    def variable_serialization_spec(self):
        """The variables a file holds for each quantization mode, in Keras 3's order."""
        return {
            None: ["kernel", "bias"],
            "int8": ["kernel", "bias", "kernel_scale"],
            "int4": ["kernel", "bias", "kernel_scale", "kernel_zero", "g_idx"],
            "float8": ["kernel", "bias", "inputs_scale", "inputs_amax_history",
                       "kernel_scale", "kernel_amax_history", "outputs_grad_scale",
                       "outputs_grad_amax_history"],
        }

    def _float8_build(self):
        build_float8_variables(self)

    def _finish(self, x, inputs):
        """LoRA update, bias and activation after the quantized product."""
        x = self._add_lora(x, inputs)
        if self.bias is not None:
            x = x + self.bias.value
        if self.activation is not None:
            x = self.activation(x)
        return x

    def _float8_call(self, inputs, training=None):
        x = float8_contract(self, inputs, self._contract, training)
        return self.activation(x) if self.activation is not None else x


# ---- int paths ----------------------------------------------------------------------------------
def grouped(block_size):
    """Whether an int4 block size means sub-channel groups (not one scale per channel)."""
    return block_size is not None and block_size > 0


def add_int4_scales(layer, scale_shape, block_size, group_length):
    """`<base>_scale` and, with groups, `<base>_zero` (int8) and `g_idx`: the group of
    each of the `group_length` positions along the grouped axis."""
    name = layer._base_name
    setattr(layer, f"{name}_scale", layer.add_weight(
        name=f"{name}_scale", shape=scale_shape, initializer="ones", trainable=False))
    if grouped(block_size):
        setattr(layer, f"{name}_zero", layer.add_weight(
            name=f"{name}_zero", shape=scale_shape, initializer="zeros", dtype="int8",
            trainable=False))
        layer.g_idx = layer.add_weight(
            name="g_idx", shape=(group_length,), dtype="float32", trainable=False,
            initializer=lambda shape, dtype: jnp.floor_divide(
                jnp.arange(group_length, dtype=dtype), block_size))


def with_input_gradient(forward, input_grad, inputs, *consts):
    """`forward(inputs, *consts)`, differentiable only in `inputs`, with the gradient
    `input_grad(upstream, *consts)` (autodiff cannot go through integer weights)."""

    @jax.custom_vjp
    def fn(x, *c):
        return forward(x, *c)

    def fwd(x, *c):
        return forward(x, *c), c

    def bwd(c, g):
        return (input_grad(g, *c),) + (None,) * len(c)

    fn.defvjp(fwd, bwd)
    return fn(inputs, *consts)


def int_matmul(x, kernel, equation=None):
    """`x @ kernel` (or an einsum); int8 x int8 accumulates in int32, as Keras on JAX."""
    both_int8 = x.dtype == jnp.int8 and kernel.dtype == jnp.int8
    prefer = jnp.int32 if both_int8 else None
    if equation is not None:
        return jnp.einsum(equation, x, kernel, preferred_element_type=prefer)
    return jnp.matmul(x, kernel, preferred_element_type=prefer)


# ---- float8 --------------------------------------------------------------------------------------
_F8_FIELDS = ("inputs", "kernel", "outputs_grad")


def build_float8_variables(layer):
    """The scale and amax-history pairs of float8 training (updated through gradients)."""
    length = getattr(layer._policy(), "amax_history_length",
                     dtype_policies.QuantizedFloat8DTypePolicy.default_amax_history_length)
    common = dict(dtype="float32", trainable=True, autocast=False, overwrite_with_gradient=True)
    for field in _F8_FIELDS:
        setattr(layer, f"{field}_scale", layer.add_weight(
            name=f"{field}_scale", shape=(), initializer="ones", **common))
        setattr(layer, f"{field}_amax_history", layer.add_weight(
            name=f"{field}_amax_history", shape=(length,), initializer="zeros", **common))


def _dtype_max(name):
    return jnp.asarray(float(ml_dtypes.finfo(name).max), "float32")


def qdq_forward(x, scale, amax_history, training, compute_dtype):
    """Quantize-dequantize `x` to float8_e4m3fn; in training, the gradients of `scale`
    and `amax_history` are their next values (the variables are overwritten with them)."""

    def run(x, scale, history):
        return q.quantize_and_dequantize(x, scale, "float8_e4m3fn", compute_dtype)

    @jax.custom_vjp
    def fn(x, scale, history):
        return run(x, scale, history)

    def fwd(x, scale, history):
        if training:
            new = (q.compute_float8_scale(jnp.max(history, axis=0), scale,
                                          _dtype_max("float8_e4m3fn")),
                   q.compute_float8_amax_history(x, history))
        else:
            new = (None, None)
        return run(x, scale, history), new

    def bwd(new, g):
        return (g, *new)

    fn.defvjp(fwd, bwd)
    return fn(x, scale, amax_history)


def qdq_backward(outputs, scale, amax_history, compute_dtype):
    """Identity forward; the upstream gradient is quantize-dequantized to float8_e5m2."""

    @jax.custom_vjp
    def fn(y, scale, history):
        return y

    def fwd(y, scale, history):
        return y, (scale, history)

    def bwd(res, g):
        scale, history = res
        new_scale = q.compute_float8_scale(jnp.max(history, axis=0), scale,
                                           _dtype_max("float8_e5m2"))
        return (q.quantize_and_dequantize(g, scale, "float8_e5m2", compute_dtype), new_scale,
                q.compute_float8_amax_history(g, history))

    fn.defvjp(fwd, bwd)
    return fn(outputs, scale, amax_history)


def float8_contract(layer, inputs, contract, training):
    """`contract(qdq(inputs), qdq(kernel))` with float8 scaling, plus bias/activation."""
    if layer.lora_enabled:
        raise QuantizationNotSupported(
            f"Layer '{layer.name}': float8 quantization cannot run with LoRA enabled."
        )
    compute = layer.compute_dtype
    x = contract(
        qdq_forward(inputs, layer.inputs_scale.value, layer.inputs_amax_history.value,
                    training, compute),
        qdq_forward(layer._kernel.value, layer.kernel_scale.value,
                    layer.kernel_amax_history.value, training, compute),
    )
    x = qdq_backward(x, layer.outputs_grad_scale.value, layer.outputs_grad_amax_history.value,
                     compute)
    if layer.bias is not None:
        bias = layer.bias.value
        if layer.compute_dtype == "float32":
            # As Keras: a float32 bias goes through bfloat16 (XLA fuses the bias add with
            # the float8 matmul only then).
            bias = bias.astype("bfloat16").astype(bias.dtype)
        x = x + bias
    return x
