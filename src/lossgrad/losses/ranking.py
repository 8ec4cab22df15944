"""Ranking and metric-learning losses: margin ranking, triplet margin, NT-Xent and Circle.

Every function here is a loss body (see :mod:`lossgrad.losses.core`): the unreduced value and its
gradient with respect to every embedding input, computed together.

**Side by side and batch-wide.** ``margin_ranking`` and ``triplet_margin`` compare inputs given
side by side: each value depends only on its own entries (row). ``ntxent`` and ``circle`` score
each sample against every other sample of the batch through a similarity matrix, so a sample's
embedding moves every sample's value: these bodies are *coupled* — they give the decorator the
batch's vector-Jacobian product (a callable of the reduction weights) instead of a per-sample
gradient, a permutation of the batch permutes their values, and a slice of the batch is another
batch with other values.

**Kinks.** ``margin_ranking``, ``triplet_margin`` and ``circle`` clamp with a max; at a tie the
gradient passes, as PyTorch's ``clamp_min`` and TensorFlow's ``maximum`` (Keras) pass it. The
triplet's ``swap`` takes the smaller of two distances; at a tie the two share the gradient, as
``torch.minimum`` does.
"""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError, ShapeError
from ..numerics import sigmoid, softplus
from .core import Parts, check_option, check_range, check_same_shape, loss
from .margin import _ACTIVE, _check_margin, _ramp, _sign_targets

_DISTANCES = ("torch", "optax")


# ---------------------------------------------------------------------------------------------
# shared pieces


def _p_norm(w: np.ndarray, p: float, eps: float = 0.0) -> np.ndarray:
    """(Σ|w|^p + eps)^{1/p} over the last axis, with the largest |w| factored out so that no
    power overflows or underflows: m·(Σ(|w|/m)^p + eps/m^p)^{1/p}, or the plain sum where m^p
    is below eps."""
    a = np.abs(w)
    m = np.max(a, axis=-1, initial=0)
    s = np.sum((a / np.where(m > 0, m, 1)[..., None]) ** p, axis=-1)
    mp = m**p
    if not eps:
        return m * s ** (1 / p)
    factored = m * (s + eps / np.where(mp > 0, mp, 1)) ** (1 / p)
    return np.where(mp >= eps, factored, (mp * s + eps) ** (1 / p))


def _p_norm_grad(w: np.ndarray, d: np.ndarray, p: float) -> np.ndarray:
    """∂d/∂w = sign(w)·(|w|/d)^{p−1} for d = (Σ|w|^p + eps)^{1/p}, any eps ≥ 0; 0 where d = 0."""
    safe = np.where(d > 0, d, 1)[..., None]
    return np.where(d[..., None] > 0, np.sign(w) * (np.abs(w) / safe) ** (p - 1), 0)


def _same_shape(x, like: np.ndarray, names: tuple[str, str], ctx) -> np.ndarray:
    """Input ``names[1]`` as real numbers of the shape and compute dtype of ``like``
    (input ``names[0]``), never broadcast."""
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise DTypeError(f"{ctx.name}: {names[1]} must be real numbers, got dtype {x.dtype}; "
                         f"convert with np.asarray({names[1]}, dtype=np.float32)")
    check_same_shape(like, x, loss=ctx.name, names=names)
    return x.astype(like.dtype, copy=False)


def _batch_embeddings(embeddings: np.ndarray, ctx) -> np.ndarray:
    if embeddings.ndim != 2:
        raise ShapeError(f"{ctx.name}: embeddings must have shape (N, D), got shape "
                         f"{embeddings.shape}; flatten each sample with x.reshape(len(x), -1)")
    return embeddings


def _group_labels(labels, embeddings: np.ndarray, ctx) -> np.ndarray:
    """One integer label per sample: samples with equal labels form positive pairs."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise DTypeError(f"{ctx.name}: labels must be integers (equal labels mark positive "
                         f"pairs), got dtype {labels.dtype}; convert with labels.astype(int)")
    if labels.shape != embeddings.shape[:1]:
        raise ShapeError(f"{ctx.name}: labels of shape {labels.shape} do not match embeddings of "
                         f"shape {embeddings.shape}; give one label per sample, shape "
                         f"{embeddings.shape[:1]}")
    return labels


def _pair_masks(labels: np.ndarray, keep_diagonal: bool = False):
    """(positive, negative) pair masks: same label (the diagonal only if kept), other label."""
    same = labels[:, None] == labels[None, :]
    positive = same if keep_diagonal else same & ~np.eye(len(labels), dtype=bool)
    return positive, ~same


def _masked_logsumexp(x: np.ndarray, mask: np.ndarray):
    """log Σ_{mask} e^x along the last axis (−inf for an empty mask) and the softmax weights over
    the masked entries (0 elsewhere and in an empty row), shifted by each row's masked max."""
    top = np.max(np.where(mask, x, -np.inf), axis=-1, keepdims=True, initial=-np.inf)
    top = np.where(np.isfinite(top), top, 0)
    terms = np.where(mask, np.exp(x - top), 0)
    total = np.sum(terms, axis=-1, keepdims=True)
    return (top + np.log(total))[..., 0], terms / np.where(total > 0, total, 1)


