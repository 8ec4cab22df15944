"""The cross-entropy family: softmax, sparse, categorical, binary, sigmoid and NLL.

Every function here is a loss body (see :mod:`lossgrad.losses.core`): it computes the unreduced value
and its gradient with respect to the prediction in one pass, sharing the log-sum-exp and softmax.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..errors import DomainError, ProbabilitiesAsLogitsWarning, ShapeError
from ..numerics import softmax_rows as _softmax_rows
from . import kernels
from .core import (
    CONVENTIONS,
    Parts,
    as_labels,
    as_targets,
    as_weights,
    check_interval,
    check_option,
    check_range,
    class_weights,
    first_index,
    loss,
    sparse_weights,
    take_class,
    times,
    warn,
)

try:  # knows bfloat16 as well as NumPy's own dtypes
    from ml_dtypes import finfo
except ImportError:  # then bfloat16 is refused before any loss runs
    from numpy import finfo


# ---------------------------------------------------------------------------------------------
# shared pieces


def looks_like_probabilities(x: np.ndarray) -> bool:
    """True when every row is non-negative and sums to 1: logits that went through a softmax.

    Rows that are all uniform do not count: a softmax leaves a uniform row unchanged, so equal
    logits that happen to be 1/C are harmless either way.
    """
    if x.size == 0 or x.shape[-1] < 2:
        return False
    tol = 1e-3 if x.dtype.itemsize <= 4 else 1e-6
    # Cheapest test first: real logits almost always have a negative entry, usually in the first
    # row already, which spares reading all N×C logits an extra time.
    first = x[(0,) * (x.ndim - 1)]
    return bool(first.min() >= 0 and x.min() >= 0
                and np.all(np.abs(np.sum(x, axis=-1) - 1) <= tol) and np.any(x != x[..., :1]))


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


def _weighted_target_ce(z, rows, t, w, want_grad):
    """Σ_c w_c t_c (−log p_c) and its gradient (Σ_c w_c t_c)·p − w·t, with 0·(−inf) = 0."""
    wt = t if w is None else t * w
    value = _weighted_row_sum(rows.neg_log_p(z), wt)
    grad = np.sum(wt, axis=-1, keepdims=True) * rows.p - wt if want_grad else None
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


@loss(kind="rows")
def softmax_cross_entropy(logits, targets, ctx, *, label_smoothing=0.0, class_weight=None,
                          z_loss=0.0, softcap=None, convention="exact", return_lse=False,
                          kernel="auto", inplace=False):
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
    ``kernel="auto" | "fused" | "reference"`` picks the one-pass compiled kernel or the NumPy
    formulas (same numbers to rounding; see :mod:`lossgrad.losses.kernels`); ``inplace=True``
    writes the gradient into the logits (``result.grad`` is that array).

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
    w = None if class_weight is None else class_weights(
        class_weight, num_classes, loss=ctx.name, dtype=logits.dtype)
    out = kernels.inplace_target(logits, ctx, inplace)
    keras_rows = w is not None and convention == "keras"
    if kernels.fused_chosen(kernel, logits, softcap=softcap):
        return kernels.softmax_parts(
            logits, ctx, targets=targets, class_weight=None if keras_rows else w,
            row_scale=w[np.argmax(targets, axis=-1)] if keras_rows else None,
            label_smoothing=label_smoothing, z_loss=z_loss, softcap=softcap, out=out,
            return_lse=return_lse)
    targets = _smooth(targets, label_smoothing, num_classes)
    z, dz = _apply_softcap(logits, softcap)
    rows = _softmax_rows(z)
    if keras_rows:
        value, grad = _weighted_target_ce(z, rows, targets, None, ctx.want_grad)
        value, grad = _scale_rows(value, grad, w[np.argmax(targets, axis=-1)])
    else:
        value, grad = _weighted_target_ce(z, rows, targets, w, ctx.want_grad)
    lse = rows.lse
    if z_loss:
        value = value + z_loss * lse[..., 0] ** 2
        grad = grad + 2 * z_loss * lse * rows.p if grad is not None else None
    value, grad, aux = _finish_logits(value, grad, dz, lse, return_lse)
    return _into(Parts(value, grad, aux=aux), out)


@loss(kind="rows")
def sparse_softmax_cross_entropy(logits, labels, ctx, *, label_smoothing=0.0, class_weight=None,
                                 ignore_index=None, z_loss=0.0, softcap=None, convention="exact",
                                 return_lse=False, kernel="auto", inplace=False):
    """Cross-entropy of integer class labels under softmax(logits); no one-hot is ever built.

    **Value:** ℓ = lse(x) − x_y unsmoothed and unweighted; in general ℓ = −Σ_c w_c t_c log p_c +
    ζ·lse² with t = (1−α)·onehot(y) + α/C, and the row's weight in the "mean" divisor is w_y.
    Entries whose label equals ``ignore_index`` have ℓ = 0, gradient 0 and weight 0.

    **Gradient:** ∂ℓ/∂x_c = (Σ_k w_k t_k)·p_c − w_c t_c + 2ζ·lse·p_c; unweighted and unsmoothed
    p − onehot(y). softcap multiplies it by 1 − tanh²(x/s) as in :func:`softmax_cross_entropy`.

    **Shapes:** logits (…, C) with the class axis ``axis``; labels (…) integers in [0, C) or
    ``ignore_index``; value (…).

    **Stability:** lse = m + log Σ e^{x−m}; the label's logit is gathered, never a one-hot product,
    so −inf on other classes gives a finite loss and a zero gradient there. One N×C array beyond
    the logits (the gradient), none with ``inplace=True``, which writes the gradient into the
    logits (``result.grad`` is that array). ``kernel="auto" | "fused" | "reference"`` picks the
    one-pass compiled kernel or the NumPy formulas (same numbers to rounding; see
    :mod:`lossgrad.losses.kernels`).

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
    safe, norm, valid, w = sparse_weights(labels, num_classes=num_classes,
                                          class_weight=class_weight, ignore_index=ignore_index,
                                          loss=ctx.name, dtype=logits.dtype)
    out = kernels.inplace_target(logits, ctx, inplace)
    if kernels.fused_chosen(kernel, logits, softcap=softcap):
        keras_rows = w is not None and convention == "keras"
        return kernels.softmax_parts(
            logits, ctx, labels=safe, class_weight=None if keras_rows else w,
            row_scale=w[safe] if keras_rows else None, label_smoothing=label_smoothing,
            z_loss=z_loss, softcap=softcap, valid=valid, norm=norm, out=out,
            return_lse=return_lse)
    z, dz = _apply_softcap(logits, softcap)
    rows = _softmax_rows(z)
    value, grad = _sparse_ce(z, rows, safe, label_smoothing, w, z_loss, convention, ctx.want_grad)
    value, grad, aux = _finish_logits(value, grad, dz, rows.lse, return_lse)
    value, grad = _mask_ignored(value, grad, valid)
    return _into(Parts(value, grad, norm=norm, valid=valid, aux=aux), out)


