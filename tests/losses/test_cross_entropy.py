"""The cross-entropy family beyond the generic contract: conventions pinned at 0 and 1, Keras's
float32/float16 clip, PyTorch's clamp and backward, smoothing, class weights, ignored entries,
label errors, extreme logits, memory, and the seed numbers.

Expected numbers come from plain formulas evaluated here (NumPy in the stated dtype, or mpmath),
never from lossgrad and never typed in.
"""

from __future__ import annotations

import tracemalloc

import mpmath
import numpy as np
import pytest

from lossgrad import losses, one_hot, softmax
from lossgrad.errors import (
    DomainError,
    DTypeError,
    LabelRangeError,
    OptionError,
    ProbabilitiesAsLogitsWarning,
    ShapeError,
)
from tests import tolerances as tol
from tests.gradcheck import central_differences

CONVENTIONS = ("exact", "keras", "torch")
SPARSE = ("sparse_softmax_cross_entropy", "sparse_categorical_cross_entropy", "nll")
#: The dense loss a user should pick instead of each sparse one, and the converse.
DENSE_OF = {"sparse_softmax_cross_entropy": "softmax_cross_entropy",
            "sparse_categorical_cross_entropy": "categorical_cross_entropy",
            "nll": "softmax_cross_entropy"}
SPARSE_OF = {"softmax_cross_entropy": "sparse_softmax_cross_entropy",
             "categorical_cross_entropy": "sparse_categorical_cross_entropy"}
F32_EPS = np.float32(1e-7)
F32_ONE_MINUS_EPS = np.float32(1 - 1e-7)
TORCH_BCE_FLOOR = float(np.float32(1e-12))  # ATen's EPSILON is a float constant


def prediction_for(name, rng, shape):
    """A valid prediction of ``shape`` (class axis last) for each sparse loss's domain."""
    p = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    return {"sparse_softmax_cross_entropy": rng.normal(size=shape),
            "sparse_categorical_cross_entropy": p, "nll": np.log(p)}[name]


def log_prob_of_label(name, x, labels):
    """log p_y by the plain formula for each sparse loss's domain."""
    x = np.asarray(x, np.float64)
    if name == "sparse_softmax_cross_entropy":
        x = x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))
    elif name == "sparse_categorical_cross_entropy":
        x = np.log(x)
    return np.take_along_axis(x, labels[..., None], axis=-1)[..., 0]


# ---------------------------------------------------------------------------------------------
# binary cross-entropy at probabilities exactly 0 and 1, by convention

# (p, y) at the corners, and a soft target against a saturated probability.
CORNERS = np.array([0.0, 1.0, 0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0, 1.0, 0.3])


def test_bce_exact_at_0_and_1():
    p, y = CORNERS
    r = losses.binary_cross_entropy(p, y, reduction="none")
    # 0·log 0 = 0: a matching corner costs 0; a wrong one costs −log 0 = +inf.
    np.testing.assert_array_equal(r.value, [0.0, np.inf, np.inf, 0.0, np.inf])
    # (1−y)/(1−p) − y/p with each term 0 where its coefficient is 0.
    np.testing.assert_array_equal(r.grad, [1.0, np.inf, -np.inf, -1.0, -np.inf])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_keras_clips_in_the_callers_dtype_and_stops_the_gradient(dtype):
    p, y = (a.astype(dtype) for a in CORNERS)
    r = losses.binary_cross_entropy(p, y, convention="keras", reduction="none")
    lo, hi = dtype(1e-7), dtype(1 - 1e-7)
    one = dtype(1)
    expected = [-np.log(one - lo), -np.log(one - hi), -np.log(lo), -np.log(hi),
                -(dtype(0.3) * np.log(lo) + dtype(0.7) * np.log(one - lo))]
    assert r.value.dtype == dtype
    tol.assert_close(r.value, np.array(expected, dtype), dtype)
    np.testing.assert_array_equal(r.grad, np.zeros(5))  # every entry was clipped


