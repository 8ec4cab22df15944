"""Sparsemax and its losses.

``sparsemax`` is the Euclidean projection of a score vector onto the probability simplex (Martins &
Astudillo, 2016): like softmax it maps scores to probabilities, but low scores get exactly 0. The
losses are the Fenchel–Young losses of that projection (Blondel, Martins & Niculae, 2020): their
gradient is the projection minus the target, as softmax − onehot is cross-entropy's.

**The projection by sorting.** With the scores z sorted in decreasing order u_1 ≥ … ≥ u_C, the
support size is k(z) = max{k : 1 + k·u_k > Σ_{j≤k} u_j}, the threshold is
τ = (Σ_{j≤k(z)} u_j − 1) / k(z), and sparsemax(z) = max(z − τ, 0). Ties among the scores do not
matter: the projection is unique.

**The support boundary.** Sparsemax is continuous and piecewise linear: its Jacobian jumps where a
score crosses τ (z_j = τ, p_j = 0, on the edge of the support). The losses are still continuously
differentiable — their gradient p − onehot(y) is continuous — so a point on the boundary has one
gradient; only second derivatives jump there.
"""

from __future__ import annotations

import numpy as np

from ..errors import DomainError, OptionError, ShapeError
from .core import (
    Parts,
    as_floats,
    as_targets,
    compute_dtype,
    first_index,
    index_str,
    loss,
    take_class,
    times,
)
from .cross_entropy import _sparse_labels

#: What to tell a caller who passes one-hot rows where integer labels belong.
_LABELS_FROM_ONE_HOT = "np.argmax(targets, axis=-1) as the labels"


def sparsemax(x, axis=-1) -> np.ndarray:
    """The Euclidean projection of each score vector along ``axis`` onto the probability simplex.

    p = argmin_{p ≥ 0, Σp = 1} ‖p − x‖² = max(x − τ, 0), with the threshold τ found by sorting
    (see the module docstring). Entries with a score below τ are exactly 0; the rest are the scores
    shifted by τ, so p sums to 1.

    x: real scores, any shape with a non-empty ``axis``; float16 and bfloat16 are computed in
        float32 and returned in their own dtype. Scores of −inf get exactly 0; a vector holding NaN
        or +inf, or only −inf, has no projection and gives NaN in its every entry.
    axis: the axis to project along (the class axis), the last by default.

    Stability: the projection is shift-invariant, so each vector's maximum is subtracted first: the
    cumulative sums that set τ then keep their digits for scores of any size (1e9 included).

    Example:
        >>> p = sparsemax([[0.5, 1.2, -1.0], [2.0, 0.0, 0.1]])
        >>> print(np.round(p, 4))
        [[0.15 0.85 0.  ]
         [1.   0.   0.  ]]
    """
    x = as_floats(x, "x")
    if x.ndim == 0:
        raise ShapeError("sparsemax: x needs an axis to project along, got a scalar")
    if not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < x.ndim:
        raise OptionError(f"sparsemax: axis={axis!r} is not an axis of x with shape {x.shape}")
    if x.shape[axis] == 0:
        raise ShapeError(f"sparsemax: x of shape {x.shape} has no entries on axis {axis}")
    work = compute_dtype(x.dtype, "x")
    with np.errstate(all="ignore"):
        p = _project(np.moveaxis(x.astype(work, copy=False), axis, -1))
    return np.moveaxis(p, -1, axis).astype(x.dtype, copy=False)


def _project(z: np.ndarray) -> np.ndarray:
    """sparsemax along the last axis of a floating array (no checks; a fresh array)."""
    top = np.max(z, axis=-1, keepdims=True)
    shifted = z - np.where(np.isfinite(top), top, 0)
    u = -np.sort(-shifted, axis=-1)
    cumulative = np.cumsum(u, axis=-1)
    k = np.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    size = np.count_nonzero(1 + k * u > cumulative, axis=-1)[..., None]
    # A row of only −inf has an empty support: τ = (−inf − 1)/0 is NaN, as it should be.
    tau = (np.take_along_axis(cumulative, np.maximum(size - 1, 0), axis=-1) - 1) / size
    p = np.maximum(shifted - tau, 0)
    undefined = np.any(np.isnan(z) | (z == np.inf), axis=-1, keepdims=True)
    return np.where(undefined, np.nan, p)