def _sparse_ce(z, rows, labels, alpha, w, z_loss, convention, want_grad):
    """Smoothed, weighted sparse CE of each row, reusing ``p`` as the gradient (no one-hot).

    With t = (1−α)·onehot(y) + α/C and per-class weights w, the value is
    (1−α)·w_y·(lse − z_y) + (α/C)·Σ_c w_c (lse − z_c) + ζ·lse², and the gradient is
    p·[(1−α)·w_y + (α/C)·Σ_c w_c + 2ζ·lse] − (1−α)·w_y·onehot(y) − (α/C)·w. Keras instead multiplies
    the whole unweighted row by w_y (its class weights are per-sample weights).
    """
    num_classes = z.shape[-1]
    lse1 = rows.lse[..., 0]
    ones = np.ones(lse1.shape, dtype=z.dtype)
    row_weighted = w is not None and convention == "keras"
    wc = None if row_weighted else w
    wy = ones if wc is None else wc[labels]
    # Zero weights (of a class, or 1 − α at α = 1) give exactly 0 even against a −inf logit.
    value = times(wy, (rows.m[..., 0] - take_class(z, labels)) + rows.log_sum[..., 0])
    if alpha:
        neg_log_p = rows.neg_log_p(z)
        smooth = np.sum(neg_log_p, axis=-1) if wc is None else _weighted_row_sum(neg_log_p, wc)
        value = times(1 - alpha, value) + alpha / num_classes * smooth
    scale = w[labels] if row_weighted else ones
    value = times(scale, value)
    if z_loss:
        value = value + z_loss * lse1**2
    if not want_grad:
        return value, None
    total_w = num_classes if wc is None else np.sum(wc)
    coef = scale * ((1 - alpha) * wy + alpha / num_classes * total_w) + 2 * z_loss * lse1
    grad = rows.p
    grad *= coef[..., None]
    if alpha:
        grad -= alpha / num_classes * (scale[..., None] if wc is None else wc)
    _add_at_label(grad, labels, -scale * (1 - alpha) * wy)
    return value, grad


def _weighted_row_sum(terms, w):
    """Σ_c w_c·terms_c with 0·(±inf) = 0 (a zero-weight class never poisons the row)."""
    return np.sum(times(w, terms), axis=-1)


def _smooth(targets, alpha, num_classes):
    """t(1−α) + α/K: Keras, PyTorch and optax (K = 2 for Keras's binary cross-entropy)."""
    return targets * (1 - alpha) + alpha / num_classes if alpha else targets