def test_bce_keras_float32_asymmetry():
    # fl32(1 − 1e-7) = 0.99999988 but fl32(1e-7) = 1e-7: the two wrong corners differ.
    r = losses.binary_cross_entropy(np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0]),
                                    convention="keras", reduction="none")
    expected = np.array([-np.log(np.float32(1) - F32_ONE_MINUS_EPS), -np.log(F32_EPS)], np.float32)
    np.testing.assert_array_equal(r.value, expected)
    assert r.value[0] < r.value[1]


def test_bce_keras_float16_upper_bound_is_one():
    # In float16 1 − 1e-7 rounds to 1: (y=0, p=1) is +inf, with gradient 1/(1 − 1) = +inf (TF too).
    # (y=1, p=1) is 0·log 0 = 0 where Keras computes NaN.
    r = losses.binary_cross_entropy(np.array([1.0, 0.0, 1.0], np.float16),
                                    np.array([0.0, 1.0, 1.0]), convention="keras",
                                    reduction="none")
    assert r.value.dtype == np.float16
    lo = np.float32(np.float16(1e-7))
    np.testing.assert_array_equal(r.value, np.array([np.inf, -np.log(lo), 0.0], np.float16))
    np.testing.assert_array_equal(r.grad, np.array([np.inf, 0.0, -1.0], np.float16))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_torch_clamps_each_log_at_minus_100_and_uses_its_own_backward(dtype):
    p, y = (a.astype(dtype) for a in CORNERS)
    r = losses.binary_cross_entropy(p, y, convention="torch", reduction="none")
    with np.errstate(divide="ignore"):
        expected = -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100))
    np.testing.assert_array_equal(r.value, expected)
    assert r.value.dtype == dtype and np.max(r.value) == 100
    # (p − y) / max(p(1 − p), 1e-12): finite everywhere, ±1e12 at the wrong corners.
    expected = (p - y) / np.maximum(p * (1 - p), dtype(TORCH_BCE_FLOOR))
    np.testing.assert_array_equal(r.grad, expected)
    assert np.all(np.isfinite(r.grad)) and r.grad[2] < -0.99e12


def test_bce_torch_clamp_applies_to_tiny_probabilities_too():
    p = np.array([1e-50, 1e-30])  # log 1e-50 ≈ −115 is clamped; log 1e-30 ≈ −69 is not
    r = losses.binary_cross_entropy(p, np.ones(2), convention="torch", reduction="none")
    tol.assert_close(r.value, [100.0, -np.log(1e-30)], np.float64)


def test_bce_exact_keeps_small_losses_exact():
    p = np.array([1e-10, 1e-20, 1 - 2.0**-40])
    r = losses.binary_cross_entropy(p, np.array([0.0, 0.0, 1.0]), reduction="none")
    with mpmath.workdps(40):  # mpmath's default 53 bits would cancel in 1 − p as float64 does
        expected = [float(-mpmath.log(1 - mpmath.mpf(v))) for v in p[:2]]
        expected.append(float(-mpmath.log(mpmath.mpf(p[2]))))
    # Relative only: the table's atol (1e-12) would accept log(1 − p) = 0 for these tiny losses.
    np.testing.assert_allclose(r.value, expected, rtol=tol.REFERENCE[np.dtype(np.float64)][0],
                               atol=0)


def test_bce_label_smoothing_is_keras_formula():
    rng = np.random.default_rng(0)
    p, y = rng.uniform(0.05, 0.95, (4, 3)), rng.integers(0, 2, (4, 3)).astype(float)
    alpha = 0.2
    smoothed = y * (1 - alpha) + alpha / 2
    for convention in CONVENTIONS:
        with_ls = losses.binary_cross_entropy(p, y, label_smoothing=alpha, convention=convention,
                                              reduction="none")
        plain = losses.binary_cross_entropy(p, smoothed, convention=convention, reduction="none")
        np.testing.assert_array_equal(with_ls.value, plain.value)
        expected = -(smoothed * np.log(p) + (1 - smoothed) * np.log(1 - p))
        tol.assert_close(with_ls.value, expected, np.float64)


# ---------------------------------------------------------------------------------------------
# categorical cross-entropy on probabilities at 0 and 1, by convention