# ---------------------------------------------------------------------------------------------
# side by side: margin ranking, triplet margin


@loss(kind="elementwise")
def margin_ranking(x1, x2, targets, ctx, *, margin=0.0):
    """Margin ranking loss: x1 should rank above x2 by ``margin`` where y = 1, below where y = −1.

    **Value:** ℓ = max(0, −y·(x1 − x2) + margin), y ∈ {−1, 1}; ``margin`` is any finite real.

    **Gradient:** ∂ℓ/∂x1 = −y and ∂ℓ/∂x2 = y where −y·(x1 − x2) + margin ≥ 0, both 0 beyond; at
    the kink the gradient passes (PyTorch's ``clamp_min``).

    **Shapes:** x1, x2 and targets of one shape (never broadcast); value of that shape.

    **Stability:** a difference and a max: exact for any finite inputs.

    **Parity:** ``torch.nn.MarginRankingLoss(margin)`` (its 'mean' divides by the element count);
    targets other than ±1 are a DomainError (PyTorch takes any y), or pass with validate=False.

    **Example:**
        >>> r = margin_ranking([0.5, 2.0], [1.0, 1.0], [1, 1], margin=0.1, reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grads["x1"], 4), np.round(r.grads["x2"], 4))
        [0.6 0. ] [-1. -0.] [1. 0.]
    """
    _check_margin(margin)
    x2 = _same_shape(x2, x1, ("x1", "x2"), ctx)
    y = _sign_targets(targets, x1, ctx)
    value, active = _ramp(margin - y * (x1 - x2), 1.0, _ACTIVE, ctx.want_grad)
    return Parts(value, {"x1": -y * active, "x2": y * active} if ctx.want_grad else None)


@loss(kind="rows")
def triplet_margin(anchor, positive, negative, ctx, *, margin=1.0, p=2.0, eps=1e-6, swap=False,
                   convention="torch"):
    """Triplet margin loss: the anchor should be closer to the positive than to the negative by
    ``margin``, in the p-norm distance.

    **Value:** ℓ = max(0, margin + d(a, p) − d(a, n)). ``convention="torch"`` (PyTorch's
    ``pairwise_distance``): d(u, v) = ‖u − v + eps‖_p, eps added to every difference;
    ``convention="optax"``: d(u, v) = (Σ|u − v|^p + eps)^{1/p}, eps added once under the root.
    With ``swap`` (Balntas et al.) d(a, n) is replaced by min(d(a, n), d(p, n)). p ≥ 1, eps ≥ 0
    and any finite margin (PyTorch refuses margin ≤ 0).

    **Gradient:** with g(u, v) = ∂d(u, v)/∂u = sign(w)·(|w|/d)^{p−1} (w the difference inside the
    distance; 0 where d = 0) and ∂d/∂v = −g: ∂ℓ/∂a = g(a, p) − g(a, n), ∂ℓ/∂p = −g(a, p),
    ∂ℓ/∂n = g(a, n) where the hinge is active (≥ 0; the gradient passes at the kink, PyTorch's
    ``clamp_min``), 0 beyond. Under ``swap`` the negative term is that of the smaller distance,
    g(p, n) going to p and n; at a tie the two share it equally (``torch.minimum``).

    **Shapes:** anchor, positive and negative of one shape (…, D) with the feature axis ``axis``;
    value (…) without it.

    **Stability:** each norm factors out the largest |w| before the power, so no |w|^p overflows
    (|w| = 1e200 is fine in float64); the gradient uses the ratio |w|/d ≤ 1.

    **Parity:** ``torch.nn.TripletMarginLoss(margin, p, eps, swap)`` ("torch"; its 'mean' divides
    by the number of triplets); ``optax.losses.triplet_margin_loss(anchors, positives,
    negatives, axis, norm_degree=p, margin, eps)`` ("optax", where optax writes (a − p)^p without
    |·|: the two agree for even p).

    **Example:**
        >>> a, pos, neg = [[0.0, 0.0]], [[0.3, 0.4]], [[1.0, 0.0]]
        >>> r = triplet_margin(a, pos, neg, eps=0.0, reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grads["anchor"], 4))
        [0.5] [[ 0.4 -0.8]]
    """
    check_range("p", p, low=1)
    check_range("eps", eps, low=0)
    _check_margin(margin)
    check_option("convention", convention, _DISTANCES)
    positive = _same_shape(positive, anchor, ("anchor", "positive"), ctx)
    negative = _same_shape(negative, anchor, ("anchor", "negative"), ctx)
    d_ap, g_ap = _distance(anchor, positive, p, eps, convention)
    d_an, g_an = _distance(anchor, negative, p, eps, convention)
    if swap:
        d_pn, g_pn = _distance(positive, negative, p, eps, convention)
        # torch.minimum: the smaller distance takes the gradient, a tie shares it
        to_an = np.where(d_an < d_pn, 1.0, np.where(d_an == d_pn, 0.5, 0.0))[..., None]
        d_neg = np.minimum(d_an, d_pn)
    else:
        g_pn, to_an, d_neg = 0.0, 1.0, d_an
    value, active = _ramp(margin + d_ap - d_neg, 1.0, _ACTIVE, ctx.want_grad)
    if not ctx.want_grad:
        return Parts(value, None)
    h = active[..., None]
    to_pn = 1.0 - to_an
    return Parts(value, {"anchor": h * (g_ap - to_an * g_an),
                         "positive": -h * (g_ap + to_pn * g_pn),
                         "negative": h * (to_an * g_an + to_pn * g_pn)})