def _add_at_label(grad, labels, delta) -> None:
    """grad[..., y] += delta in place: one entry per row, no one-hot."""
    at = labels[..., None]
    gold = np.take_along_axis(grad, at, axis=-1) + np.asarray(delta)[..., None]
    np.put_along_axis(grad, at, gold, axis=-1)


def _mask_ignored(value, grad, valid):
    """Ignored entries get value 0 and gradient 0 exactly, whatever inf or NaN their row holds."""
    if valid is None:
        return value, grad
    if grad is not None:
        grad[~valid] = 0
    return np.where(valid, value, 0), grad


def _into(parts: Parts, out):
    """The reference path's answer to ``inplace=True``: the scaled gradient written into ``out``."""
    if out is None or parts.grad is None:
        return parts
    grad, parts.grad = parts.grad, None
    # factor has the value's shape: one per row of a row loss, one per entry of an elementwise one
    parts.fill = lambda factor: np.multiply(
        grad, factor.reshape(factor.shape + (1,) * (grad.ndim - factor.ndim)), out=out)
    return parts


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
    return as_targets(targets, prediction, loss=ctx.name)


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


# ---------------------------------------------------------------------------------------------
# cross-entropy on probabilities: the three conventions

_KERAS_EPSILON = 1e-7  # keras.backend.epsilon()
_TORCH_LOG_FLOOR = -100.0  # BCELoss clamps each log at −100
_TORCH_BCE_FLOOR = np.float32(1e-12)  # BCELoss's backward floors x(1−x) at this float32 constant


def _check_probability_options(convention, label_smoothing) -> None:
    check_option("convention", convention, CONVENTIONS)
    check_range("label_smoothing", label_smoothing, low=0, high=1)


def _check_probabilities(probs, ctx, *, logits_loss: str, normalised: bool) -> None:
    """Probabilities lie in [0, 1]; with ``normalised``, rows also sum to 1. NaN passes."""
    if not ctx.validate:
        return
    check_interval(probs, "probs", ctx.name,
                   fix=f"probabilities lie in [0, 1] and values outside it look like logits — use "
                       f"{logits_loss} for logits, or validate=False to skip this check")
    if normalised:
        _check_rows_sum_to_one(probs, ctx)


def _check_rows_sum_to_one(probs, ctx) -> None:
    # Rounding each entry to the caller's dtype moves a row's sum by at most eps/2; 4·eps leaves
    # room for the caller's own softmax; the 1e-3 floor admits probabilities printed to 3–4 decimals.
    tol = max(1e-3, 4 * float(finfo(ctx.dtype).eps))
    total = np.sum(probs, axis=-1)
    bad = np.abs(total - 1) > tol
    if bad.any():
        first = first_index(bad)
        raise DomainError(
            f"{ctx.name}: the row probs[{', '.join(map(str, first))}, :] sums to "
            f"{total[first]:.6g}, not 1 (tolerance {tol:g}); normalise the rows, pass "
            "convention=\"keras\" (which renormalises), or validate=False to skip this check"
        )


def _keras_clip(p, ctx):
    """clip(p, ε, 1−ε) with the bounds rounded to the caller's dtype, as Keras computes them:
    1−ε is 0.99999988 in float32 and 1 in float16. A fresh buffer."""
    lo, hi = (p.dtype.type(ctx.dtype.type(v)) for v in (_KERAS_EPSILON, 1 - _KERAS_EPSILON))
    return np.clip(p, lo, hi)


def _xlog(c, s, convention):
    """c·log s with 0·log 0 = 0; PyTorch's log is clamped at −100."""
    if convention == "torch":
        return c * np.maximum(np.log(s), _TORCH_LOG_FLOOR)
    return special.xlogy(c, s)


def _xlog1m(c, s, convention):
    """c·log(1 − s) with 0·log 0 = 0: log1p keeps small s exact; Keras computes log(1 − s)."""
    if convention == "keras":
        return special.xlogy(c, 1 - s)
    if convention == "torch":
        return c * np.maximum(np.log1p(-s), _TORCH_LOG_FLOOR)
    return special.xlog1py(c, -s)


def _passes(s, p, convention):
    """Where d log s / dp is not stopped: unclipped (Keras, equality passes as in TF's clip) or
    unclamped (PyTorch); None means everywhere."""
    if convention == "keras":
        return s == p
    if convention == "torch":
        return np.log(s) >= _TORCH_LOG_FLOOR
    return None


def _slope(c, s, passes=None):
    """c/s where the gradient flows, and exactly 0 where c = 0 (the derivative of 0·log s, even at
    s = 0) or where a clip or clamp stopped it."""
    keep = c != 0 if passes is None else (c != 0) & passes
    out = np.zeros(np.broadcast_shapes(np.shape(c), np.shape(s)), dtype=np.result_type(c, s))
    return np.divide(c, s, out=out, where=keep)


