"""The cross-entropy family: softmax, sparse, categorical, binary, sigmoid and NLL.

Every function here is a loss body (see :mod:`lossgrad.losses.core`): it computes the unreduced value
and its gradient with respect to the prediction in one pass, sharing the log-sum-exp and softmax.
"""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError, ProbabilitiesAsLogitsWarning, ShapeError
from .core import (
    CONVENTIONS,
    Parts,
    as_labels,
    check_option,
    check_range,
    check_same_shape,
    class_weights,
    loss,
    sparse_weights,
    take_class,
    warn,
)


# ---------------------------------------------------------------------------------------------
# shared pieces


def looks_like_probabilities(x: np.ndarray) -> bool:
    """True when every row is non-negative and sums to 1: logits that went through a softmax."""
    if x.size == 0 or x.shape[-1] < 2:
        return False
    tol = 1e-3 if x.dtype.itemsize <= 4 else 1e-6
    return bool(np.all(x >= 0) and np.all(np.abs(np.sum(x, axis=-1) - 1) <= tol))


def warn_if_probabilities(logits: np.ndarray, ctx, instead: str) -> None:
    """The seed-001 "double softmax": probabilities passed where logits are expected."""
    if ctx.validate and looks_like_probabilities(logits):
        warn(
            f"{ctx.name}: every row of the logits is non-negative and sums to 1 — these look like "
            f"probabilities, and a softmax of probabilities is not what you want (seed 001's rel2). "
            f"Pass the logits, or use {instead} for probabilities.",
            ProbabilitiesAsLogitsWarning,
        )


def _apply_softcap(logits: np.ndarray, softcap):
    """z = s·tanh(x/s) and dz/dx = 1 − (z/s)², or the logits unchanged."""
    if softcap is None:
        return logits, None
    check_range("softcap", softcap, low=0, low_open=True)
    z = softcap * np.tanh(logits / softcap)
    return z, 1 - (z / softcap) ** 2