SATURATED = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
GOLD = np.array([1, 0])  # row 0: the certain class is right; row 1: the target has p = 0


def dense_and_sparse(name_dense, p, labels, **kw):
    """The same loss through the dense (one-hot) and the sparse (labels) door."""
    name_sparse = SPARSE_OF[name_dense]
    dense = losses.get(name_dense)(p, one_hot(labels, p.shape[-1], dtype=p.dtype), **kw)
    sparse = losses.get(name_sparse)(p, labels, **kw)
    return dense, sparse


def test_categorical_exact_at_0_and_1():
    for r in dense_and_sparse("categorical_cross_entropy", SATURATED, GOLD, reduction="none"):
        np.testing.assert_array_equal(r.value, [0.0, np.inf])
        np.testing.assert_array_equal(r.grad, [[0.0, -1.0, 0.0], [-np.inf, 0.0, 0.0]])


def test_categorical_torch_at_0_and_1():
    for r in dense_and_sparse("categorical_cross_entropy", SATURATED, GOLD, convention="torch",
                              reduction="none"):
        np.testing.assert_array_equal(r.value, [0.0, 100.0])
        # −t/p where the log is not clamped; 0 through the clamp (autograd would give 0/0 there).
        np.testing.assert_array_equal(r.grad, [[0.0, -1.0, 0.0], [0.0, 0.0, 0.0]])


def test_categorical_keras_at_0_and_1():
    eps = 1e-7
    dense, sparse = dense_and_sparse("categorical_cross_entropy", SATURATED, GOLD,
                                     convention="keras", reduction="none")
    # Dense: renormalise (nothing to do), clip, −log p̂_y.
    tol.assert_close(dense.value, [-np.log(1 - eps), -np.log(eps)], np.float64)
    # Sparse, as on TensorFlow: clip, then the log-softmax of log p̂ renormalises the clipped row.
    mass = 1 + eps
    tol.assert_close(sparse.value, [np.log(mass) - np.log(1 - eps), np.log(mass) - np.log(eps)],
                     np.float64)
    for r in (dense, sparse):  # every entry clipped: no gradient anywhere
        np.testing.assert_array_equal(r.grad, np.zeros((2, 3)))


def test_keras_dense_and_sparse_differ_only_through_a_clipped_entry():
    # Seed 003's first row: the 0 is clipped. Dense Keras renormalises first, so the clipped
    # entry gets the renormaliser's gradient; TF's sparse path clips first, so it gets none, and
    # the unclipped ones get 1/Σp̂ from the log-softmax.
    p = np.array([[0.05, 0.95, 0.0]])
    dense, sparse = dense_and_sparse("categorical_cross_entropy", p, np.array([1]),
                                     convention="keras", reduction="none")
    tol.assert_close(dense.grad, [[1.0, 1 - 1 / 0.95, 1.0]], np.float64)
    mass = 1 + 1e-7
    tol.assert_close(sparse.grad, [[1 / mass, 1 / mass - 1 / 0.95, 0.0]], np.float64)
    tol.assert_close(sparse.value - dense.value, [np.log(mass)], np.float64)


def test_keras_categorical_renormalises_and_chains_the_gradient_through_it():
    p = np.array([[0.2, 0.2, 0.2], [0.1, 0.5, 0.9]])  # rows summing to 0.6 and 1.5
    t = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
    r = losses.categorical_cross_entropy(p, t, convention="keras", reduction="none")
    tol.assert_close(r.value, -np.sum(t * np.log(p / p.sum(-1, keepdims=True)), -1), np.float64)

    def total(q):
        return float(np.sum(losses.categorical_cross_entropy(q, t, convention="keras",
                                                             reduction="none", grad=False).value))

    np.testing.assert_allclose(r.grad, central_differences(total, p), rtol=tol.CENTRAL[0],
                               atol=tol.CENTRAL[1])


