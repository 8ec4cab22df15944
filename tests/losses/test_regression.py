"""Regression losses beyond the generic contract: framework reductions and seed 000's use of MSE,
the subgradient at each kink, Keras's ε floors and log 2, options, extreme errors, and the
identities that tie the family together (hypothesis).

Expected numbers come from the plain references in cases_regression.py, from mpmath at 40 digits, or
from another lossgrad loss the identity names; none is typed in. At a kink the one-sided
derivatives come from central differences of the reference at a point nudged onto each piece;
inputs, nudges and steps are dyadic, so for the linear pieces the differences are exact.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossgrad import losses, one_hot, softmax, softmax_jacobian
from lossgrad.errors import DTypeError, OptionError, ShapeError
from tests import tolerances as tol
from tests.losses.cases import CASES  # noqa: F401  (first: the table imports each family's rows)
from tests.losses import cases_regression as ref

STEP = 2.0**-10
NUDGE = 2.0**-4
ELEMENTWISE = ("squared_error", "absolute_error", "huber", "smooth_l1", "log_cosh", "mape", "msle",
               "quantile")


def one_sided(reference, x, y, **opts):
    """(left, right) derivatives of Σ reference at x: central differences at x ∓ NUDGE."""

    def slope(at):
        return (reference(at + STEP, y, **opts) - reference(at - STEP, y, **opts)) / (2 * STEP)

    return slope(x - NUDGE), slope(x + NUDGE)


def grad_of(name, x, y, **opts):
    return losses.get(name)(x, y, reduction="none", **opts).grad


# ---------------------------------------------------------------------------------------------
# squared error (and seed 000)


def test_squared_error_value_and_gradient_with_integer_targets():
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    y = np.array([[1, 0], [2, 5]])
    r = losses.squared_error(x, y, reduction="none")
    np.testing.assert_array_equal(r.value, (x - y) ** 2)
    np.testing.assert_array_equal(r.grad, 2 * (x - y))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_targets_are_never_broadcast(name):
    with pytest.raises(ShapeError, match=r"\(4, 1\).*\(4,\)"):
        losses.get(name)(np.zeros(4), np.zeros((4, 1)))
    with pytest.raises(DTypeError, match="real numbers"):
        losses.get(name)(np.zeros(4), np.zeros(4, dtype=complex))


def test_keras_mse_is_the_mean_over_the_last_axis_then_the_batch():
    rng = np.random.default_rng(0)
    x, y, w = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), rng.uniform(0.1, 2.0, size=5)
    per_sample = np.mean((x - y) ** 2, axis=-1)  # keras.losses.mean_squared_error
    tol.assert_close(float(losses.squared_error(x, y)), np.mean(per_sample), np.float64)
    # Keras's default reduction with sample weights: Σ w·mse / N.
    weighted = losses.squared_error(x, y, sample_weight=w, reduction="sum_over_batch_size")
    tol.assert_close(float(weighted), np.sum(w * per_sample) / 5, np.float64)


def test_seed_000_mse_on_softmax_probabilities_and_its_bias_gradient():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4)), rng.standard_normal((4, 3))
    target = one_hot([2, 0], 3, dtype=np.float64)

    def loss_of_bias(b):
        return np.mean((softmax(x @ w + b) - target) ** 2)

    logits = x @ w
    r = losses.squared_error(softmax(logits), target)
    tol.assert_close(float(r), loss_of_bias(np.zeros(3)), np.float64)
    db = np.einsum("ni,nij->j", r.grad, softmax_jacobian(logits))
    h = tol.CENTRAL_STEP
    numeric = [(loss_of_bias(h * e) - loss_of_bias(-h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(db, numeric, rtol=tol.CENTRAL[0], atol=tol.CENTRAL[1])


# ---------------------------------------------------------------------------------------------
# kinks


@pytest.mark.parametrize("name,opts", [("absolute_error", {}), ("mape", {}), ("smooth_l1",
                                                                            {"beta": 0.0}),
                                       ("quantile", {}), ("quantile", {"tau": 0.1}),
                                       ("quantile", {"tau": 1.0})])
def test_the_gradient_at_x_equal_y_is_0_inside_the_subdifferential(name, opts):
    """sign(0) = 0, what PyTorch's and TensorFlow's |·| give (the live parity suite checks
    absolute_error, mape and smooth_l1 against them at exact ties)."""
    y = np.array([-1.5, 0.75, 2.0])
    x = y.copy()
    reference = getattr(ref, f"ref_{name}")
    left, right = one_sided(reference, x, y, **opts)
    assert np.all(left < right)  # a genuine kink: the one-sided slopes differ
    grad = grad_of(name, x, y, **opts)
    np.testing.assert_array_equal(grad, np.zeros_like(x))
    assert np.all((left <= grad) & (grad <= right))


@pytest.mark.parametrize("name,width,opts", [("huber", 1.0, {}), ("huber", 0.5, {"delta": 0.5}),
                                             ("smooth_l1", 1.0, {}),
                                             ("smooth_l1", 0.5, {"beta": 0.5})])
def test_huber_and_smooth_l1_joins_have_one_gradient(name, width, opts):
    """At |e| = δ (β) the gradient is the linear piece's slope, which the quadratic piece's slope
    reaches there: the gradient is continuous."""
    y = np.array([0.25, 0.25, -1.0, 2.0])
    x = y + np.array([width, -width, width, -width])
    reference = getattr(ref, f"ref_{name}")
    left, right = one_sided(reference, x, y, **opts)
    outside, inside = np.where(x > y, right, left), np.where(x > y, left, right)
    # The quadratic piece's slope changes at the rate c = ℓ'' (1 for Huber, 1/β for smooth L1), so
    # NUDGE inside the join it is c·NUDGE short of the linear piece's.
    curvature = 1.0 if name == "huber" else 1 / width
    np.testing.assert_allclose(inside, outside - np.sign(x - y) * curvature * NUDGE, rtol=0,
                               atol=1e-15)
    np.testing.assert_array_equal(grad_of(name, x, y, **opts), outside)


def test_smooth_l1_with_beta_0_is_exactly_the_l1_loss():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    x[0] = y[0]
    l1 = losses.absolute_error(x, y, reduction="none")
    smooth = losses.smooth_l1(x, y, beta=0.0, reduction="none")
    np.testing.assert_array_equal(smooth.value, l1.value)
    np.testing.assert_array_equal(smooth.grad, l1.grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_msle_floor_is_float32_epsilon_and_its_gradient_passes_at_the_floor(dtype):
    """Keras 3 compares with float32(1e-7) in every dtype; tf.maximum's gradient passes at a tie."""
    eps = np.float32(ref.KERAS_EPSILON)
    x = np.array([-0.5, 0.0, 1e-7, eps, 2.0], dtype=dtype)
    y = np.full(5, 1.0, dtype=dtype)
    r = losses.msle(x, y, reduction="none")
    tol.assert_close(r.value, ref.ref_msle(x.astype(np.float64), y.astype(np.float64)), dtype)
    floored = x < eps  # in float64, 1e-7 is below float32(1e-7) = 1.0000000116860974e-07
    np.testing.assert_array_equal(r.grad[floored], 0)
    assert np.all(r.grad[~floored] != 0)
    assert floored[2] == (dtype == np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mape_floor_is_epsilon_in_the_callers_dtype(dtype):
    """A zero target divides by ε = 1e-7 rounded to the input's dtype, as Keras converts it."""
    x = np.array([0.5, -2.0], dtype=dtype)
    y = np.zeros(2, dtype=dtype)
    r = losses.mape(x, y, reduction="none")
    eps = float(dtype(ref.KERAS_EPSILON))
    expected = 100 * np.abs(x.astype(np.float64)) / eps
    tol.assert_close(r.value, expected, dtype)
    tol.assert_close(r.grad, 100 * np.sign(x.astype(np.float64)) / eps, dtype)
    assert np.all(np.isfinite(r.value)) and np.all(np.isfinite(r.grad))


def test_log_cosh_keras_convention_subtracts_float32_log_2():
    """Keras's ``ops.log(2.0)`` is a float32 tensor: in float64 its log-cosh is 1.9e-9 low (and
    negative at tiny errors); in float32 the two conventions agree bit for bit."""
    e = np.array([1e-5, 0.5, 3.0, -80.0])
    y = np.zeros_like(e)
    keras = losses.log_cosh(e, y, convention="keras", reduction="none")
    tol.assert_close(keras.value, ref.ref_log_cosh(e, y, convention="keras"), np.float64)
    assert keras.value[0] < 0
    np.testing.assert_array_equal(keras.grad, losses.log_cosh(e, y, reduction="none").grad)
    e32, y32 = e.astype(np.float32), y.astype(np.float32)
    np.testing.assert_array_equal(losses.log_cosh(e32, y32, convention="keras").value,
                                  losses.log_cosh(e32, y32).value)
    with pytest.raises(OptionError, match="convention"):
        losses.log_cosh(e, y, convention="torch")


# ---------------------------------------------------------------------------------------------
# options


@pytest.mark.parametrize("name,option,bad", [
    ("huber", "delta", 0.0), ("huber", "delta", -1.0), ("huber", "delta", np.nan),
    ("huber", "delta", np.inf), ("huber", "delta", True), ("smooth_l1", "beta", -0.5),
    ("smooth_l1", "beta", np.inf), ("quantile", "tau", -0.1), ("quantile", "tau", 1.5),
    ("quantile", "tau", np.nan)])
def test_options_outside_their_range_raise(name, option, bad):
    with pytest.raises(OptionError, match=rf"{option} must be"):
        losses.get(name)(np.zeros(3), np.ones(3), **{option: bad})


# ---------------------------------------------------------------------------------------------
# extreme errors


def _mp_log_cosh(e):
    with mpmath.workdps(40):
        e = mpmath.mpf(float(e))
        return float(mpmath.log(mpmath.cosh(e))), float(mpmath.tanh(e))


@pytest.mark.parametrize("dtype,errors", [
    (np.float64, [1e-8, -1e-4, 0.3, 0.999, 1.0, -3.0, 700.0, -1e3, 1e5, 1e300]),
    (np.float32, [1e-4, -0.3, 1.0, 88.0, -100.0, 1e4, 1e30]),
])
def test_log_cosh_is_exact_for_tiny_and_huge_errors(dtype, errors):
    """cosh overflows past 710 (89 in float32), and |e| + softplus(−2|e|) − log 2 cancels for small
    errors; both ends must keep their digits."""
    e = np.array(errors, dtype=dtype)
    r = losses.log_cosh(e, np.zeros_like(e), reduction="none")
    expected = np.array([_mp_log_cosh(v) for v in e.astype(np.float64)])
    rtol = tol.REFERENCE[np.dtype(dtype)][0]
    np.testing.assert_allclose(r.value, expected[:, 0], rtol=rtol, atol=0)
    np.testing.assert_allclose(r.grad, expected[:, 1], rtol=rtol, atol=0)


@pytest.mark.parametrize("name,opts", [("huber", {}), ("smooth_l1", {}), ("absolute_error", {}),
                                       ("quantile", {"tau": 0.3}), ("log_cosh", {})])
def test_linear_tails_are_finite_at_huge_errors(name, opts):
    e = np.array([1e300, -1e300, 1e30])
    r = losses.get(name)(e, np.zeros(3), reduction="none", **opts)
    if name == "log_cosh":
        expected = np.abs(e) - np.log(2)  # log1p(e^{−2|e|}) is far below an ulp here
    else:
        with np.errstate(over="ignore"):  # np.where also evaluates the unused quadratic piece
            expected = getattr(ref, f"ref_{name}")(e, np.zeros(3), **opts)
    np.testing.assert_allclose(r.value, expected, rtol=1e-15)
    assert np.all(np.isfinite(r.grad))


@pytest.mark.parametrize("tau", [0.0, 1.0])
def test_quantile_at_tau_0_or_1_gives_0_not_nan_on_its_free_side(tau):
    """τ = 1 charges only under-prediction (x < y), τ = 0 only over-prediction."""
    e = np.array([np.inf, -np.inf, 2.0, -2.0])
    r = losses.quantile(e, np.zeros(4), tau=tau, reduction="none")
    free = e > 0 if tau == 1.0 else e < 0
    np.testing.assert_array_equal(r.value[free], 0)
    np.testing.assert_array_equal(r.value[~free], np.abs(e[~free]))
    assert not np.isnan(r.grad).any()


# ---------------------------------------------------------------------------------------------
# identities of the family (hypothesis)

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def pairs(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=5))
    return (draw(hnp.arrays(np.float64, shape, elements=finite)),
            draw(hnp.arrays(np.float64, shape, elements=finite)))