def _softmax_rows(z: np.ndarray):
    """(lse, p) of each row, lse keeping its axis; p is one fresh buffer the caller may overwrite."""
    m = np.max(z, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # all -inf rows give lse = -inf rather than NaN
    p = np.subtract(z, m)
    np.exp(p, out=p)
    s = np.sum(p, axis=-1, keepdims=True)
    p /= s
    return np.log(s) + m, p


def _weighted_target_ce(z, lse, p, t, w, want_grad):
    """Σ_c w_c t_c (lse − z_c) and its gradient (Σ_c w_c t_c)·p − w·t, with 0·(−inf) = 0."""
    wt = t if w is None else t * w
    value = _weighted_row_sum(lse - z, wt)
    grad = np.sum(wt, axis=-1, keepdims=True) * p - wt if want_grad else None
    return value, grad


def _check_logit_options(convention, label_smoothing, z_loss) -> None:
    check_option("convention", convention, CONVENTIONS)
    check_range("label_smoothing", label_smoothing, low=0, high=1)
    check_range("z_loss", z_loss, low=0)


def _finish_logits(value, grad, dz, lse, return_lse):
    """Chain the softcap derivative and collect the optional log-sum-exp."""
    if grad is not None and dz is not None:
        grad = grad * dz
    aux = {"lse": lse[..., 0]} if return_lse else {}
    return value, grad, aux


# ---------------------------------------------------------------------------------------------
# softmax cross-entropy on logits


@loss(rows=True)
def softmax_cross_entropy(logits, targets, ctx, *, label_smoothing=0.0, class_weight=None,
                          z_loss=0.0, softcap=None, convention="exact", return_lse=False):
    """Cross-entropy between a distribution over classes and softmax(logits).

    **Value:** ℓ = −Σ_c w_c t_c log softmax(x)_c + ζ·lse(x)², with t ← (1−α)·t + α/C under label
    smoothing α, w the class weights (1 without), ζ the z-loss coefficient, lse = log Σ_c e^{x_c}.

    **Gradient:** ∂ℓ/∂x_c = (Σ_k w_k t_k)·p_c − w_c t_c + 2ζ·lse·p_c, p = softmax(x); with
    ``softcap`` s the logits are first mapped x ← s·tanh(x/s) and the gradient is multiplied by
    1 − tanh²(x/s). Unweighted, unsmoothed rows of a distribution t give p − t (rows sum to 0).

    **Shapes:** logits and targets (…, C, …) with the class axis ``axis`` (last by default;
    ``axis=1`` for PyTorch's (N, C, d1, …)); value (…) without it.

    **Stability:** lse = m + log Σ e^{x−m} with m the row maximum; target entries of 0 contribute
    exactly 0 even against a −inf logit; logits of ±1e9 give exact, finite values.

    **Parity:** ``tf.nn.softmax_cross_entropy_with_logits``, ``keras.losses.CategoricalCrossentropy(
    from_logits=True)``, ``torch.nn.CrossEntropyLoss`` with probability targets (class weights inside
    the sum, "mean" divides by the number of rows), ``optax.softmax_cross_entropy``.
    ``convention="keras"`` weights each row by the class weight of its arg-max target, as Keras's
    ``Model.fit(class_weight=)`` does. z-loss and softcap follow Liger-Kernel (z-loss is not scaled by
    class weights).

    **Example** (seed 001, ``rel1``):
        >>> r = softmax_cross_entropy([[2, 0.5, 6], [0.1, 0, 3]], [[0, 0, 1], [0, 1, 0]],
        ...                           reduction="none")
        >>> print(np.round(r.value, 4))
        [0.0222 3.0997]
        >>> print(np.round(r.grad, 4))
        [[ 0.0179  0.004  -0.0219]
         [ 0.0498 -0.9549  0.9051]]
    """
    _check_logit_options(convention, label_smoothing, z_loss)
    targets = _dense_targets(targets, logits, ctx, instead="sparse_softmax_cross_entropy")
    warn_if_probabilities(logits, ctx, instead="categorical_cross_entropy")
    num_classes = logits.shape[-1]
    if label_smoothing:
        targets = targets * (1 - label_smoothing) + label_smoothing / num_classes
    z, dz = _apply_softcap(logits, softcap)
    lse, p = _softmax_rows(z)
    w = None if class_weight is None else class_weights(
        class_weight, num_classes, loss=ctx.name, dtype=logits.dtype)
    if w is not None and convention == "keras":
        value, grad = _weighted_target_ce(z, lse, p, targets, None, ctx.want_grad)
        value, grad = _scale_rows(value, grad, w[np.argmax(targets, axis=-1)])
    else:
        value, grad = _weighted_target_ce(z, lse, p, targets, w, ctx.want_grad)
    if z_loss:
        value = value + z_loss * lse[..., 0] ** 2
        grad = grad + 2 * z_loss * lse * p if grad is not None else None
    value, grad, aux = _finish_logits(value, grad, dz, lse, return_lse)
    return Parts(value, grad, aux=aux)


@loss(rows=True)
def sparse_softmax_cross_entropy(logits, labels, ctx, *, label_smoothing=0.0, class_weight=None,
                                 ignore_index=None, z_loss=0.0, softcap=None, convention="exact",
                                 return_lse=False):
    """Cross-entropy of integer class labels under softmax(logits); no one-hot is ever built.

    **Value:** ℓ = lse(x) − x_y unsmoothed and unweighted; in general ℓ = −Σ_c w_c t_c log p_c +
    ζ·lse² with t = (1−α)·onehot(y) + α/C, and the row's weight in the "mean" divisor is w_y.
    Entries whose label equals ``ignore_index`` have ℓ = 0, gradient 0 and weight 0.

    **Gradient:** ∂ℓ/∂x_c = (Σ_k w_k t_k)·p_c − w_c t_c + 2ζ·lse·p_c; unweighted and unsmoothed
    p − onehot(y). softcap multiplies it by 1 − tanh²(x/s) as in :func:`softmax_cross_entropy`.

    **Shapes:** logits (…, C) with the class axis ``axis``; labels (…) integers in [0, C) or
    ``ignore_index``; value (…).

    **Stability:** lse = m + log Σ e^{x−m}; the label's logit is gathered, never a one-hot product,
    so −inf on other classes gives a finite loss and a zero gradient there. The softmax buffer
    becomes the gradient in place: one N×C array beyond the logits.

    **Parity:** ``torch.nn.CrossEntropyLoss(weight, ignore_index, label_smoothing)`` with class
    indices ("mean" = Σ w_y ℓ / Σ w_y; all ignored → NaN, or 0 with ``empty="zero"``),
    ``tf.nn.sparse_softmax_cross_entropy_with_logits``, ``keras.losses.SparseCategoricalCrossentropy(
    from_logits=True, ignore_class)``, ``optax.softmax_cross_entropy_with_integer_labels``.
    ``convention="keras"`` multiplies the whole smoothed row by w_y (Keras's class weights are
    per-sample weights); "exact" and "torch" weight each class's smoothing term by its own weight,
    as PyTorch does. z-loss is not scaled by class weights (as Liger).

    **Example** (seed 001, ``rel1`` with integer labels):
        >>> r = sparse_softmax_cross_entropy([[2, 0.5, 6], [0.1, 0, 3]], [2, 1])
        >>> print(f"{float(r):.4f}")
        1.5609
        >>> print(np.round(r.grad, 4))
        [[ 0.009   0.002  -0.011 ]
         [ 0.0249 -0.4775  0.4526]]
    """
    _check_logit_options(convention, label_smoothing, z_loss)
    num_classes = logits.shape[-1]
    labels = _sparse_labels(labels, logits, ctx, ignore_index, instead="softmax_cross_entropy")
    warn_if_probabilities(logits, ctx, instead="sparse_categorical_cross_entropy")
    safe, norm, valid = sparse_weights(labels, num_classes=num_classes, class_weight=class_weight,
                                       ignore_index=ignore_index, loss=ctx.name, dtype=logits.dtype)
    z, dz = _apply_softcap(logits, softcap)
    lse, p = _softmax_rows(z)
    w = None if class_weight is None else class_weights(
        class_weight, num_classes, loss=ctx.name, dtype=logits.dtype)
    value, grad = _sparse_ce(z, lse, p, safe, label_smoothing, w, z_loss, convention, ctx.want_grad)
    value, grad, aux = _finish_logits(value, grad, dz, lse, return_lse)
    if valid is not None:
        value = np.where(valid, value, 0)
        if grad is not None:
            grad *= valid[..., None]
    return Parts(value, grad, norm=norm, valid=valid, aux=aux)


def _sparse_ce(z, lse, p, labels, alpha, w, z_loss, convention, want_grad):
    """Smoothed, weighted sparse CE of each row, reusing ``p`` as the gradient (no one-hot).

    With t = (1−α)·onehot(y) + α/C and per-class weights w, the value is
    (1−α)·w_y·(lse − z_y) + (α/C)·Σ_c w_c (lse − z_c) + ζ·lse², and the gradient is
    p·[(1−α)·w_y + (α/C)·Σ_c w_c + 2ζ·lse] − (1−α)·w_y·onehot(y) − (α/C)·w. Keras instead multiplies
    the whole unweighted row by w_y (its class weights are per-sample weights).
    """
    num_classes = z.shape[-1]
    lse1 = lse[..., 0]
    ones = np.ones(lse1.shape, dtype=z.dtype)
    row_weighted = w is not None and convention == "keras"
    wc = None if row_weighted else w
    wy = ones if wc is None else wc[labels]
    value = wy * (lse1 - take_class(z, labels))
    if alpha:
        smooth = np.sum(lse - z, axis=-1) if wc is None else _weighted_row_sum(lse - z, wc)
        value = (1 - alpha) * value + alpha / num_classes * smooth
    scale = w[labels] if row_weighted else ones
    value = scale * value
    if z_loss:
        value = value + z_loss * lse1**2
    if not want_grad:
        return value, None
    total_w = num_classes if wc is None else np.sum(wc)
    coef = scale * ((1 - alpha) * wy + alpha / num_classes * total_w) + 2 * z_loss * lse1
    grad = p
    grad *= coef[..., None]
    if alpha:
        grad -= alpha / num_classes * (scale[..., None] if wc is None else wc)
    at = labels[..., None]
    gold = (scale * (1 - alpha) * wy)[..., None]
    np.put_along_axis(grad, at, np.take_along_axis(grad, at, axis=-1) - gold, axis=-1)
    return value, grad


def _weighted_row_sum(terms, w):
    """Σ_c w_c·terms_c with 0·(±inf) = 0 (a zero-weight class never poisons the row)."""
    return np.sum(np.where(w != 0, w * terms, 0), axis=-1)


def _scale_rows(value, grad, row_weight):
    return value * row_weight, (None if grad is None else grad * row_weight[..., None])


def _dense_targets(targets, prediction, ctx, *, instead: str) -> np.ndarray:
    """Float targets of the prediction's (class-last) shape, in the compute dtype."""
    targets = np.asarray(targets)
    if targets.dtype.kind in "iu" and targets.shape == prediction.shape[:-1]:
        raise ShapeError(
            f"{ctx.name}: targets of shape {targets.shape} look like integer class labels; "
            f"use {instead} for labels, or one-hot encode them (lossgrad.one_hot)"
        )
    if targets.dtype.kind not in "fiub":
        raise DTypeError(f"{ctx.name}: targets must be real numbers, got dtype {targets.dtype}")
    check_same_shape(prediction, targets, loss=ctx.name, names=("prediction", "targets"))
    return targets.astype(prediction.dtype, copy=False)


def _sparse_labels(labels, prediction, ctx, ignore_index, *, instead: str) -> np.ndarray:
    """Integer labels of the prediction's shape without the class axis."""
    labels = np.asarray(labels)
    if labels.shape == prediction.shape and labels.shape[-1] > 1:
        raise ShapeError(
            f"{ctx.name}: labels of shape {labels.shape} have the prediction's shape — they look "
            f"one-hot or like probabilities; use {instead} for those, or pass integer labels of "
            f"shape {prediction.shape[:-1]}"
        )
    labels = as_labels(labels, prediction.shape[-1], name="labels", loss=ctx.name,
                       ignore_index=ignore_index, instead=instead)
    if labels.shape != prediction.shape[:-1]:
        raise ShapeError(
            f"{ctx.name}: labels of shape {labels.shape} do not match the prediction's shape "
            f"{prediction.shape} without its class axis, {prediction.shape[:-1]}; lossgrad never "
            "broadcasts labels"
        )
    return labels
