"""The hinge / margin family: binary hinge, squared hinge, perceptron, soft margin, hinge embedding,
categorical (Crammer–Singer) hinge, multiclass perceptron, multi-margin (Weston–Watkins) and the two
multilabel margins.

Every function here is a loss body (see :mod:`lossgrad.losses.core`): it computes the unreduced value
and its (sub)gradient with respect to the prediction in one pass.

**Binary targets** are y ∈ {−1, 1}. Anything else raises DomainError naming the first bad entry; NaN
passes and propagates into its own entry. lossgrad never maps {0, 1} labels silently: with
``convention="keras"`` (hinge, squared_hinge) it applies Keras's rule — y ← 2y − 1 when *every* target
of the call is 0 or 1 (NaN aside), the targets unchanged otherwise (and then they must be ±1).
``validate=False`` skips the check and applies the formula to whatever y is, as Keras and optax do
(hinge_embedding, defined only for ±1, then gives NaN).

**Kinks.** These losses are piecewise smooth; at a kink each docstring names the subgradient
returned, chosen to be what the framework defining the loss returns:

- a tie between the branches of a max (hinge, perceptron, categorical hinge, multiclass perceptron)
  gives each of the m tied branches 1/m of the gradient — the rule of ``jax.grad`` and so of optax
  (for two branches: the mean of the one-sided derivatives). Keras's ``tf.maximum`` instead sends the
  whole gradient to its first argument, the active branch; where Keras and optax both define a loss,
  lossgrad follows optax;
- PyTorch's margin kernels (MultiMarginLoss, MultiLabelMarginLoss) count a term only when it is
  strictly positive (gradient 0 at the kink); its HingeEmbeddingLoss clamps with ``clamp_min``, whose
  gradient passes at the boundary (the active side).

**Reductions.** A class weight is part of each value here and never enters the "mean" divisor:
"mean" = Σ sℓ / Σ s over the sample weights s (Σ ℓ / N without them), which is PyTorch's
``reduction='mean'`` for these losses even with ``weight=``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..errors import DomainError, OptionError
from ..numerics import log_sigmoid, sigmoid, softplus
from .core import (
    Parts,
    as_labels,
    as_targets,
    check_interval,
    check_option,
    check_same_shape,
    class_weights,
    first_index,
    loss,
    take_class,
    times,
)
from .cross_entropy import _dense_targets, _sparse_labels

_CONVENTIONS = ("exact", "keras")

# The subgradient taken where a ramp max(0, a) has a = 0 (see the module docstring).
_SPLIT = 0.5  # jax.grad / optax: the two tied branches share the gradient
_INACTIVE = 0.0  # PyTorch's margin kernels: a term counts only when > 0
_ACTIVE = 1.0  # PyTorch's clamp_min: the gradient passes at the boundary


# ---------------------------------------------------------------------------------------------
# shared pieces


def _shown(index: tuple) -> str:
    return ", ".join(map(str, index))


def _check_margin(margin) -> None:
    """Any finite real margin is allowed (PyTorch takes negative ones); NaN and inf are not."""
    if isinstance(margin, bool) or not (isinstance(margin, numbers.Real) and math.isfinite(margin)):
        raise OptionError(f"margin must be a finite real number, got {margin!r}")


def _sign_targets(targets, prediction, ctx, convention=None) -> np.ndarray:
    """Targets in {−1, 1}; under convention="keras" an all-{0, 1} call is mapped by y ← 2y − 1.

    ``convention`` is None for a loss that has no such option (the message then offers none).
    """
    y = as_targets(targets, prediction, loss=ctx.name)
    if convention == "keras" and np.all((y == 0) | (y == 1) | np.isnan(y)):
        return 2 * y - 1
    if not ctx.validate:
        return y
    bad = (y != 1) & (y != -1) & ~np.isnan(y)
    if bad.any():
        at = first_index(bad)
        if convention == "keras":
            fix = ('convention="keras" maps {0, 1} targets only when every target of the call is '
                   "0 or 1, as Keras does; make them all {0, 1} or all {-1, 1}")
        else:
            fix = "map {0, 1} labels with 2*y - 1"
            if convention is not None:
                fix += ', or pass convention="keras" for Keras\'s batch-wide mapping'
        raise DomainError(f"{ctx.name}: targets[{_shown(at)}] = {y[at]} is not -1 or 1; {fix}")
    return y


def _ramp(a, slope, at_kink, want_grad):
    """max(0, a) and slope·H(a), with the step H(0) = ``at_kink`` (the subgradient at the kink)."""
    value = np.maximum(a, 0)
    return value, (slope * np.heaviside(a, at_kink) if want_grad else None)


def _class_labels(targets, scores, ctx):
    """Integer labels from either form a multiclass hinge takes, and the rows to poison with NaN.

    Integer labels have the scores' shape without the class axis; dense targets have the scores'
    shape and must be one-hot rows (a NaN in a row makes that row's value and gradient NaN).
    """
    targets = np.asarray(targets)
    if targets.shape != scores.shape and (targets.dtype.kind in "iu"
                                          or targets.shape == scores.shape[:-1]):
        return _sparse_labels(targets, scores, ctx, None,
                              instead="one-hot rows of the prediction's shape"), None
    targets = as_targets(targets, scores, loss=ctx.name)
    nan_rows = np.any(np.isnan(targets), axis=-1)
    ones = np.sum(targets == 1, axis=-1, keepdims=True)
    bad = (((targets != 0) & (targets != 1)) | (ones != 1)) & ~nan_rows[..., None]
    if bad.any():
        at = first_index(bad)
        raise DomainError(
            f"{ctx.name}: targets[{_shown(at[:-1])}] = {targets[at[:-1]]} is not a one-hot row; "
            f"pass one-hot rows or integer labels of shape {scores.shape[:-1]}"
        )
    return np.argmax(targets, axis=-1), nan_rows


def _max_minus_true(scores, labels, offset, floor, want_grad):
    """max(x_y, max_{k≠y} x_k + offset[, floor]) − x_y and its gradient.

    ``floor`` is a constant candidate of the max (Keras's categorical hinge has one). At a tie each
    of the m tied candidates gets 1/m of the gradient (jax.grad's rule); a tied constant takes its
    share away.
    """
    true = take_class(scores, labels)[..., None]
    z = scores + offset
    np.put_along_axis(z, labels[..., None], true, axis=-1)
    top = np.max(z, axis=-1, keepdims=True)
    if floor is not None:
        top = np.maximum(top, floor)
    value = (top - true)[..., 0]
    if not want_grad:
        return value, None
    grad = (z == top).astype(scores.dtype)
    count = np.sum(grad, axis=-1, keepdims=True)
    if floor is not None:
        count += top == floor
    grad /= count
    at = labels[..., None]
    np.put_along_axis(grad, at, np.take_along_axis(grad, at, axis=-1) - 1, axis=-1)
    return value, grad


def _poison_rows(value, grad, rows):
    """NaN in the value and gradient of the given rows (a NaN target propagates into its row)."""
    if rows is None:
        return Parts(value, grad)
    value = np.where(rows, np.nan, value)
    return Parts(value, None if grad is None else np.where(rows[..., None], np.nan, grad))


# ---------------------------------------------------------------------------------------------
# binary (elementwise) losses


@loss(kind="elementwise")
def hinge(prediction, targets, ctx, *, convention="exact"):
    """Hinge loss of a real score against a ±1 target.

    **Value:** ℓ = max(0, 1 − y·x), y ∈ {−1, 1}; ``convention="keras"`` first maps an all-{0, 1}
    call by y ← 2y − 1 (see the module docstring).

    **Gradient:** ∂ℓ/∂x = −y where y·x < 1, 0 where y·x > 1, and −y/2 at the kink y·x = 1 (optax's
    value; Keras gives −y there).

    **Shapes:** prediction and targets of one shape, value of that shape (elementwise).

    **Stability:** linear in x: exact and finite for any finite x.

    **Parity:** ``optax.hinge_loss(predictor_outputs, targets)``; ``keras.losses.Hinge`` with
    ``convention="keras"`` — Keras averages each row over its last axis first, so its reduced value
    is "sum_over_batch_size" here (per-sample weights included).

    **Example:**
        >>> r = hinge([0.3, -2.0, 1.5], [1, 1, -1], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.7 3.  2.5] [-1. -1.  1.]
        >>> print(np.round(hinge([[0.3, -2.0]], [[1, 0]], convention="keras").value, 4))
        0.35
    """
    check_option("convention", convention, _CONVENTIONS)
    y = _sign_targets(targets, prediction, ctx, convention)
    return Parts(*_ramp(1 - y * prediction, -y, _SPLIT, ctx.want_grad))


@loss(kind="elementwise")
def squared_hinge(prediction, targets, ctx, *, convention="exact"):
    """Squared hinge loss of a real score against a ±1 target.

    **Value:** ℓ = max(0, 1 − y·x)², y ∈ {−1, 1}; ``convention="keras"`` as in :func:`hinge`.

    **Gradient:** ∂ℓ/∂x = −2y·max(0, 1 − y·x), continuous: 0 at the kink y·x = 1 (every framework
    agrees).

    **Shapes:** prediction and targets of one shape, value of that shape (elementwise).

    **Stability:** a square of a ramp: finite up to |x| ≈ 1e154 in float64.

    **Parity:** ``keras.losses.SquaredHinge`` with ``convention="keras"`` (its reduced value is
    "sum_over_batch_size" here, as for :func:`hinge`); the square of ``optax.hinge_loss``.

    **Example:**
        >>> r = squared_hinge([0.3, -2.0, 1.5], [1, 1, -1], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.49 9.   6.25] [-1.4 -6.   5. ]
    """
    check_option("convention", convention, _CONVENTIONS)
    y = _sign_targets(targets, prediction, ctx, convention)
    ramp = np.maximum(1 - y * prediction, 0)
    return Parts(ramp * ramp, -2 * y * ramp if ctx.want_grad else None)


@loss(kind="elementwise")
def perceptron(prediction, targets, ctx):
    """Perceptron loss of a real score against a ±1 target.

    **Value:** ℓ = max(0, −y·x), y ∈ {−1, 1}.

    **Gradient:** ∂ℓ/∂x = −y where y·x < 0, 0 where y·x > 0, and −y/2 at the kink x = 0 (optax's
    value).

    **Shapes:** prediction and targets of one shape, value of that shape (elementwise).

    **Stability:** linear in x: exact and finite for any finite x.

    **Parity:** ``optax.perceptron_loss(predictor_outputs, targets)``.

    **Example:**
        >>> r = perceptron([0.3, -2.0, 0.0], [1, 1, -1], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0. 2. 0.] [-0.  -1.   0.5]
    """
    y = _sign_targets(targets, prediction, ctx)
    return Parts(*_ramp(-y * prediction, -y, _SPLIT, ctx.want_grad))


@loss(kind="elementwise")
def soft_margin(prediction, targets, ctx):
    """Soft-margin (logistic) loss of a real score against a ±1 target.

    **Value:** ℓ = log(1 + e^{−y·x}), y ∈ {−1, 1}.

    **Gradient:** ∂ℓ/∂x = −y·σ(−y·x) (smooth: no kink).

    **Shapes:** prediction and targets of one shape, value of that shape (elementwise).

    **Stability:** ℓ = softplus(m) = max(m, 0) + log1p(e^{−|m|}) with m = −y·x, so ℓ(x = ∓1e9) =
    1e9 exactly and never overflows; σ from scipy's expit.

    **Parity:** ``torch.nn.SoftMarginLoss`` (its 'mean' divides by the element count, as "mean"
    here). PyTorch evaluates log(1 + exp(·)) directly: once y·x < −88.7 (float32) or −709.8
    (float64) it returns inf and a NaN gradient; lossgrad returns the exact value.

    **Example:**
        >>> r = soft_margin([0.3, -2.0, 1e9], [1, 1, -1], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [5.5440e-01 2.1269e+00 1.0000e+09] [-0.4256 -0.8808  1.    ]
    """
    y = _sign_targets(targets, prediction, ctx)
    m = -y * prediction
    return Parts(softplus(m), -y * sigmoid(m) if ctx.want_grad else None)


@loss(kind="elementwise")
def hinge_embedding(prediction, targets, ctx, *, margin=1.0):
    """Hinge embedding loss: the prediction (a distance) itself for similar pairs, a margin ramp for
    dissimilar ones.

    **Value:** ℓ = x if y = 1, max(0, margin − x) if y = −1. ``margin`` is any finite real number.
    With ``validate=False`` a target outside {−1, 1} gives NaN (PyTorch would add both branches).

    **Gradient:** ∂ℓ/∂x = 1 if y = 1; −1 where x < margin and 0 where x > margin if y = −1, and −1
    at the kink x = margin (PyTorch's value: its ``clamp_min`` passes the gradient there).

    **Shapes:** prediction and targets of one shape, value of that shape (elementwise).

    **Stability:** linear in x: exact and finite for any finite x.

    **Parity:** ``torch.nn.HingeEmbeddingLoss(margin)`` (its 'mean' divides by the element count).

    **Example:**
        >>> r = hinge_embedding([0.3, 0.3, 2.0], [1, -1, -1], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.3 0.7 0. ] [ 1. -1. -0.]
    """
    _check_margin(margin)
    y = _sign_targets(targets, prediction, ctx)
    ramp, slope = _ramp(margin - prediction, -1.0, _ACTIVE, ctx.want_grad)
    similar, dissimilar = y == 1, y == -1
    value = np.where(similar, prediction, np.where(dissimilar, ramp, np.nan))
    grad = np.where(similar, 1.0, np.where(dissimilar, slope, np.nan)) if ctx.want_grad else None
    return Parts(value, grad)


# ---------------------------------------------------------------------------------------------
# multiclass and multilabel (row) losses


@loss(kind="rows")
def categorical_hinge(prediction, targets, ctx, *, convention="exact"):
    """Crammer–Singer multiclass hinge: the true class's score must beat every other by 1.

    **Value:** ``convention="exact"`` (optax): ℓ = max(0, 1 + max_{k≠y} x_k − x_y) =
    max_k(x_k + 1 − δ_ky) − x_y. ``convention="keras"``: ℓ = max(0, 1 + max_k((1 − t_k)·x_k) −
    Σ_k t_k·x_k) on one-hot t, i.e. max(0, 1 + max(0, max_{k≠y} x_k) − x_y): the true class enters
    Keras's max as 0·x_y = 0, so the two differ when every other score is negative.

    **Gradient:** ∂ℓ/∂x = e_T/|T| − e_y, with T the set of candidates attaining the max above (x_y
    itself, the x_k + 1, and under Keras the constant 1): 0 when y wins by more than the margin,
    e_k − e_y with a single violator k. At a tie the |T| candidates share the gradient equally —
    optax's value (Keras gives the whole gradient to the violating branch at the outer kink).

    **Shapes:** prediction (…, C) with the class axis ``axis``; targets either integer labels (…)
    in [0, C) or one-hot rows of the prediction's shape (anything else is a DomainError); value (…).

    **Stability:** only a max and differences of the scores: exact for any finite scores; the true
    class's candidate is x_y itself (optax's x_y + 1 − 1 loses the low bits of a small x_y).

    **Parity:** ``optax.multiclass_hinge_loss(scores, labels)`` ("exact");
    ``keras.losses.CategoricalHinge`` with ``convention="keras"``. Keras's documentation also allows
    {−1, 1} targets, which its formula does not read as one-hot; lossgrad refuses them.

    **Example:**
        >>> x = [[2.0, 0.5, 1.2], [0.5, -3.0, -1.0]]
        >>> r = categorical_hinge(x, [1, 0], reduction="none")
        >>> print(np.round(r.value, 4))
        [2.5 0. ]
        >>> print(np.round(r.grad, 4))
        [[ 1. -1.  0.]
         [ 0.  0.  0.]]
        >>> print(np.round(categorical_hinge(x, [[0, 1, 0], [1, 0, 0]], convention="keras",
        ...                                  reduction="none").value, 4))
        [2.5 0.5]
    """
    check_option("convention", convention, _CONVENTIONS)
    labels, nan_rows = _class_labels(targets, prediction, ctx)
    floor = 1.0 if convention == "keras" else None
    value, grad = _max_minus_true(prediction, labels, 1.0, floor, ctx.want_grad)
    return _poison_rows(value, grad, nan_rows)


@loss(kind="rows")
def multiclass_perceptron(prediction, targets, ctx):
    """Multiclass perceptron loss: how far the best score is above the true class's.

    **Value:** ℓ = max_k x_k − x_y.

    **Gradient:** ∂ℓ/∂x = e_T/|T| − e_y with T the arg-max set: 0 when y alone wins, e_k − e_y when k
    alone does; at a tie the |T| tied classes share the gradient equally (optax's value).

    **Shapes:** prediction (…, C) with the class axis ``axis``; targets integer labels (…) in
    [0, C) or one-hot rows of the prediction's shape; value (…).

    **Stability:** a max and a difference of scores: exact for any finite scores.

    **Parity:** ``optax.multiclass_perceptron_loss(scores, labels)``.

    **Example:**
        >>> r = multiclass_perceptron([[2.0, 0.5, 1.2], [0.5, 0.5, -1.0]], [1, 0], reduction="none")
        >>> print(np.round(r.value, 4))
        [1.5 0. ]
        >>> print(np.round(r.grad, 4))
        [[ 1.  -1.   0. ]
         [-0.5  0.5  0. ]]
    """
    labels, nan_rows = _class_labels(targets, prediction, ctx)
    value, grad = _max_minus_true(prediction, labels, 0.0, None, ctx.want_grad)
    return _poison_rows(value, grad, nan_rows)


@loss(kind="rows")
def multi_margin(prediction, labels, ctx, *, p=1, margin=1.0, class_weight=None):
    """Weston–Watkins multiclass margin: every other class's score must stay ``margin`` below the
    true class's.

    **Value:** ℓ = w_y · Σ_{k≠y} max(0, margin − x_y + x_k)^p / C, p ∈ {1, 2}, w the class weights
    (1 without). The weight multiplies the powered term — PyTorch's kernel; its documentation shows
    w_y inside the power, which differs for p = 2.

    **Gradient:** with z_k = margin − x_y + x_k and d_k = w_y·p·max(0, z_k)^{p−1}/C for k ≠ y:
    ∂ℓ/∂x_k = d_k and ∂ℓ/∂x_y = −Σ_{k≠y} d_k. For p = 1 a term counts only where z_k > 0, so the
    subgradient at the kink z_k = 0 is 0 (PyTorch's value); for p = 2 the gradient is continuous.

    **Shapes:** prediction (…, C) with the class axis ``axis``; labels (…) integers in [0, C);
    value (…).

    **Stability:** differences of scores and a ramp: exact for any finite scores (squared: finite
    up to |x| ≈ 1e154).

    **Parity:** ``torch.nn.MultiMarginLoss(p, margin, weight)``. Its 'mean' divides by the number of
    rows N, not by Σ w_y: the class weight is part of each value here, and "mean" = Σ ℓ / N
    reproduces it (this loss has no "mean" normaliser of its own).

    **Example:**
        >>> x = [[2.0, 0.5, 1.2], [0.5, 0.2, -1.0]]
        >>> r = multi_margin(x, [1, 0], p=2, class_weight=[1.0, 2.0, 1.0], reduction="none")
        >>> print(np.round(r.value, 4))
        [6.0933 0.1633]
        >>> print(np.round(r.grad, 4))
        [[ 3.3333 -5.6     2.2667]
         [-0.4667  0.4667  0.    ]]
        >>> print(f"{float(multi_margin(x, [1, 0], p=2, class_weight=[1.0, 2.0, 1.0])):.4f}")
        3.1283
    """
    check_option("p", p, (1, 2))
    _check_margin(margin)
    labels = _sparse_labels(labels, prediction, ctx, None, instead="categorical_hinge")
    num_classes = prediction.shape[-1]
    scale = np.full(labels.shape, 1 / num_classes, dtype=prediction.dtype)
    if class_weight is not None:
        scale = scale * class_weights(class_weight, num_classes, loss=ctx.name,
                                      dtype=prediction.dtype)[labels]
    at = labels[..., None]
    z = margin - np.take_along_axis(prediction, at, axis=-1) + prediction
    # The true class is not a term of the sum: −inf drops it from the ramp and from the step.
    np.put_along_axis(z, at, -np.inf, axis=-1)
    ramp = np.maximum(z, 0)
    value = scale * np.sum(ramp if p == 1 else ramp * ramp, axis=-1)
    if not ctx.want_grad:
        return Parts(value, None)
    grad = np.heaviside(z, _INACTIVE) if p == 1 else 2 * ramp
    grad *= scale[..., None]
    np.put_along_axis(grad, at, -np.sum(grad, axis=-1, keepdims=True), axis=-1)
    return Parts(value, grad)


def _target_sets(labels, prediction, ctx) -> np.ndarray:
    """The (…, C) mask of each row's target classes, from PyTorch's −1-padded label lists.

    Each row lists distinct classes in [0, C), then −1 to its end. PyTorch silently ignores anything
    after the first −1 and counts a repeated class twice; both are DomainErrors here.
    """
    labels = np.asarray(labels)
    padding = labels == -1
    labels = as_labels(np.where(padding, 0, labels), prediction.shape[-1], name="labels",
                       loss=ctx.name, instead="multilabel_soft_margin")
    check_same_shape(prediction, labels, loss=ctx.name, names=("prediction", "labels"))
    stray = (np.cumsum(padding, axis=-1) > 0) & ~padding
    if stray.any():
        at = first_index(stray)
        raise DomainError(
            f"{ctx.name}: labels[{_shown(at)}] = {labels[at]} follows the -1 padding of its row; "
            "list a row's target classes first and pad with -1 to its end (PyTorch would ignore "
            "this label)"
        )
    # hits[..., j, c]: position j of the row names class c
    hits = (labels[..., :, None] == np.arange(prediction.shape[-1])) & ~padding[..., None]
    counts = np.sum(hits, axis=-2)
    if np.any(counts > 1):
        row_class = first_index(counts > 1)
        second = np.flatnonzero(hits[row_class[:-1]][:, row_class[-1]])[1]
        at = row_class[:-1] + (int(second),)
        raise DomainError(
            f"{ctx.name}: labels[{_shown(at)}] = {labels[at]} repeats a class already listed in its "
            "row; list each target class once (PyTorch would count it twice)"
        )
    return counts > 0


@loss(kind="rows")
def multilabel_margin(prediction, labels, ctx):
    """Multilabel margin: every target class's score must beat every non-target class's by 1.

    **Value:** ℓ = Σ_{j∈T} Σ_{i∉T} max(0, 1 − (x_j − x_i)) / C, T the row's target classes, given
    as PyTorch gives them: C labels per row, the target classes first, then −1 padding. A row with
    no targets (all −1) or with every class a target has ℓ = 0.

    **Gradient:** with a_ji = 1 if 1 − (x_j − x_i) > 0 else 0 (j ∈ T, i ∉ T): ∂ℓ/∂x_j =
    −Σ_i a_ji / C, ∂ℓ/∂x_i = Σ_j a_ji / C. A pair counts only when its term is strictly positive:
    the subgradient at the kink x_j − x_i = 1 is 0 (PyTorch's value).

    **Shapes:** prediction (…, C) with the class axis ``axis``; labels integers of the same shape
    (the padded lists lie along the same axis); value (…). Works on (…, C, C) pair arrays, like
    PyTorch's O(C²) kernel.

    **Stability:** differences of scores and a ramp: exact for any finite scores.

    **Parity:** ``torch.nn.MultiLabelMarginLoss`` (its 'mean' divides by N). PyTorch ignores anything
    after the first −1 and counts a repeated label twice; lossgrad raises DomainError for both.

    **Example:**
        >>> r = multilabel_margin([[0.1, 0.2, 0.4, 0.8]], [[3, 0, -1, -1]], reduction="none")
        >>> print(np.round(r.value, 4))
        [0.85]
        >>> print(np.round(r.grad, 4))
        [[-0.5  0.5  0.5 -0.5]]
    """
    is_target = _target_sets(labels, prediction, ctx)
    num_classes = prediction.shape[-1]
    # pair axes (…, j, i): j a target class, i a non-target class
    pairs = is_target[..., :, None] & ~is_target[..., None, :]
    h = 1 - prediction[..., :, None] + prediction[..., None, :]
    value = np.sum(np.where(pairs, np.maximum(h, 0), 0), axis=(-2, -1)) / num_classes
    if not ctx.want_grad:
        return Parts(value, None)
    active = np.where(pairs, np.heaviside(h, _INACTIVE), 0) / num_classes
    return Parts(value, np.sum(active, axis=-2) - np.sum(active, axis=-1))


@loss(kind="rows")
def multilabel_soft_margin(logits, targets, ctx, *, class_weight=None):
    """Multilabel soft margin: the mean over classes of the sigmoid cross-entropy of each label.

    **Value:** ℓ = −(1/C)·Σ_c w_c·[t_c·log σ(x_c) + (1 − t_c)·log σ(−x_c)], targets t ∈ [0, 1]
    (multi-hot, or soft), w the class weights (1 without).

    **Gradient:** ∂ℓ/∂x_c = w_c·(σ(x_c) − t_c)/C (smooth: no kink).

    **Shapes:** logits (…, C) with the class axis ``axis``; targets of the same shape; value (…).

    **Stability:** log σ from scipy's log_expit, so ℓ(x = 1e9, t = 0) = 1e9/C exactly; a term whose
    target (or weight) is 0 contributes exactly 0 even against an infinite logit.

    **Parity:** ``torch.nn.MultiLabelSoftMarginLoss(weight)`` ('mean' divides by N, not Σ w). PyTorch
    documents targets in {0, 1}; lossgrad takes probabilities in [0, 1], with the same formula.

    **Example:**
        >>> r = multilabel_soft_margin([[2.0, -1.0, 0.5]], [[1, 0, 1]], reduction="none")
        >>> print(np.round(r.value, 4))
        [0.3048]
        >>> print(np.round(r.grad, 4))
        [[-0.0397  0.0896 -0.1258]]
    """
    t = _dense_targets(targets, logits, ctx, instead="multilabel_margin")
    if ctx.validate:
        check_interval(t, "targets", ctx.name, fix="targets are the probabilities of each label")
    num_classes = logits.shape[-1]
    terms = (times(t, -log_sigmoid(logits))
             + times(1 - t, -log_sigmoid(-logits)))
    scale = np.full(num_classes, 1 / num_classes, dtype=logits.dtype)
    if class_weight is not None:
        scale = scale * class_weights(class_weight, num_classes, loss=ctx.name, dtype=logits.dtype)
    value = np.sum(times(scale, terms), axis=-1)
    return Parts(value, scale * (sigmoid(logits) - t) if ctx.want_grad else None)