positive = st.floats(1e-3, 10, allow_nan=False)


@given(pairs())
def test_huber_is_half_the_squared_error_when_delta_exceeds_every_error(data):
    x, y = data
    delta = float(np.max(np.abs(x - y), initial=0.0)) + 1.0
    huber = losses.huber(x, y, delta=delta, reduction="none")
    squared = losses.squared_error(x, y, reduction="none")
    tol.assert_close(huber.value, squared.value / 2, np.float64)
    tol.assert_close(huber.grad, squared.grad / 2, np.float64)


@given(pairs(), positive)
def test_huber_over_delta_is_smooth_l1_with_beta_delta(data, delta):
    x, y = data
    huber = losses.huber(x, y, delta=delta, reduction="none")
    smooth = losses.smooth_l1(x, y, beta=delta, reduction="none")
    tol.assert_close(huber.value / delta, smooth.value, np.float64)
    tol.assert_close(huber.grad / delta, smooth.grad, np.float64)


@given(pairs(), st.floats(1e-12, 1.0))
def test_smooth_l1_tends_to_l1_as_beta_goes_to_0(data, beta):
    """0 ≤ |e| − smooth_l1 ≤ β/2: the gap closes with β."""
    x, y = data
    gap = (losses.absolute_error(x, y, reduction="none").value
           - losses.smooth_l1(x, y, beta=beta, reduction="none").value)
    assert np.all(gap >= -1e-12) and np.all(gap <= beta / 2 + 1e-12)