def _distance(u, v, p, eps, convention):
    """d(u, v) under the convention and ∂d/∂u (∂d/∂v is its negative)."""
    if convention == "torch":
        w = u - v + eps
        d = _p_norm(w, p)
    else:
        w = u - v
        d = _p_norm(w, p, eps)
    return d, _p_norm_grad(w, d, p)


# ---------------------------------------------------------------------------------------------
# batch-wide (coupled): NT-Xent, Circle


@loss(kind="per_sample")
def ntxent(embeddings, labels, ctx, *, temperature=0.07):
    """NT-Xent (normalised temperature-scaled cross-entropy, SimCLR): each positive pair must
    stand out against the anchor's negatives in cosine similarity.

    **Value:** with u_i = e_i / max(‖e_i‖, √ε) (ε the machine epsilon of the computing dtype, as
    optax clips ‖e‖² at ε) and S_ij = u_i·u_j / τ, the positives P(i) = {j ≠ i: labels equal} and
    the negatives N(i) = {k: labels differ}: ℓ_i = Σ_{j∈P(i)} −log(e^{S_ij} / (e^{S_ij} +
    Σ_{k∈N(i)} e^{S_ik})), each anchor's loss summed over its positive pairs. Each entry's weight
    in the "mean" divisor is |P(i)|, so ``reduction="mean"`` (the default) is the mean over every
    ordered positive pair — optax's value; a batch without positive pairs follows ``empty``.
    "sum_over_batch_size" divides by N instead. τ > 0.

    **Gradient:** with r_ij = σ(LSE_{N(i)} S − S_ij) and q_ik = softmax_{N(i)}(S)_k, and f_i the
    reduction's weight of ℓ_i: G_ij = −f_i·r_ij on positive pairs, G_ik = f_i·(Σ_{j∈P(i)} r_ij)·q_ik
    on negative ones; ∂/∂u = (G + Gᵀ)u / τ, and ∂/∂e_i = (ḡ_i − u_i(u_i·ḡ_i)) / ‖e_i‖ (ḡ_i / √ε
    for a clipped norm). Coupled: every ℓ_i moves with every embedding.

    **Shapes:** embeddings (N, D), labels (N,) integers; value (N,).

    **Stability:** −log of the ratio is softplus(LSE_{N(i)} S − S_ij) with a max-shifted log-sum-exp
    over the negatives: finite for any τ, 0 for an anchor without negatives; a zero embedding has
    similarity 0 with everything (no NaN).

    **Parity:** ``optax.losses.ntxent(embeddings, labels, temperature)`` with reduction="mean".

    **Example:**
        >>> e = [[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]]
        >>> r = ntxent(e, [0, 0, 1, 1], temperature=0.5)
        >>> print(round(float(r), 4), np.round(r.grad[0], 4))
        0.4302 [ 0.     -0.0298]
    """
    check_range("temperature", temperature, low=0, low_open=True)
    e = _batch_embeddings(embeddings, ctx)
    positive, negative = _pair_masks(_group_labels(labels, e, ctx))
    norm = _p_norm(e, 2)
    floor = np.sqrt(np.finfo(e.dtype).eps)
    u = e / np.maximum(norm, floor)[:, None]
    s = (u @ u.T) / temperature
    lse, q = _masked_logsumexp(s, negative)
    gap = lse[:, None] - s
    value = np.sum(np.where(positive, softplus(gap), 0), axis=1)
    pairs = np.sum(positive, axis=1).astype(e.dtype)

    def vjp(factor):
        r = np.where(positive, sigmoid(gap), 0) * factor[:, None]
        g = (np.sum(r, axis=1, keepdims=True) * q - r) / temperature
        g_u = (g + g.T) @ u
        return _through_unit_norm(g_u, u, norm, floor)

    return Parts(value, vjp if ctx.want_grad else None, norm=pairs)


