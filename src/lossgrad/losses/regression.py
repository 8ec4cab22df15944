"""Regression losses: elementwise errors between a real prediction and a real target — squared and
absolute error, Huber, smooth L1, log-cosh, Keras's percentage and logarithmic errors, quantile.

Every function here is a loss body (see :mod:`lossgrad.losses.core`): the unreduced value and its
gradient with respect to the prediction, computed together.

**Kinks.** Where a loss has a kink at x = y (absolute error, MAPE, quantile) the gradient there is
0, the subgradient every framework here returns for |·| (sign(0) = 0), and the one that makes a
perfect prediction stationary. Huber and smooth L1 are continuously differentiable: their joins
|e| = δ (β) are kinks of the gradient only.
"""

from __future__ import annotations

import numpy as np

from .core import Parts, as_targets, check_option, check_range, loss, times
from .cross_entropy import _KERAS_EPSILON

#: Keras 3's MSLE converts ``keras.backend.epsilon()`` to a float32 tensor: its floor is this
#: number in every dtype (1.0000000116860974e-07 in float64).
_KERAS_MSLE_EPSILON = np.float32(_KERAS_EPSILON)
_LOG2 = np.log(2.0)
#: Keras's log_cosh subtracts ``ops.log(2.0)``, a float32 tensor, in every dtype.
_KERAS_LOG2 = np.float32(_LOG2)
_CONVENTIONS = ("exact", "keras")


def _error(prediction, targets, ctx) -> np.ndarray:
    """e = x − y with the targets checked and cast to the prediction's (compute) dtype."""
    return prediction - as_targets(targets, prediction, loss=ctx.name)


@loss(kind="elementwise")
def squared_error(prediction, targets, ctx):
    """Squared error, entry by entry; its mean is the mean squared error (MSE).

    **Value:** ℓ = (x − y)².

    **Gradient:** ∂ℓ/∂x = 2(x − y).

    **Shapes:** prediction and targets of the same shape, never broadcast ((N,) against (N, 1) is
    a ShapeError, not an (N, N) loss); value of that shape.

    **Stability:** one subtraction, squared; the gradient reuses the difference.

    **Parity:** reduction="mean" is ``torch.nn.MSELoss()`` / ``F.mse_loss`` and
    ``keras.losses.MeanSquaredError()`` (Keras averages over the last axis, then over the batch:
    the same number for unweighted rows, and "sum_over_batch_size" with per-sample weights);
    ``keras.losses.mean_squared_error`` / ``tf.losses.MSE`` are reduction="none" averaged over the
    last axis; reduction="none" is ``optax.squared_error`` (optax's ``l2_loss`` is half of it).

    **Example** (seed 000: MSE between softmax probabilities and one-hot labels, and the bias
    gradient chained through the softmax Jacobian):
        >>> from lossgrad import one_hot, softmax, softmax_jacobian
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.standard_normal((2, 4)), rng.standard_normal((4, 3))
        >>> logits = x @ w
        >>> r = squared_error(softmax(logits), one_hot([2, 0], 3, dtype=np.float64))
        >>> print(f"{float(r):.4f}")
        0.3235
        >>> db = np.einsum("ni,nij->j", r.grad, softmax_jacobian(logits))
        >>> print(np.round(db, 4))
        [-0.0241  0.0403 -0.0162]
    """
    diff = prediction - as_targets(targets, prediction, loss=ctx.name)
    return Parts(diff * diff, 2 * diff if ctx.want_grad else None)


# ---------------------------------------------------------------------------------------------
# L1, Huber and smooth L1