def test_keras_categorical_float32_clip():
    p = np.array([[1.0, 0.0]], np.float32)
    r = losses.categorical_cross_entropy(p, np.array([[0.0, 1.0]], np.float32), convention="keras")
    assert r.value.dtype == np.float32
    np.testing.assert_array_equal(r.value, -np.log(F32_EPS))


@pytest.mark.parametrize("name", ["categorical_cross_entropy", "sparse_categorical_cross_entropy"])
def test_rows_not_summing_to_one_raise_unless_keras(name):
    p = np.array([[0.2, 0.2, 0.2], [0.3, 0.3, 0.4]])
    target = np.array([1, 2]) if name.startswith("sparse") else np.eye(3)[[1, 2]]
    fn = losses.get(name)
    for convention in ("exact", "torch"):
        with pytest.raises(DomainError, match=r"probs\[0, :\] sums to 0\.6.*keras"):
            fn(p, target, convention=convention)
        assert np.isfinite(float(fn(p, target, convention=convention, validate=False)))
    keras = fn(p, target, convention="keras", reduction="none")
    tol.assert_close(keras.value[0], np.log(3), np.float64)


@pytest.mark.parametrize("name,logits_loss", [
    ("categorical_cross_entropy", "softmax_cross_entropy"),
    ("sparse_categorical_cross_entropy", "sparse_softmax_cross_entropy"),
    ("binary_cross_entropy", "sigmoid_binary_cross_entropy")])
@pytest.mark.parametrize("convention", CONVENTIONS)
def test_probabilities_outside_0_1_raise_and_point_at_the_logits_loss(name, logits_loss,
                                                                     convention):
    logits = np.array([[2.0, -0.5, 0.1], [0.3, 1.2, -2.0]])
    target = {"categorical_cross_entropy": np.eye(3)[[0, 1]], "binary_cross_entropy":
              np.ones((2, 3))}.get(name, np.array([0, 1]))
    fn = losses.get(name)
    with pytest.raises(DomainError, match=rf"probs\[0, 0\] = 2\.0 .*logits.*{logits_loss}"):
        fn(logits, target, convention=convention)
    fn(np.clip(logits, 0, 1) / (3 if name != "binary_cross_entropy" else 1), target,
       convention=convention, validate=False)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "sigmoid_binary_cross_entropy"])
def test_binary_targets_outside_0_1_raise(name):
    fn = losses.get(name)
    with pytest.raises(DomainError, match=r"targets\[1\] = 1\.5"):
        fn(np.array([0.3, 0.6]), np.array([1.0, 1.5]))
    with pytest.raises(DomainError, match=r"targets\[0\] = -1"):
        fn(np.array([0.3, 0.6]), np.array([-1, 1]))  # ±1 labels are not 0/1 labels
    assert np.isfinite(float(fn(np.array([0.3, 0.6]), np.array([1.0, 1.5]), validate=False)))


def test_nll_rejects_positive_log_probabilities():
    with pytest.raises(DomainError, match=r"log_probs\[0, 1\] = 0\.7.*sparse_categorical"):
        losses.nll(np.array([[-0.3, 0.7]]), np.array([1]))
    assert float(losses.nll(np.array([[-0.3, 0.7]]), np.array([1]), validate=False)) == -0.7


# ---------------------------------------------------------------------------------------------
# label smoothing and class weights


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "class_weight"])
def test_sparse_categorical_equals_dense_on_one_hot_targets(convention, weighted):
    rng = np.random.default_rng(1)
    p, labels = 0.05 + 0.8 * rng.dirichlet(np.ones(4), size=6), rng.integers(0, 4, 6)
    kw = {"label_smoothing": 0.15, "convention": convention, "reduction": "none"}
    if weighted:
        kw["class_weight"] = np.array([0.5, 2.0, 1.0, 3.0])
    dense, sparse = dense_and_sparse("categorical_cross_entropy", p, labels, **kw)
    tol.assert_close(sparse.value, dense.value, np.float64)
    tol.assert_close(sparse.grad, dense.grad, np.float64)


