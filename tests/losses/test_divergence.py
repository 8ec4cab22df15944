"""Divergences and likelihoods beyond the generic contract: zero probabilities and infinite
log-probabilities, Keras's clip, PyTorch's variance clamp, the cosine floors and zero vectors, the
cosine-embedding kink and ε, the shapes a variance may take, bad inputs, and the identities and
properties that tie the family together (hypothesis).

Expected numbers come from the plain references in cases_divergence.py, from formulas written out
here, from mpmath, or from another lossgrad loss the identity names; none is typed in from
lossgrad's output.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossgrad import losses
from lossgrad.errors import DomainError, DTypeError, OptionError, ShapeError
from tests import tolerances as tol
from tests.gradcheck import central_differences
from tests.losses.cases import CASES  # noqa: F401  (first: the table imports each family's rows)
from tests.losses import cases_divergence as ref

RNG = np.random.default_rng(7)
P = RNG.dirichlet(np.full(4, 2.0), size=5)
T = RNG.dirichlet(np.full(4, 2.0), size=5)
X, Z = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4))
LOG2 = math.log(2)


def close(actual, expected, dtype=np.float64):
    tol.assert_close(actual, expected, dtype)


def numeric_grad(fn, inputs, at, **options):
    """Central differences of Σ fn(*inputs).value with respect to inputs[at]."""

    def total(x):
        moved = list(inputs)
        moved[at] = x
        return float(np.sum(fn(*moved, reduction="none", grad=False, **options).value))

    return central_differences(total, inputs[at])


def complex_step(reference, inputs, at, **options):
    out = np.zeros_like(inputs[at])
    for i in np.ndindex(out.shape):
        moved = [np.asarray(x, dtype=complex) for x in inputs]
        moved[at][i] += 1j * tol.COMPLEX_STEP
        out[i] = np.sum(reference(*moved, **options)).imag / tol.COMPLEX_STEP
    return out


# ---------------------------------------------------------------------------------------------
# kl_divergence (log-probabilities)


def test_kl_divergence_with_log_targets_matches_the_formula_and_its_derivatives():
    x, s = np.log(P), np.log(T)
    r = losses.kl_divergence(x, s, log_target=True, reduction="none")
    close(r.value, ref.ref_kl_divergence(x, s, log_target=True))
    for at, grad in enumerate((r.grad, r.grads["targets"])):
        np.testing.assert_allclose(grad, complex_step(ref.ref_kl_divergence, (x, s), at,
                                                      log_target=True),
                                   rtol=tol.COMPLEX[0], atol=tol.COMPLEX[1])
        np.testing.assert_allclose(grad, numeric_grad(losses.kl_divergence, (x, s), at,
                                                      log_target=True),
                                   rtol=tol.CENTRAL[0], atol=tol.CENTRAL[1])
    plain = losses.kl_divergence(x, T, reduction="none")
    close(r.value, plain.value)
    close(r.grad, plain.grad)
    # chain rule through s = log t: ∂ℓ/∂s = t·∂ℓ/∂t
    close(r.grads["targets"], T * plain.grads["targets"])


def test_zero_targets_weigh_their_term_exactly_zero_even_against_minus_infinity():
    x = np.array([[-np.inf, -0.5, -1.5], [-2.0, -np.inf, -0.2]])
    t = np.array([[0.0, 0.6, 0.4], [0.5, 0.5, 0.0]])
    r = losses.kl_divergence(x, t, reduction="none")
    assert r.value[0, 0] == 0 and r.grad[0, 0] == 0
    assert r.value[1, 1] == np.inf and r.grad[1, 1] == -0.5  # a target class of probability 0
    # ∂(t log t)/∂t → −∞ as t → 0⁺ (PyTorch's and optax's autodiff give NaN)
    assert r.grads["targets"][0, 0] == -np.inf and r.grads["targets"][1, 2] == -np.inf
    finite = np.isfinite(x) & (t > 0)
    close(r.value[finite], ref.ref_kl_divergence(x[finite], t[finite]))
    with np.errstate(divide="ignore"):  # log 0 = −inf is the point
        log_t = np.log(t)
    logs = losses.kl_divergence(x, log_t, log_target=True, reduction="none")
    assert logs.value[0, 0] == 0 and logs.grad[0, 0] == 0 and logs.grads["targets"][0, 0] == 0
    close(logs.value[finite], r.value[finite])


def test_optax_per_example_sums_equal_the_categorical_divergence_on_probabilities():
    """kl_divergence's per-entry values summed over the last axis are optax's per-example values;
    on probabilities that is categorical_kl_divergence."""
    per_entry = losses.kl_divergence(np.log(P), T, reduction="none")
    rows = losses.categorical_kl_divergence(P, T, reduction="none")
    close(per_entry.value.sum(-1), rows.value)
    close(per_entry.grads["targets"], rows.grads["targets"])
    close(per_entry.grad / P, rows.grad)  # ∂/∂p = ∂/∂(log p) / p


def test_batchmean_divides_by_the_batch_size_and_a_scalar_counts_as_one_sample():
    x, t = np.log(P), T
    total = losses.kl_divergence(x, t, reduction="sum")
    batch = losses.kl_divergence(x, t, reduction="batchmean")
    close(batch.value, total.value / len(x))
    close(batch.grads["targets"], total.grads["targets"] / len(x))
    w = RNG.uniform(0.5, 2.0, size=len(x))
    weighted = losses.kl_divergence(x, t, reduction="batchmean", sample_weight=w)
    close(weighted.value, np.sum(w[:, None] * ref.ref_kl_divergence(x, t)) / len(x))
    scalar = losses.kl_divergence(x[0, 0], t[0, 0], reduction="batchmean")
    close(scalar.value, ref.ref_kl_divergence(x[0, 0], t[0, 0]))
    assert np.isnan(losses.kl_divergence(x[:0], t[:0], reduction="batchmean").value)
    assert losses.kl_divergence(x[:0], t[:0], reduction="batchmean", empty="zero").value == 0
    with pytest.raises(OptionError, match="batchmean"):
        losses.squared_error(X, Z, reduction="batchmean")


@pytest.mark.parametrize("log_probs,targets,options,match", [
    (np.log(P), T - 0.5, {}, r"targets\[0, \d\].*outside \[0.0, 1.0\]"),
    (np.log(P), T + 0.5, {}, r"targets\[0, \d\]"),
    (np.log(P) + 1, T, {}, r"log_probs\[\d, \d\].*≤ 0"),
    (np.log(P), T, {"log_target": True}, r"targets\[0, 0\].*log_target=True takes"),
])
def test_kl_divergence_refuses_inputs_outside_their_domain(log_probs, targets, options, match):
    with pytest.raises(DomainError, match=match):
        losses.kl_divergence(log_probs, targets, **options)
    r = losses.kl_divergence(log_probs, targets, validate=False, reduction="none", **options)
    assert r.value.shape == log_probs.shape


# ---------------------------------------------------------------------------------------------
# categorical_kl_divergence (probabilities)


def test_keras_clips_both_inputs_to_epsilon_and_1_and_stops_the_gradient_there():
    eps = ref.KERAS_EPSILON
    p = np.array([[0.0, 0.25, 0.75], [1.0, 0.0, 0.0]])
    t = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])
    r = losses.categorical_kl_divergence(p, t, convention="keras", reduction="none")
    pc, tc = np.clip(p, eps, 1), np.clip(t, eps, 1)
    close(r.value, np.sum(tc * np.log(tc / pc), axis=-1))
    clipped_p, clipped_t = p < eps, t < eps
    assert np.all(r.grad[clipped_p] == 0) and np.all(r.grads["targets"][clipped_t] == 0)
    # at the upper bound p = 1 the gradient passes (TensorFlow's clip_by_value)
    close(r.grad[~clipped_p], (-tc / pc)[~clipped_p])
    close(r.grads["targets"][~clipped_t], (np.log(tc / pc) + 1)[~clipped_t])


def test_keras_epsilon_is_rounded_to_the_callers_dtype():
    p = np.array([[0.0, 1.0]], dtype=np.float32)
    t = np.array([[0.5, 0.5]], dtype=np.float32)
    r = losses.categorical_kl_divergence(p, t, convention="keras", reduction="none")
    eps = np.float32(ref.KERAS_EPSILON)
    expected = t[0, 0] * np.log(t[0, 0] / eps) + t[0, 1] * np.log(t[0, 1])
    assert r.value.dtype == np.float32
    tol.assert_close(r.value, [expected], np.float32)


def test_exact_divergence_is_infinite_where_the_target_puts_mass_on_a_zero_probability():
    p = np.array([[0.0, 0.5, 0.5], [0.0, 0.5, 0.5]])
    t = np.array([[0.2, 0.4, 0.4], [0.0, 0.6, 0.4]])
    r = losses.categorical_kl_divergence(p, t, reduction="none")
    assert r.value[0] == np.inf
    close(r.value[1], 0.6 * np.log(0.6 / 0.5) + 0.4 * np.log(0.4 / 0.5))
    assert r.grad[1, 0] == 0 and r.grads["targets"][1, 0] == -np.inf
    assert r.grad[0, 0] == -np.inf and r.grads["targets"][0, 0] == np.inf


def test_categorical_kl_divergence_refuses_probabilities_outside_0_1_and_takes_an_axis():
    with pytest.raises(DomainError, match=r"probs\[0, 0\] = -0.1"):
        losses.categorical_kl_divergence([[-0.1, 1.1]], [[0.5, 0.5]])
    with pytest.raises(DomainError, match=r"targets\[0, 1\] = 1.5"):
        losses.categorical_kl_divergence([[0.5, 0.5]], [[0.5, 1.5]])
    with pytest.raises(OptionError, match="convention"):
        losses.categorical_kl_divergence(P, T, convention="torch")
    columns = losses.categorical_kl_divergence(P.T, T.T, axis=0, reduction="none")
    rows = losses.categorical_kl_divergence(P, T, reduction="none")
    close(columns.value, rows.value)
    close(columns.grads["targets"], rows.grads["targets"].T)


@st.composite
def distributions(draw, min_value=0.0):
    """Pairs of (n, c) arrays whose rows are distributions (some entries may be 0)."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    weights = st.floats(min_value, 10, allow_nan=False, allow_infinity=False)
    a = draw(hnp.arrays(np.float64, (n, c), elements=weights)) + 1e-3
    b = draw(hnp.arrays(np.float64, (n, c), elements=weights)) + 1e-3
    return a / a.sum(-1, keepdims=True), b / b.sum(-1, keepdims=True)