@loss(kind="elementwise")
def absolute_error(prediction, targets, ctx):
    """Absolute error, entry by entry; its mean is the mean absolute error (MAE, L1 loss).

    **Value:** ℓ = |x − y|.

    **Gradient:** ∂ℓ/∂x = sign(x − y), and 0 at the kink x = y (sign(0) = 0: what PyTorch's and
    TensorFlow's autodiff of |·| return).

    **Shapes:** prediction and targets of one shape, value of that shape (elementwise).

    **Stability:** one subtraction: exact up to the rounding of x − y.

    **Parity:** reduction="mean" is ``torch.nn.L1Loss()`` / ``F.l1_loss`` and
    ``keras.losses.MeanAbsoluteError()`` (Keras averages over the last axis first: the same number
    for unweighted rows, and "sum_over_batch_size" with per-sample weights).

    **Example:**
        >>> r = absolute_error([0.5, -1.0, 2.0], [1.0, -1.0, 0.0], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.5 0.  2. ] [-1.  0.  1.]
    """
    e = _error(prediction, targets, ctx)
    return Parts(np.abs(e), np.sign(e) if ctx.want_grad else None)


@loss(kind="elementwise")
def huber(prediction, targets, ctx, *, delta=1.0):
    """Huber loss: quadratic for errors up to δ, linear beyond.

    **Value:** ℓ = ½e² where |e| ≤ δ, δ·(|e| − ½δ) where |e| > δ, with e = x − y and δ > 0
    (OptionError otherwise).

    **Gradient:** ∂ℓ/∂x = clip(e, −δ, δ): e inside, ±δ outside. The loss is continuously
    differentiable, so the joins |e| = δ are kinks of the gradient only: there the gradient is
    ±δ from either side; at e = 0 it is 0.

    **Shapes:** prediction and targets of one shape, value of that shape (elementwise).

    **Stability:** computed as ½q² + δ(|e| − q) with q = min(|e|, δ), so the square is never taken
    of a large error: finite for any finite error.

    **Parity:** ``torch.nn.HuberLoss(delta=δ)`` / ``F.huber_loss``, ``keras.losses.Huber(delta)``
    (averaged over the last axis first, as for :func:`absolute_error`) and
    ``optax.losses.huber_loss(…, delta=δ)`` (reduction="none"). Equals δ·:func:`smooth_l1` with
    β = δ.

    **Example:**
        >>> r = huber([0.5, -3.0, 2.0], [0.0, 0.0, 0.0], delta=1.5, reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.125 3.375 1.875] [ 0.5 -1.5  1.5]
    """
    check_range("delta", delta, low=0, low_open=True)
    e = _error(prediction, targets, ctx)
    a = np.abs(e)
    q = np.minimum(a, delta)
    value = 0.5 * q * q + delta * (a - q)
    return Parts(value, np.clip(e, -delta, delta) if ctx.want_grad else None)


@loss(kind="elementwise")
def smooth_l1(prediction, targets, ctx, *, beta=1.0):
    """Smooth L1 loss: Huber's loss divided by its threshold β, so its slope far out is 1.

    **Value:** ℓ = ½e²/β where |e| < β, |e| − ½β where |e| ≥ β, with e = x − y and β ≥ 0
    (OptionError otherwise); β = 0 is exactly the L1 loss |e|, as in PyTorch.

    **Gradient:** ∂ℓ/∂x = clip(e/β, −1, 1): ±1 from either side at the joins |e| = β. With β = 0 it
    is sign(e), 0 at e = 0 (as :func:`absolute_error`).

    **Shapes:** prediction and targets of one shape, value of that shape (elementwise).

    **Stability:** ½q²/β + (|e| − q) with q = min(|e|, β), as in :func:`huber`; β = 0 takes the L1
    branch instead of dividing by 0.

    **Parity:** ``torch.nn.SmoothL1Loss(beta=β)`` / ``F.smooth_l1_loss`` (reduction="mean").

    **Example:**
        >>> r = smooth_l1([0.5, -3.0, 2.0], [0.0, 0.0, 0.0], beta=1.5, reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.0833 2.25   1.25  ] [ 0.3333 -1.      1.    ]
    """
    check_range("beta", beta, low=0)
    e = _error(prediction, targets, ctx)
    a = np.abs(e)
    if beta == 0:  # PyTorch's branch: the limit β → 0 is the L1 loss
        return Parts(a, np.sign(e) if ctx.want_grad else None)
    q = np.minimum(a, beta)
    value = 0.5 * q * q / beta + (a - q)
    return Parts(value, np.clip(e / beta, -1, 1) if ctx.want_grad else None)