# ---------------------------------------------------------------------------------------------
# categorical cross-entropy on probabilities


@loss(kind="rows")
def categorical_cross_entropy(probs, targets, ctx, *, label_smoothing=0.0, class_weight=None,
                              convention="exact"):
    """Cross-entropy between a target distribution and predicted probabilities.

    **Value:** ℓ = −Σ_c w_c t_c log p_c with t ← (1−α)·t + α/C under label smoothing α and w the
    class weights (1 without). By ``convention``:
    "exact" — 0·log 0 = 0 and log 0 = −inf, so a target class of probability 0 gives +inf;
    "keras" — p is first renormalised, r = p/Σ_k p_k, then clipped, p̂ = clip(r, ε, 1−ε) with
    ε = 10⁻⁷ rounded to the caller's dtype (1−ε = 0.99999988 in float32, 1 in float16);
    "torch" — PyTorch has no cross-entropy on probabilities; lossgrad's "torch" is
    ``F.nll_loss(torch.log(p).clamp(min=-100), …)``, log clamped at −100 as ``BCELoss`` does.

    **Gradient:** exact: ∂ℓ/∂p_c = −w_c t_c / p_c (0 where w_c t_c = 0, even at p_c = 0); torch:
    the same, and 0 where the log is clamped; keras: with b_c = w_c t_c·1[r_c unclipped]/p̂_c,
    ∂ℓ/∂p_j = (Σ_c b_c r_c − b_j) / Σ_k p_k — 0 through a clipped entry, chained through the
    renormalisation.

    **Shapes:** probs and targets (…, C, …) with the class axis ``axis`` (last by default); value
    (…) without it. Rows of probs lie in [0, 1] and sum to 1 (within max(10⁻³, 4·eps)) unless
    convention="keras", which renormalises; otherwise DomainError (``validate=False`` skips the
    checks). Integer labels belong to :func:`sparse_categorical_cross_entropy`.

    **Stability:** target entries of 0 contribute exactly 0, also against p = 0; nothing is
    clipped unless a convention says so. Logits belong to :func:`softmax_cross_entropy`, which is
    exact where a softmax would underflow to 0.

    **Parity:** "keras": ``keras.losses.categorical_crossentropy`` (every backend) in the caller's
    dtype, and ``CategoricalCrossentropy()``, which first casts to ``floatx()`` (float32: pass
    float32 to reproduce it on float16/float64 data); class weights as
    ``Model.fit(class_weight=)`` (the row's weight is that of its arg-max target). "torch":
    ``F.nll_loss`` on ``log(p).clamp(min=-100)``, ``weight`` inside the sum (its autograd gives
    0/0 = NaN where p = 0 and t = 0; lossgrad gives 0). "exact": seed 001's
    ``-tf.reduce_sum(labels * tf.log(p), 1)``, thinc's ``CategoricalCrossentropy`` value.

    **Example** (seed 001, ``rel3``: the cross-entropy of softmax probabilities equals ``rel1``):
        >>> from lossgrad import softmax
        >>> p = softmax(np.array([[2, 0.5, 6], [0.1, 0, 3]]))
        >>> r = categorical_cross_entropy(p, [[0, 0, 1], [0, 1, 0]], reduction="none")
        >>> print(np.round(r.value, 4))
        [0.0222 3.0997]
        >>> print(np.round(r.grad, 4))
        [[  0.       0.      -1.0224]
         [  0.     -22.1907   0.    ]]
    """
    _check_probability_options(convention, label_smoothing)
    targets = _dense_targets(targets, probs, ctx, instead="sparse_categorical_cross_entropy")
    _check_probabilities(probs, ctx, logits_loss="softmax_cross_entropy",
                         normalised=convention != "keras")
    num_classes = probs.shape[-1]
    targets = _smooth(targets, label_smoothing, num_classes)
    w = None if class_weight is None else class_weights(
        class_weight, num_classes, loss=ctx.name, dtype=probs.dtype)
    row_weighted = w is not None and convention == "keras"
    u = targets if w is None or row_weighted else targets * w
    if convention == "keras":
        value, grad = _keras_categorical(probs, u, ctx)
    else:
        value, grad = _categorical(probs, u, convention, ctx)
    if row_weighted:
        value, grad = _scale_rows(value, grad, w[np.argmax(targets, axis=-1)])
    return Parts(value, grad)


def _categorical(p, u, convention, ctx):
    """−Σ_c u_c log p_c and −u_c/p_c."""
    value = -np.sum(_xlog(u, p, convention), axis=-1)
    grad = _slope(-u, p, _passes(p, p, convention)) if ctx.want_grad else None
    return value, grad