@given(distributions())
def test_kl_is_non_negative_and_zero_from_a_distribution_to_itself(pair):
    p, t = pair
    assert np.all(losses.categorical_kl_divergence(p, t, reduction="none").value >= -1e-15)
    same = losses.categorical_kl_divergence(p, p, reduction="none")
    np.testing.assert_array_equal(same.value, 0)
    np.testing.assert_allclose(same.grad, -1, rtol=1e-15)  # −t/p at t = p
    assert np.all(losses.kl_divergence(np.log(p), p, reduction="none").value.sum(-1) == 0)


# ---------------------------------------------------------------------------------------------
# js_divergence


@given(distributions(), st.floats(0.05, 0.95))
def test_js_divergence_bounds_symmetry_and_the_swap_of_beta(pair, beta):
    q, p = pair
    x, y = np.log(q), np.log(p)
    half = losses.js_divergence(x, y, reduction="none").value.sum(-1)
    assert np.all(half >= -1e-15) and np.all(half <= LOG2 + 1e-15)
    swapped = losses.js_divergence(y, x, reduction="none").value.sum(-1)
    np.testing.assert_allclose(half, swapped, rtol=1e-12, atol=1e-15)
    r = losses.js_divergence(x, y, beta=beta, reduction="none")
    mirror = losses.js_divergence(y, x, beta=1 - beta, reduction="none")
    np.testing.assert_allclose(r.value, mirror.value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r.grad, mirror.grads["log_targets"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r.value, r.grad + r.grads["log_targets"], rtol=1e-12, atol=1e-15)


def test_js_divergence_equals_liger_s_formula_and_vanishes_for_equal_inputs():
    x, y = np.log(P), np.log(T)
    for beta in (0.5, 0.2):
        r = losses.js_divergence(x, y, beta=beta, reduction="batchmean")
        close(r.value, np.sum(ref.ref_js_divergence(x, y, beta=beta)) / len(x))
    same = losses.js_divergence(x, x, reduction="none")
    np.testing.assert_allclose(same.value, 0, atol=1e-16)


def test_small_beta_divided_by_beta_tends_to_the_forward_kl_liger_s_beta_0():
    x, y = np.log(P), np.log(T)
    beta = 1e-7
    jsd = losses.js_divergence(x, y, beta=beta, reduction="none").value.sum(-1) / beta
    forward = losses.kl_divergence(x, y, log_target=True, reduction="none").value.sum(-1)
    np.testing.assert_allclose(jsd, forward, rtol=1e-5)


def test_js_divergence_with_zero_probabilities_is_finite():
    x = np.array([[-np.inf, -np.inf, 0.0], [-np.inf, np.log(0.5), np.log(0.5)]])
    y = np.array([[-np.inf, 0.0, -np.inf], [np.log(0.5), np.log(0.5), -np.inf]])
    r = losses.js_divergence(x, y, reduction="none")
    assert np.all(np.isfinite(r.value)) and np.all(np.isfinite(r.grad))
    assert np.all(np.isfinite(r.grads["log_targets"]))
    assert r.value[0, 0] == 0 and r.grad[0, 0] == 0
    close(r.value[0].sum(), LOG2)  # disjoint supports: the maximum, log 2


@pytest.mark.parametrize("beta", [0, 1, 0.0, 1.5, -0.1, True, np.nan])
def test_beta_must_lie_strictly_between_0_and_1(beta):
    with pytest.raises(OptionError, match="beta.*kl_divergence"):
        losses.js_divergence(np.log(P), np.log(T), beta=beta)


def test_js_divergence_refuses_positive_log_probabilities():
    with pytest.raises(DomainError, match=r"log_targets\[0, 0\]"):
        losses.js_divergence(np.log(P), T)


# ---------------------------------------------------------------------------------------------
# poisson and log_poisson


def test_poisson_zero_rates_and_zero_counts():
    rates = np.array([0.0, 0.0, 0.5])
    counts = np.array([0.0, 2.0, 0.0])
    r = losses.poisson(rates, counts, reduction="none")
    np.testing.assert_array_equal(r.value, [0.0, np.inf, 0.5])
    np.testing.assert_array_equal(r.grad, [1.0, -np.inf, 1.0])
    floored = losses.poisson(rates, counts, eps=1e-8, reduction="none")
    close(floored.value, rates - counts * np.log(rates + 1e-8))
    close(floored.grad, 1 - counts / (rates + 1e-8))


def test_poisson_epsilon_is_rounded_to_the_callers_dtype():
    r = losses.poisson(np.float32([0.0]), np.float32([3.0]), eps=1e-7, reduction="none")
    assert r.value.dtype == np.float32
    assert r.value[0] == np.float32(-3.0) * np.log(np.float32(1e-7))


def test_stirling_term_is_added_only_above_1_and_approximates_log_factorial():
    counts = np.array([0.0, 1.0, 1.5, 4.0, 30.0])
    x = np.zeros_like(counts)
    extra = (losses.log_poisson(x, counts, full=True, reduction="none").value
             - losses.log_poisson(x, counts, reduction="none").value)
    assert extra[0] == 0 and extra[1] == 0
    y = counts[2:]
    close(extra[2:], y * np.log(y) - y + 0.5 * np.log(2 * np.pi * y))
    log_factorial = np.array([float(mpmath.loggamma(v + 1)) for v in y[1:]])
    # Stirling's series falls short of log y! by about 1/(12y)
    np.testing.assert_allclose(log_factorial - extra[3:], 1 / (12 * y[1:]), rtol=0.05)
    rates = np.exp(x) + 1.0
    same = (losses.poisson(rates, counts, full=True, reduction="none").value
            - losses.poisson(rates, counts, reduction="none").value)
    close(same, extra)


def test_poisson_of_exp_is_log_poisson():
    x, counts = ref.log_rates_and_counts(np.random.default_rng(3), 5)
    log = losses.log_poisson(x, counts, full=True, reduction="none")
    rate = losses.poisson(np.exp(x), counts, full=True, reduction="none")
    close(log.value, rate.value)
    close(log.grad, rate.grad * np.exp(x))  # chain rule through λ = e^x


def test_log_poisson_at_infinite_log_rates_and_overflow():
    x = np.array([-np.inf, -np.inf, 800.0])
    counts = np.array([0.0, 2.0, 1.0])
    r = losses.log_poisson(x, counts, reduction="none")
    np.testing.assert_array_equal(r.value, [0.0, np.inf, np.inf])
    np.testing.assert_array_equal(r.grad, [0.0, -2.0, np.inf])


@pytest.mark.parametrize("call,match", [
    (lambda: losses.poisson([-0.5, 1.0], [1.0, 1.0]), r"rates\[0\] = -0.5.*log_poisson"),
    (lambda: losses.poisson([0.5, 1.0], [1.0, -2.0]), r"targets\[1\] = -2.0.*counts"),
    (lambda: losses.log_poisson([0.5, 1.0], [-1.0, 1.0]), r"targets\[0\] = -1.0"),
])
def test_negative_rates_and_counts_are_refused(call, match):
    with pytest.raises(DomainError, match=match):
        call()


def test_poisson_options_are_checked():
    with pytest.raises(OptionError, match="eps"):
        losses.poisson([1.0], [1.0], eps=-1e-8)
    with pytest.raises(OptionError, match="eps"):
        losses.poisson([1.0], [1.0], eps=np.nan)


# ---------------------------------------------------------------------------------------------
# gaussian_nll


MEAN, TARGET = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))


