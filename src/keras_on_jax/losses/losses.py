"""Keras 3 loss functions and loss classes, computed with jax.numpy."""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp

from keras_on_jax.backend import config
from keras_on_jax.losses.loss import (
    Loss,
    _map_structure,
    _to_array,
    squeeze_or_expand_to_same_rank,
)


def _eps():
    return config.epsilon()


def _l2_normalize(x, axis=-1):
    if x.ndim == 0:
        x = jnp.expand_dims(x, 0)
    square_sum = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
    inv_norm = jax.lax.rsqrt(square_sum)
    inv_norm = jnp.minimum(inv_norm, 1.0 / _eps())
    return x * inv_norm


def _pred_true(y_true, y_pred):
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true, y_pred.dtype)
    return y_true, y_pred


# ---------------------------------------------------------------------------------------
# Backend-level crossentropies (keras.ops semantics on JAX)
# ---------------------------------------------------------------------------------------
def _op_binary_crossentropy(target, output, from_logits=False):
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        return -1.0 * target * jax.nn.log_sigmoid(output) - (1.0 - target) * jax.nn.log_sigmoid(
            -output
        )
    output = jnp.clip(output, _eps(), 1.0 - _eps())
    bce = target * jnp.log(output)
    bce += (1.0 - target) * jnp.log(1.0 - output)
    return -bce


