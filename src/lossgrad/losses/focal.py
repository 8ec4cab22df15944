"""Reweighted cross-entropies: focal (sigmoid/binary, softmax/categorical), poly-1, generalized CE.

Each loss reweights the cross-entropy of an entry by a function of the probability it gives the
target, so they share two shapes of computation:

* **Elementwise** (:func:`sigmoid_focal`, :func:`binary_focal`): ℓ = a·u^γ·ce, where u = 1 − p_t is
  the base of the focal factor, ce the binary cross-entropy and a the class-balance weight, and
  dℓ = a·(γu^{γ−1}·du·ce + u^γ·dce). :func:`_focal_exact` and :func:`_focal_framework` evaluate it.
* **Along a class axis** (:func:`softmax_focal`, :func:`categorical_focal`,
  :func:`poly1_cross_entropy`, :func:`categorical_generalized_cross_entropy`): ℓ = Σ_c a_c t_c φ(p_c)
  for a per-class function φ. A body supplies φ and its slope, :func:`_class_sum` weights them by the
  targets (dense, or integer labels without a one-hot), and on logits the softmax chain rule gives
  ∂ℓ/∂z_j = g_j − p_j·Σ_c g_c with g_c = a_c t_c·p_c φ'(p_c) (:func:`_softmax_chain`).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..errors import OptionError, ShapeError
from ..numerics import sigmoid
from .core import Parts, as_targets, check_option, check_range, loss, take_class, times
from .cross_entropy import (
    _add_at_label,
    _binary_targets,
    _check_probabilities,
    _keras_clip,
    _smooth,
    _softmax_rows,
    _sparse_labels,
    _weighted_row_sum,
    binary_cross_entropy,
    sigmoid_binary_cross_entropy,
    warn_if_probabilities,
)

SIGMOID_CONVENTIONS = ("exact", "keras", "torch")
#: PyTorch has no focal loss on probabilities nor a categorical one.
PROBABILITY_CONVENTIONS = ("exact", "keras")


# ---------------------------------------------------------------------------------------------
# sigmoid / binary focal


@loss(kind="elementwise")
def sigmoid_focal(logits, targets, ctx, *, gamma=2.0, alpha=None, label_smoothing=0.0,
                  convention="exact"):
    """Focal loss of binary targets under sigmoid(logits), elementwise (Lin et al., 2017).

    **Value:** ℓ = a·u^γ·ce with p = σ(x), u = 1 − p_t = (1−y)·p + y·(1−p), ce = −y·log p −
    (1−y)·log(1−p), a = αy + (1−α)(1−y) (1 when ``alpha`` is None); y ← y(1−s) + s/2 under label
    smoothing s. γ = 0 and alpha None give the binary cross-entropy with logits.

    **Gradient:** ∂ℓ/∂x = a·[γu^{γ−1}·(1−2y)·p(1−p)·ce + u^γ·(p − y)]. With a hard label and a
    saturated logit u → 0, where u^γ alone has an infinite slope for γ < 1; ce vanishes with u
    (ce/u → 1), so "exact" evaluates a·u^γ·[γ(1−2y)·p(1−p)·ce/u + (p − y)], finite for every γ ≥ 0
    and every finite logit, and equal to the limit (0 for γ > 0) where u underflows to 0.

    **Shapes:** logits, targets and value all of one shape; targets in [0, 1] (soft labels allowed).

    **Stability:** "exact": u = (1−y)·σ(x) + y·σ(−x) is a sum of two non-negative terms, so it keeps
    its relative precision where p_t rounds to 1 (no 1 − p_t cancellation; optax gets the same from a
    log-sum-exp of log-sigmoids), and ce = −y·log σ(x) − (1−y)·log σ(−x); logits of ±1e4 give exact
    values and finite gradients. "keras" and "torch" compute u = 1 − p_t from the rounded p as the
    frameworks do, so u^γ becomes 0 once σ(x) rounds to 0 or 1 (|x| ≳ 17 in float32).

    **Parity:** "exact" = ``optax.sigmoid_focal_loss(logits, labels, alpha, gamma)``.
    "torch" = ``torchvision.ops.sigmoid_focal_loss`` (its α ≥ 0 is ``alpha``, α < 0 is None).
    "keras" = ``keras.losses.BinaryFocalCrossentropy(from_logits=True)`` on the TensorFlow backend:
    ``apply_class_balancing=True, alpha=a`` is ``alpha=a``, False is ``alpha=None``; Keras's mean
    over the last axis is the reduction's business. On that backend Keras's sigmoid hands its logits
    to the cross-entropy (``_keras_logits``), so ce is *not* clipped and "keras" equals "torch"
    (plus Keras's label smoothing). Keras's JAX, PyTorch and NumPy backends clip ce instead: that is
    :func:`binary_focal` of σ(x) with ``convention="keras"``. Where u = 0 and γ < 1 the frameworks'
    autograd returns NaN (0·∞); lossgrad returns the limit, 0.

    **Example:**
        >>> r = sigmoid_focal([[2.0, -1.0, 0.5]], [[1.0, 0.0, 1.0]], reduction="none")
        >>> print(np.round(r.value, 4))
        [[0.0018 0.0227 0.0676]]
        >>> print(np.round(r.grad, 4))
        [[-0.0049  0.0526 -0.1379]]
        >>> r = sigmoid_focal([1e4, -1e4], [0.0, 0.0], gamma=0.5, reduction="none")
        >>> print(r.value, r.grad)   # exact and finite where σ(x) saturates
        [10000.     0.] [1. 0.]
    """
    _check_options(gamma, label_smoothing, convention, SIGMOID_CONVENTIONS)
    y = _binary_targets(targets, logits, ctx, label_smoothing)
    ce = sigmoid_binary_cross_entropy.body(logits, y, ctx, kernel="reference")  # its grad, unscaled
    p = sigmoid(logits)
    if convention == "exact":
        q = sigmoid(-logits)
        u, du = (1 - y) * p + y * q, (1 - 2 * y) * p * q
        value, grad = _focal_exact(u, ce.value, du, ce.grad, gamma, ctx.want_grad)
    else:
        u, du = 1 - (y * p + (1 - y) * (1 - p)), (1 - 2 * y) * p * (1 - p)
        value, grad = _focal_framework(u, ce.value, du, ce.grad, gamma, ctx.want_grad)
    return _balanced(value, grad, _balance(alpha, y))


@loss(kind="elementwise")
def binary_focal(probs, targets, ctx, *, gamma=2.0, alpha=None, label_smoothing=0.0,
                 convention="exact"):
    """Focal loss of binary targets under probabilities, elementwise.

    **Value:** ℓ = a·u^γ·ce with u = 1 − p_t = (1−y)·p + y·(1−p), ce = −y·log p − (1−y)·log(1−p)
    (0·log 0 = 0), a = αy + (1−α)(1−y) (1 when ``alpha`` is None), y ← y(1−s) + s/2 under label
    smoothing s. "keras" computes ce from p̂ = clip(p, ε, 1−ε), ε = 1e-7 rounded in the caller's
    dtype, but u from the unclipped p.

    **Gradient:** ∂ℓ/∂p = a·[γu^{γ−1}·(1−2y)·ce + u^γ·(−y/p + (1−y)/(1−p))]. "exact" evaluates it as
    a·u^γ·[γ(1−2y)·ce/u + …] with ce/u → 1 where a hard label meets p ∈ {0, 1}, so the γ < 1
    singularity of u^γ cancels (the derivative there is 0 for γ > 0, ∓1 for γ = 0). "keras": the ce
    term is 0 outside [ε, 1−ε] (clipping), but the focal factor still carries a gradient there
    (γ·(1−2y)·ce at u = 1, e.g. 31.88 for y = 0, p = 1, γ = 2); at u = 0 and γ < 1 Keras's clipped ce
    does not vanish, its one-sided derivative is infinite and TensorFlow returns NaN: lossgrad takes
    that term as 0.

    **Shapes:** probs, targets and value all of one shape; both in [0, 1].

    **Stability:** u is a sum of non-negative terms (no cancellation); xlogy gives 0·log 0 = 0, so
    p ∈ {0, 1} against a matching hard label is exactly 0 and the opposite label +inf ("exact").

    **Parity:** "keras" = ``keras.losses.BinaryFocalCrossentropy()`` (Keras's default
    ``from_logits=False``; ``apply_class_balancing=True, alpha=a`` is ``alpha=a``). Its caps:
    15.942385 for (y=0, p=1) and 16.118095 for (y=1, p=0) in float32 (times the focal factor).
    When y_pred comes out of a Keras sigmoid (a ``sigmoid`` activation layer, eager or not) or,
    inside a ``tf.function``, a TensorFlow Sigmoid op, Keras on TensorFlow computes ce from the
    logits underneath, unclipped: that is :func:`sigmoid_focal` of those logits with
    ``convention="keras"``.

    **Example:**
        >>> r = binary_focal([[0.6, 0.4], [0.4, 0.6]], [[0.0, 1.0], [0.0, 0.0]],
        ...                  convention="keras", reduction="none")
        >>> print(np.round(r.value.mean(axis=-1), 4))   # Keras's docstring: [0.330, 0.206]
        [0.3299 0.2058]
        >>> print(np.round(r.grad, 4))
        [[ 1.9995 -1.9995]
         [ 0.6753  1.9995]]
    """
    _check_options(gamma, label_smoothing, convention, PROBABILITY_CONVENTIONS)
    y = _binary_targets(targets, probs, ctx, label_smoothing)
    ce = binary_cross_entropy.body(probs, y, ctx, convention=convention)
    if convention == "exact":
        u = (1 - y) * probs + y * (1 - probs)
        value, grad = _focal_exact(u, ce.value, 1 - 2 * y, ce.grad, gamma, ctx.want_grad)
    else:
        u = 1 - (y * probs + (1 - y) * (1 - probs))
        value, grad = _focal_framework(u, ce.value, 1 - 2 * y, ce.grad, gamma, ctx.want_grad)
    return _balanced(value, grad, _balance(alpha, y))


def _focal_exact(u, ce, du, dce, gamma, want_grad):
    """u^γ·ce and u^γ·(γ·du·ce/u + dce), for a ce that vanishes with u (ce/u → 1 where u = 0)."""
    focal = u**gamma
    if not want_grad:
        return focal * ce, None
    slope = dce
    if gamma:  # a γ = 0 factor must not meet ce/u = ∞ (p = 0 against y = 1)
        slope = slope + gamma * du * np.where(u > 0, ce / u, 1)
    return focal * ce, focal * slope


def _focal_framework(u, ce, du, dce, gamma, want_grad):
    """u^γ·ce and γu^{γ−1}·du·ce + u^γ·dce with u and ce computed apart, as Keras and torchvision do.

    γu^{γ−1} at u = 0 is ∞ for γ < 1; their autograd multiplies it by 0 and returns NaN. It is taken
    as 0 here: the limit the exact loss has there.
    """
    focal = u**gamma
    if not want_grad:
        return focal * ce, None
    power_slope = np.where((u == 0) & (gamma < 1), 0, gamma * u ** (gamma - 1))
    return focal * ce, power_slope * du * ce + focal * dce


def _balanced(value, grad, balance) -> Parts:
    if balance is None:
        return Parts(value, grad)
    return Parts(value * balance, None if grad is None else grad * balance)


def _balance(alpha, y):
    """Keras's class balancing αy + (1−α)(1−y) (optax's and torchvision's α_t), or None."""
    if alpha is None:
        return None
    check_range("alpha", alpha, low=0, high=1)
    return alpha * y + (1 - alpha) * (1 - y)


# ---------------------------------------------------------------------------------------------
# softmax / categorical focal


@loss(kind="rows")
def softmax_focal(logits, targets, ctx, *, gamma=2.0, alpha=None, label_smoothing=0.0,
                  convention="exact"):
    """Focal loss of class targets under softmax(logits): every class term reweighted by (1−p_c)^γ.

    **Value:** ℓ = −Σ_c α_c t_c (1−p_c)^γ log p_c, p = softmax(x), t ← t(1−s) + s/C under label
    smoothing s, α a scalar or one weight per class (1 when None). Integer labels y stand for
    t = onehot(y). γ = 0 and alpha None give :func:`softmax_cross_entropy`.

    **Gradient:** ∂ℓ/∂x_j = g_j − p_j·Σ_c g_c with g_c = −α_c t_c u_c^γ·(1 − γ·p_c log p_c / u_c),
    u_c = 1 − p_c; p log p/(1−p) → −1 as p → 1, so g stays finite (0 for γ > 0) on a saturated
    target even for γ < 1, where (1−p)^γ alone has an infinite slope. "keras" chains the same
    per-class slope, taken at the clipped probability and 0 where clipping was active, through the
    renormalisation and the softmax.

    **Shapes:** logits (…, C, …) with the class axis ``axis``; targets either integer labels (…)
    without the class axis — no one-hot is built — or distributions of the logits' shape; value (…).

    **Stability:** log p_c = x_c − lse(x); 1 − p_c of the row's top class is the sum of the other
    probabilities and its log p is log1p(−(1 − p)), so both stay accurate where p → 1 (where 1 − p
    and x − lse round to 0); for the same reason its gradient is taken as u·g − p·Σ_{c≠top} g_c,
    not g − p·Σ_c g_c, which cancels to 0. Logits of ±1e9 give finite values and gradients; zero
    targets against −inf logits contribute exactly 0.

    **Parity:** "keras" = ``keras.losses.CategoricalFocalCrossentropy(from_logits=True)``: softmax,
    renormalise, clip to [ε, 1−ε] (ε = 1e-7 in the caller's dtype), so the gradient vanishes on
    saturated rows. Keras always applies α (default 0.25): pass ``alpha=0.25`` to match its default;
    lossgrad's ``alpha=None`` means no weighting. PyTorch and optax have no categorical focal loss.

    **Example:**
        >>> r = softmax_focal([[2.0, 0.5, 1.0], [0.1, 0.0, 3.0]], [0, 1], reduction="none")
        >>> print(np.round(r.value, 4))   # cross-entropy: [0.4644 3.0997]
        [0.0641 2.8266]
        >>> print(np.round(r.grad, 4))
        [[-0.1318  0.0498  0.082 ]
         [ 0.0587 -1.1256  1.0669]]
    """
    _check_options(gamma, label_smoothing, convention, PROBABILITY_CONVENTIONS)
    targets = _class_targets(targets, logits, ctx)
    alpha = _class_alpha(alpha, logits, ctx)
    warn_if_probabilities(logits, ctx, instead="categorical_focal")
    if convention == "keras":
        p = _softmax_rows(logits).p
        value, dp = _keras_categorical_focal(p, targets, alpha, gamma, label_smoothing, ctx)
        return Parts(value, None if dp is None else _softmax_chain(p, 1 - p, p * dp))
    parts = _softmax_parts(logits)
    terms = partial(_focal_terms, gamma=gamma, times_p=True)
    value, g = _class_sum(terms, parts, targets, alpha, label_smoothing, ctx.want_grad)
    return Parts(value, None if g is None else _softmax_chain(parts[0], parts[2], g))


@loss(kind="rows")
def categorical_focal(probs, targets, ctx, *, gamma=2.0, alpha=None, label_smoothing=0.0,
                      convention="exact"):
    """Focal loss of class targets under probabilities (Keras's default ``from_logits=False``).

    **Value:** ℓ = −Σ_c α_c t_c (1−p_c)^γ log p_c, t ← t(1−s) + s/C under label smoothing s, α a
    scalar or one weight per class (1 when None); integer labels y stand for t = onehot(y).
    "keras" first renormalises p ← p/Σp and clips it to [ε, 1−ε] (ε = 1e-7 in the caller's dtype).

    **Gradient:** ∂ℓ/∂p_c = −α_c t_c u_c^γ·(1/p_c − γ·log p_c/u_c), u_c = 1 − p_c, with
    log p/(1−p) → −1 at p = 1 (finite, 0 for γ > 0, even for γ < 1). "keras": that slope at the
    clipped p̂, 0 where clipping was active, then through the renormalisation:
    ∂ℓ/∂p_j = (d_j − Σ_c n_c d_c)/Σp with n = p/Σp and d the slope with respect to n.

    **Shapes:** probs (…, C, …) with the class axis ``axis``; targets integer labels (…) or
    distributions of the probabilities' shape; value (…).

    **Stability:** p = 0 under a zero target contributes exactly 0 (never 0·log 0 = NaN); "exact"
    requires rows that sum to 1 (within 1e-3: scores and logits are refused, rounding is not), as
    "keras" renormalises instead.

    **Parity:** "keras" = ``keras.losses.CategoricalFocalCrossentropy()`` and
    ``keras.losses.categorical_focal_crossentropy`` (pass ``alpha=0.25`` for Keras's default; Keras
    always applies α). On a softmax output, Keras on TensorFlow does not reuse the logits here (the
    renormalisation comes first), so the probability path is also what ``model.fit`` computes.

    **Example** (Keras's docstring example, alpha = 0.25):
        >>> r = categorical_focal([[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]], [[0, 1, 0], [0, 0, 1]],
        ...                       alpha=0.25, convention="keras", reduction="none")
        >>> print(np.round(r.value, 4).tolist())   # Keras's docstring: [2.634e-04, 6.759e-01]
        [0.0003, 0.6759]
        >>> print(np.round(r.grad, 4).tolist())
        [[0.0072, -0.0008, 0.0072], [0.2968, 0.2968, -5.6387]]
    """
    _check_options(gamma, label_smoothing, convention, PROBABILITY_CONVENTIONS)
    targets = _class_targets(targets, probs, ctx)
    alpha = _class_alpha(alpha, probs, ctx)
    _check_probabilities(probs, ctx, logits_loss="softmax_focal", normalised=convention == "exact")
    if convention == "keras":
        return Parts(*_keras_categorical_focal(probs, targets, alpha, gamma, label_smoothing, ctx))
    terms = partial(_focal_terms, gamma=gamma, times_p=False)
    parts = (probs, np.log(probs), 1 - probs)
    return Parts(*_class_sum(terms, parts, targets, alpha, label_smoothing, ctx.want_grad))


def _focal_terms(p, logp, u, *, gamma, times_p):
    """φ(p) = −(1−p)^γ log p with p·φ'(p) (``times_p``, for the softmax chain) or φ'(p).

    p·φ'(p) = −u^γ·(1 − γ·p·k) and φ'(p) = −u^γ·(1/p − γ·k), k = log p/(1−p). k → −1 as p → 1:
    log p vanishes as fast as u, which cancels the infinite slope of u^γ at u = 0 for γ < 1.
    """
    focal = u**gamma
    k = np.where(u > 0, logp / u, -1)
    if times_p:
        pk = np.where(p > 0, p * k, 0)  # p log p → 0 as p → 0 (a −inf logit)
        return -focal * logp, -focal * (1 - gamma * pk)
    # γ = 0 must not meet k = −∞ (p = 0): the slope is then the cross-entropy's −1/p
    return -focal * logp, -focal * (1 / p - gamma * k if gamma else 1 / p)


def _keras_categorical_focal(p, targets, alpha, gamma, smoothing, ctx):
    """Keras's formula on probabilities: n = p/Σp, n̂ = clip(n, ε, 1−ε), ℓ = Σ α t (1−n̂)^γ (−log n̂).

    Returns ℓ and ∂ℓ/∂p (None without a gradient); clipped entries pass no gradient.
    """
    total = np.sum(p, axis=-1, keepdims=True)
    n = p / total
    c = _keras_clip(n, ctx)
    terms = partial(_focal_terms, gamma=gamma, times_p=False)
    value, dc = _class_sum(terms, (c, np.log(c), 1 - c), targets, alpha, smoothing, ctx.want_grad)
    if dc is None:
        return value, None
    dn = np.where(c == n, dc, 0)  # TensorFlow's clip passes the gradient at the bounds themselves
    return value, (dn - np.sum(n * dn, axis=-1, keepdims=True)) / total


# ---------------------------------------------------------------------------------------------
# poly-1 and generalized cross-entropy


@loss(kind="rows")
def poly1_cross_entropy(logits, targets, ctx, *, epsilon=2.0):
    """Poly-1 loss: the cross-entropy plus ε times the first polynomial term (Leng et al., 2022).

    **Value:** ℓ = −Σ_c t_c log p_c + ε·Σ_c t_c (1 − p_c), p = softmax(x); with integer labels y
    ℓ = lse(x) − x_y + ε·(1 − p_y). ε = −1 removes the first term of CE's expansion in (1 − p_t).

    **Gradient:** ∂ℓ/∂x_j = p_j·Σ_c t_c − t_j + ε·p_j·(Σ_c t_c p_c − t_j); labels: p − onehot(y) +
    ε·p·(p_y − onehot(y)).

    **Shapes:** logits (…, C, …) with the class axis ``axis``; targets integer labels (…) — no
    one-hot is built — or distributions of the logits' shape; value (…).

    **Stability:** log p = x − lse with lse = m + log Σ e^{x−m}; 1 − p of the row's top class is the
    sum of the other probabilities, never a cancelling 1 − p. Logits of ±1e9 stay finite.

    **Parity:** ``optax.poly_loss_cross_entropy(logits, labels, epsilon=ε)`` ("exact"; optax has
    no integer-label form and uses no convention). optax's ``where=`` mask equals −inf logits with 0
    targets on the masked classes here. To smooth labels, pass smoothed distributions (optax has no
    smoothing option either).

    **Example:**
        >>> r = poly1_cross_entropy([[2.0, 0.5, 1.0], [0.1, 0.0, 3.0]], [0, 1], reduction="none")
        >>> print(np.round(r.value, 4))   # cross-entropy: [0.4644 3.0997]
        [1.2073 5.0095]
        >>> print(np.round(r.grad, 4))
        [[-0.8384  0.3165  0.5219]
         [ 0.0543 -1.041   0.9867]]
    """
    if not np.isfinite(epsilon):
        raise OptionError(f"epsilon must be a finite number, got {epsilon!r}")
    targets = _class_targets(targets, logits, ctx)
    warn_if_probabilities(logits, ctx, instead="log(probs) as the logits (softmax(log p) = p)")
    parts = _softmax_parts(logits)
    terms = partial(_poly1_terms, epsilon=epsilon)
    value, g = _class_sum(terms, parts, targets, None, 0.0, ctx.want_grad)
    return Parts(value, None if g is None else _softmax_chain(parts[0], parts[2], g))


def _poly1_terms(p, logp, u, *, epsilon):
    """φ(p) = −log p + ε(1 − p) and p·φ'(p) = −1 − εp."""
    return epsilon * u - logp, -1 - epsilon * p


@loss(kind="rows")
def categorical_generalized_cross_entropy(probs, targets, ctx, *, q=0.5):
    """Generalized cross-entropy of probabilities (Zhang & Sabuncu, 2018), robust to noisy labels.

    **Value:** ℓ = (1 − p_y^q)/q for an integer label y; for dense targets ℓ = Σ_c t_c (1 − p_c^q)/q
    (linear in t like the cross-entropy, so one-hot rows equal their labels). q → 0 tends to the
    cross-entropy −log p_y, q = 1 is 1 − p_y (MAE on the target's probability).

    **Gradient:** ∂ℓ/∂p_c = −t_c·p_c^{q−1}: −∞ at p_c = 0 under a positive target, where the value
    is finite (1/q).

    **Shapes:** probs (…, C, …) with the class axis ``axis``; targets integer labels (…) or
    distributions of the probabilities' shape; value (…). q ∈ (0, 1].

    **Stability:** no logs: p^q is exact on [0, 1]; zero targets contribute exactly 0 even where the
    slope is infinite. Rows must sum to 1 (within 1e-3), as for every probability loss here.

    **Parity:** ``keras.losses.CategoricalGeneralizedCrossEntropy(q)`` and
    ``keras.losses.categorical_generalized_cross_entropy`` — despite "Categorical", Keras takes
    integer labels and probabilities, applies no clipping or renormalisation, and its class refuses
    q = 1 (q ∈ (0, 1)). Keras's documented ``[batch_size, 1]`` labels broadcast against the
    predictions into an (N, N) result, and one-hot targets raise; lossgrad takes (N,) labels or
    (N, C) targets and refuses (N, 1). Keras's sample weights and reductions are the common ones.

    **Example** (Keras's docstring example):
        >>> r = categorical_generalized_cross_entropy(
        ...     [[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]], [0, 1, 0, 1])
        >>> print(f"{float(r):.4f}")
        0.3599
        >>> print(np.round(r.grad, 4))
        [[-0.2988  0.    ]
         [ 0.     -0.2795]
         [-0.3227  0.    ]
         [ 0.     -0.3227]]
    """
    check_range("q", q, low=0, low_open=True, high=1)
    targets = _class_targets(targets, probs, ctx)
    _check_probabilities(probs, ctx, logits_loss="a softmax first (there is no logits form)",
                         normalised=True)
    terms = partial(_generalized_terms, q=q)
    return Parts(*_class_sum(terms, (probs,), targets, None, 0.0, ctx.want_grad))


def _generalized_terms(p, *, q):
    """φ(p) = (1 − p^q)/q and φ'(p) = −p^{q−1}."""
    return (1 - p**q) / q, -(p ** (q - 1))


# ---------------------------------------------------------------------------------------------
# shared pieces


def _check_options(gamma, label_smoothing, convention, conventions) -> None:
    check_option("convention", convention, conventions)
    check_range("gamma", gamma, low=0)
    check_range("label_smoothing", label_smoothing, low=0, high=1)


def _class_targets(targets, prediction, ctx) -> np.ndarray:
    """Integer labels (the prediction's shape without the class axis) or dense targets (its shape).

    Labels come back as integers, dense targets as floats in the compute dtype: :func:`_class_sum`
    tells them apart by dtype.
    """
    targets = np.asarray(targets)
    if targets.dtype.kind in "iu" and targets.ndim == prediction.ndim - 1:
        return _sparse_labels(targets, prediction, ctx, None, instead=ctx.name)
    return as_targets(targets, prediction, loss=ctx.name)


def _class_alpha(alpha, prediction, ctx):
    """None, or α as a scalar or one weight per class, finite and ≥ 0, in the compute dtype."""
    if alpha is None:
        return None
    a = np.asarray(alpha, dtype=prediction.dtype)
    num_classes = prediction.shape[-1]
    if a.shape not in ((), (num_classes,)):
        raise ShapeError(
            f"{ctx.name}: alpha must be a scalar or have shape ({num_classes},), got {a.shape}")
    if not np.all(np.isfinite(a) & (a >= 0)):
        raise OptionError(
            f"{ctx.name}: alpha must be finite and ≥ 0 (a scalar or one per class), got {alpha!r}")
    return a


def _softmax_parts(z):
    """(p, log p, 1 − p) of softmax(z) along the last axis, each accurate where p → 1.

    Only a row's top class can have p > ½; its 1 − p is the sum of the other probabilities (never
    1 − p, which cancels) and its log p is log1p(−(1 − p)) (x − lse rounds to 0 there).
    """
    rows = _softmax_rows(z)
    p = rows.p
    logp, u = -rows.neg_log_p(z), 1 - p
    top = np.argmax(z, axis=-1)[..., None]
    rest = np.sum(p, axis=-1, keepdims=True, where=np.arange(z.shape[-1]) != top)
    np.put_along_axis(u, top, rest, axis=-1)
    np.put_along_axis(logp, top, np.log1p(-rest), axis=-1)
    return p, logp, u


def _class_sum(terms, parts, targets, alpha, smoothing, want_grad):
    """ℓ = Σ_c a_c t_c φ_c and the per-class gradient a_c t_c s_c, with (φ, s) = terms(*parts).

    targets: float distributions (…, C) or integer labels (…). Labels are smoothed as
    t = (1−s)·onehot(y) + s/C without a one-hot: φ and s are gathered at the label, and evaluated
    over the whole row only when smoothing spreads weight over it. Zero weights contribute exactly 0.
    """
    num_classes = parts[0].shape[-1]
    if targets.dtype.kind == "f":
        w = _smooth(targets, smoothing, num_classes)
        w = w if alpha is None else w * alpha
        phi, slope = terms(*parts)
        return _weighted_row_sum(phi, w), (times(w, slope) if want_grad else None)
    a = np.broadcast_to(np.ones((), parts[0].dtype) if alpha is None else alpha, (num_classes,))
    gold = (1 - smoothing) * a[targets]
    phi, slope = terms(*(take_class(x, targets) for x in parts))
    value = times(gold, phi)
    if smoothing:
        spread = smoothing / num_classes * a
        phi_all, slope_all = terms(*parts)
        value = value + _weighted_row_sum(phi_all, spread)
        grad = times(spread, slope_all) if want_grad else None
    else:
        grad = np.zeros_like(parts[0]) if want_grad else None
    if want_grad:
        _add_at_label(grad, targets, times(gold, slope))
    return value, grad


def _softmax_chain(p, u, g):
    """∂ℓ/∂z = g − p·Σ_c g_c from g = p ⊙ ∂ℓ/∂p and u = 1 − p (the softmax Jacobian, never formed).

    The row's top class takes the same value as u·g_top − p_top·Σ_{c≠top} g_c: where p_top rounds
    to 1, g_top − p_top·g_top would cancel to 0 and lose a gradient as small as the loss itself.
    """
    top = np.argmax(p, axis=-1)[..., None]
    rest = np.sum(g, axis=-1, keepdims=True, where=np.arange(p.shape[-1]) != top)
    grad = g - p * (rest + np.take_along_axis(g, top, axis=-1))
    at_top = [np.take_along_axis(x, top, axis=-1) for x in (u, g, p)]
    np.put_along_axis(grad, top, at_top[0] * at_top[1] - at_top[2] * rest, axis=-1)
    return grad