def _keras_categorical(p, u, ctx):
    """Keras: r = p/Σp, p̂ = clip(r), −Σ_c u_c log p̂_c, the gradient chained through both."""
    total = np.sum(p, axis=-1, keepdims=True)
    r = p / total
    clipped = _keras_clip(r, ctx)
    value = -np.sum(_xlog(u, clipped, "keras"), axis=-1)
    if not ctx.want_grad:
        return value, None
    b = _slope(u, clipped, clipped == r)
    return value, (np.sum(b * r, axis=-1, keepdims=True) - b) / total


# ---------------------------------------------------------------------------------------------
# sparse categorical cross-entropy on probabilities


@loss(kind="rows")
def sparse_categorical_cross_entropy(probs, labels, ctx, *, label_smoothing=0.0, class_weight=None,
                                     ignore_index=None, convention="exact"):
    """Cross-entropy of integer class labels under predicted probabilities; no one-hot is built.

    **Value:** ℓ = −w_y log p_y unsmoothed; in general ℓ = −Σ_c u_c log p_c with
    u = (1−α)·w_y·onehot(y) + (α/C)·w (PyTorch weights each class's smoothing term by its own
    weight; under "keras" the whole row is weighted by w_y, Keras's class weights being per-sample
    weights). The row's weight in the "mean" divisor is w_y; entries labelled ``ignore_index`` have
    ℓ = 0, gradient 0 and weight 0. Conventions as :func:`categorical_cross_entropy` ("exact": log 0
    = −inf; "torch": log clamped at −100, ``F.nll_loss(log(p).clamp(min=-100))``), except "keras",
    which follows Keras on TensorFlow: p̂ = clip(p, ε, 1−ε) and then the softmax cross-entropy of
    log p̂, i.e. ℓ = −Σ_c u_c log p̂_c + (Σ_c u_c)·log Σ_k p̂_k — clipped, then renormalised.

    **Gradient:** exact/torch: ∂ℓ/∂p_c = −u_c/p_c (0 where u_c = 0; torch: 0 where clamped); keras:
    ∂ℓ/∂p_j = 1[p_j unclipped]·((Σ_c u_c)/Σ_k p̂_k − u_j/p̂_j).

    **Shapes:** probs (…, C) with the class axis ``axis``; labels (…) integers in [0, C) or
    ``ignore_index``; value (…). Rows of probs lie in [0, 1] and sum to 1 unless convention="keras"
    (DomainError otherwise; ``validate=False`` skips the checks).

    **Stability:** the label's probability is gathered, never multiplied by a one-hot; unsmoothed,
    the gradient is one N×C buffer with one non-zero per row (Keras: the clipped probabilities'
    buffer becomes the gradient), so C = 10⁵ classes cost no more than the gradient itself.

    **Parity:** "keras": ``keras.losses.sparse_categorical_crossentropy`` and
    ``SparseCategoricalCrossentropy(ignore_class=)`` (which computes in float32, ``floatx()``) on
    the TensorFlow backend (the JAX, PyTorch and NumPy
    backends renormalise before clipping, as :func:`categorical_cross_entropy`, and differ where
    an entry is clipped); Keras 3 has no label smoothing here. "torch": ``torch.nn.NLLLoss(weight,
    ignore_index)`` on ``log(p).clamp(min=-100)`` ("mean" = Σ w_y ℓ / Σ w_y; all ignored → NaN, or 0
    with ``empty="zero"`` as Keras). "exact": the seed 003 formula without its ε.

    **Example** (seed 003: Keras's SparseCategoricalCrossentropy on float32 probabilities):
        >>> y_pred = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]], dtype=np.float32)
        >>> r = sparse_categorical_cross_entropy(y_pred, [1, 2], convention="keras")
        >>> print(f"{float(r):.7f}")
        1.1769392
        >>> print(np.round(r.grad, 4))
        [[ 0.5    -0.0263  0.    ]
         [ 0.5     0.5    -4.5   ]]
    """
    _check_probability_options(convention, label_smoothing)
    num_classes = probs.shape[-1]
    labels = _sparse_labels(labels, probs, ctx, ignore_index, instead="categorical_cross_entropy")
    _check_probabilities(probs, ctx, logits_loss="sparse_softmax_cross_entropy",
                         normalised=convention != "keras")
    safe, norm, valid, w = sparse_weights(labels, num_classes=num_classes,
                                          class_weight=class_weight, ignore_index=ignore_index,
                                          loss=ctx.name, dtype=probs.dtype)
    gold, spread, total = _sparse_target(safe, label_smoothing, w, convention, probs)
    if convention == "keras":
        value, grad = _keras_sparse_categorical(probs, safe, gold, spread, total, ctx)
    else:
        value, grad = _sparse_categorical(probs, safe, gold, spread, convention, ctx)
    value, grad = _mask_ignored(value, grad, valid)
    return Parts(value, grad, norm=norm, valid=valid)


