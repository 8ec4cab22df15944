"""Divergences and likelihoods: Kullback–Leibler and Jensen–Shannon divergences, the Poisson and
Gaussian negative log-likelihoods, and the cosine losses.

Every function here is a loss body (see :mod:`lossgrad.losses.core`): the unreduced value and its
gradient with respect to each differentiable input, computed together.

**Input domains.** The names say what the first argument holds: :func:`kl_divergence` and
:func:`js_divergence` take log-probabilities (PyTorch's ``KLDivLoss``, optax, Liger-Kernel's JSD),
:func:`categorical_kl_divergence` takes probabilities (Keras's ``KLDivergence``);
:func:`log_poisson` takes log-rates (PyTorch's default ``log_input=True``, ``tf.nn``) and
:func:`poisson` rates (Keras). Probabilities outside [0, 1], log-probabilities above 0, negative
rates, counts or variances raise DomainError naming the first bad entry (``validate=False`` skips
the check; NaN passes and propagates into its own entry).

**Zero probabilities.** 0·log 0 = 0 everywhere, also against a log-probability of −∞. The
derivative of t·log t with respect to a target t = 0 is −∞ (its limit from the right); PyTorch's
and optax's autodiff give NaN there (0·∞ in their chain rules).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import special

from ..errors import DomainError, DTypeError, OptionError, ShapeError
from .core import (
    Parts,
    as_targets,
    check_interval,
    check_option,
    check_range,
    first_index,
    index_str,
    loss,
    times,
)
from .cross_entropy import _KERAS_EPSILON, _slope
from .margin import _ACTIVE, _check_margin

_CONVENTIONS = ("exact", "keras")
#: PyTorch's CosineEmbeddingLoss adds this float32 constant to each squared norm, in every dtype.
_TORCH_COSINE_EPSILON = float(np.float32(1e-12))
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


# ---------------------------------------------------------------------------------------------
# shared pieces


def _at_most_zero(x, name, ctx, fix) -> None:
    """Log-probabilities are ≤ 0 (a positive one is a probability above 1)."""
    if ctx.validate:
        check_interval(x, name, ctx.name, low=-np.inf, high=0.0, fix=fix)


def _non_negative(x, name, ctx, fix) -> None:
    if ctx.validate:
        check_interval(x, name, ctx.name, low=0.0, high=np.inf, fix=fix)


def _xlog_ratio(t, p):
    """t·log(t/p) with 0·log(0/p) = 0 for every p (0 included); t > 0 against p = 0 gives +inf.

    The ratio keeps the digits of a small divergence (t ≈ p), which log t − log p cancels.
    """
    return np.where(t == 0, 0, t * np.log(t / p))


def _target_slope(log_ratio, t):
    """∂(t·log(t/p))/∂t = log(t/p) + 1, and −∞ at t = 0 (the limit from the right)."""
    return np.where(t == 0, -np.inf, log_ratio + 1)


# ---------------------------------------------------------------------------------------------
# Kullback–Leibler and Jensen–Shannon divergences


@loss(kind="elementwise", reductions=("batchmean",))
def kl_divergence(log_probs, targets, ctx, *, log_target=False):
    """Kullback–Leibler divergence KL(t ‖ q) of predicted log-probabilities from a target
    distribution, entry by entry (the terms of Σ_c t_c·log(t_c / q_c)).

    **Value:** ℓ = t·(log t − x), x = log q, with 0·log 0 = 0 (also against x = −∞). With
    ``log_target=True`` the target is given as s = log t: ℓ = e^s·(s − x), 0 at s = −∞.

    **Gradient:** ∂ℓ/∂x = −t. ∂ℓ/∂t = log t + 1 − x, and −∞ at t = 0 (see the module docstring);
    with ``log_target``, ∂ℓ/∂s = e^s·(s − x + 1), 0 at s = −∞. ``result.grads["targets"]`` holds
    it.

    **Shapes:** log_probs and targets of one shape, value of that shape (elementwise). log_probs
    are ≤ 0 and targets lie in [0, 1] (≤ 0 with ``log_target``), else DomainError.

    **Stability:** no logarithm of the prediction is taken; t·(log t − x) makes KL(p, p) exactly 0
    (PyTorch's xlogy(t, t) − t·x leaves rounding); a zero target weighs its term exactly 0 even
    where x = −∞ (PyTorch gives 0·∞ = NaN there); log targets avoid log t entirely.

    **Parity:** ``torch.nn.KLDivLoss(reduction, log_target)`` / ``F.kl_div``: PyTorch's
    'batchmean' is "batchmean", its 'mean' (the mean over every entry) "mean". optax's
    ``kl_divergence(log_predictions, targets)`` and ``kl_divergence_with_log_targets`` return the
    per-example sums over the last axis: ``kl_divergence(x, t, reduction="none").value.sum(-1)``,
    and "sum" / "batchmean" of the same call are their sum and mean over the batch. On
    probabilities (Keras's ``KLDivergence``) use :func:`categorical_kl_divergence`.

    **Example:**
        >>> logq = np.log([[0.2, 0.8], [0.5, 0.5]])
        >>> r = kl_divergence(logq, [[0.5, 0.5], [0.0, 1.0]], reduction="batchmean")
        >>> print(f"{float(r):.4f}")
        0.4581
        >>> print(np.round(r.grad, 4), np.round(r.grads["targets"], 4))
        [[-0.25 -0.25]
         [-0.   -0.5 ]] [[0.9581 0.265 ]
         [  -inf 0.8466]]
    """
    t = as_targets(targets, log_probs, loss=ctx.name)
    _at_most_zero(log_probs, "log_probs", ctx, "log-probabilities are ≤ 0; for probabilities use "
                  "categorical_kl_divergence, or validate=False to skip this check")
    if log_target:
        _at_most_zero(t, "targets", ctx, "log_target=True takes log-probabilities (≤ 0); pass "
                      "log_target=False for probabilities")
        return _kl_of_log_targets(log_probs, t, ctx.want_grad)
    if ctx.validate:
        check_interval(t, "targets", ctx.name, fix="targets are probabilities; pass "
                       "log_target=True for log-probabilities")
    # t·(log t − x), not PyTorch's xlogy(t, t) − t·x: KL(p, p) is then exactly 0
    gap = np.log(t) - log_probs
    value = np.where(t == 0, 0, t * gap)
    if not ctx.want_grad:
        return Parts(value, None)
    return Parts(value, {"log_probs": -t, "targets": _target_slope(gap, t)})


def _kl_of_log_targets(x, s, want_grad):
    """e^s·(s − x) and its gradients; a target of probability 0 (s = −∞) gives exactly 0."""
    p = np.exp(s)
    gap = s - x
    grads = {"log_probs": -p, "targets": times(p, gap + 1)} if want_grad else None
    return Parts(times(p, gap), grads)


@loss(kind="rows")
def categorical_kl_divergence(probs, targets, ctx, *, convention="exact"):
    """Kullback–Leibler divergence KL(t ‖ p) between a target distribution and predicted
    probabilities, one value per row.

    **Value:** ℓ = Σ_c t_c·log(t_c / p_c), with 0·log(0/p) = 0; a target class of probability 0
    gives +inf. ``convention="keras"`` clips both inputs first, p̂ = clip(p, ε, 1) and
    t̂ = clip(t, ε, 1) with ε = 10⁻⁷ rounded to the caller's dtype (Keras's
    ``backend.epsilon()``), so a zero target counts as ε·log(ε/p̂).

    **Gradient:** ∂ℓ/∂p_c = −t_c/p_c (0 where t_c = 0); ∂ℓ/∂t_c = log(t_c/p_c) + 1, −∞ at t_c = 0
    (see the module docstring). Under "keras" both are taken at the clipped values and are 0
    where an input was clipped (TensorFlow's ``clip_by_value`` passes the gradient at the bounds).

    **Shapes:** probs and targets of one shape (…, C, …) with the class axis ``axis``; value (…).
    Both lie in [0, 1] (DomainError otherwise); rows are not required to sum to 1.

    **Stability:** t·log(t/p) is formed from the ratio, which keeps the digits of a small
    divergence; KL(p, p) is exactly 0.

    **Parity:** ``convention="keras"`` is ``keras.losses.KLDivergence()`` /
    ``keras.losses.kl_divergence`` (reduction="none"). "exact" equals
    ``optax.losses.kl_divergence(log(probs), targets)``. On log-probabilities (PyTorch's
    ``KLDivLoss``) use :func:`kl_divergence`.

    **Example:**
        >>> r = categorical_kl_divergence([[0.2, 0.8], [0.5, 0.5]], [[0.5, 0.5], [0.0, 1.0]],
        ...                               reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.2231 0.6931] [[-2.5   -0.625]
         [-0.    -2.   ]]
    """
    check_option("convention", convention, _CONVENTIONS)
    t = as_targets(targets, probs, loss=ctx.name)
    if ctx.validate:
        for x, name in ((probs, "probs"), (t, "targets")):
            check_interval(x, name, ctx.name, fix="probabilities lie in [0, 1]; for log-"
                           "probabilities use kl_divergence, or validate=False to skip this check")
    if convention == "keras":
        return _keras_kl(probs, t, ctx)
    value = np.sum(_xlog_ratio(t, probs), axis=-1)
    if not ctx.want_grad:
        return Parts(value, None)
    return Parts(value, {"probs": -_slope(t, probs),
                         "targets": _target_slope(np.log(t / probs), t)})


def _keras_kl(probs, t, ctx):
    """Keras's KLDivergence: both inputs clipped to [ε, 1] (ε in the caller's dtype); the gradient
    stops where an input was clipped and passes at the bounds, as ``clip_by_value``'s does."""
    lo = probs.dtype.type(ctx.dtype.type(_KERAS_EPSILON))
    p, q = np.clip(probs, lo, 1), np.clip(t, lo, 1)
    log_ratio = np.log(q / p)
    value = np.sum(q * log_ratio, axis=-1)
    if not ctx.want_grad:
        return Parts(value, None)
    return Parts(value, {"probs": np.where(p == probs, -q / p, 0),
                         "targets": np.where(q == t, log_ratio + 1, 0)})


def _check_beta(beta) -> None:
    if isinstance(beta, bool) or not (isinstance(beta, numbers.Real) and 0 < beta < 1):
        raise OptionError(
            f"beta must be > 0 and < 1, got {beta!r}; β = 0 and β = 1 (Liger-Kernel's forward and "
            "reverse KL) are kl_divergence(log_probs, log_targets, log_target=True) and "
            "kl_divergence(log_targets, log_probs, log_target=True)"
        )


@loss(kind="elementwise", reductions=("batchmean",))
def js_divergence(log_probs, log_targets, ctx, *, beta=0.5):
    """Generalised Jensen–Shannon divergence between a predicted distribution Q and a target P,
    both given as log-probabilities, entry by entry.

    **Value:** JSD_β(P ‖ Q) = β·KL(P ‖ M) + (1 − β)·KL(Q ‖ M) with M = β·P + (1 − β)·Q and
    0 < β < 1 (OptionError otherwise); per entry, with x = log q and y = log p,
    ℓ = β·p·(y − log m) + (1 − β)·q·(x − log m). β = ½ is the symmetric Jensen–Shannon divergence,
    at most log 2 per row. The entries of a row may be negative; their sum is ≥ 0.

    **Gradient:** ∂ℓ/∂x = (1 − β)·q·(x − log m); ∂ℓ/∂y = β·p·(y − log m)
    (``result.grads["log_targets"]``). Their sum is ℓ itself.

    **Shapes:** log_probs and log_targets of one shape, value of that shape (elementwise); both are
    ≤ 0 (DomainError otherwise).

    **Stability:** log m = logaddexp(log β + y, log(1 − β) + x): no probability is summed in the
    linear domain, so log m stays finite where p and q underflow; an entry with p = q = 0
    (x = y = −∞) is exactly 0.

    **Parity:** Liger-Kernel's ``LigerJSD(beta)(log_q, log_p)`` (GPU only) is "batchmean" with
    ``log_probs=log_q`` (the student) and ``log_targets=log_p`` (the teacher); its β = 0 and β = 1
    are the forward and reverse KL divergences, :func:`kl_divergence` with ``log_target=True``. The
    live parity suite checks the formula written with PyTorch ops under autograd.

    **Example:**
        >>> r = js_divergence(np.log([[0.2, 0.8]]), np.log([[0.5, 0.5]]), reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [[0.0332 0.0175]] [[-0.056   0.0831]]
    """
    _check_beta(beta)
    y = as_targets(log_targets, log_probs, loss=ctx.name, name="log_targets")
    fix = "log-probabilities are ≤ 0; take the log of probabilities, or validate=False to skip"
    _at_most_zero(log_probs, "log_probs", ctx, fix)
    _at_most_zero(y, "log_targets", ctx, fix)
    log_m = np.logaddexp(math.log(beta) + y, math.log1p(-beta) + log_probs)
    from_q = (1 - beta) * times(np.exp(log_probs), log_probs - log_m)
    from_p = beta * times(np.exp(y), y - log_m)
    grads = {"log_probs": from_q, "log_targets": from_p} if ctx.want_grad else None
    return Parts(from_q + from_p, grads)


# ---------------------------------------------------------------------------------------------
# Poisson and Gaussian negative log-likelihoods


def _counts(targets, prediction, ctx):
    y = as_targets(targets, prediction, loss=ctx.name)
    _non_negative(y, "targets", ctx, "Poisson targets are counts (≥ 0)")
    return y


def _stirling(y):
    """Stirling's term y·log y − y + ½·log(2πy) where y > 1, 0 elsewhere (PyTorch's and
    TensorFlow's ``full`` loss: it stands for log y!, and log 0! = log 1! = 0)."""
    big = np.where(y > 1, y, 1)  # the logarithm of the other entries is never needed
    return np.where(y > 1, big * np.log(big) - big + 0.5 * np.log(2 * math.pi * big), 0)


@loss(kind="elementwise")
def poisson(rates, targets, ctx, *, eps=0.0, full=False):
    """Poisson negative log-likelihood of counts under predicted rates (the mean of the Poisson).

    **Value:** ℓ = λ − y·log(λ + ε) with 0·log 0 = 0, λ the rate and ε ≥ 0 (OptionError
    otherwise) rounded to the caller's dtype; ``full=True`` adds Stirling's approximation of
    log y!, y·log y − y + ½·log(2πy), where y > 1. With ε = 0 a zero rate against a positive count
    gives +inf.

    **Gradient:** ∂ℓ/∂λ = 1 − y/(λ + ε), and 1 where y = 0 (also at λ + ε = 0). Stirling's term
    does not depend on λ.

    **Shapes:** rates and targets of one shape, value of that shape (elementwise); both ≥ 0
    (DomainError otherwise).

    **Stability:** y·log(λ + ε) is ``xlogy``: a zero count never meets log 0.

    **Parity:** ``keras.losses.Poisson()`` / ``keras.losses.poisson`` with ε = 10⁻⁷ (Keras's
    ``backend.epsilon()``), averaged over the last axis first (as Keras's regression losses);
    ``torch.nn.PoissonNLLLoss(log_input=False, full, eps=1e-8)``. For log-rates (PyTorch's default
    ``log_input=True``) use :func:`log_poisson`.

    **Example:**
        >>> r = poisson([0.5, 2.0, 4.0], [0.0, 1.0, 3.0], reduction="none", full=True)
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.5    1.3069 1.6052] [1.   0.5  0.25]
    """
    check_range("eps", eps, low=0)
    y = _counts(targets, rates, ctx)
    _non_negative(rates, "rates", ctx, "rates are ≥ 0; for log-rates use log_poisson, or "
                  "validate=False to skip this check")
    shifted = rates + rates.dtype.type(ctx.dtype.type(eps))
    value = rates - special.xlogy(y, shifted)
    if full:
        value = value + _stirling(y)
    return Parts(value, 1 - _slope(y, shifted) if ctx.want_grad else None)


@loss(kind="elementwise")
def log_poisson(log_rates, targets, ctx, *, full=False):
    """Poisson negative log-likelihood of counts under predicted log-rates.

    **Value:** ℓ = e^x − y·x with x = log λ, and 0·x = 0 (also at x = −∞); ``full=True`` adds
    Stirling's approximation of log y!, y·log y − y + ½·log(2πy), where y > 1.

    **Gradient:** ∂ℓ/∂x = e^x − y.

    **Shapes:** log_rates and targets of one shape, value of that shape (elementwise); targets
    ≥ 0 (DomainError otherwise).

    **Stability:** no logarithm is taken, so no ε is needed; e^x overflows to +inf only where the
    loss itself exceeds the dtype's range (x > 709 in float64).

    **Parity:** ``torch.nn.PoissonNLLLoss(log_input=True, full)`` / ``F.poisson_nll_loss``
    (PyTorch's default) and ``tf.nn.log_poisson_loss(targets, log_input, compute_full_loss)``
    (reduction="none").

    **Example:**
        >>> r = log_poisson([0.0, -1.0, 1.0], [0.0, 1.0, 3.0], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [ 1.      1.3679 -0.2817] [ 1.     -0.6321 -0.2817]
    """
    y = _counts(targets, log_rates, ctx)
    rate = np.exp(log_rates)
    value = rate - times(y, log_rates)
    if full:
        value = value + _stirling(y)
    return Parts(value, rate - y if ctx.want_grad else None)


def _variances(var, mean, ctx) -> np.ndarray:
    """``var`` checked as PyTorch's GaussianNLLLoss takes it and broadcast to the mean's shape.

    Accepted: the mean's shape; its shape without the last axis (one variance per sample, shared
    by the last axis); the mean's rank with one axis of size 1 (shared along that axis); a scalar.
    """
    v = np.asarray(var)
    if v.dtype.kind not in "fiu":
        raise DTypeError(f"{ctx.name}: var must be real numbers, got dtype {v.dtype}; convert "
                         "with np.asarray(var, dtype=np.float32)")
    shape, want = v.shape, mean.shape
    differ = [i for i, (s, n) in enumerate(zip(shape, want)) if s != n]
    shared = len(shape) == len(want) and len(differ) == 1 and shape[differ[0]] == 1
    if not (shape in (want, want[:-1], ()) or shared):
        raise ShapeError(
            f"{ctx.name}: var of shape {shape} does not fit mean of shape {want}; give one "
            f"variance per entry {want}, per sample {want[:-1]} (or with a size-1 axis where it is "
            "shared, e.g. (N, 1) against (N, D)), or a scalar"
        )
    v = v.astype(mean.dtype, copy=False)
    if ctx.validate and np.any(v < 0):
        where = first_index(v < 0)
        raise DomainError(f"{ctx.name}: var[{index_str(where)}] = {v[where]} is negative; "
                          "variances are ≥ 0 (PyTorch raises here too), or pass validate=False "
                          "to clamp it at eps like any variance below eps")
    if shape == want[:-1] and shape != want:
        v = v[..., None]
    return np.broadcast_to(v, want)


@loss(kind="elementwise")
def gaussian_nll(mean, targets, var, ctx, *, full=False, eps=1e-6):
    """Gaussian negative log-likelihood of targets under predicted means and variances.

    **Value:** ℓ = ½·(log v̂ + (μ − y)²/v̂) with v̂ = max(v, ε) and ε ≥ 0 (OptionError otherwise);
    ``full=True`` adds ½·log 2π.

    **Gradient:** ∂ℓ/∂μ = (μ − y)/v̂, ∂ℓ/∂y = −(μ − y)/v̂ (``result.grads["targets"]``),
    ∂ℓ/∂v = ½·(1/v̂ − (μ − y)²/v̂²) (``result.grads["var"]``), everywhere, also where v < ε:
    PyTorch clamps the variance in place under ``torch.no_grad()``, so its gradient passes
    straight through the clamp, taken at v̂. A shared variance gets the sum over the entries it
    serves.

    **Shapes:** mean and targets of one shape; var of that shape (heteroscedastic), of that shape
    without the last axis ((N,) against (N, D): one variance per sample), of that rank with one
    axis of size 1 ((N, 1) against (N, D)), or a scalar — PyTorch's rule; ShapeError otherwise.
    Value of the mean's shape (elementwise). A negative variance raises DomainError, as PyTorch
    raises ValueError (with ``validate=False`` it is clamped at ε).

    **Stability:** the clamp at ε keeps log v̂ and 1/v̂ finite for a zero variance.

    **Parity:** ``torch.nn.GaussianNLLLoss(full, eps)`` / ``F.gaussian_nll_loss(input, target,
    var)``: PyTorch's 'mean' is the mean over the mean's entries, "mean" here.

    **Example:**
        >>> r = gaussian_nll([[0.0, 1.0], [2.0, 2.0]], [[0.5, 1.0], [0.0, 3.0]], [[0.5], [2.0]],
        ...                  reduction="none")
        >>> print(np.round(r.value, 4))
        [[-0.0966 -0.3466]
         [ 1.3466  0.5966]]
        >>> print(np.round(r.grad, 4), np.round(r.grads["var"], 4))
        [[-1.   0. ]
         [ 1.  -0.5]] [[ 1.5  ]
         [-0.125]]
    """
    check_range("eps", eps, low=0)
    y = as_targets(targets, mean, loss=ctx.name)
    v = np.maximum(_variances(var, mean, ctx), eps)
    error = mean - y
    scaled = error / v
    value = 0.5 * (np.log(v) + error * scaled)
    if full:
        value = value + _HALF_LOG_2PI
    if not ctx.want_grad:
        return Parts(value, None)
    return Parts(value, {"mean": scaled, "targets": -scaled, "var": 0.5 * (1 - error * scaled) / v})


# ---------------------------------------------------------------------------------------------
# cosine losses


def _norms(x):
    """‖x‖ along the last axis (kept), scaled by max |x| first so that Σx² cannot overflow."""
    top = np.max(np.abs(x), axis=-1, keepdims=True)
    unit = np.divide(x, top, out=np.zeros_like(x), where=top > 0)
    return top * np.sqrt(np.sum(unit * unit, axis=-1, keepdims=True))


def _unit(x, floor):
    """(x / n, n, whether n = ‖x‖) with n = max(‖x‖, floor); a zero vector with floor 0 gives 0."""
    norm = _norms(x)
    n = np.maximum(norm, floor)
    return np.divide(x, n, out=np.zeros_like(x), where=n > 0), n, norm >= floor


def _cosine(x, z, floor, want_grad):
    """cos(x, z) along the last axis with each norm floored at ``floor``, and its gradients.

    ∂cos/∂x = (û_z − cos·û_x)/n_x where the norm is above its floor, û_z/n_x where it is floored
    (n_x constant); 0 for a zero vector with floor 0, where cos has no limit.
    """
    ux, nx, free_x = _unit(x, floor)
    uz, nz, free_z = _unit(z, floor)
    cos = np.sum(ux * uz, axis=-1)
    if not want_grad:
        return cos, None, None
    c = cos[..., None]

    def grad(u_other, u_self, n, free):
        g = u_other - np.where(free, c * u_self, 0)
        return np.divide(g, n, out=np.zeros_like(g), where=n > 0)

    return cos, grad(uz, ux, nx, free_x), grad(ux, uz, nz, free_z)


def _floor(epsilon, convention, dtype):
    """The floor on each norm: √epsilon (optax floors the squared norm); Keras's ε by default
    under "keras"."""
    if epsilon is None:
        return dtype.type(_KERAS_EPSILON if convention == "keras" else 0.0)
    check_range("epsilon", epsilon, low=0)
    return np.sqrt(dtype.type(epsilon))


@loss(kind="rows")
def cosine_similarity(prediction, targets, ctx, *, epsilon=None, convention="exact"):
    """Cosine similarity of prediction and target vectors along ``axis``, one value per vector.

    **Value:** ``convention="exact"`` (optax): ℓ = û·ŵ with û = x/max(‖x‖, √ε) and ŵ likewise,
    i.e. ``epsilon`` floors each *squared* norm as optax's does (default 0). ``"keras"``:
    ℓ = −û·ŵ, Keras's loss (to minimise), with each norm floored at ε = 10⁻⁷
    (``backend.epsilon()``) unless ``epsilon`` is given. A zero vector gives 0 either way (optax
    gives NaN for it with its default ε = 0).

    **Gradient:** ∂ℓ/∂x = ±(ŵ − cos·û)/max(‖x‖, √ε), − under "keras"; where ‖x‖ is below its
    floor the norm is a constant and ∂ℓ/∂x = ±ŵ/√ε. A zero vector with ε = 0 gets gradient 0
    (cos has no limit there). ∂ℓ/∂t is the same with the roles swapped
    (``result.grads["targets"]``).

    **Shapes:** prediction and targets of one shape (…, D, …) with the vectors along ``axis``;
    value (…).

    **Stability:** each norm is computed as m·‖x/m‖ with m = max |x|, so Σx² never overflows (at
    |x| > 1e154 in float64, 1e19 in float32, where optax and Keras return 0).

    **Parity:** "exact" is ``optax.losses.cosine_similarity(predictions, targets, epsilon, axis)``
    (reduction="none"); "keras" is ``keras.losses.CosineSimilarity(axis)`` /
    ``keras.losses.cosine_similarity``. :func:`cosine_distance` is 1 − cos.

    **Example:**
        >>> r = cosine_similarity([[1.0, 0.0], [3.0, 4.0]], [[1.0, 1.0], [3.0, 4.0]],
        ...                       reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.7071 1.    ] [[0.     0.7071]
         [0.     0.    ]]
    """
    check_option("convention", convention, _CONVENTIONS)
    t = as_targets(targets, prediction, loss=ctx.name)
    floor = _floor(epsilon, convention, prediction.dtype)
    cos, gx, gt = _cosine(prediction, t, floor, ctx.want_grad)
    if convention == "keras":
        cos, gx, gt = -cos, None if gx is None else -gx, None if gt is None else -gt
    return Parts(cos, {"prediction": gx, "targets": gt} if ctx.want_grad else None)


@loss(kind="rows")
def cosine_distance(prediction, targets, ctx, *, epsilon=0.0):
    """Cosine distance 1 − cos between prediction and target vectors along ``axis``.

    **Value:** ℓ = 1 − û·ŵ with û = x/max(‖x‖, √ε), ŵ likewise (``epsilon`` floors each squared
    norm, as optax's does). In [0, 2]; 1 when either vector is zero.

    **Gradient:** ∂ℓ/∂x = −(ŵ − cos·û)/max(‖x‖, √ε), −ŵ/√ε where the norm is floored, 0 for a
    zero vector with ε = 0; ∂ℓ/∂t likewise (``result.grads["targets"]``).

    **Shapes:** prediction and targets of one shape (…, D, …) with the vectors along ``axis``;
    value (…).

    **Stability:** as :func:`cosine_similarity`: norms never overflow.

    **Parity:** ``optax.losses.cosine_distance(predictions, targets, epsilon, axis)``
    (reduction="none").

    **Example:**
        >>> r = cosine_distance([[1.0, 0.0]], [[1.0, 1.0]], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.2929] [[-0.     -0.7071]]
    """
    t = as_targets(targets, prediction, loss=ctx.name)
    cos, gx, gt = _cosine(prediction, t, _floor(epsilon, "exact", prediction.dtype), ctx.want_grad)
    return Parts(1 - cos, {"prediction": -gx, "targets": -gt} if ctx.want_grad else None)


def _pair_signs(y, value_shape, ctx) -> np.ndarray:
    """CosineEmbeddingLoss's targets: ±1, one per pair (the value's shape), never broadcast."""
    y = np.asarray(y)
    if y.dtype.kind not in "fiu":
        raise DTypeError(f"{ctx.name}: y must be real numbers (±1), got dtype {y.dtype}; convert "
                         "with np.asarray(y, dtype=np.float32)")
    if y.shape != value_shape:
        raise ShapeError(f"{ctx.name}: y of shape {y.shape} does not match the {value_shape} "
                         f"pairs of x1 and x2; lossgrad never broadcasts targets — give one ±1 per "
                         f"pair, shape {value_shape}")
    if ctx.validate:
        bad = (y != 1) & (y != -1) & ~np.isnan(y)
        if bad.any():
            where = first_index(bad)
            raise DomainError(f"{ctx.name}: y[{index_str(where)}] = {y[where]} is not -1 or 1; "
                              "map {0, 1} labels with 2*y - 1")
    return y


@loss(kind="rows")
def cosine_embedding(x1, x2, y, ctx, *, margin=0.0):
    """Cosine embedding loss: pulls pairs marked similar (y = 1) together and pushes dissimilar
    ones (y = −1) below a cosine margin.

    **Value:** ℓ = 1 − cos where y = 1, max(0, cos − margin) where y = −1, with PyTorch's cosine
    cos = x₁·x₂ / √((‖x₁‖² + ε)(‖x₂‖² + ε)) and ε = float32(1e-12) = 9.99999996e-13 in every
    dtype (PyTorch adds the float32 constant to each squared norm; not 1e-8 on the norms). margin
    is any finite real number. With ``validate=False`` a y outside {−1, 1} gives NaN (PyTorch
    gives 0).

    **Gradient:** ∂cos/∂x₁ = x₂/√(ab) − cos·x₁/a with a = ‖x₁‖² + ε, b = ‖x₂‖² + ε (and with
    the roles swapped for x₂, ``result.grads["x2"]``); ∂ℓ = −∂cos where y = 1, ∂cos where y = −1
    and cos ≥ margin (PyTorch's ``clamp_min`` passes the gradient at cos = margin), 0 below.

    **Shapes:** x1 and x2 of one shape (…, D, …) with the vectors along ``axis`` (PyTorch's (N, D),
    or an unbatched (D,)); y of the value's shape (…), never broadcast; value (…).

    **Stability:** ε keeps a zero vector finite: its cosine is 0 and its gradient x₂/√(εb).

    **Parity:** ``torch.nn.CosineEmbeddingLoss(margin)`` / ``F.cosine_embedding_loss``: its 'mean'
    is the mean over pairs, "mean" here.

    **Example:**
        >>> r = cosine_embedding([[1.0, 0.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]], [1, -1],
        ...                      margin=0.5, reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.2929 0.2071] [[-0.     -0.7071]
         [ 0.3536 -0.3536]]
    """
    _check_margin(margin)
    z = as_targets(x2, x1, loss=ctx.name, name="x2")
    signs = _pair_signs(y, x1.shape[:-1], ctx).astype(x1.dtype, copy=False)
    a = np.sum(x1 * x1, axis=-1) + x1.dtype.type(_TORCH_COSINE_EPSILON)
    b = np.sum(z * z, axis=-1) + x1.dtype.type(_TORCH_COSINE_EPSILON)
    root = np.sqrt(a) * np.sqrt(b)  # not √(ab): the product of squared norms overflows sooner
    cos = np.sum(x1 * z, axis=-1) / root
    similar, dissimilar = signs == 1, signs == -1
    value = np.where(similar, 1 - cos, np.where(dissimilar, np.maximum(cos - margin, 0), np.nan))
    if not ctx.want_grad:
        return Parts(value, None)
    hinge = np.where(cos - margin >= 0, _ACTIVE, 0.0)
    slope = np.where(similar, -1.0, np.where(dissimilar, hinge, np.nan))[..., None]
    c, r = cos[..., None], root[..., None]
    return Parts(value, {"x1": slope * (z / r - c * x1 / a[..., None]),
                         "x2": slope * (x1 / r - c * z / b[..., None])})
