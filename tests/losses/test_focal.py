"""Focal, poly-1 and generalized cross-entropy: what the generic contract tests cannot see.

Expected numbers come from plain formulas evaluated here (mpmath at 50 digits, or NumPy in the
stated dtype), or from the lossgrad loss a focal loss must reduce to; none is typed in. The zeros
pinned for "keras"/"torch" at saturation are those conventions' defining behaviour.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from lossgrad import losses
from lossgrad.errors import DomainError, LabelRangeError, OptionError, ShapeError
from tests import tolerances as tol

_ALPHA4 = np.array([0.5, 2.0, 0.25, 1.0])
#: The saturated values below span 1e-131 … 1e4: compared relatively, with no absolute floor.
RTOL64 = tol.REFERENCE[np.dtype(np.float64)][0]
RTOL32 = tol.REFERENCE[np.dtype(np.float32)][0]


def _mp_value_and_slope(f, x):
    """f(x) and f'(x) at 50 digits, as floats."""
    with mpmath.workdps(50):
        x = mpmath.mpf(float(x))
        return float(f(x)), float(mpmath.diff(f, x))


def _mp_sigmoid_focal(y, gamma):
    """x ↦ (1 − p_t)^γ·BCE-with-logits, with 1 − p_t taken as σ(∓x), never as a difference."""

    def f(x):
        ce = y * mpmath.log1p(mpmath.exp(-x)) + (1 - y) * mpmath.log1p(mpmath.exp(x))
        u = y / (1 + mpmath.exp(x)) + (1 - y) / (1 + mpmath.exp(-x))
        return u**gamma * ce

    return f


def _mp_binary_focal(y, gamma):
    def f(p):
        u = y * (1 - p) + (1 - y) * p
        return u**gamma * -(y * mpmath.log(p) + (1 - y) * mpmath.log(1 - p))

    return f


def _rng_logits(shape, seed=0):
    return np.random.default_rng(seed).normal(scale=2.0, size=shape)


def _rng_probs(shape, seed=0):
    return np.random.default_rng(seed).dirichlet(np.full(shape[-1], 2.0), size=shape[:-1])


# ---------------------------------------------------------------------------------------------
# γ = 0 (and ε = 0) is the cross-entropy


@pytest.mark.parametrize("convention", ["exact", "keras", "torch"])
def test_sigmoid_focal_with_gamma_0_is_sigmoid_cross_entropy(convention):
    x = np.concatenate([_rng_logits(12), [-1e4, -40.0, 40.0, 1e4]])
    y = np.random.default_rng(1).uniform(size=x.shape).round(1)
    focal = losses.sigmoid_focal(x, y, gamma=0.0, label_smoothing=0.1, convention=convention,
                                 reduction="none")
    # The reference path: focal is built on its formulas, so the two agree bit for bit.
    ce = losses.sigmoid_binary_cross_entropy(x, y, label_smoothing=0.1, reduction="none",
                                             kernel="reference")
    np.testing.assert_array_equal(focal.value, ce.value)
    np.testing.assert_array_equal(focal.grad, ce.grad)


@pytest.mark.parametrize("convention", ["exact", "keras"])
def test_binary_focal_with_gamma_0_is_binary_cross_entropy(convention):
    p = np.array([0.0, 1.0, 1.0, 0.0, 1e-9, 0.3, 0.999])
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.5, 1.0, 0.2])
    for dtype in (np.float64, np.float32):
        focal = losses.binary_focal(p.astype(dtype), y, gamma=0.0, convention=convention,
                                    reduction="none")
        ce = losses.binary_cross_entropy(p.astype(dtype), y, convention=convention, reduction="none")
        np.testing.assert_array_equal(focal.value, ce.value)
        np.testing.assert_array_equal(focal.grad, ce.grad)