@loss(kind="rows")
def multiclass_sparsemax(logits, labels, ctx):
    """Multiclass sparsemax loss: the Fenchel–Young loss of sparsemax, with integer labels.

    **Value:** ℓ = Σ_j p_j·(z_j − z_y) + ½(1 − Σ_j p_j²) with z the logits (scores),
    p = sparsemax(z) and y the label; that is ½ Σ_{j∈S} (z_j² − τ²) − z_y + ½ over the support S
    (Martins & Astudillo's form). ℓ ≥ 0, and ℓ = 0 exactly when p is the one-hot vector of y.

    **Gradient:** ∂ℓ/∂z = sparsemax(z) − onehot(y), continuous everywhere: ties among the scores and
    scores on the support boundary (z_j = τ) have this one gradient (see the module docstring).

    **Shapes:** logits (…, C) with the class axis ``axis``; labels integers (…) in [0, C); value
    (…).

    **Stability:** p from the max-shifted projection; the value uses differences z_j − z_y and
    skips entries with p_j = 0, so a −inf score off the support adds exactly 0 and scores of 1e9
    keep their digits. A −inf score on the label gives +inf, as in cross-entropy.

    **Parity:** ``optax.losses.multiclass_sparsemax_loss(scores, labels)`` (reduction="none").

    **Example:**
        >>> r = multiclass_sparsemax([[0.5, 1.2, -1.0], [2.0, 0.0, 0.1]], [0, 0], reduction="none")
        >>> print(np.round(r.value, 4))
        [0.7225 0.    ]
        >>> print(np.round(r.grad, 4))
        [[-0.85  0.85  0.  ]
         [ 0.    0.    0.  ]]
    """
    labels = _sparse_labels(labels, logits, ctx, None, instead=_LABELS_FROM_ONE_HOT)
    p = _project(logits)
    below_label = logits - take_class(logits, labels)[..., None]
    value = np.sum(times(p, below_label), axis=-1) + 0.5 * (1 - np.sum(p * p, axis=-1))
    if not ctx.want_grad:
        return Parts(value, None)
    at = labels[..., None]
    np.put_along_axis(p, at, np.take_along_axis(p, at, axis=-1) - 1, axis=-1)
    return Parts(value, p)


@loss(kind="elementwise")
def binary_sparsemax(logits, targets, ctx):
    """Binary sparsemax loss: the Fenchel–Young loss of the sparse sigmoid, with {0, 1} labels.

    **Value:** ℓ = sparse_plus(s·x) with s = 1 − 2y (s = 1 for y = 0, −1 for y = 1) and
    sparse_plus(z) = 0 for z ≤ −1, ¼(z + 1)² for −1 < z < 1, z for z ≥ 1. ℓ = 0 exactly when the
    sparse sigmoid clip((x + 1)/2, 0, 1) equals y.

    **Gradient:** ∂ℓ/∂x = s·clip((s·x + 1)/2, 0, 1): continuous, so the joins s·x = ±1 have one
    gradient (0 and s).

    **Shapes:** logits and targets of one shape, value of that shape (elementwise).

    **Stability:** ¼(q + 1)² + max(z − 1, 0) with q = clip(z, −1, 1): the square is never taken of
    a large logit, so ℓ(x = 1e9, y = 0) = 1e9 exactly.

    **Parity:** ``optax.losses.sparsemax_loss(logits, labels)`` (reduction="none"). optax reads any
    non-zero label as 1; lossgrad raises DomainError for a target outside {0, 1} (NaN passes and
    propagates), and ``validate=False`` applies the formula to whatever y is.

    **Example:**
        >>> r = binary_sparsemax([0.5, 0.5, -3.0], [1, 0, 0], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.0625 0.5625 0.    ] [-0.25  0.75  0.  ]
    """
    y = as_targets(targets, logits, loss=ctx.name)
    if ctx.validate:
        _check_bits(y, ctx)
    s = 1 - 2 * y
    z = s * logits
    q = np.clip(z, -1, 1)
    value = 0.25 * (q + 1) ** 2 + np.maximum(z - 1, 0)
    return Parts(value, s * (q + 1) / 2 if ctx.want_grad else None)


def _check_bits(y, ctx) -> None:
    """Targets are 0 or 1; NaN passes (it propagates into its own entry)."""
    bad = (y != 0) & (y != 1) & ~np.isnan(y)
    if bad.any():
        at = first_index(bad)
        raise DomainError(f"{ctx.name}: targets[{index_str(at)}] = {y[at]} is not 0 or 1; map "
                          "±1 labels with (y + 1) / 2, or pass validate=False to apply the formula "
                          "to any target")