@pytest.mark.parametrize("var_shape", [(4, 3), (4, 1), (4,), (1, 3), ()])
def test_a_shared_variance_gets_the_sum_of_the_gradients_of_the_entries_it_serves(var_shape):
    var = np.random.default_rng(1).uniform(0.5, 2.0, size=var_shape)
    aligned = var.reshape(var_shape + (1,)) if var_shape == (4,) else var
    full = np.broadcast_to(aligned, MEAN.shape).copy()
    shared = losses.gaussian_nll(MEAN, TARGET, var, reduction="none")
    expanded = losses.gaussian_nll(MEAN, TARGET, full, reduction="none")
    np.testing.assert_array_equal(shared.value, expanded.value)
    np.testing.assert_array_equal(shared.grad, expanded.grad)
    assert shared.grads["var"].shape == var_shape
    per_entry = expanded.grads["var"]
    summed = {(4, 3): per_entry, (4, 1): per_entry.sum(1, keepdims=True),
              (4,): per_entry.sum(1), (1, 3): per_entry.sum(0, keepdims=True),
              (): per_entry.sum()}[var_shape]
    close(shared.grads["var"], summed)
    np.testing.assert_allclose(shared.grads["var"],
                               numeric_grad(losses.gaussian_nll, (MEAN, TARGET, var), 2),
                               rtol=tol.CENTRAL[0], atol=tol.CENTRAL[1])