def test_softmax_focal_with_gamma_0_is_softmax_cross_entropy():
    x = _rng_logits((6, 4))
    t = _rng_probs((6, 4), seed=1)
    labels = np.random.default_rng(2).integers(0, 4, size=6)
    pairs = [(losses.softmax_focal(x, t, gamma=0.0, label_smoothing=0.1, reduction="none"),
              losses.softmax_cross_entropy(x, t, label_smoothing=0.1, reduction="none")),
             (losses.softmax_focal(x, labels, gamma=0.0, reduction="none"),
              losses.sparse_softmax_cross_entropy(x, labels, reduction="none")),
             (losses.poly1_cross_entropy(x, t, epsilon=0.0, reduction="none"),
              losses.softmax_cross_entropy(x, t, reduction="none"))]
    for focal, ce in pairs:
        tol.assert_close(focal.value, ce.value, np.float64)
        tol.assert_close(focal.grad, ce.grad, np.float64)


@pytest.mark.parametrize("convention", ["exact", "keras"])
def test_categorical_focal_with_gamma_0_is_categorical_cross_entropy(convention):
    p = _rng_probs((6, 4))
    p[0] = [0.0, 1.0, 0.0, 0.0]  # Keras clips both ends of this row
    t = _rng_probs((6, 4), seed=1)
    focal = losses.categorical_focal(p, t, gamma=0.0, convention=convention, reduction="none")
    ce = losses.categorical_cross_entropy(p, t, convention=convention, reduction="none")
    tol.assert_close(focal.value, ce.value, np.float64)
    tol.assert_close(focal.grad, ce.grad, np.float64)


def test_generalized_cross_entropy_tends_to_the_cross_entropy_as_q_goes_to_0():
    p = _rng_probs((5, 3))
    labels = np.array([0, 1, 2, 1, 0])
    gce = losses.categorical_generalized_cross_entropy(p, labels, q=1e-8, reduction="none")
    ce = losses.sparse_categorical_cross_entropy(p, labels, reduction="none")
    np.testing.assert_allclose(gce.value, ce.value, rtol=1e-7)  # (1 − p^q)/q = −log p + O(q)
    np.testing.assert_allclose(gce.grad, ce.grad, rtol=1e-7)


# ---------------------------------------------------------------------------------------------
# saturation: the conventions pinned