@pytest.mark.parametrize("name", ["categorical_cross_entropy", "softmax_cross_entropy"])
def test_categorical_label_smoothing_is_uniform_over_the_classes(name):
    rng = np.random.default_rng(2)
    x = 0.05 + 0.75 * rng.dirichlet(np.ones(5), size=3) if name.startswith("cat") else (
        rng.normal(size=(3, 5)))
    t = np.eye(5)[[0, 3, 4]]
    alpha = 0.3
    smoothed = losses.get(name)(x, t, label_smoothing=alpha, reduction="none")
    # Keras/PyTorch/optax: gold 1 − α + α/K, others α/K (not thinc's α/(K−1)).
    by_hand = losses.get(name)(x, t * (1 - alpha) + alpha / 5, reduction="none")
    np.testing.assert_array_equal(smoothed.value, by_hand.value)
    np.testing.assert_array_equal(smoothed.grad, by_hand.grad)


@pytest.mark.parametrize("name", SPARSE)
def test_mean_with_class_weights_divides_by_the_label_weights(name):
    rng = np.random.default_rng(3)
    x, labels = prediction_for(name, rng, (7, 4)), rng.integers(0, 4, 7)
    w = np.array([0.5, 2.0, 1.0, 3.0])
    mean = losses.get(name)(x, labels, class_weight=w)
    plain = -log_prob_of_label(name, x, labels)
    tol.assert_close(mean.value, np.sum(w[labels] * plain) / np.sum(w[labels]), np.float64)
    total = losses.get(name)(x, labels, class_weight=w, reduction="sum")
    tol.assert_close(mean.grad, total.grad / np.sum(w[labels]), np.float64)


@pytest.mark.parametrize("name", SPARSE)
@pytest.mark.parametrize("empty,expected", [("nan", np.nan), ("zero", 0.0)])
def test_every_entry_ignored(name, empty, expected):
    rng = np.random.default_rng(4)
    x = prediction_for(name, rng, (3, 4))
    labels = np.full(3, -100)
    for kw in ({}, {"class_weight": np.ones(4)}):
        r = losses.get(name)(x, labels, ignore_index=-100, empty=empty, **kw)
        np.testing.assert_array_equal(r.value, expected)
        np.testing.assert_array_equal(r.grad, np.zeros_like(x))
        assert float(losses.get(name)(x, labels, ignore_index=-100, reduction="sum", **kw)) == 0


@pytest.mark.parametrize("name", SPARSE)
def test_ignored_entries_stay_exactly_zero_even_against_inf(name):
    x = prediction_for(name, np.random.default_rng(5), (2, 3))
    x[0, 0] = {"sparse_softmax_cross_entropy": -np.inf, "sparse_categorical_cross_entropy": 0.0,
               "nll": -np.inf}[name]
    x[0] /= 1 if name != "sparse_categorical_cross_entropy" else x[0].sum()
    r = losses.get(name)(x, np.array([-1, 2]), ignore_index=-1, reduction="none")
    assert r.value[0] == 0 and np.all(r.grad[0] == 0)


# ---------------------------------------------------------------------------------------------
# labels: range, dtype, shape


@pytest.mark.parametrize("name", SPARSE)
def test_label_out_of_range_names_label_and_position_and_is_never_clamped(name):
    x = prediction_for(name, np.random.default_rng(6), (3, 4))
    for bad in ([0, 4, 1], [0, -1, 1]):
        with pytest.raises(LabelRangeError, match=rf"labels\[1\] = {bad[1]} is outside \[0, 4\)"):
            losses.get(name)(x, np.array(bad))
    with pytest.raises(LabelRangeError, match=r"or ignore_index=-100"):
        losses.get(name)(x, np.array([0, 7, -100]), ignore_index=-100)