def _through_unit_norm(g_u, u, norm, floor):
    """∂/∂e of u = e / max(‖e‖, floor): the tangential part over ‖e‖, or g / floor where clipped."""
    radial = np.where(norm > floor, np.sum(u * g_u, axis=1), 0)[:, None]
    return (g_u - radial * u) / np.maximum(norm, floor)[:, None]


@loss(kind="per_sample")
def circle(embeddings, labels, ctx, *, gamma=80.0, margin=0.4, remove_diagonal=True):
    """Circle loss (Sun et al., 2020) as Keras 3 defines it: each similarity is weighted by how far
    it is from its optimum, and positives and negatives compete in one softplus.

    **Value:** with s_ij = e_i·e_j (Keras expects unit-norm embeddings and does not normalise),
    d_ij = max(1 − s_ij, 0), positives P(i) (same label; without j = i when ``remove_diagonal``)
    and negatives N(i) (other label): a_ij = −γ·max(m + d_ij, 0)·(m − d_ij) on P(i), b_ij =
    γ·max(1 + m − d_ij, 0)·(1 − m − d_ij) on N(i), and ℓ_i = softplus(LSE_{P(i)} a +
    LSE_{N(i)} b) with γ = ``gamma``, m = ``margin``. A sample without a positive or without a
    negative has ℓ = 0 and does not count in "mean" and "sum_over_batch_size" (Keras masks the
    values that are 0 and divides by the others' count).

    **Gradient:** with σ_i = f_i·sigmoid(LSE a + LSE b) (f_i the reduction's weight of ℓ_i) and
    the softmax weights p_ij over P(i), n_ij over N(i): ∂/∂d_ij = σ_i·(p_ij·∂a/∂d + n_ij·∂b/∂d),
    ∂a/∂d = −γ·(H(m + d)(m − d) − max(m + d, 0)), ∂b/∂d = −γ·(H(1 + m − d)(1 − m − d) +
    max(1 + m − d, 0)), ∂d/∂s = −H(1 − s), with the step H(0) = 1 (TensorFlow's ``maximum``
    passes the gradient at a tie); ∂/∂e = (G + Gᵀ)e for G = ∂/∂s. Coupled: every ℓ_i moves with
    every embedding.

    **Shapes:** embeddings (N, D), labels (N,) integers; value (N,).

    **Stability:** max-shifted log-sum-exps over the masked pairs and a softplus: finite for
    γ = 80 and beyond; an empty mask gives −inf inside softplus, i.e. exactly 0 with gradient 0.

    **Parity:** ``keras.losses.Circle(gamma, margin, remove_diagonal)`` and
    ``keras.losses.circle(labels, embeddings)``: its "sum_over_batch_size" is lossgrad's
    "sum_over_batch_size" and its "mean_with_sample_weight" lossgrad's "mean".

    **Example:**
        >>> e = [[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]]
        >>> r = circle(e, [0, 0, 1, 1], gamma=2.0, reduction="none")
        >>> print(np.round(r.value, 4))
        [0.8577 1.0097 1.0097 0.8577]
    """
    check_range("gamma", gamma)
    check_range("margin", margin)
    e = _batch_embeddings(embeddings, ctx)
    positive, negative = _pair_masks(_group_labels(labels, e, ctx), not remove_diagonal)
    s = e @ e.T
    d = np.maximum(1 - s, 0)
    pull, push = np.maximum(margin + d, 0), np.maximum(1 + margin - d, 0)
    lse_p, p = _masked_logsumexp(-gamma * pull * (margin - d), positive)
    lse_n, n = _masked_logsumexp(gamma * push * (1 - margin - d), negative)
    t = lse_p + lse_n
    valid = np.any(positive, axis=1) & np.any(negative, axis=1)

    def vjp(factor):
        weight = (factor * sigmoid(t))[:, None]
        da = -gamma * (np.heaviside(margin + d, 1.0) * (margin - d) - pull)
        db = -gamma * (np.heaviside(1 + margin - d, 1.0) * (1 - margin - d) + push)
        g = -weight * (p * da + n * db) * np.heaviside(1 - s, 1.0)
        return (g + g.T) @ e

    return Parts(softplus(t), vjp if ctx.want_grad else None, valid=valid)