@pytest.mark.parametrize("gamma", [0.5, 2.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_sigmoid_focal_exact_is_exact_where_sigma_saturates(y, gamma):
    x = np.array([-1e4, -100.0, -40.0, -20.0, 20.0, 40.0, 100.0, 1e4])
    r = losses.sigmoid_focal(x, np.full_like(x, y), gamma=gamma, reduction="none")
    expected = np.array([_mp_value_and_slope(_mp_sigmoid_focal(y, gamma), v) for v in x])
    np.testing.assert_allclose(r.value, expected[:, 0], rtol=RTOL64, atol=0)
    np.testing.assert_allclose(r.grad, expected[:, 1], rtol=RTOL64, atol=0)


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_sigmoid_focal_conventions_at_float32_saturation(gamma):
    """"keras" and "torch" compute 1 − p_t from the rounded σ(x): once it rounds to 0 the loss and
    its gradient are 0 (the frameworks' autograd even gives NaN for γ < 1); "exact" keeps the
    tiny true values. The cross-entropy itself is never clipped on logits (Keras on TensorFlow)."""
    x = np.array([20.0, -20.0, 1e4, -1e4], dtype=np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype=np.float32)
    expected = np.array([_mp_value_and_slope(_mp_sigmoid_focal(t, gamma), v) for v, t in zip(x, y)])
    exact = losses.sigmoid_focal(x, y, gamma=gamma, reduction="none")
    np.testing.assert_allclose(exact.value, expected[:, 0], rtol=RTOL32, atol=0)
    np.testing.assert_allclose(exact.grad, expected[:, 1], rtol=RTOL32, atol=0)
    assert np.all(exact.value[:2] > 0)
    keras = losses.sigmoid_focal(x, y, gamma=gamma, convention="keras", reduction="none")
    torch = losses.sigmoid_focal(x, y, gamma=gamma, convention="torch", reduction="none")
    np.testing.assert_array_equal(keras.value, torch.value)
    np.testing.assert_array_equal(keras.grad, torch.grad)
    np.testing.assert_array_equal(keras.value[:2], 0)
    np.testing.assert_array_equal(keras.grad[:2], 0)
    np.testing.assert_allclose(keras.value[2:], expected[2:, 0], rtol=RTOL32)
    np.testing.assert_allclose(keras.grad[2:], expected[2:, 1], rtol=RTOL32)


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_binary_focal_keras_caps_the_value_and_keeps_the_focal_gradient(gamma):
    """Clipping zeroes the cross-entropy's slope; the focal factor, computed from the unclipped p,
    still passes γ·(1−2y)·ce where 1 − p_t = 1, and nothing (not NaN) where 1 − p_t = 0."""
    p = np.array([0.0, 1.0, 1.0, 0.0], dtype=np.float32)
    y = np.array([1.0, 0.0, 1.0, 0.0], dtype=np.float32)
    eps = np.float32(1e-7)
    caps = np.array([-np.log(eps), -np.log(np.float32(1) - (np.float32(1) - eps))])
    r = losses.binary_focal(p, y, gamma=gamma, convention="keras", reduction="none")
    np.testing.assert_allclose(r.value, [*caps, 0, 0], rtol=RTOL32)
    np.testing.assert_allclose(r.grad, [-gamma * caps[0], gamma * caps[1], 0, 0], rtol=RTOL32)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_binary_focal_exact_at_the_ends_and_near_them(gamma):
    p = np.array([0.0, 1.0, 1.0, 0.0])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    r = losses.binary_focal(p, y, gamma=gamma, reduction="none")
    np.testing.assert_array_equal(r.value, [np.inf, np.inf, 0, 0])
    np.testing.assert_array_equal(r.grad[:2], [-np.inf, np.inf])
    # A matching end: the derivative's limit, 0 for γ > 0 (also for γ < 1), the BCE's ∓1 for γ = 0.
    np.testing.assert_array_equal(r.grad[2:], [-1, 1] if gamma == 0 else [0, 0])
    near = np.array([1 - 1e-12, 1e-12, 0.5 + 1e-9])
    y_near = np.array([1.0, 0.0, 0.3])
    r = losses.binary_focal(near, y_near, gamma=gamma, reduction="none")
    expected = np.array([_mp_value_and_slope(_mp_binary_focal(t, gamma), v)
                         for v, t in zip(near, y_near)])
    np.testing.assert_allclose(r.value, expected[:, 0], rtol=1e-9)  # 1 − p carries p's rounding
    np.testing.assert_allclose(r.grad, expected[:, 1], rtol=1e-9)


def _mp_softmax_focal(row, label, gamma):
    def f(*z):
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in z))
        p = mpmath.exp(z[label] - lse)
        return (1 - p) ** gamma * (lse - z[label])

    with mpmath.workdps(50):
        z = [mpmath.mpf(float(v)) for v in row]
        grad = [float(mpmath.diff(f, z, tuple(int(i == j) for i in range(len(z)))))
                for j in range(len(z))]
        return float(f(*z)), grad


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_softmax_focal_exact_keeps_one_minus_p_of_a_confident_class(gamma):
    """At [40, 0, 0], 1 − p₀ ≈ 8.5e-18 rounds 1 − p to 0; the focal value is ~1e-26, not 0."""
    x = np.array([[40.0, 0.0, 0.0], [0.0, 30.0, -5.0], [1e4, 0.0, -1e4]])
    labels = np.array([0, 1, 1])
    r = losses.softmax_focal(x, labels, gamma=gamma, reduction="none")
    for i, (row, label) in enumerate(zip(x, labels)):
        value, grad = _mp_softmax_focal(row, label, gamma)
        np.testing.assert_allclose(r.value[i], value, rtol=RTOL64, atol=0)
        np.testing.assert_allclose(r.grad[i], grad, rtol=RTOL64, atol=1e-300)
    assert 0 < r.value[0] < 1e-20