def _op_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={target.shape}, output.shape={output.shape}"
        )
    if len(target.shape) < 1:
        raise ValueError(
            "Arguments `target` and `output` must be at least rank 1. Received: "
            f"target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        log_prob = jax.nn.log_softmax(output, axis=axis)
    else:
        output = output / jnp.sum(output, axis, keepdims=True)
        output = jnp.clip(output, _eps(), 1.0 - _eps())
        log_prob = jnp.log(output)
    return -jnp.sum(target * log_prob, axis=axis)


def _op_sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target = jnp.asarray(target, dtype="int32")
    if len(target.shape) == len(output.shape) and target.shape[-1] == 1:
        target = jnp.squeeze(target, axis=-1)
    if len(output.shape) < 1:
        raise ValueError(
            f"Argument `output` must be at least rank 1. Received: output.shape={output.shape}"
        )
    if target.shape != output.shape[:-1]:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last "
            f"dimension: target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        log_prob = jax.nn.log_softmax(output, axis=axis)
    else:
        output = output / jnp.sum(output, axis, keepdims=True)
        output = jnp.clip(output, _eps(), 1.0 - _eps())
        log_prob = jnp.log(output)
    target = jax.nn.one_hot(target, output.shape[axis], axis=axis, dtype=log_prob.dtype)
    return -jnp.sum(target * log_prob, axis=axis)


# ---------------------------------------------------------------------------------------
# Loss functions
# ---------------------------------------------------------------------------------------
def _convert_binary_labels_to_hinge(y_true):
    is_binary = jnp.all(jnp.logical_or(y_true == 0, y_true == 1))
    return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """Hinge loss: `mean(maximum(1 - y_true * y_pred, 0), axis=-1)`; 0/1 labels -> -1/1."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true = _convert_binary_labels_to_hinge(y_true)
    return jnp.mean(jnp.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """Squared hinge loss: `mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)`."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true = _convert_binary_labels_to_hinge(y_true)
    return jnp.mean(jnp.square(jnp.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """Categorical hinge loss: `maximum(neg - pos + 1, 0)`."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    pos = jnp.sum(y_true * y_pred, axis=-1)
    neg = jnp.max((1.0 - y_true) * y_pred, axis=-1)
    return jnp.maximum(neg - pos + 1.0, jnp.zeros((), y_pred.dtype))


def mean_squared_error(y_true, y_pred):
    """Mean squared error over the last axis."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return jnp.mean(jnp.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean absolute error over the last axis."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """`100 * mean(abs((y_true - y_pred) / maximum(abs(y_true), epsilon)), axis=-1)`."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    epsilon = jnp.asarray(_eps(), dtype=y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    diff = jnp.abs((y_true - y_pred) / jnp.maximum(jnp.abs(y_true), epsilon))
    return 100.0 * jnp.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """`mean(square(log(y_true + 1) - log(y_pred + 1)), axis=-1)` (inputs floored at eps)."""
    epsilon = _eps()
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    first_log = jnp.log(jnp.maximum(y_pred, epsilon) + 1.0)
    second_log = jnp.log(jnp.maximum(y_true, epsilon) + 1.0)
    return jnp.mean(jnp.square(first_log - second_log), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along `axis`."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = _l2_normalize(y_pred, axis=axis)
    y_true = _l2_normalize(y_true, axis=axis)
    return -jnp.sum(y_true * y_pred, axis=axis)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss, quadratic for `|error| <= delta` and linear beyond."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    delta = jnp.asarray(delta, dtype=y_pred.dtype)
    error = y_pred - y_true
    abs_error = jnp.abs(error)
    half = jnp.asarray(0.5, dtype=abs_error.dtype)
    return jnp.mean(
        jnp.where(
            abs_error <= delta,
            half * jnp.square(error),
            delta * abs_error - half * jnp.square(delta),
        ),
        axis=-1,
    )


def log_cosh(y_true, y_pred):
    """Logarithm of the hyperbolic cosine of the prediction error."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    log2 = jnp.asarray(jnp.log(2.0), dtype=y_pred.dtype)
    x = y_pred - y_true
    return jnp.mean(x + jax.nn.softplus(x * -2.0) - log2, axis=-1)


def kl_divergence(y_true, y_pred):
    """Kullback-Leibler divergence: `sum(y_true * log(y_true / y_pred), axis=-1)`."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true = jnp.clip(y_true, _eps(), 1)
    y_pred = jnp.clip(y_pred, _eps(), 1)
    return jnp.sum(y_true * jnp.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """Poisson loss: `mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)`."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    epsilon = jnp.asarray(_eps(), dtype=y_pred.dtype)
    return jnp.mean(y_pred - y_true * jnp.log(y_pred + epsilon), axis=-1)


def _check_axis(axis):
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")


def _warn_single_class(fn_name, y_pred):
    if y_pred.shape and y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {fn_name}, expected y_pred.shape to be (batch_size, num_classes) with "
            f"num_classes > 1. Received: y_pred.shape={y_pred.shape}. Consider using "
            "'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical crossentropy between one-hot `y_true` and `y_pred`."""
    _check_axis(axis)
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true).astype(y_pred.dtype)
    _warn_single_class("categorical_crossentropy", y_pred)
    if label_smoothing:
        num_classes = jnp.asarray(y_true.shape[-1], dtype=y_pred.dtype)
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return _op_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def categorical_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """Categorical focal crossentropy."""
    _check_axis(axis)
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true).astype(y_pred.dtype)
    _warn_single_class("categorical_focal_crossentropy", y_pred)
    if label_smoothing:
        num_classes = jnp.asarray(y_true.shape[-1], dtype=y_pred.dtype)
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        y_pred = jax.nn.softmax(y_pred, axis=axis)
    output = y_pred / jnp.sum(y_pred, axis=axis, keepdims=True)
    output = jnp.clip(output, _eps(), 1.0 - _eps())
    cce = -y_true * jnp.log(output)
    modulating_factor = jnp.power(1.0 - output, gamma)
    weighting_factor = modulating_factor * alpha
    return jnp.sum(weighting_factor * cce, axis=axis)


def _sparse_categorical_crossentropy_with_mask(
    y_true, y_pred, from_logits=False, ignore_class=None, axis=-1
):
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[axis] == 1:
        y_true = jnp.squeeze(y_true, axis=axis)
    valid_mask = None
    if ignore_class is not None:
        class_axis = axis % len(y_pred.shape)
        res_shape = tuple(d for i, d in enumerate(y_pred.shape) if i != class_axis)
        valid_mask = y_true != jnp.asarray(ignore_class, dtype=y_pred.dtype)
        y_true = jnp.where(valid_mask, y_true, 0)
        y_pred = jnp.where(jnp.expand_dims(valid_mask, axis), y_pred, 0)
    res = _op_sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)
    if ignore_class is not None:
        valid_mask = jnp.reshape(valid_mask, res_shape)
        res = jnp.where(valid_mask, res, 0.0)
    return res, valid_mask


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy between integer labels `y_true` and class scores `y_pred`.

    With `ignore_class`, entries whose label equals it contribute 0 (and, in a `Loss` or
    metric, are excluded from the averaging, as Keras's loss mask does).
    """
    return _sparse_categorical_crossentropy_with_mask(
        y_true, y_pred, from_logits=from_logits, ignore_class=ignore_class, axis=axis
    )[0]


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy, averaged over `axis`."""
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true).astype(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return jnp.mean(_op_binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
):
    """Binary focal crossentropy, averaged over `axis`."""
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true).astype(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = jax.nn.sigmoid(y_pred)
    bce = _op_binary_crossentropy(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal_bce = jnp.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        weight = y_true * alpha + (1 - y_true) * (1 - alpha)
        focal_bce = weight * focal_bce
    return jnp.mean(focal_bce, axis=axis)


@functools.partial(jax.jit, static_argnames=("mask_index",))
def _ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Per-sequence CTC loss (the forward algorithm of optax / Keras's JAX backend)."""
    target = jnp.asarray(target, dtype="int32")
    output = jnp.asarray(output)
    batch_size, max_input_length, num_classes = output.shape
    _, max_label_length = target.shape
    log_epsilon = -1e5
    output = output.astype(jnp.result_type(output.dtype, jnp.float32))

    def paddings(lengths, max_length):
        idx = jnp.arange(max_length).reshape((1,) * lengths.ndim + (max_length,))
        return jnp.logical_not(idx < jnp.expand_dims(lengths, -1)).astype(output.dtype)

    target_paddings = paddings(jnp.asarray(target_length, "int32"), max_label_length)
    output_paddings = paddings(jnp.asarray(output_length, "int32"), max_input_length)
    logprobs = jax.nn.log_softmax(output)
    label_lengths = max_label_length - jnp.sum(target_paddings, axis=1).astype(jnp.int32)
    repeat = (target[:, :-1] == target[:, 1:]).astype(jnp.float32)
    repeat = jnp.pad(repeat, ((0, 0), (0, 1)))
    logprobs_phi = jnp.transpose(logprobs[:, :, mask_index : mask_index + 1], (1, 0, 2))
    one_hot = jax.nn.one_hot(target, num_classes=num_classes, dtype=logprobs.dtype)
    logprobs_emit = jnp.transpose(jnp.einsum("btk,bnk->btn", logprobs, one_hot), (1, 0, 2))
    phi_init = jnp.full((batch_size, max_label_length + 1), log_epsilon, output.dtype)
    phi_init = phi_init.at[:, 0].set(0.0)
    emit_init = jnp.full((batch_size, max_label_length), log_epsilon, output.dtype)

    def update_phi(phi, added):
        return jnp.concatenate([phi[:, :1], jnp.logaddexp(phi[:, 1:], added)], axis=-1)

    def step(carry, xs):
        prev_phi, prev_emit = carry
        prev_phi_orig = prev_phi
        prev_phi = update_phi(prev_phi, prev_emit + log_epsilon * repeat)
        logprob_emit, logprob_phi, pad = xs
        next_emit = jnp.logaddexp(prev_phi[:, :-1] + logprob_emit, prev_emit + logprob_emit)
        next_phi = prev_phi + logprob_phi
        next_phi = update_phi(next_phi, prev_emit + logprob_phi + log_epsilon * (1.0 - repeat))
        pad = pad.reshape((batch_size, 1))
        next_emit = pad * prev_emit + (1.0 - pad) * next_emit
        next_phi = pad * prev_phi_orig + (1.0 - pad) * next_phi
        return (next_phi, next_emit), (next_phi, next_emit)

    xs = (logprobs_emit, logprobs_phi, output_paddings.T)
    _, (logalpha_phi, logalpha_emit) = jax.lax.scan(step, (phi_init, emit_init), xs)
    last = update_phi(logalpha_phi[-1], logalpha_emit[-1])
    sel = jax.nn.one_hot(label_lengths, num_classes=max_label_length + 1, dtype=last.dtype)
    return -jnp.einsum("bn,bn->b", last, sel)


def ctc(y_true, y_pred):
    """CTC loss; `y_true` `(batch, max_label_length)` ints (0 = padding/blank), `y_pred`
    `(batch, max_length, num_classes)` logits."""
    y_true = _to_array(y_true)
    y_pred = _to_array(y_pred)
    if len(y_true.shape) != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` "
            f"in integer format. Received: y_true.shape={y_true.shape}"
        )
    if len(y_pred.shape) != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
            f"num_classes)`. Received: y_pred.shape={y_pred.shape}"
        )
    mask_index = 0
    batch_length, input_length = y_pred.shape[0], y_pred.shape[1]
    input_length = input_length * jnp.ones((batch_length,), dtype="int32")
    label_length = jnp.sum(y_true != mask_index, axis=-1).astype("int32")
    return _ctc_loss(y_true, y_pred, label_length, input_length, mask_index=mask_index)


def dice(y_true, y_pred, axis=None):
    """Dice loss: `1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)`."""
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true).astype(y_pred.dtype)
    intersection = jnp.sum(y_true * y_pred, axis=axis)
    d = (2.0 * intersection) / (
        jnp.sum(y_true, axis=axis) + jnp.sum(y_pred, axis=axis) + _eps()
    )
    return 1 - d


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss."""
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true).astype(y_pred.dtype)
    intersection = jnp.sum(y_true * y_pred, axis=axis)
    fp = jnp.sum((1 - y_pred) * y_true, axis=axis)
    fn = jnp.sum(y_pred * (1 - y_true), axis=axis)
    t = intersection / (intersection + fp * alpha + fn * beta + _eps())
    return 1 - t


def _build_pos_neg_masks(query_labels, key_labels, remove_diagonal=True):
    if query_labels.ndim == 1:
        query_labels = query_labels.reshape((-1, 1))
    if key_labels.ndim == 1:
        key_labels = key_labels.reshape((-1, 1))
    positive_mask = query_labels == key_labels.T
    negative_mask = jnp.logical_not(positive_mask)
    if remove_diagonal:
        eye = jnp.eye(query_labels.size, key_labels.size, k=0, dtype=bool)
        positive_mask = jnp.logical_and(positive_mask, ~eye)
    return positive_mask, negative_mask


def _circle_with_mask(
    y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4
):
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true).astype("int32")
    ref_embeddings = y_pred if ref_embeddings is None else _to_array(ref_embeddings)
    ref_labels = y_true if ref_labels is None else _to_array(ref_labels).astype("int32")
    optim_pos, optim_neg = margin, 1 + margin
    delta_pos, delta_neg = margin, 1 - margin
    dist = jnp.maximum(1 - jnp.matmul(y_pred, ref_embeddings.T), 0.0)
    positive_mask, negative_mask = _build_pos_neg_masks(
        y_true, ref_labels, remove_diagonal=remove_diagonal
    )
    pos_m = positive_mask.astype(dist.dtype)
    neg_m = negative_mask.astype(dist.dtype)
    pos_weights = jnp.maximum((optim_pos + dist) * pos_m, 0.0)
    neg_weights = jnp.maximum((optim_neg - dist) * neg_m, 0.0)
    pos_wdists = -1 * gamma * pos_weights * (delta_pos - dist)
    neg_wdists = gamma * neg_weights * (delta_neg - dist)
    p_loss = jax.scipy.special.logsumexp(jnp.where(positive_mask, pos_wdists, -jnp.inf), axis=1)
    n_loss = jax.scipy.special.logsumexp(jnp.where(negative_mask, neg_wdists, -jnp.inf), axis=1)
    loss = jax.nn.softplus(p_loss + n_loss)
    return loss, loss > 0


def circle(
    y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4
):
    """Circle loss over L2-normalized embeddings `y_pred` with integer labels `y_true`."""
    return _circle_with_mask(
        y_true,
        y_pred,
        ref_labels=ref_labels,
        ref_embeddings=ref_embeddings,
        remove_diagonal=remove_diagonal,
        gamma=gamma,
        margin=margin,
    )[0]


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized cross entropy `(1 - p**q) / q` for integer labels `y_true`."""
    y_pred = _to_array(y_pred)
    y_true = _to_array(y_true)
    one_hot = jax.nn.one_hot(y_true.astype("int32"), y_pred.shape[-1], dtype=y_pred.dtype)
    p = jnp.sum(y_pred * one_hot, axis=-1)
    return (1 - jnp.power(p, q)) / q


# Functions whose result carries a mask in Keras (`_keras_mask`): the masked variants.
MASKED_FUNCTIONS = {
    sparse_categorical_crossentropy: _sparse_categorical_crossentropy_with_mask,
    circle: _circle_with_mask,
}


def call_with_mask(fn, y_true, y_pred, **kwargs):
    """Call a loss function, returning `(values, mask_or_None)`."""
    masked = MASKED_FUNCTIONS.get(fn)
    if masked is not None:
        return masked(y_true, y_pred, **kwargs)
    return fn(y_true, y_pred, **kwargs), None


# ---------------------------------------------------------------------------------------
# Loss classes
# ---------------------------------------------------------------------------------------
class LossFunctionWrapper(Loss):
    """Wrap a function `fn(y_true, y_pred, **kwargs)` as a `Loss`."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def _prepare(self, y_true, y_pred):
        if isinstance(y_true, (dict, list, tuple)):
            new_true = _map_structure(
                lambda t, p: squeeze_or_expand_to_same_rank(t, p)[0], y_true, y_pred
            )
            new_pred = _map_structure(
                lambda t, p: squeeze_or_expand_to_same_rank(t, p)[1], y_true, y_pred
            )
            return new_true, new_pred
        return squeeze_or_expand_to_same_rank(y_true, y_pred)

    def call(self, y_true, y_pred):
        y_true, y_pred = self._prepare(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def _call_with_mask(self, y_true, y_pred):
        y_true, y_pred = self._prepare(y_true, y_pred)
        return call_with_mask(self.fn, y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        from keras_on_jax.losses._serialization import serialize_object

        config = super().get_config()
        config.update({"fn": serialize_object(self.fn, "keras.losses")})
        config.update(serialize_object(self._fn_kwargs, "keras.losses"))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            from keras_on_jax.losses import deserialize

            config["fn"] = deserialize(config["fn"])
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


class _KerasLoss(LossFunctionWrapper):
    """A built-in loss class: `fn` called with the class's own arguments, with the
    config Keras gives it: `name`, `reduction`, then the `_config_keys` arguments (which
    also become attributes). Keras leaves some arguments out (`Huber`'s `delta`)."""

    _config_keys = ()

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **fn_kwargs):
        super().__init__(fn, name=name, reduction=reduction, dtype=dtype, **fn_kwargs)
        for key in self._config_keys:
            setattr(self, key, fn_kwargs[key])

    def get_config(self):
        config = Loss.get_config(self)
        config.update({key: getattr(self, key) for key in self._config_keys})
        return config


def _arguments(args):
    """A constructor's arguments from its `locals()` (taken first thing), less `self`:
    `super().__init__(fn, **_arguments(locals()))` passes them all on."""
    return {key: value for key, value in args.items() if key not in ("self", "__class__")}


def _simple(class_name, fn, default_name, doc):
    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        _KerasLoss.__init__(self, fn, reduction=reduction, name=name, dtype=dtype)

    cls = type(class_name, (_KerasLoss,), {"__init__": __init__, "__doc__": doc})
    cls.__module__ = __name__
    cls.__qualname__ = class_name
    return cls


MeanSquaredError = _simple(
    "MeanSquaredError", mean_squared_error, "mean_squared_error",
    "Mean of squares of errors between labels and predictions.",
)
MeanAbsoluteError = _simple(
    "MeanAbsoluteError", mean_absolute_error, "mean_absolute_error",
    "Mean of absolute difference between labels and predictions.",
)
MeanAbsolutePercentageError = _simple(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    "Mean absolute percentage error between labels and predictions.",
)
MeanSquaredLogarithmicError = _simple(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    "Mean squared logarithmic error between labels and predictions.",
)
LogCosh = _simple("LogCosh", log_cosh, "log_cosh", "Logarithm of the hyperbolic cosine of the error.")
Hinge = _simple("Hinge", hinge, "hinge", "Hinge loss.")
SquaredHinge = _simple("SquaredHinge", squared_hinge, "squared_hinge", "Squared hinge loss.")
CategoricalHinge = _simple(
    "CategoricalHinge", categorical_hinge, "categorical_hinge", "Categorical hinge loss."
)
KLDivergence = _simple("KLDivergence", kl_divergence, "kl_divergence", "Kullback-Leibler divergence.")
Poisson = _simple("Poisson", poisson, "poisson", "Poisson loss.")
CTC = _simple("CTC", ctc, "ctc", "CTC (Connectionist Temporal Classification) loss.")


class CosineSimilarity(_KerasLoss):
    """Negative cosine similarity between labels and predictions."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, **_arguments(locals()))


class Huber(_KerasLoss):
    """Huber loss."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, **_arguments(locals()))


class BinaryCrossentropy(_KerasLoss):
    """Binary crossentropy loss."""

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(binary_crossentropy, **_arguments(locals()))


class BinaryFocalCrossentropy(_KerasLoss):
    """Binary focal crossentropy loss."""

    _config_keys = (
        "from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha", "gamma"
    )

    def __init__(
        self,
        apply_class_balancing=False,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(binary_focal_crossentropy, **_arguments(locals()))


class CategoricalCrossentropy(_KerasLoss):
    """Categorical crossentropy loss (one-hot labels)."""

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(categorical_crossentropy, **_arguments(locals()))


class CategoricalFocalCrossentropy(_KerasLoss):
    """Categorical focal crossentropy loss."""

    _config_keys = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(categorical_focal_crossentropy, **_arguments(locals()))


class SparseCategoricalCrossentropy(_KerasLoss):
    """Crossentropy loss with integer labels."""

    _config_keys = ("from_logits", "ignore_class")

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        axis=-1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(sparse_categorical_crossentropy, **_arguments(locals()))


class Dice(_KerasLoss):
    """Dice loss."""

    _config_keys = ("axis",)

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, **_arguments(locals()))


class Tversky(_KerasLoss):
    """Tversky loss."""

    _config_keys = ("alpha", "beta", "axis")

    def __init__(
        self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None
    ):
        super().__init__(tversky, **_arguments(locals()))


class Circle(_KerasLoss):
    """Circle loss for metric learning."""

    _config_keys = ("gamma", "margin", "remove_diagonal")

    def __init__(
        self,
        gamma=80.0,
        margin=0.4,
        remove_diagonal=True,
        reduction="sum_over_batch_size",
        name="circle",
        dtype=None,
    ):
        super().__init__(circle, **_arguments(locals()))


class CategoricalGeneralizedCrossEntropy(_KerasLoss):
    """Generalized cross entropy (robust to noisy labels), integer labels."""

    _config_keys = ("q",)

    def __init__(
        self,
        q=0.5,
        reduction="sum_over_batch_size",
        name="categorical_generalized_cross_entropy",
        dtype=None,
    ):
        if not 0 < q < 1:
            raise ValueError(f"Argument `q` must be in the interval (0, 1). Received: q={q}")
        super().__init__(categorical_generalized_cross_entropy, **_arguments(locals()))