# ---------------------------------------------------------------------------------------------
# log-cosh


@loss(kind="elementwise")
def log_cosh(prediction, targets, ctx, *, convention="exact"):
    """Logarithm of the hyperbolic cosine of the error: ≈ e²/2 near 0, ≈ |e| − log 2 far away.

    **Value:** ℓ = log cosh(e), e = x − y. ``convention="keras"`` subtracts Keras's log 2, which is
    float32(log 2) in every dtype (``ops.log(2.0)`` is a float32 tensor): in float64 its values
    are 1.9e-9 below the exact ones, and slightly negative at tiny errors.

    **Gradient:** ∂ℓ/∂x = tanh(e) (smooth: no kink).

    **Shapes:** prediction and targets of one shape, value of that shape (elementwise).

    **Stability:** cosh overflows once |e| > 710 (float64; 89 in float32), so it is never formed:
    for |e| ≥ 1, ℓ = |e| + log1p(e^{−2|e|}) − log 2, finite for any finite error; for |e| < 1,
    ℓ = log1p(2 sinh²(e/2)), because the first form cancels there (|e| against log 2) and would
    lose every digit of a small loss such as e²/2 = 5e-17 at |e| = 1e-8.

    **Parity:** ``keras.losses.LogCosh()`` / ``keras.losses.log_cosh`` with ``convention="keras"``
    (averaged over the last axis first, as for :func:`absolute_error`; "exact" differs from it in
    float64 only) and ``optax.losses.log_cosh`` (reduction="none").

    **Example:**
        >>> r = log_cosh([0.5, -3.0, 1000.0], [0.0, 0.0, 0.0], reduction="none")
        >>> print(r.value.round(4).tolist(), r.grad.round(4).tolist())
        [0.1201, 2.3093, 999.3069] [0.4621, -0.9951, 1.0]
    """
    check_option("convention", convention, _CONVENTIONS)
    e = _error(prediction, targets, ctx)
    a = np.abs(e)
    near = np.minimum(a, 1)  # sinh of the far errors is never needed: keep it finite
    log2 = e.dtype.type(_LOG2)
    value = np.where(a < 1, np.log1p(2 * np.sinh(near / 2) ** 2),
                     a + np.log1p(np.exp(-2 * a)) - log2)
    if convention == "keras":
        value = value - (e.dtype.type(_KERAS_LOG2) - log2)
    return Parts(value, np.tanh(e) if ctx.want_grad else None)


# ---------------------------------------------------------------------------------------------
# Keras's percentage and logarithmic errors


@loss(kind="elementwise")
def mape(prediction, targets, ctx):
    """Absolute percentage error, entry by entry; its mean is Keras's mean absolute percentage
    error (MAPE).

    **Value:** ℓ = 100·|x − y| / max(|y|, ε) with ε = 1e-7 (``keras.backend.epsilon()``) rounded
    to the caller's dtype, as Keras rounds it.

    **Gradient:** ∂ℓ/∂x = 100·sign(x − y) / max(|y|, ε), and 0 at the kink x = y (sign(0) = 0, as
    TensorFlow's autodiff gives).

    **Shapes:** prediction and targets of one shape, value of that shape (elementwise).

    **Stability:** the ε floor keeps a zero target finite: there ℓ = 1e9·|x|.

    **Parity:** ``keras.losses.MeanAbsolutePercentageError()`` /
    ``keras.losses.mean_absolute_percentage_error`` (averaged over the last axis first, as for
    :func:`absolute_error`).

    **Example:**
        >>> r = mape([1.1, 0.0, 2.0], [1.0, -2.0, 0.0], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [1.e+01 1.e+02 2.e+09] [1.e+02 5.e+01 1.e+09]
    """
    y = as_targets(targets, prediction, loss=ctx.name)
    eps = prediction.dtype.type(ctx.dtype.type(_KERAS_EPSILON))
    scale = 100 / np.maximum(np.abs(y), eps)
    e = prediction - y
    return Parts(scale * np.abs(e), scale * np.sign(e) if ctx.want_grad else None)


