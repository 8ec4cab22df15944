"""Numerically stable building blocks shared by the losses (and public for users).

Each function works along ``axis`` (the class axis, last by default), keeps the input's floating
dtype, and never writes into its input. Rows containing ``-inf`` entries are handled exactly
(``exp(-inf) = 0``); a row that is entirely ``-inf`` gives ``logsumexp = -inf``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special

__all__ = [
    "logsumexp",
    "log_softmax",
    "softmax",
    "softmax_jacobian",
    "sigmoid",
    "log_sigmoid",
    "softplus",
    "xlogy",
    "one_hot",
]


class SoftmaxRows(NamedTuple):
    """The softmax pieces of each row along the last axis, each keeping that axis.

    m is the row maximum (0 for a row without a finite maximum), log_sum = log Σ e^{x−m}, p the
    probabilities. −log p is formed as (m − x) + log_sum: adding the small log-sum to an exact
    difference keeps a small loss's digits, where lse − x would cancel them in float32.
    """

    m: np.ndarray
    log_sum: np.ndarray
    p: np.ndarray

    @property
    def lse(self) -> np.ndarray:
        return self.m + self.log_sum

    def neg_log_p(self, x) -> np.ndarray:
        return (self.m - x) + self.log_sum


def softmax_rows(x: np.ndarray) -> SoftmaxRows:
    """Softmax pieces along the last axis; ``p`` is one fresh buffer the caller may overwrite."""
    m = np.max(x, axis=-1, keepdims=True)
    # The shift must be finite: a row of all −inf (or one holding +inf) would otherwise give
    # inf − inf = NaN in every entry instead of an exact −inf / +inf log-sum-exp.
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.subtract(x, m)
        np.exp(p, out=p)
        s = np.sum(p, axis=-1, keepdims=True)
        p /= s
        return SoftmaxRows(m, np.log(s), p)


def _along(fn, x, axis):
    """Apply a last-axis function along ``axis``."""
    x = np.asarray(x)
    return np.moveaxis(fn(np.moveaxis(x, axis, -1)), -1, axis)


def logsumexp(x, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log Σ_k exp(x_k), computed as m + log Σ exp(x − m) with m the row maximum.

    Example:
        >>> print(f"{float(logsumexp(np.array([1000.0, 1000.0]))):.4f}")
        1000.6931
    """
    out = _along(lambda v: softmax_rows(v).lse, x, axis)
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(x, axis: int = -1) -> np.ndarray:
    """(m − x) + log Σ e^{x−m}, negated: log-probabilities, exact even where softmax underflows.

    Example:
        >>> print(log_softmax(np.array([2.0, 1.0, 0.1])).round(4))
        [-0.417 -1.417 -2.317]
    """
    return _along(lambda v: -softmax_rows(v).neg_log_p(v), x, axis)


def softmax(x, axis: int = -1) -> np.ndarray:
    """exp(x − m) / Σ exp(x − m): probabilities along ``axis`` (NaN for a row of all −inf).

    Example (seed 000's logits 2.0, 1.0, 0.1):
        >>> np.round(softmax(np.array([2.0, 1.0, 0.1])), 4)
        array([0.659 , 0.2424, 0.0986])
    """
    return _along(lambda v: softmax_rows(v).p, x, axis)


def softmax_jacobian(x, axis: int = -1) -> np.ndarray:
    """∂p_i/∂x_j = p_i(δ_ij − p_j) for p = softmax(x) (seed 002), shape (…, C, C).

    The class axis is moved last; the result's last two axes are (i, j).

    Example:
        >>> J = softmax_jacobian(np.array([2.0, 1.0, 0.1]))
        >>> np.round(J, 4)
        array([[ 0.2247, -0.1598, -0.065 ],
               [-0.1598,  0.1837, -0.0239],
               [-0.065 , -0.0239,  0.0889]])
        >>> bool(np.allclose(J.sum(axis=0), 0))   # a softmax always sums to 1
        True
    """
    p = np.moveaxis(softmax(x, axis=axis), axis, -1)
    return p[..., :, None] * (np.eye(p.shape[-1], dtype=p.dtype) - p[..., None, :])


def sigmoid(x) -> np.ndarray:
    """1 / (1 + exp(−x)), without overflow for large |x| (scipy's expit).

    Example:
        >>> np.round(sigmoid(np.array([-800.0, 0.0, 800.0])), 4)
        array([0. , 0.5, 1. ])
    """
    return special.expit(np.asarray(x))


def log_sigmoid(x) -> np.ndarray:
    """log σ(x) = −softplus(−x), exact for large negative x (scipy's log_expit).

    Example:
        >>> [round(float(v), 4) for v in log_sigmoid(np.array([-1000.0, 0.0]))]
        [-1000.0, -0.6931]
    """
    return special.log_expit(np.asarray(x))


def softplus(x) -> np.ndarray:
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(−|x|)).

    Example:
        >>> [round(float(v), 4) for v in softplus(np.array([-1000.0, 0.0, 1000.0]))]
        [0.0, 0.6931, 1000.0]
    """
    x = np.asarray(x)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def xlogy(x, y) -> np.ndarray:
    """x·log(y) with 0·log(0) = 0 (the limit used in every entropy and KL term).

    Example:
        >>> xlogy(np.array([0.0, 1.0]), np.array([0.0, np.e]))
        array([0., 1.])
    """
    return special.xlogy(x, y)


def one_hot(labels, num_classes: int, dtype=np.float32) -> np.ndarray:
    """Integer labels of any shape → one-hot rows on a new last axis (Keras's ``to_categorical``).

    Labels must lie in ``[0, num_classes)``; anything else raises :class:`LabelRangeError`.

    Example (seed 003):
        >>> one_hot([1, 2], num_classes=3)
        array([[0., 1., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    from .losses.core import as_labels

    labels = as_labels(labels, num_classes, name="labels", loss="one_hot")
    out = np.zeros(labels.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return out