def _sparse_target(labels, alpha, w, convention, p):
    """u = gold·onehot(y) + spread without the one-hot, and Σ_c u_c.

    gold = (1−α)·w_y per row; spread = α/C times the class weights, or times w_y under Keras (its
    class weights weight whole rows); spread is None unsmoothed.
    """
    num_classes = p.shape[-1]
    wy = np.ones(labels.shape, dtype=p.dtype) if w is None else w[labels]
    gold = (1 - alpha) * wy
    if not alpha:
        return gold, None, gold
    if w is None:
        return gold, alpha / num_classes, gold + alpha
    if convention == "keras":
        return gold, (alpha / num_classes * wy)[..., None], wy
    return gold, alpha / num_classes * w, gold + alpha / num_classes * np.sum(w)


def _sparse_categorical(p, labels, gold, spread, convention, ctx):
    """−gold·log p_y − Σ_c spread_c log p_c and its gradient −u_c/p_c."""
    p_y = take_class(p, labels)
    value = -_xlog(gold, p_y, convention)
    if spread is not None:
        value = value - np.sum(_xlog(spread, p, convention), axis=-1)
    if not ctx.want_grad:
        return value, None
    grad = np.zeros_like(p) if spread is None else _slope(-spread, p, _passes(p, p, convention))
    _add_at_label(grad, labels, -_slope(gold, p_y, _passes(p_y, p_y, convention)))
    return value, grad


def _keras_sparse_categorical(p, labels, gold, spread, total, ctx):
    """Keras on TF: p̂ = clip(p), ℓ = −Σ u log p̂ + (Σu)·log Σp̂; the clip stops the gradient."""
    clipped = _keras_clip(p, ctx)
    p_y = take_class(clipped, labels)
    mass = np.sum(clipped, axis=-1)
    value = total * np.log(mass) - _xlog(gold, p_y, "keras")
    if spread is not None:
        value = value - np.sum(_xlog(spread, clipped, "keras"), axis=-1)
    if not ctx.want_grad:
        return value, None
    passes = clipped == p
    spread_grad = None if spread is None else _slope(spread, clipped, passes)
    # The clipped buffer is this function's own and no longer needed: it becomes the gradient, so
    # the peak stays at one N×C array however many classes there are.
    grad = np.multiply(passes, (total / mass)[..., None], out=clipped)
    if spread_grad is not None:
        grad -= spread_grad
    _add_at_label(grad, labels, -_slope(gold, p_y, take_class(passes, labels)))
    return value, grad


# ---------------------------------------------------------------------------------------------
# binary cross-entropy on probabilities and on logits


def _binary_targets(targets, prediction, ctx, label_smoothing):
    """Targets in [0, 1] of the prediction's shape, smoothed as Keras does: y(1−α) + α/2."""
    check_range("label_smoothing", label_smoothing, low=0, high=1)
    y = as_targets(targets, prediction, loss=ctx.name)
    if ctx.validate:
        check_interval(y, "targets", ctx.name,
                       fix="binary targets are 0/1 labels or probabilities of the positive class")
    return _smooth(y, label_smoothing, 2)


