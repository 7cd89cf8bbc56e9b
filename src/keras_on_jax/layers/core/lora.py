"""LoRA (low-rank adaptation) for layers with one large weight (Keras 3's `enable_lora`).

`layer.enable_lora(rank)` freezes the base weight `W` and adds two trainable float32
factors `A` (`W.shape[:-1] + (rank,)`) and `B` (`(rank, W.shape[-1])`); the layer then
computes with `W + (lora_alpha / rank) * A @ B`. Files hold the merged weight, as Keras 3
writes them: the factors are merged at save time and start from zero after a load.

`Dense` and `EinsumDense` compute `x W + s (x A) B` rather than `x (W + s A B)`: the same
values, but training then never forms the full-size gradient `x^T dy` of the merged
weight (the base is frozen; only the rank-`r` factors' small gradients are needed).
"""

from __future__ import annotations

import jax.numpy as jnp

from keras_on_jax import initializers


class LoRAMixin:
    """LoRA for a layer whose base weight is the Variable `getattr(self, _lora_base)`.

    Subclasses set `_lora_base` (`"_kernel"`), `_lora_names` (the factor names) and
    `_lora_constraint` (the constructor argument LoRA cannot be combined with).
    """

    _lora_base = "_kernel"
    _lora_names = ("lora_kernel_a", "lora_kernel_b")
    _lora_constraint = "kernel_constraint"
    _lora_regularizer = "kernel_regularizer"

    def _init_lora(self, lora_rank, lora_alpha):
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.lora_enabled = False

    def _lora_base_shape(self):
        """The (unpacked) shape of the base weight the factors adapt."""
        return tuple(getattr(self, self._lora_base).shape)

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform",
                    b_initializer="zeros"):
        """Freeze the base weight and train a rank-`rank` update of it instead.

        Args:
            rank: the rank of the update `A @ B`.
            lora_alpha: the update is scaled by `lora_alpha / rank` (default: `rank`).
            a_initializer, b_initializer: initializers of the factors `A` and `B`.
        """
        if getattr(self, self._lora_constraint, None):
            what = "embedding" if self._lora_constraint.startswith("embeddings") else "kernel"
            raise ValueError(
                f"Lora is incompatible with {what} constraints. In order to enable lora on "
                f"this layer, remove the `{self._lora_constraint}` argument."
            )
        if not self.built:
            raise ValueError("Cannot enable lora on a layer that isn't yet built.")
        if self.lora_enabled:
            raise ValueError("lora is already enabled. This can only be done once per layer.")
        if not isinstance(rank, int) or isinstance(rank, bool) or rank <= 0:
            raise ValueError(f"Layer '{self.name}': `rank` must be a positive int. "
                             f"Received: rank={rank!r}")
        shape = self._lora_base_shape()
        regularizer = getattr(self, self._lora_regularizer, None)
        # float32 factors: fine-tuning updates are small and would underflow in 16 bits.
        a = self.add_weight(name=self._lora_names[0], shape=shape[:-1] + (rank,),
                            initializer=initializers.get(a_initializer), dtype="float32",
                            regularizer=regularizer)
        b = self.add_weight(name=self._lora_names[1], shape=(rank, shape[-1]),
                            initializer=initializers.get(b_initializer), dtype="float32",
                            regularizer=regularizer)
        setattr(self, self._lora_names[0], a)
        setattr(self, self._lora_names[1], b)
        getattr(self, self._lora_base).trainable = False
        self.lora_enabled = True
        self.lora_rank = rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else rank

    def _lora_factors(self):
        return [getattr(self, n) for n in self._lora_names]

    def _lora_delta(self):
        """`(lora_alpha / lora_rank) * A @ B`, the update of the base weight."""
        a, b = self._lora_factors()
        return (self.lora_alpha / self.lora_rank) * jnp.matmul(a.value, b.value)

    def _lora_merged(self, base):
        """`base` plus the LoRA update, in the compute dtype (unchanged without LoRA)."""
        if not self.lora_enabled:
            return base
        value = base.value if hasattr(base, "value") else base
        return jnp.add(value, self._lora_delta()).astype(self.compute_dtype)

    def _lora_einsum(self, equation, inputs, base):
        """`einsum(equation, inputs, W + s A @ B)` as `einsum(inputs, W) + s (inputs A) B`
        when the base weight's last axis is an output axis (else merged first)."""
        split = _low_rank_equations(equation) if self.lora_enabled else None
        if split is None:
            kernel = self._lora_merged(base)
            return jnp.einsum(equation, inputs, getattr(kernel, "value", kernel))
        to_rank, from_rank = split
        a, b = (f.value.astype(self.compute_dtype) for f in self._lora_factors())
        scale = jnp.asarray(self.lora_alpha / self.lora_rank, self.compute_dtype)
        low = jnp.einsum(to_rank, inputs, a)
        return (jnp.einsum(equation, inputs, base.value)
                + scale * jnp.einsum(from_rank, low, b))

    def _reset_lora(self):
        """After loading a merged weight, the update starts from zero (as Keras)."""
        if self.lora_enabled:
            for factor in self._lora_factors():
                factor.assign(jnp.zeros(factor.shape, factor.dtype))

    def _lora_config(self):
        if not self.lora_rank:
            return {}
        return {"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha}


def _low_rank_equations(equation):
    """For `"in,kernel->out"` whose kernel's last axis `k` is one output axis: the equations
    of `inputs x A` (`k` becomes the rank axis `r`) and of `(inputs x A) x B`; else None."""
    inputs, rest = equation.split(",")
    kernel, out = rest.split("->")
    k = kernel[-1:]
    if not k.isalpha() or kernel.count(k) != 1 or out.count(k) != 1 or k in inputs:
        return None
    r = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
             if c not in equation)
    low = out.replace(k, r)
    return f"{inputs},{kernel[:-1]}{r}->{low}", f"{low},{r}{k}->{out}"