@loss(kind="elementwise")
def msle(prediction, targets, ctx):
    """Squared logarithmic error, entry by entry; its mean is Keras's mean squared logarithmic
    error (MSLE).

    **Value:** ℓ = (log(1 + max(x, ε)) − log(1 + max(y, ε)))² with ε = float32(1e-7) in every
    dtype: Keras 3 converts ``keras.backend.epsilon()`` to a float32 tensor, so in float64 its
    floor is 1.0000000116860974e-07. Predictions and targets at or below ε count as ε.

    **Gradient:** ∂ℓ/∂x = 2(log(1 + x) − log(1 + max(y, ε))) / (1 + x) where x ≥ ε, and 0 where the
    floor is active (x < ε): TensorFlow's gradient of max(x, ε), which passes at x = ε.

    **Shapes:** prediction and targets of one shape, value of that shape (elementwise).

    **Stability:** log1p, where Keras computes log(x + 1): the two differ by float rounding only,
    and log1p keeps the digits of a small x.

    **Parity:** ``keras.losses.MeanSquaredLogarithmicError()`` /
    ``keras.losses.mean_squared_logarithmic_error`` (averaged over the last axis first, as for
    :func:`absolute_error`).

    **Example:**
        >>> r = msle([1.0, -0.5, 3.0], [0.0, 1.0, 1.0], reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.4805 0.4805 0.4805] [0.6931 0.     0.3466]
    """
    y = as_targets(targets, prediction, loss=ctx.name)
    eps = prediction.dtype.type(_KERAS_MSLE_EPSILON)
    x = np.maximum(prediction, eps)
    r = np.log1p(x) - np.log1p(np.maximum(y, eps))
    grad = np.where(prediction < eps, 0, 2 * r / (1 + x)) if ctx.want_grad else None
    return Parts(r * r, grad)


# ---------------------------------------------------------------------------------------------
# quantile (pinball)


@loss(kind="elementwise")
def quantile(prediction, targets, ctx, *, tau=0.5):
    """Quantile (pinball) loss: its minimiser is the τ-quantile of the target.

    **Value:** ℓ = τ·(y − x) where x ≤ y, (1 − τ)·(x − y) where x > y; i.e. max(τd, (τ − 1)d) with
    d = y − x. τ ∈ [0, 1] (OptionError otherwise); τ = ½ gives |x − y|/2.

    **Gradient:** ∂ℓ/∂x = −τ where x < y, 1 − τ where x > y, and 0 at the kink x = y: 0 lies in
    the subdifferential [−τ, 1 − τ] for every τ, makes x = y stationary, and matches
    :func:`absolute_error` for τ = ½. (TensorFlow Addons' formula under ``tf.GradientTape`` gives
    −τ there: ``tf.maximum`` sends a tie's gradient to its first argument.)

    **Shapes:** prediction and targets of one shape, value of that shape (elementwise).

    **Stability:** linear in x: exact for any finite error; τ = 0 or 1 gives exactly 0 on the
    free side even for an infinite error (never 0·inf = NaN).

    **Parity:** ``tfa.losses.PinballLoss(tau=τ)`` / ``tfa.losses.pinball_loss`` (TensorFlow
    Addons, archived and no longer installable) with a scalar τ: TFA averages over every axis but
    the first, so its value is "sum_over_batch_size" here for rows of equal length. The live parity
    suite checks TFA's formula written in TensorFlow ops, differentiated by ``tf.GradientTape``.

    **Example:**
        >>> r = quantile([0.5, 2.0, 1.0], [1.0, 1.0, 1.0], tau=0.9, reduction="none")
        >>> print(np.round(r.value, 4), np.round(r.grad, 4))
        [0.45 0.1  0.  ] [-0.9  0.1  0. ]
    """
    check_range("tau", tau, low=0, high=1)
    e = _error(prediction, targets, ctx)
    value = times(tau, np.maximum(-e, 0)) + times(1 - tau, np.maximum(e, 0))
    if not ctx.want_grad:
        return Parts(value, None)
    return Parts(value, (1 - tau) * np.heaviside(e, 0) - tau * np.heaviside(-e, 0))