@loss(kind="elementwise")
def binary_cross_entropy(probs, targets, ctx, *, label_smoothing=0.0, convention="exact"):
    """Binary cross-entropy of predicted probabilities, entry by entry.

    **Value:** ℓ = −[y log p + (1−y) log(1−p)] with y ← y(1−α) + α/2 under label smoothing α
    (Keras's formula). "exact": 0·log 0 = 0 and log 0 = −inf; "keras": p is clipped to [ε, 1−ε],
    ε = 10⁻⁷ rounded to the caller's dtype, so in float32 (y=0, p=1) gives 15.942385 and (y=1,
    p=0) 16.118095, and in float16 1−ε = 1 and (y=0, p=1) gives +inf; "torch": each log is clamped
    at −100 (the largest loss is 100).

    **Gradient:** exact: ∂ℓ/∂p = (1−y)/(1−p) − y/p (each term 0 where its coefficient is 0); keras:
    the same at the clipped p̂ where p is unclipped, 0 where it is clipped; torch: PyTorch's own
    backward (p−y) / max(p(1−p), 10⁻¹²), with its float32 10⁻¹² — it is not the derivative of the
    clamped value (−1.0000000040·10¹² at p = 0, y = 1).

    **Shapes:** probs and targets of the same shape, never broadcast; value of that shape. probs
    and targets lie in [0, 1] (DomainError otherwise; ``validate=False`` skips the checks).

    **Stability:** log(1−p) is computed as log1p(−p), exact for small p (Keras computes log(1−p̂)
    and so does its convention); soft and hard targets alike.

    **Parity:** "keras": ``keras.losses.binary_crossentropy``, which averages over the last axis —
    the same numbers as reduction="mean" (or per-sample weights with "sum_over_batch_size") — in
    the caller's dtype, and ``BinaryCrossentropy()``, which first casts to ``floatx()`` (float32).
    In float16 Keras gives NaN at (y=1, p=1), 0·log 0, where lossgrad gives 0, and its float16
    gradient overflows (0·∞) where lossgrad's, computed in float32, is finite. "torch":
    ``torch.nn.BCELoss`` / ``F.binary_cross_entropy`` (no label smoothing in PyTorch; its
    ``weight`` is ``sample_weight``). Logits belong to :func:`sigmoid_binary_cross_entropy`.

    **Example:**
        >>> r = binary_cross_entropy(np.array([[0.6, 0.4], [0.4, 0.6]]), [[0, 1], [0, 0]])
        >>> print(f"{float(r):.4f}")
        0.8149
        >>> print([round(float(binary_cross_entropy([0.0], [1.0], convention=c)), 4)
        ...        for c in ("exact", "keras", "torch")])
        [inf, 16.1181, 100.0]
    """
    check_option("convention", convention, CONVENTIONS)
    y = _binary_targets(targets, probs, ctx, label_smoothing)
    _check_probabilities(probs, ctx, logits_loss="sigmoid_binary_cross_entropy", normalised=False)
    p = _keras_clip(probs, ctx) if convention == "keras" else probs
    value = -(_xlog(y, p, convention) + _xlog1m(1 - y, p, convention))
    if not ctx.want_grad:
        return Parts(value, None)
    if convention == "torch":
        grad = (probs - y) / np.maximum(probs * (1 - probs), _TORCH_BCE_FLOOR)
    else:
        passes = _passes(p, probs, convention)
        grad = _slope(1 - y, 1 - p, passes) - _slope(y, p, passes)
    return Parts(value, grad)


@loss(kind="elementwise")
def sigmoid_binary_cross_entropy(logits, targets, ctx, *, pos_weight=None, label_smoothing=0.0,
                                 kernel="auto", inplace=False):
    """Binary cross-entropy of sigmoid(logits), entry by entry, with an optional positive weight.

    **Value:** ℓ = −[pw·y·log σ(x) + (1−y)·log(1−σ(x))] = pw·y·softplus(−x) + (1−y)·softplus(x),
    with y ← y(1−α) + α/2 under label smoothing α (Keras's formula) and pw = ``pos_weight`` (1
    without): a scalar or one weight per entry of the last axis, broadcast as PyTorch does.

    **Gradient:** ∂ℓ/∂x = (1−y)·σ(x) − pw·y·σ(−x) = (pw·y + 1 − y)·σ(x) − pw·y.

    **Shapes:** logits and targets of the same shape, never broadcast; value of that shape;
    pos_weight () or (C,) for logits (…, C). Targets lie in [0, 1] (DomainError otherwise;
    ``validate=False`` skips the check). Logits in [0, 1] are legitimate here: no warning.

    **Stability:** softplus(±x) = max(±x, 0) + log1p(e^{−|x|}) share one exp and one log1p, and the
    two terms are added without cancellation, so BCE(10⁹, y=0) = 10⁹ exactly and a small loss keeps
    its digits (BCE(−30, y=0) = 9.36·10⁻¹⁴, where (1−y)x + softplus(−x) cancels to noise);
    0·softplus(±∞) = 0. σ(±x) come from the same exp. ``kernel=`` and ``inplace=`` as for
    :func:`softmax_cross_entropy` (the compiled kernel works entry by entry).

    **Parity:** ``tf.nn.sigmoid_cross_entropy_with_logits``,
    ``tf.nn.weighted_cross_entropy_with_logits(pos_weight)``, ``torch.nn.BCEWithLogitsLoss(
    pos_weight)`` / ``F.binary_cross_entropy_with_logits``, ``optax.sigmoid_binary_cross_entropy``,
    ``keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing)`` on the TF, JAX and
    PyTorch backends (average over the last axis: reduction "mean"). Keras's NumPy backend takes a sigmoid and clips instead. At x = 0 exactly, TF's
    autodiff of ``weighted_cross_entropy_with_logits`` returns a wrong subgradient (of |x| and
    max(−x, 0)); lossgrad, like PyTorch, returns the derivative.

    **Example** (PyTorch's ``BCEWithLogitsLoss`` with ``pos_weight``, then an extreme logit):
        >>> r = sigmoid_binary_cross_entropy([[0.5, -2.0], [-1.0, 3.0]], [[1.0, 1.0], [0.0, 0.3]],
        ...                                  pos_weight=[1.0, 3.0], reduction="none")
        >>> print(np.round(r.value, 4))
        [[0.4741 6.3808]
         [0.3133 2.1777]]
        >>> print(np.round(r.grad, 4))
        [[-0.3775 -2.6424]
         [ 0.2689  0.6241]]
        >>> print(float(sigmoid_binary_cross_entropy([1e9], [0.0])))
        1000000000.0
    """
    pw = None if pos_weight is None else as_weights(
        pos_weight, logits.shape[-1:], name="pos_weight", loss=ctx.name, dtype=logits.dtype)
    out = kernels.inplace_target(logits, ctx, inplace)
    if kernels.fused_chosen(kernel, logits):
        check_range("label_smoothing", label_smoothing, low=0, high=1)  # the kernel smooths
        return kernels.sigmoid_bce_parts(logits, _binary_targets(targets, logits, ctx, 0.0),
                                         pos_weight=pw, label_smoothing=label_smoothing, out=out)
    y = _binary_targets(targets, logits, ctx, label_smoothing)
    pos = y if pw is None else y * pw
    small = np.exp(-np.abs(logits))
    shared = np.log1p(small)
    value = (times(pos, np.maximum(-logits, 0) + shared)
             + times(1 - y, np.maximum(logits, 0) + shared))
    if not ctx.want_grad:
        return Parts(value, None)
    big = 1 / (1 + small)  # σ(|x|); σ(−|x|) = e^{−|x|}·σ(|x|) without 1 − σ's cancellation
    positive = logits >= 0
    sig = np.where(positive, big, small * big)
    sig_neg = np.where(positive, small * big, big)
    return _into(Parts(value, (1 - y) * sig - pos * sig_neg), out)