@given(hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-0.5, 0.5)))
def test_log_cosh_is_half_the_square_near_0(e):
    """log cosh e = e²/2 − e⁴/12 + …: 0 ≤ e²/2 − ℓ ≤ e⁴/12 for |e| ≤ ½."""
    value = losses.log_cosh(e, np.zeros_like(e), reduction="none").value
    gap = e**2 / 2 - value
    # Relative rounding, plus a few of the smallest subnormal: below ~1e-154, e² is subnormal and
    # its spacing is absolute.
    rounding = 1e-15 * e**2 + 4 * np.finfo(np.float64).smallest_subnormal
    assert np.all(gap >= -rounding) and np.all(gap <= e**4 / 12 + rounding)


@given(hnp.arrays(np.float64, st.integers(1, 8),
                  elements=st.floats(2, 1e6) | st.floats(-1e6, -2)))
def test_log_cosh_is_abs_minus_log_2_far_away(e):
    """ℓ − (|e| − log 2) = log1p(e^{−2|e|}) ∈ [0, e^{−2|e|}]."""
    value = losses.log_cosh(e, np.zeros_like(e), reduction="none").value
    gap = value - (np.abs(e) - np.log(2))
    rounding = 1e-15 * np.abs(e)
    assert np.all(gap >= -rounding) and np.all(gap <= np.exp(-2 * np.abs(e)) + rounding)


