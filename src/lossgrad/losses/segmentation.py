"""Segmentation (overlap) losses: Keras's Dice and Tversky on probabilities, optax's smoothed Dice,
Tversky and generalized Dice on logits.

Every function here is a loss body (see :mod:`lossgrad.losses.core`): the unreduced value and its
gradient with respect to the prediction, computed together. All of them are one minus a Tversky
index over sums of the prediction p and the target t,

    T = (I + s) / (I + α·FP + β·FN + s + ε),  I = Σ p·t,  FP = Σ p·(1 − t),  FN = Σ (1 − p)·t,

and differ in which axes they sum over, in the smoothing s (numerator and denominator) and ε
(denominator only), and in the domain of the prediction. α weighs false positives and β false
negatives (the Tversky paper's order, which Keras follows since its fix of the swapped order; see
docs/conventions.md). Dice is α = β = ½.

**Empty masks.** Where a sum covers no target and no predicted mass (I = FP = FN = 0) the index
is s / (s + ε): Keras's ε alone (s = 0) gives T = 0, a loss of 1 for a perfect empty prediction;
optax's smoothing s = 1 gives T = 1, a loss of 0. With s = ε = 0 it is 0/0 = NaN.

**Batch-level values.** ``dice`` and ``tversky`` sum over the whole batch by default, as Keras does
with ``axis=None``: one 0-d value for the batch, whose gradient reaches every sample (no slice of
the batch has a value of its own). ``per_sample=True`` sums over each sample's own axes instead.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..numerics import sigmoid, softmax
from .core import Parts, as_targets, check_interval, check_range, class_weights, loss
from .cross_entropy import _KERAS_EPSILON

#: optax's multiclass_generalized_dice_loss adds this to each squared class frequency.
_OPTAX_FREQUENCY_EPSILON = 1e-7


# ---------------------------------------------------------------------------------------------
# shared pieces


def _overlap(p, t, axes, *, alpha, beta, smooth, eps, want_grad):
    """1 − (I + s)/(I + α·FP + β·FN + s + ε) summed over ``axes``, and its gradient with respect
    to p (p's shape): ((I + s)·(t + α(1 − t) − βt) − t·den) / den²."""
    inter = np.sum(p * t, axis=axes)
    false_pos = np.sum(p * (1 - t), axis=axes)
    false_neg = np.sum((1 - p) * t, axis=axes)
    num = inter + smooth
    den = inter + alpha * false_pos + beta * false_neg + smooth + eps
    value = 1 - num / den
    if not want_grad:
        return value, None
    num, den = np.expand_dims(num, axes), np.expand_dims(den, axes)
    return value, (num * (t + alpha * (1 - t) - beta * t) - t * den) / den**2


def _probabilities_and_targets(probs, targets, ctx):
    """Targets of the prediction's shape; both checked to lie in [0, 1] unless validate=False."""
    t = as_targets(targets, probs, loss=ctx.name)
    if ctx.validate:
        check_interval(probs, "probs", ctx.name, fix="Dice compares probabilities; apply a "
                       "sigmoid or softmax first, or use sigmoid_dice / softmax_dice on logits")
        check_interval(t, "targets", ctx.name, fix="targets are masks or probabilities")
    return t


def _logit_targets(logits, targets, ctx):
    t = as_targets(targets, logits, loss=ctx.name)
    if ctx.validate:
        check_interval(t, "targets", ctx.name, fix="targets are one-hot masks or probabilities")
    return t


def _sample_axes(x) -> tuple[int, ...]:
    return tuple(range(1, x.ndim))


def _summed_axes(x, per_sample: bool) -> tuple[int, ...]:
    """Each sample's own axes, or every axis (Keras's axis=None: the batch as one)."""
    return _sample_axes(x) if per_sample else tuple(range(x.ndim))


def _check_coefficients(alpha, beta, eps_name, eps):
    check_range("alpha", alpha, low=0)
    check_range("beta", beta, low=0)
    check_range(eps_name, eps, low=0)


# ---------------------------------------------------------------------------------------------
# probabilities (Keras)


@loss(kind="per_sample")
def dice(probs, targets, ctx, *, per_sample=False, epsilon=_KERAS_EPSILON):
    """Dice loss on probabilities (Keras): one minus twice the overlap over the total mass.

    **Value:** ℓ = 1 − 2·Σ p·t / (Σ t + Σ p + ε), the sums over every axis — one 0-d value for
    the whole batch — or, with ``per_sample=True``, over each sample's axes (all but the first).
    ε = ``epsilon`` ≥ 0 (Keras's 1e-7) sits in the denominator only: an empty target predicted
    empty gives ℓ = 1.

    **Gradient:** ∂ℓ/∂p = (2·Σ p·t − 2·t·D) / D² with D = Σ t + Σ p + ε, for every entry of the
    sum; batch-level, every sample's gradient depends on the whole batch.

    **Shapes:** probs and targets of one shape (N, …); value () or, per sample, (N,).

    **Stability:** sums of products of numbers in [0, 1]: no overflow; ε keeps an empty sum finite.

    **Parity:** ``keras.losses.Dice()`` / ``keras.losses.dice(y_true, y_pred)`` (``axis=None``);
    ``per_sample=True`` is ``axis=(1, …, ndim − 1)``. It equals ``tversky(alpha=0.5, beta=0.5)``
    with half the ε.

    **Example:**
        >>> p, t = [[0.9, 0.2], [0.1, 0.7]], [[1.0, 0.0], [0.0, 1.0]]
        >>> r = dice(p, t)
        >>> print(round(float(r), 4), np.round(r.grad, 4))
        0.1795 [[-0.3024  0.2104]
         [ 0.2104 -0.3024]]
    """
    check_range("epsilon", epsilon, low=0)
    t = _probabilities_and_targets(probs, targets, ctx)
    value, grad = _overlap(probs, t, _summed_axes(probs, per_sample), alpha=0.5, beta=0.5,
                           smooth=0.0, eps=epsilon / 2, want_grad=ctx.want_grad)
    return Parts(value, grad)


@loss(kind="per_sample")
def tversky(probs, targets, ctx, *, alpha=0.5, beta=0.5, per_sample=False,
            epsilon=_KERAS_EPSILON):
    """Tversky loss on probabilities (Keras): Dice with separate weights for false positives and
    false negatives.

    **Value:** ℓ = 1 − I / (I + α·FP + β·FN + ε) with I = Σ p·t, FP = Σ p·(1 − t), FN =
    Σ (1 − p)·t, the sums over every axis (one 0-d value for the batch) or, with
    ``per_sample=True``, over each sample's axes. α weighs false positives, β false negatives
    (Salehi et al.; Keras up to 3.15 applied α to FN and β to FP — pass them swapped to reproduce
    it). α, β, ε ≥ 0; α = β = ½ is Dice with ε doubled (``dice(epsilon=2ε)``).

    **Gradient:** ∂ℓ/∂p = (I·(t + α(1 − t) − βt) − t·D) / D² with D = I + α·FP + β·FN + ε.

    **Shapes:** probs and targets of one shape (N, …); value () or, per sample, (N,).

    **Stability:** sums of products of numbers in [0, 1]: no overflow; ε keeps an empty sum finite.

    **Parity:** ``keras.losses.Tversky(alpha, beta)`` / ``keras.losses.tversky`` in Keras's
    current order (α on false positives); ``per_sample=True`` is ``axis=(1, …, ndim − 1)``.

    **Example:**
        >>> p, t = [[0.9, 0.2], [0.1, 0.7]], [[1.0, 0.0], [0.0, 1.0]]
        >>> r = tversky(p, t, alpha=0.7, beta=0.3)
        >>> print(round(float(r), 4), np.round(r.grad, 4))
        0.171 [[-0.2175  0.3007]
         [ 0.3007 -0.2175]]
    """
    _check_coefficients(alpha, beta, "epsilon", epsilon)
    t = _probabilities_and_targets(probs, targets, ctx)
    value, grad = _overlap(probs, t, _summed_axes(probs, per_sample), alpha=alpha, beta=beta,
                           smooth=0.0, eps=epsilon, want_grad=ctx.want_grad)
    return Parts(value, grad)


# ---------------------------------------------------------------------------------------------
# logits (optax)


@loss(kind="per_sample")
def sigmoid_dice(logits, targets, ctx, *, alpha=0.5, beta=0.5, smooth=1.0):
    """Smoothed Dice (Tversky) loss on binary logits, per sample (optax's binary Dice).

    **Value:** with p = σ(x): ℓ_n = 1 − (I + s) / (I + α·FP + β·FN + s), the sums over each
    sample's axes (all but the first); s = ``smooth`` ≥ 0 (optax's 1) in the numerator and the
    denominator, so an empty target predicted empty gives ℓ → 0. α = β = ½ (the default) is Dice.

    **Gradient:** ∂ℓ/∂x = σ'(x)·((I + s)·(t + α(1 − t) − βt) − t·D) / D², σ' = p(1 − p), D the
    denominator.

    **Shapes:** logits and targets of one shape (N, …); value (N,).

    **Stability:** σ through scipy's expit (no overflow at any logit); the sums stay in [0, size].

    **Parity:** ``optax.losses.binary_dice_loss(logits, targets, smooth)`` and
    ``optax.losses.dice_loss`` on logits with one channel (…, 1), which takes α, β.

    **Example:**
        >>> r = sigmoid_dice([[2.0, -1.0], [0.0, 3.0]], [[1.0, 0.0], [0.0, 1.0]], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.0935 0.1229] [[-0.0277  0.0429]
         [ 0.0492 -0.0114]]
    """
    _check_coefficients(alpha, beta, "smooth", smooth)
    t = _logit_targets(logits, targets, ctx)
    p = sigmoid(logits)
    value, grad = _overlap(p, t, _sample_axes(p), alpha=alpha, beta=beta, smooth=smooth,
                           eps=0.0, want_grad=ctx.want_grad)
    return Parts(value, grad * p * (1 - p) if ctx.want_grad else None)


@loss(kind="per_sample")
def softmax_dice(logits, targets, ctx, *, alpha=0.5, beta=0.5, smooth=1.0, class_weight=None,
                 ignore_background=False):
    """Smoothed multiclass Dice (Tversky) loss on logits (optax's ``dice_loss``): a Dice per sample
    and class, averaged over the classes.

    **Value:** with p = softmax(x) over the last (class) axis and, per sample n and class c, the
    sums over the spatial axes (all but the first and the last): d_nc = 1 − (I + s) / (I + α·FP +
    β·FN + s); ℓ_n = (1/|K|)·Σ_{c∈K} w_c·d_nc over the kept classes K (all, or all but class 0
    with ``ignore_background``), w = ``class_weight`` (1 when None). s = ``smooth`` ≥ 0 (optax's
    1) in the numerator and the denominator.

    **Gradient:** ∂ℓ_n/∂p = (w_c/|K|)·∂d_nc/∂p, ∂d/∂p = ((I + s)(t + α(1 − t) − βt) − t·D) / D²,
    then through the softmax: ∂ℓ/∂x = p ⊙ (g − Σ_c p_c g_c) at every position.

    **Shapes:** logits and targets (one-hot masks or probabilities) of one shape (N, …, C) with
    C ≥ 2 classes last (transpose PyTorch's (N, C, H, W)); class_weight (C,); value (N,).

    **Stability:** one max-shifted softmax (numerics.softmax); finite for logits ±1e9.

    **Parity:** ``optax.losses.dice_loss(logits, targets, class_weights, smooth, alpha, beta,
    ignore_background)`` with apply_softmax=True and reduction="mean" (optax switches to a sigmoid
    for C = 1; that is ``sigmoid_dice``).

    **Example:**
        >>> x = [[[2.0, 0.0], [0.0, 1.0]]]  # one sample, two positions, two classes
        >>> r = softmax_dice(x, [[[1.0, 0.0], [0.0, 1.0]]], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.0972] [[[-0.0261  0.0261]
          [ 0.0496 -0.0496]]]
    """
    _check_coefficients(alpha, beta, "smooth", smooth)
    _check_classes(logits, ctx)
    t = _logit_targets(logits, targets, ctx)
    w = None if class_weight is None else class_weights(
        class_weight, logits.shape[-1], loss=ctx.name, dtype=logits.dtype)
    return _softmax_overlap(logits, t, w, ignore_background, alpha=alpha, beta=beta,
                            smooth=smooth, want_grad=ctx.want_grad)


@loss(kind="per_sample")
def softmax_generalized_dice(logits, targets, ctx, *, smooth=1.0, ignore_background=False):
    """Generalized Dice loss on logits (Sudre et al., optax's ``multiclass_generalized_dice_loss``):
    softmax Dice with each class weighted by the inverse square of its frequency in the batch.

    **Value:** F_c = Σ t over every axis but the class axis (the whole batch), w_c = 1/(F_c² + 1e-7)
    normalised to Σ_c w_c = C, and ℓ_n = (1/|K|)·Σ_{c∈K} w_c·d_nc with d_nc the smoothed
    softmax Dice of sample n and class c (see ``softmax_dice``, α = β = ½). The weights come from
    the targets only, so each ℓ_n's gradient is its own sample's, but its value depends on the
    batch's targets: a slice of the batch is weighted anew.

    **Gradient:** as ``softmax_dice`` with class_weight = w (constants with respect to the logits).

    **Shapes:** logits and targets of one shape (N, …, C), C ≥ 2 classes last; value (N,).

    **Stability:** one max-shifted softmax; a class absent from the batch gets the largest weight
    1/1e-7 before normalisation, never an infinite one.

    **Parity:** ``optax.losses.multiclass_generalized_dice_loss(logits, targets, smooth,
    ignore_background)`` (apply_softmax=True) is lossgrad's "mean" (or "sum_over_batch_size").

    **Example:**
        >>> x = [[[2.0, 0.0], [0.0, 1.0]]]
        >>> r = softmax_generalized_dice(x, [[[1.0, 0.0], [1.0, 0.0]]], reduction="none")
        >>> print(np.round(r.value, 4))
        [0.2983]
    """
    check_range("smooth", smooth, low=0)
    _check_classes(logits, ctx)
    t = _logit_targets(logits, targets, ctx)
    frequency = np.sum(t.reshape(-1, t.shape[-1]), axis=0)
    w = 1 / (frequency**2 + _OPTAX_FREQUENCY_EPSILON)
    w = w / np.sum(w) * len(w)
    return _softmax_overlap(logits, t, w, ignore_background, alpha=0.5, beta=0.5, smooth=smooth,
                            want_grad=ctx.want_grad)


def _check_classes(logits, ctx) -> None:
    if logits.ndim < 2 or logits.shape[-1] < 2:
        raise ShapeError(f"{ctx.name}: logits of shape {logits.shape} need a sample axis and at "
                         "least 2 classes on the last axis, (N, …, C); for one channel of binary "
                         "logits use sigmoid_dice")


def _softmax_overlap(logits, t, weights, ignore_background, *, alpha, beta, smooth, want_grad):
    """ℓ_n = mean over the kept classes of w_c·d_nc, the per-class Tversky loss of the softmax."""
    p = softmax(logits, axis=-1)
    spatial = tuple(range(1, p.ndim - 1))
    per_class, grad = _overlap(p, t, spatial, alpha=alpha, beta=beta, smooth=smooth, eps=0.0,
                               want_grad=want_grad)
    coef = np.ones(p.shape[-1], dtype=p.dtype) if weights is None else weights
    if ignore_background:
        coef = np.concatenate([np.zeros(1, dtype=coef.dtype), coef[1:]])
    coef = coef / (len(coef) - (1 if ignore_background else 0))
    value = np.sum(per_class * coef, axis=-1)
    if not want_grad:
        return Parts(value, None)
    g = grad * coef
    return Parts(value, p * (g - np.sum(p * g, axis=-1, keepdims=True)))