# ---------------------------------------------------------------------------------------------
# negative log-likelihood of log-probabilities


@loss(kind="rows")
def nll(log_probs, labels, ctx, *, class_weight=None, ignore_index=None):
    """Negative log-likelihood of integer class labels under given log-probabilities.

    **Value:** ℓ = −w_y·log p_y with w the class weights (1 without); the row's weight in the
    "mean" divisor is w_y, so "mean" = Σ w_y ℓ / Σ w_y. Entries labelled ``ignore_index`` have
    ℓ = 0, gradient 0 and weight 0; if every entry is ignored, "mean" gives NaN (or 0 with
    ``empty="zero"``).

    **Gradient:** ∂ℓ/∂(log p)_c = −w_y·1[c = y]: one non-zero per row, also when log p_y = −∞.

    **Shapes:** log_probs (…, C, …) with the class axis ``axis`` (``axis=1`` for PyTorch's
    (N, C, d1, …)); labels (…) integers in [0, C) or ``ignore_index``; value (…). log_probs are ≤ 0
    (DomainError otherwise, a probability above 1; ``validate=False`` skips the check).

    **Stability:** the label's entry is gathered, never a one-hot product; a zero class weight gives
    exactly 0 even against log p_y = −∞ (PyTorch gives 0·∞ = NaN there).

    **Parity:** ``torch.nn.NLLLoss(weight, ignore_index)`` / ``F.nll_loss`` (its default
    ignore_index −100 is ``ignore_index=-100`` here). On logits use
    :func:`sparse_softmax_cross_entropy`; on probabilities :func:`sparse_categorical_cross_entropy`.

    **Example:**
        >>> from lossgrad import log_softmax
        >>> r = nll(log_softmax(np.array([[2, 0.5, 6], [0.1, 0, 3]])), [2, 1],
        ...         class_weight=[1.0, 2.0, 1.0])
        >>> print(f"{float(r):.4f}")
        2.0738
        >>> print(np.round(r.grad, 4))
        [[ 0.      0.     -0.3333]
         [ 0.     -0.6667  0.    ]]
    """
    num_classes = log_probs.shape[-1]
    labels = _sparse_labels(labels, log_probs, ctx, ignore_index,
                            instead="softmax_cross_entropy (log-probabilities are valid logits)")
    if ctx.validate:
        check_interval(log_probs, "log_probs", ctx.name, low=-np.inf, high=0.0,
                       fix="log-probabilities are ≤ 0; use sparse_categorical_cross_entropy for "
                           "probabilities or sparse_softmax_cross_entropy for logits")
    safe, norm, valid, _ = sparse_weights(labels, num_classes=num_classes,
                                          class_weight=class_weight, ignore_index=ignore_index,
                                          loss=ctx.name, dtype=log_probs.dtype)
    wy = np.ones(labels.shape, log_probs.dtype) if class_weight is None else norm
    value = -times(wy, take_class(log_probs, safe))
    grad = None
    if ctx.want_grad:
        grad = np.zeros_like(log_probs)
        _add_at_label(grad, safe, -wy)
    value, grad = _mask_ignored(value, grad, valid)
    return Parts(value, grad, norm=norm, valid=valid)