@pytest.mark.parametrize("name", SPARSE)
def test_float_bool_and_one_hot_labels_name_the_dense_loss(name):
    x = prediction_for(name, np.random.default_rng(7), (3, 4))
    labels = np.array([0, 3, 1])
    instead = DENSE_OF[name]
    for bad in (labels.astype(np.float64), labels.astype(bool)):
        with pytest.raises(DTypeError, match=instead):
            losses.get(name)(x, bad)
    with pytest.raises(ShapeError, match=instead):
        losses.get(name)(x, one_hot(labels, 4).astype(np.int64))


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "categorical_cross_entropy"])
def test_integer_labels_to_a_dense_loss_name_the_sparse_loss(name):
    x = 0.05 + 0.8 * np.random.default_rng(8).dirichlet(np.ones(4), size=3)
    with pytest.raises(ShapeError, match=SPARSE_OF[name]):
        losses.get(name)(np.log(x) if name.startswith("softmax") else x, np.array([0, 3, 1]))


def test_bad_options_raise_listing_the_valid_values():
    p = np.array([[0.3, 0.7]])
    with pytest.raises(OptionError, match="'exact', 'keras', 'torch'"):
        losses.categorical_cross_entropy(p, p, convention="tf")
    with pytest.raises(OptionError, match="label_smoothing"):
        losses.binary_cross_entropy(p, p, label_smoothing=1.5)
    with pytest.raises(ShapeError, match="pos_weight"):
        losses.sigmoid_binary_cross_entropy(p, p, pos_weight=np.ones(3))
    with pytest.raises(DomainError, match="pos_weight"):
        losses.sigmoid_binary_cross_entropy(p, p, pos_weight=-1.0)


# ---------------------------------------------------------------------------------------------
# logits: the double softmax, −inf and extreme values

SEED_001_LOGITS = np.array([[2, 0.5, 6], [0.1, 0, 3]])
SEED_001_LABELS = np.array([2, 1])


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "sparse_softmax_cross_entropy"])
def test_seed_001_double_softmax_warns_and_names_the_probability_loss(name):
    target = SEED_001_LABELS if name.startswith("sparse") else np.eye(3)[SEED_001_LABELS]
    instead = "sparse_categorical_cross_entropy" if name.startswith("sparse") else (
        "categorical_cross_entropy")
    with pytest.warns(ProbabilitiesAsLogitsWarning, match=instead):
        losses.get(name)(softmax(SEED_001_LOGITS), target)
    losses.get(name)(softmax(SEED_001_LOGITS), target, validate=False)  # no warning (-W error)
    losses.get(name)(np.full((2, 3), 1 / 3), target)  # softmax leaves a uniform row as it is