@given(pairs())
def test_quantile_one_half_is_half_the_absolute_error(data):
    x, y = data
    x = np.where(np.arange(x.size).reshape(x.shape) % 3 == 0, y, x)  # exact ties included
    half = losses.quantile(x, y, tau=0.5, reduction="none")
    l1 = losses.absolute_error(x, y, reduction="none")
    np.testing.assert_array_equal(half.value, l1.value / 2)
    np.testing.assert_array_equal(half.grad, l1.grad / 2)


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(data=pairs())
def test_non_negative_and_zero_with_zero_gradient_at_a_perfect_prediction(name, data):
    x, y = data
    fn = losses.get(name)
    assert np.all(fn(x, y, reduction="none").value >= 0)
    perfect = fn(y, y, reduction="none")
    np.testing.assert_array_equal(perfect.value, 0)
    np.testing.assert_array_equal(perfect.grad, 0)


# ---------------------------------------------------------------------------------------------
# registry


@pytest.mark.parametrize("alias,name", [
    *[(a, "squared_error") for a in ("MeanSquaredError", "mean_squared_error", "mse", "MSE",
                                     "MSELoss", "mse_loss", "squared_error")],
    *[(a, "absolute_error") for a in ("MeanAbsoluteError", "mean_absolute_error", "mae", "MAE",
                                      "L1Loss", "l1_loss")],
    *[(a, "huber") for a in ("Huber", "HuberLoss", "huber_loss")],
    *[(a, "smooth_l1") for a in ("SmoothL1Loss", "smooth_l1_loss")],
    *[(a, "log_cosh") for a in ("LogCosh", "logcosh")],
    *[(a, "mape") for a in ("MeanAbsolutePercentageError", "mean_absolute_percentage_error",
                            "MAPE")],
    *[(a, "msle") for a in ("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error",
                            "MSLE")],
    *[(a, "quantile") for a in ("PinballLoss", "pinball_loss")],
])
def test_framework_names_resolve(alias, name):
    assert losses.get(alias).__name__ == name