def test_softmax_focal_keras_clipping_kills_the_gradient():
    x = np.array([[30.0, 0.0, -5.0], [0.0, 30.0, -5.0]], dtype=np.float32)
    labels = np.array([0, 0])
    r = losses.softmax_focal(x, labels, alpha=0.25, convention="keras", reduction="none")
    np.testing.assert_array_equal(r.grad, 0)
    eps = np.float32(1e-7)
    p = np.clip(np.exp(x) / np.exp(x).sum(-1, keepdims=True), eps, np.float32(1) - eps)[:, 0]
    np.testing.assert_allclose(r.value, -0.25 * (1 - p) ** 2 * np.log(p), rtol=RTOL32)
    exact = losses.softmax_focal(x, labels, alpha=0.25, reduction="none")
    assert np.all(exact.grad[1] != 0) and np.all(np.isfinite(exact.grad))


# ---------------------------------------------------------------------------------------------
# labels, one-hot targets and the class axis


_LABEL_LOSSES = [
    ("softmax_focal", {"gamma": 0.5, "alpha": _ALPHA4, "label_smoothing": 0.1}, _rng_logits),
    ("softmax_focal", {"gamma": 0.5, "alpha": 0.25, "label_smoothing": 0.1, "convention": "keras"},
     _rng_logits),
    ("categorical_focal", {"gamma": 2.0, "alpha": _ALPHA4, "label_smoothing": 0.2}, _rng_probs),
    ("categorical_focal", {"gamma": 0.5, "label_smoothing": 0.1, "convention": "keras"},
     _rng_probs),
    ("poly1_cross_entropy", {"epsilon": 1.5}, _rng_logits),
    ("categorical_generalized_cross_entropy", {"q": 0.7}, _rng_probs),
]


@pytest.mark.parametrize("name,options,make", _LABEL_LOSSES,
                         ids=[f"{n}-{o.get('convention', 'exact')}" for n, o, _ in _LABEL_LOSSES])
def test_labels_equal_one_hot_targets(name, options, make):
    pred = make((6, 4))
    labels = np.random.default_rng(3).integers(0, 4, size=6)
    fn = losses.get(name)
    sparse = fn(pred, labels, reduction="none", **options)
    dense = fn(pred, np.eye(4)[labels], reduction="none", **options)
    tol.assert_close(sparse.value, dense.value, np.float64)
    tol.assert_close(sparse.grad, dense.grad, np.float64)


def test_softmax_focal_class_axis_1_is_pytorch_layout():
    x = _rng_logits((3, 4, 5))  # (N, C, d)
    labels = np.random.default_rng(4).integers(0, 4, size=(3, 5))
    moved = losses.softmax_focal(np.moveaxis(x, 1, -1), labels, gamma=0.5, reduction="none")
    r = losses.softmax_focal(x, labels, gamma=0.5, axis=1, reduction="none")
    np.testing.assert_array_equal(r.value, moved.value)
    np.testing.assert_array_equal(r.grad, np.moveaxis(moved.grad, -1, 1))


def test_alpha_balances_binary_classes_as_keras_does():
    x, y = _rng_logits(8), np.random.default_rng(5).uniform(size=8)
    plain = losses.sigmoid_focal(x, y, label_smoothing=0.2, reduction="none")
    balanced = losses.sigmoid_focal(x, y, alpha=0.3, label_smoothing=0.2, reduction="none")
    ys = y * 0.8 + 0.1  # Keras balances with the smoothed targets
    weight = 0.3 * ys + 0.7 * (1 - ys)
    tol.assert_close(balanced.value, weight * plain.value, np.float64)
    tol.assert_close(balanced.grad, weight * plain.grad, np.float64)


# ---------------------------------------------------------------------------------------------
# bad options and inputs