@pytest.mark.parametrize("var_shape", [(3,), (1, 1), (4, 3, 1), (2, 3), (1,)])
def test_variances_that_pytorch_refuses_are_shape_errors(var_shape):
    with pytest.raises(ShapeError, match=rf"gaussian_nll: var of shape {re_shape(var_shape)}"):
        losses.gaussian_nll(MEAN, TARGET, np.ones(var_shape))


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_variances_below_eps_are_clamped_and_their_gradient_passes_straight_through():
    """PyTorch clamps var in place under torch.no_grad(): the value uses max(v, ε), and autograd's
    gradient for var is the formula at the clamped value, not the value's derivative (0 there)."""
    var = np.array([[0.0, 1e-9, 1e-6, 0.5]])
    mean, target = np.array([[0.3, -0.2, 0.1, 0.4]]), np.zeros((1, 4))
    eps = 1e-6
    r = losses.gaussian_nll(mean, target, var, eps=eps, reduction="none")
    v = np.maximum(var, eps)
    close(r.value, 0.5 * (np.log(v) + mean**2 / v))
    close(r.grad, mean / v)
    close(r.grads["var"], 0.5 * (1 / v - mean**2 / v**2))
    assert np.all(r.grads["var"][0, :2] != 0)
    coarse = losses.gaussian_nll(mean, target, var, eps=0.1, reduction="none")
    v = np.array([[0.1, 0.1, 0.1, 0.5]])
    close(coarse.value, 0.5 * (np.log(v) + mean**2 / v))