def test_probability_losses_do_not_warn_on_probabilities():
    import warnings

    p = softmax(SEED_001_LOGITS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses.categorical_cross_entropy(p, np.eye(3)[SEED_001_LABELS])
        losses.sparse_categorical_cross_entropy(p, SEED_001_LABELS)
        losses.sigmoid_binary_cross_entropy(p, np.ones((2, 3)))  # logits in [0, 1] are legitimate
    assert caught == []


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "sparse_softmax_cross_entropy", "nll"])
def test_minus_inf_off_target_is_finite_with_zero_gradient_and_on_target_is_inf(name):
    x = np.array([[-np.inf, 0.5, -1.0], [-np.inf, 0.5, -1.0]])
    if name == "nll":
        x = x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))
    labels = np.array([1, 0])
    target = labels if name != "softmax_cross_entropy" else np.eye(3)[labels]
    r = losses.get(name)(x, target, reduction="none")
    assert np.isfinite(r.value[0]) and r.value[1] == np.inf
    assert r.grad[0, 0] == 0 and np.all(np.isfinite(r.grad[0]))
    tol.assert_close(r.value[0], -log_prob_of_label(
        "nll" if name == "nll" else "sparse_softmax_cross_entropy", x[:1], labels[:1])[0],
        np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_of_1e4_logits_is_exact(dtype):
    x = np.array([[1e4, 0.0]], dtype)
    sparse = losses.sparse_softmax_cross_entropy(x, np.array([1]))
    dense = losses.softmax_cross_entropy(x, np.array([[0.0, 1.0]], dtype))
    for r in (sparse, dense):
        assert float(r) == 1e4
        np.testing.assert_array_equal(r.grad, np.array([[1.0, -1.0]], dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_bce_is_exact_at_1e9(dtype):
    x = np.array([1e9, -1e9, 1e9, -1e9], dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0], dtype)
    r = losses.sigmoid_binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_array_equal(r.value, np.array([1e9, 1e9, 0.0, 0.0], dtype))
    np.testing.assert_array_equal(r.grad, np.array([1.0, -1.0, 0.0, 0.0], dtype))
    weighted = losses.sigmoid_binary_cross_entropy(x, y, pos_weight=2.5, reduction="none")
    np.testing.assert_array_equal(weighted.value, np.array([1e9, 2.5e9, 0.0, 0.0], dtype))
    np.testing.assert_array_equal(weighted.grad, np.array([1.0, -2.5, 0.0, 0.0], dtype))


def test_sigmoid_bce_keeps_small_losses_and_infinite_logits_exact():
    x = np.array([-30.0, 40.0, np.inf, -np.inf])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    r = losses.sigmoid_binary_cross_entropy(x, y, reduction="none")
    expected = [float(mpmath.log1p(mpmath.exp(-abs(mpmath.mpf(v))))) for v in (-30.0, 40.0)]
    # Relative only: these losses (~1e-14) are below the table's atol.
    np.testing.assert_allclose(r.value, [*expected, 0.0, 0.0],
                               rtol=tol.REFERENCE[np.dtype(np.float64)][0], atol=0)
    tol.assert_close(r.grad[:2], [float(mpmath.exp(-30) / (1 + mpmath.exp(-30))),
                                  -float(1 / (1 + mpmath.exp(40)))], np.float64)
    np.testing.assert_array_equal(r.grad[2:], [0.0, 0.0])


def test_sigmoid_bce_pos_weight_broadcasts_along_the_last_axis():
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(2, 3, 4)), rng.uniform(size=(2, 3, 4))
    pw = np.array([0.5, 1.0, 2.0, 4.0])
    r = losses.sigmoid_binary_cross_entropy(x, y, pos_weight=pw, label_smoothing=0.1,
                                            reduction="none")
    ys = y * 0.9 + 0.05
    sigma = 1 / (1 + np.exp(-x))
    tol.assert_close(r.value, -(pw * ys * np.log(sigma) + (1 - ys) * np.log(1 - sigma)),
                     np.float64)
    tol.assert_close(r.grad, (pw * ys + 1 - ys) * sigma - pw * ys, np.float64)


# ---------------------------------------------------------------------------------------------
# memory: a sparse loss over 100 000 classes builds no one-hot


def peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


SPARSE_MEMORY = [("sparse_softmax_cross_entropy", {}),
                 *[("sparse_categorical_cross_entropy", {"convention": c}) for c in CONVENTIONS],
                 ("nll", {}), ("sparse_softmax_cross_entropy", {"ignore_index": 0})]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", SPARSE_MEMORY,
                         ids=[f"{n}-{','.join(map(str, kw.values())) or 'plain'}"
                              for n, kw in SPARSE_MEMORY])
def test_sparse_losses_over_100k_classes_build_no_one_hot(name, kw, dtype):
    rng = np.random.default_rng(10)
    x = prediction_for(name, rng, (8, 100_000)).astype(dtype)
    labels = rng.integers(0, 100_000, 8)
    result = []
    peak = peak_bytes(lambda: result.append(losses.get(name)(x, labels, **kw)))
    assert result[0].grad.shape == x.shape  # the gradient itself is one N×C array
    assert peak <= 1.5 * x.nbytes, f"peak {peak / x.nbytes:.2f}× the prediction's bytes"


# ---------------------------------------------------------------------------------------------
# the seed numbers and the registry


def test_seed_003_keras_sparse_categorical_cross_entropy_in_float32():
    y_pred = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]], dtype=np.float32)
    y_true = np.array([1, 2])
    r = losses.sparse_categorical_cross_entropy(y_pred, y_true, convention="keras")
    # Keras on TF in float32: p̂ = clip(p, 1e-7, 1 − 1e-7), ℓ = −log p̂_y + log Σ p̂, the mean.
    q = np.clip(y_pred, F32_EPS, F32_ONE_MINUS_EPS)
    per_row = -np.log(q[[0, 1], y_true]) + np.log(np.sum(q, axis=-1))
    assert r.value.dtype == np.float32
    tol.assert_close(r.value, np.mean(per_row, dtype=np.float32), np.float32)
    assert f"{float(r):.7f}" == f"{float(np.mean(per_row, dtype=np.float32)):.7f}"