_BAD_OPTIONS = [
    ("sigmoid_focal", {"gamma": -1.0}, "gamma must be ≥ 0"),
    ("softmax_focal", {"gamma": float("nan")}, "gamma must be ≥ 0"),
    ("sigmoid_focal", {"convention": "tf"}, "'exact', 'keras', 'torch'"),
    ("binary_focal", {"convention": "torch"}, "choose one of 'exact', 'keras'$"),
    ("softmax_focal", {"convention": "torch"}, "choose one of 'exact', 'keras'$"),
    ("categorical_focal", {"convention": "optax"}, "choose one of 'exact', 'keras'$"),
    ("sigmoid_focal", {"alpha": 1.5}, "alpha must be ≥ 0 and ≤ 1"),
    ("binary_focal", {"alpha": -0.25}, "alpha must be ≥ 0 and ≤ 1"),
    ("softmax_focal", {"alpha": [1.0, -1.0, 1.0, 1.0]}, "alpha must be finite and ≥ 0"),
    ("categorical_focal", {"alpha": -0.5}, "alpha must be finite and ≥ 0"),
    ("binary_focal", {"label_smoothing": 1.5}, "label_smoothing must be ≥ 0 and ≤ 1"),
    ("softmax_focal", {"label_smoothing": -0.1}, "label_smoothing must be ≥ 0 and ≤ 1"),
    ("categorical_generalized_cross_entropy", {"q": 0.0}, "q must be > 0 and ≤ 1"),
    ("categorical_generalized_cross_entropy", {"q": 1.5}, "q must be > 0 and ≤ 1"),
    ("poly1_cross_entropy", {"epsilon": float("nan")}, "epsilon must be a finite number"),
    ("poly1_cross_entropy", {"epsilon": float("inf")}, "epsilon must be a finite number"),
]


@pytest.mark.parametrize("name,options,message", _BAD_OPTIONS,
                         ids=[f"{n}-{next(iter(o))}={next(iter(o.values()))}"
                              for n, o, _ in _BAD_OPTIONS])
def test_bad_options_raise_option_error_naming_the_valid_values(name, options, message):
    fn = losses.get(name)
    pred = _rng_probs((3, 4)) if name.startswith(("binary", "categorical")) else _rng_logits((3, 4))
    target = np.eye(4)[[0, 1, 2]]
    with pytest.raises(OptionError, match=message):
        fn(pred, target, **options)


def test_alpha_of_the_wrong_length_is_a_shape_error():
    with pytest.raises(ShapeError, match=r"shape \(4,\)"):
        losses.softmax_focal(_rng_logits((3, 4)), [0, 1, 2], alpha=[1.0, 2.0, 3.0])


def test_probability_rows_must_sum_to_one_unless_keras_renormalises():
    p = _rng_probs((4, 3))
    scaled = p.copy()
    scaled[2] *= 0.5
    labels = np.array([0, 1, 2, 0])
    for name in ("categorical_focal", "categorical_generalized_cross_entropy"):
        with pytest.raises(DomainError, match=r"probs\[2, :\] sums to 0.5"):
            losses.get(name)(scaled, labels)
        losses.get(name)(scaled, labels, validate=False)
    keras = losses.categorical_focal(scaled, labels, convention="keras", reduction="none")
    normalised = losses.categorical_focal(p, labels, convention="keras", reduction="none")
    tol.assert_close(keras.value, normalised.value, np.float64)


def test_binary_focal_refuses_values_outside_0_1():
    with pytest.raises(DomainError, match="probs"):
        losses.binary_focal(np.array([0.2, 1.2]), np.array([0.0, 1.0]))
    with pytest.raises(DomainError, match="targets"):
        losses.sigmoid_focal(np.array([0.2, 1.2]), np.array([0.0, 2.0]))


def test_generalized_cross_entropy_refuses_kerass_n_by_1_labels_and_bad_labels():
    """Keras broadcasts (N, 1) labels against (N, C) probabilities into an (N, N) loss."""
    p = _rng_probs((3, 2))
    with pytest.raises(ShapeError):
        losses.categorical_generalized_cross_entropy(p, np.array([[0], [1], [1]]))
    with pytest.raises(LabelRangeError, match=r"\[1\] = 2"):
        losses.categorical_generalized_cross_entropy(p, np.array([0, 2, 1]))


def test_framework_names_resolve():
    expected = {
        "BinaryFocalCrossentropy": "binary_focal", "binary_focal_crossentropy": "binary_focal",
        "sigmoid_focal_loss": "sigmoid_focal",
        "CategoricalFocalCrossentropy": "categorical_focal",
        "categorical_focal_crossentropy": "categorical_focal",
        "poly_loss_cross_entropy": "poly1_cross_entropy",
        "CategoricalGeneralizedCrossEntropy": "categorical_generalized_cross_entropy",
    }
    for alias, name in expected.items():
        assert losses.get(alias).__name__ == name