def test_negative_variance_raises_as_in_pytorch_or_is_clamped_without_validation():
    var = np.array([[1.0, -0.5, 1.0]])
    with pytest.raises(DomainError, match=r"var\[0, 1\] = -0.5 is negative"):
        losses.gaussian_nll(MEAN[:1], TARGET[:1], var)
    r = losses.gaussian_nll(MEAN[:1], TARGET[:1], var, validate=False, reduction="none")
    e = MEAN[0, 1] - TARGET[0, 1]
    close(r.value[0, 1], 0.5 * (np.log(1e-6) + e**2 / 1e-6))


def test_full_adds_half_log_two_pi_and_the_variance_may_be_a_python_float():
    plain = losses.gaussian_nll(MEAN, TARGET, 2.0, reduction="none")
    full = losses.gaussian_nll(MEAN, TARGET, 2.0, full=True, reduction="none")
    close(full.value - plain.value, np.full(MEAN.shape, 0.5 * math.log(2 * math.pi)))
    close(plain.value, 0.5 * (np.log(2.0) + (MEAN - TARGET) ** 2 / 2.0))
    assert plain.grads["var"].shape == ()
    with pytest.raises(DTypeError, match="var"):
        losses.gaussian_nll(MEAN, TARGET, np.ones(MEAN.shape, dtype=complex))
    with pytest.raises(OptionError, match="eps"):
        losses.gaussian_nll(MEAN, TARGET, 1.0, eps=-1.0)