def test_seed_001_rel3_equals_rel1():
    rel1 = losses.softmax_cross_entropy(SEED_001_LOGITS, np.eye(3)[SEED_001_LABELS],
                                        reduction="none")
    rel3 = losses.categorical_cross_entropy(softmax(SEED_001_LOGITS), np.eye(3)[SEED_001_LABELS],
                                            reduction="none")
    tol.assert_close(rel3.value, rel1.value, np.float64)


@pytest.mark.parametrize("alias,name", [
    ("CategoricalCrossentropy", "categorical_cross_entropy"),
    ("categorical_crossentropy", "categorical_cross_entropy"),
    ("SparseCategoricalCrossentropy", "sparse_categorical_cross_entropy"),
    ("sparse_categorical_crossentropy", "sparse_categorical_cross_entropy"),
    ("BinaryCrossentropy", "binary_cross_entropy"), ("binary_crossentropy", "binary_cross_entropy"),
    ("BCELoss", "binary_cross_entropy"), ("binary_cross_entropy", "binary_cross_entropy"),
    ("BCEWithLogitsLoss", "sigmoid_binary_cross_entropy"),
    ("binary_cross_entropy_with_logits", "sigmoid_binary_cross_entropy"),
    ("sigmoid_cross_entropy_with_logits", "sigmoid_binary_cross_entropy"),
    ("weighted_cross_entropy_with_logits", "sigmoid_binary_cross_entropy"),
    ("NLLLoss", "nll"), ("nll_loss", "nll")])
def test_framework_names_resolve(alias, name):
    assert losses.get(alias).__name__ == name


@pytest.mark.parametrize("smoothing", [0.0, 1.0])
def test_a_zero_weight_against_minus_inf_gives_exactly_zero(smoothing):
    """A class weighted 0 (or the label's share at label_smoothing=1) never turns −inf into NaN."""
    x = np.array([[0.0, -np.inf, 0.5], [1.0, 2.0, 0.0]])
    r = losses.sparse_softmax_cross_entropy(x, [1, 0], class_weight=[1.0, 0.0, 1.0],
                                            label_smoothing=smoothing, reduction="none")
    assert np.all(~np.isnan(r.value)) and np.all(np.isfinite(r.grad))
    if smoothing == 0:
        assert r.value[0] == 0
        np.testing.assert_array_equal(r.grad[0], 0)


def test_double_softmax_warning_points_at_the_callers_line_once():
    import warnings

    probs = softmax(np.array([[2.0, 0.5, 6.0], [0.1, 0.0, 3.0]]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's own default: once per call site
        for _ in range(3):
            losses.sparse_softmax_cross_entropy(probs, [2, 1])
    assert len(caught) == 1
    assert issubclass(caught[0].category, ProbabilitiesAsLogitsWarning)
    assert caught[0].filename == __file__


def test_bfloat16_is_computed_in_float32_and_returned_as_bfloat16():
    import ml_dtypes

    x = np.array([[2.0, 0.5, 6.0], [0.1, 0.0, 3.0]])
    r = losses.sparse_softmax_cross_entropy(x.astype(ml_dtypes.bfloat16), [2, 1], reduction="none")
    exact = losses.sparse_softmax_cross_entropy(
        x.astype(ml_dtypes.bfloat16).astype(np.float64), [2, 1], reduction="none")
    assert r.value.dtype == ml_dtypes.bfloat16 and r.grad.dtype == ml_dtypes.bfloat16
    # bfloat16 keeps 8 significant bits: one rounding of the float32 result, no more.
    np.testing.assert_allclose(r.value.astype(np.float64), exact.value, rtol=2**-8)
    np.testing.assert_allclose(r.grad.astype(np.float64), exact.grad, rtol=2**-8, atol=2**-9)