# ---------------------------------------------------------------------------------------------
# cosine losses


def test_exact_cosine_of_a_zero_vector_is_0_with_gradient_0():
    x = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
    t = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    r = losses.cosine_similarity(x, t, reduction="none")
    np.testing.assert_array_equal(r.value, [0.0, 0.0])
    np.testing.assert_array_equal(r.grad[0], 0)
    np.testing.assert_array_equal(r.grads["targets"][1], 0)
    # the non-zero vector of each pair: d(x·0)/dx = 0 as well
    np.testing.assert_array_equal(r.grad[1], 0)


def test_keras_floors_each_norm_at_epsilon_so_a_zero_vector_has_a_finite_gradient():
    """Keras's l2-normalisation: x·min(1/‖x‖, 1/ε). Against a zero target the loss is −x·0 = 0,
    and the zero target's gradient is −x̂/ε (Keras gives −4.36e6 for this row)."""
    eps = ref.KERAS_EPSILON
    x = np.array([[1.0, 2.0, 0.5], [1e-8, 0.0, 0.0]])
    t = np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]])
    r = losses.cosine_similarity(x, t, convention="keras", reduction="none")
    close(r.value, [0.0, -(1e-8 / eps) * 0.6])
    close(r.grads["targets"][0], -x[0] / np.linalg.norm(x[0]) / eps)
    close(r.grad[1], -t[1] / 5 / eps)  # the floored norm is a constant
    exact = losses.cosine_similarity(x[1:] * 1e8, t[1:], reduction="none")
    close(exact.value, [0.6])


def test_epsilon_floors_the_squared_norm_as_optax_does():
    x, t = np.array([[1e-4, 0.0]]), np.array([[1.0, 1.0]])
    r = losses.cosine_similarity(x, t, epsilon=1e-6, reduction="none")
    close(r.value, [1e-4 / 1e-3 / np.sqrt(2)])
    close(r.grad, t / np.sqrt(2) / 1e-3)
    with pytest.raises(OptionError, match="epsilon"):
        losses.cosine_similarity(x, t, epsilon=-1.0)


# Entries 0 or of magnitude ≥ 1e-6: scaling a subnormal vector by 1e-3 would make it 0.
entries = st.one_of(st.just(0.0), st.floats(1e-6, 10), st.floats(-10, -1e-6))


@given(hnp.arrays(np.float64, (3, 4), elements=entries),
       hnp.arrays(np.float64, (3, 4), elements=entries),
       st.floats(1e-3, 1e3), st.floats(1e-3, 1e3))
def test_cosine_is_bounded_scale_invariant_and_its_gradient_is_orthogonal(x, t, a, b):
    r = losses.cosine_similarity(x, t, reduction="none")
    assert np.all(np.abs(r.value) <= 1 + 1e-15)
    scaled = losses.cosine_similarity(a * x, b * t, reduction="none")
    np.testing.assert_allclose(scaled.value, r.value, rtol=1e-12, atol=1e-15)
    # cos is homogeneous of degree 0 in x: Σ x·∂cos/∂x = 0
    np.testing.assert_allclose(np.sum(x * r.grad, axis=-1), 0, atol=1e-12)


def test_huge_vectors_do_not_overflow_the_norm():
    r = losses.cosine_similarity(X * 1e200, Z * 1e-200, reduction="none")
    plain = losses.cosine_similarity(X, Z, reduction="none")
    close(r.value, plain.value)
    close(r.grad * 1e200, plain.grad)


def test_cosine_distance_is_one_minus_the_similarity_and_the_axis_is_an_option():
    sim = losses.cosine_similarity(X, Z, reduction="none")
    dist = losses.cosine_distance(X, Z, reduction="none")
    close(dist.value, 1 - sim.value)
    close(dist.grad, -sim.grad)
    close(dist.grads["targets"], -sim.grads["targets"])
    keras = losses.cosine_similarity(X, Z, convention="keras", reduction="none")
    close(keras.value, -sim.value)
    transposed = losses.cosine_similarity(X.T, Z.T, axis=0, reduction="none")
    close(transposed.value, sim.value)
    close(transposed.grad, sim.grad.T)
    with pytest.raises(ShapeError):
        losses.cosine_similarity(X, Z[:, :3])


def test_cosine_embedding_epsilon_is_float32_1e_12_added_to_each_squared_norm():
    x1, x2 = np.array([[1e-6, 0.0], [1e-7, 0.0]]), np.array([[1.0, 0.0], [2.0, 0.0]])
    r = losses.cosine_embedding(x1, x2, [1, 1], reduction="none")
    eps = float(np.float32(1e-12))
    cos = x1[:, 0] * x2[:, 0] / np.sqrt((x1[:, 0] ** 2 + eps) * (x2[:, 0] ** 2 + eps))
    close(r.value, 1 - cos)
    assert 0.29 < r.value[0] < 0.30  # 1e-8 on the norms would give ≈ 0.99


def test_cosine_embedding_gradient_passes_at_the_margin_and_zero_vectors_are_finite():
    """x1 = 0 gives cos = 0 exactly: with margin 0 that is the kink of max(0, cos − margin), where
    PyTorch's clamp_min passes the gradient ∂cos/∂x1 = x2/√(ε·b)."""
    x1, x2 = np.zeros((1, 3)), np.array([[1.0, 2.0, 2.0]])
    eps = ref.TORCH_COSINE_EPSILON
    r = losses.cosine_embedding(x1, x2, [-1], reduction="none")
    assert r.value[0] == 0
    close(r.grad, x2 / np.sqrt(eps * (9 + eps)))
    np.testing.assert_array_equal(r.grads["x2"], 0)
    above = losses.cosine_embedding(x1, x2, [-1], margin=1e-9, reduction="none")
    np.testing.assert_array_equal(above.grad, 0)
    similar = losses.cosine_embedding(x1, x2, [1], reduction="none")
    assert similar.value[0] == 1 and np.all(np.isfinite(similar.grad))
    close(similar.grad, -r.grad)


def test_cosine_embedding_targets_are_plus_or_minus_one_of_the_pairs_shape():
    y = np.array([1, -1, 1, -1, 1])
    with pytest.raises(DomainError, match=r"y\[2\] = 0.*2\*y - 1"):
        losses.cosine_embedding(X, Z, [1, -1, 0, -1, 1])
    loose = losses.cosine_embedding(X, Z, [1, -1, 0, -1, 1], validate=False, reduction="none")
    assert np.isnan(loose.value[2]) and np.all(np.isfinite(np.delete(loose.value, 2)))
    with pytest.raises(ShapeError, match=r"y of shape \(5, 1\)"):
        losses.cosine_embedding(X, Z, y[:, None])
    with pytest.raises(DTypeError, match="y must be real"):
        losses.cosine_embedding(X, Z, y.astype(complex))
    with pytest.raises(OptionError, match="margin"):
        losses.cosine_embedding(X, Z, y, margin=np.inf)
    single = losses.cosine_embedding(X[0], Z[0], np.float64(1), reduction="none")
    batch = losses.cosine_embedding(X[:1], Z[:1], y[:1], reduction="none")
    assert single.value.shape == ()
    close(single.value, batch.value[0])
    close(single.grad, batch.grad[0])
