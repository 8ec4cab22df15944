"""The hinge / margin family beyond the generic contract: the subgradient at each kink, the target
sets, Keras's batch-wide {0, 1} mapping, PyTorch's weighting and padding rules, extreme scores.

Expected values come from the plain references in cases_margin.py (or mpmath), never typed in. At a
kink the expected gradient is built from the gradients of the pieces that meet there, each measured
by central differences of the reference at a point nudged onto that piece; inputs, nudges and steps
are dyadic, so for these piecewise-linear losses the differences are exact.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from lossgrad import losses
from lossgrad.errors import (
    DomainError,
    DTypeError,
    LabelRangeError,
    OptionError,
    ShapeError,
)
from tests import tolerances as tol
from tests.losses import cases_margin as ref
from tests.losses.cases import (
    CASES,  # first: the table itself imports each family's rows
)

STEP = 2.0**-10
NUDGE = 2.0**-4
BINARY = ("hinge", "squared_hinge", "perceptron", "soft_margin", "hinge_embedding")


def reference_gradient(reference, x, t, **opts):
    """Central differences of Σ reference at x (exact for piecewise-linear references at dyadic x)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += STEP
        down[i] -= STEP
        grad[i] = (np.sum(reference(up, t, **opts)) - np.sum(reference(down, t, **opts))) / (2 * STEP)
    return grad


def piece_gradient(reference, x, t, shifts, **opts):
    """The mean of the reference's gradients on the pieces reached from x by NUDGE·shift."""
    return np.mean([reference_gradient(reference, x + NUDGE * s, t, **opts) for s in shifts], axis=0)


def assert_pinned(actual, expected):
    """Equal up to the rounding of a 1/m share (a wrong subgradient is off by ≥ 1/6)."""
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-15)


def grad_of(name, x, t, **opts):
    return losses.get(name)(x, t, reduction="sum", **opts).grad


# ---------------------------------------------------------------------------------------------
# kinks


def test_hinge_and_perceptron_split_the_gradient_at_the_kink():
    """optax's choice: the mean of the two one-sided derivatives (Keras would give −y)."""
    y = np.array([[1.0, -1.0, 1.0, -1.0]])
    x = np.array([[1.0, -1.0, 0.5, 2.0]])  # y·x = 1 in the first two entries only
    sides = (np.ones_like(x), -np.ones_like(x))
    assert_pinned(grad_of("hinge", x, y), piece_gradient(ref.ref_hinge, x, y, sides))
    x = np.array([[0.0, 0.0, 0.5, -2.0]])  # the perceptron's kink is x = 0
    assert_pinned(grad_of("perceptron", x, y), piece_gradient(ref.ref_perceptron, x, y, sides))


def test_squared_hinge_gradient_is_continuous_at_the_kink():
    y = np.array([1.0, -1.0, 1.0])
    x = np.array([1.0, -1.0, 0.5])
    expected = -2 * y * np.maximum(0, 1 - y * x)  # the derivative the two sides share
    assert_pinned(grad_of("squared_hinge", x, y), expected)


@pytest.mark.parametrize("margin", [1.0, 0.5])
def test_hinge_embedding_takes_the_active_side_at_the_margin(margin):
    """PyTorch's clamp_min passes the gradient at margin − x = 0: the x < margin piece."""
    x = np.array([margin, margin, 3.0])
    y = np.array([-1.0, 1.0, -1.0])
    expected = reference_gradient(ref.ref_hinge_embedding, x - NUDGE, y, margin=margin)
    assert_pinned(grad_of("hinge_embedding", x, y, margin=margin), expected)


@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_drops_a_term_at_its_kink(p):
    """PyTorch counts a term only when margin − x_y + x_k > 0: the x_k-lowered piece."""
    x = np.array([[1.0, 0.0, 0.25, -1.0], [0.5, 1.5, 0.75, 0.5]])
    labels = np.array([0, 1])  # row 0: k = 1 sits at the kink; row 1: k = 0 and k = 3 do
    at_kink = np.array([[0, 1, 0, 0], [1, 0, 0, 1]])
    expected = reference_gradient(ref.ref_multi_margin, x - NUDGE * at_kink, labels, p=p)
    assert_pinned(grad_of("multi_margin", x, labels, p=p), expected)


def test_multilabel_margin_drops_a_pair_at_its_kink():
    """A (target j, non-target i) pair with x_j − x_i = 1 adds nothing, as in PyTorch."""
    x = np.array([[1.0, 0.0, 0.25, 0.5]])
    labels = np.array([[0, 3, -1, -1]])  # pair (0, 1) sits at the kink; the others are active
    expected = reference_gradient(ref.ref_multilabel_margin, x - NUDGE * np.array([[0, 1, 0, 0]]),
                                  labels)
    assert_pinned(grad_of("multilabel_margin", x, labels), expected)


def _unit(i, size=4):
    return np.eye(size)[i][None]


@pytest.mark.parametrize("scores,label,tied,convention", [
    ([0.5, 0.5, 0.25, 0.0], 3, [0, 1], "exact"),  # two violators tie
    ([1.5, 0.5, 0.25, -1.0], 0, [0, 1], "exact"),  # the outer kink: x_y = 1 + x_k
    ([1.5, 0.5, 0.5, -1.0], 0, [0, 1, 2], "exact"),  # three-way
    ([1.0, 0.0, -0.5, -1.0], 0, [0, 1, "floor"], "keras"),  # Keras's constant candidate ties too
    ([0.5, -1.0, -0.5, -2.0], 0, ["floor"], "keras"),  # Keras only: every other score < 0
], ids=["violators", "outer", "three-way", "keras-floor", "keras-negatives"])
def test_categorical_hinge_shares_the_gradient_among_tied_candidates(scores, label, tied,
                                                                      convention):
    """optax's choice (jax.grad of a max): each of the m tied pieces gets 1/m of the gradient."""
    x = np.array([scores])
    labels = np.array([label])
    # A candidate x_k becomes the only max when x_k is raised; the constant does when every tied
    # score is lowered.
    scored = [k for k in tied if k != "floor"]
    shifts = [_unit(k) if k != "floor" else -sum(_unit(j) for j in scored) for k in tied]
    expected = piece_gradient(ref.ref_categorical_hinge, x, labels, shifts, convention=convention)
    assert_pinned(grad_of("categorical_hinge", x, labels, convention=convention), expected)


def test_multiclass_perceptron_shares_the_gradient_among_tied_maxima():
    x = np.array([[0.5, 0.5, 0.5, -1.0], [1.0, 1.0, 1.0, 0.0]])  # classes 0, 1, 2 tie
    labels = np.array([1, 3])
    shifts = [np.concatenate([_unit(k), _unit(k)]) for k in range(3)]
    expected = piece_gradient(ref.ref_multiclass_perceptron, x, labels, shifts)
    assert_pinned(grad_of("multiclass_perceptron", x, labels), expected)


# ---------------------------------------------------------------------------------------------
# target sets


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("bad", [0.0, 0.5, 2.0, np.inf])
def test_binary_targets_outside_plus_minus_one_raise(name, bad):
    x = np.zeros((2, 3))
    y = np.ones((2, 3))
    y[1, 2] = bad
    with pytest.raises(DomainError, match=rf"{name}: targets\[1, 2\] = {bad} is not -1 or 1.*2\*y - 1"):
        losses.get(name)(x, y)


@pytest.mark.parametrize("name", BINARY)
def test_nan_targets_propagate_into_their_entry_only(name):
    x = np.array([[0.3, -2.0], [1.5, 0.25]])
    y = np.array([[1.0, np.nan], [-1.0, 1.0]])
    result = losses.get(name)(x, y, reduction="none")
    assert np.isnan(result.value[0, 1]) and np.isnan(result.grad[0, 1])
    mask = ~np.isnan(y)
    assert np.all(np.isfinite(result.value[mask])) and np.all(np.isfinite(result.grad[mask]))


def test_validate_false_applies_the_formula_to_any_target():
    x = np.array([0.3, -2.0, 1.5])
    y = np.array([0.5, 0.0, -3.0])
    result = losses.hinge(x, y, reduction="none", validate=False)
    tol.assert_close(result.value, ref.ref_hinge(x, y), np.float64)
    embedding = losses.hinge_embedding(x, y, reduction="none", validate=False)
    assert np.all(np.isnan(embedding.value)) and np.all(np.isnan(embedding.grad))


def test_targets_of_another_shape_or_dtype_raise():
    x = np.zeros((4, 1))
    with pytest.raises(ShapeError, match=r"\(4,\).*\(4, 1\)"):
        losses.hinge(x, np.ones(4))
    with pytest.raises(DTypeError, match="real numbers"):
        losses.hinge(x, np.ones((4, 1), dtype=complex))


# ---------------------------------------------------------------------------------------------
# Keras's batch-wide {0, 1} → {−1, 1} mapping


@pytest.mark.parametrize("name", ["hinge", "squared_hinge"])
def test_keras_convention_maps_an_all_binary_batch(name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    y01 = rng.integers(0, 2, size=(4, 3)).astype(float)
    mapped = losses.get(name)(x, y01, convention="keras", reduction="none")
    signs = losses.get(name)(x, 2 * y01 - 1, reduction="none")
    reference = getattr(ref, f"ref_{name}")
    tol.assert_close(mapped.value, reference(x, y01, convention="keras"), np.float64)
    np.testing.assert_array_equal(mapped.value, signs.value)
    np.testing.assert_array_equal(mapped.grad, signs.grad)


@pytest.mark.parametrize("name", ["hinge", "squared_hinge"])
def test_keras_mapping_is_decided_by_the_whole_batch(name):
    """A {0, 1} row is mapped alone, but not beside a −1: then its 0 is an error (or, without
    validation, used as it is, as Keras does)."""
    x = np.array([[0.5, -0.25], [1.5, 2.0]])
    mixed = np.array([[0.0, 1.0], [-1.0, 1.0]])
    fn = losses.get(name)
    with pytest.raises(DomainError, match=r"targets\[0, 0\] = 0.0 .*every target of the call"):
        fn(x, mixed, convention="keras")
    unmapped = fn(x, mixed, convention="keras", validate=False, reduction="none")
    reference = getattr(ref, f"ref_{name}")
    tol.assert_close(unmapped.value, reference(x, mixed, convention="keras"), np.float64)
    alone = fn(x[:1], mixed[:1], convention="keras", reduction="none")
    tol.assert_close(alone.value, reference(x[:1], 2 * mixed[:1] - 1), np.float64)


def test_binary_labels_without_the_keras_convention_raise_and_name_it():
    with pytest.raises(DomainError, match='convention="keras"'):
        losses.hinge(np.zeros(3), np.array([0.0, 1.0, 1.0]))
    with pytest.raises(DomainError) as info:
        losses.perceptron(np.zeros(3), np.array([0.0, 1.0, 1.0]))
    assert "convention" not in str(info.value)  # perceptron has no such option


# ---------------------------------------------------------------------------------------------
# multiclass targets


def test_categorical_hinge_takes_labels_or_one_hot_rows():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 4))
    labels = rng.integers(0, 4, size=5)
    for convention in ("exact", "keras"):
        sparse = losses.categorical_hinge(x, labels, convention=convention, reduction="none")
        dense = losses.categorical_hinge(x, np.eye(4)[labels], convention=convention,
                                         reduction="none")
        tol.assert_close(sparse.value, ref.ref_categorical_hinge(x, labels, convention), np.float64)
        np.testing.assert_array_equal(dense.value, sparse.value)
        np.testing.assert_array_equal(dense.grad, sparse.grad)


def test_categorical_hinge_conventions_differ_when_every_other_score_is_negative():
    x = np.array([[0.25, -1.0, -0.5]])
    exact = float(losses.categorical_hinge(x, [0]))
    keras = float(losses.categorical_hinge(x, [0], convention="keras"))
    tol.assert_close(exact, ref.ref_categorical_hinge(x, np.array([0]))[0], np.float64)
    tol.assert_close(keras, ref.ref_categorical_hinge(x, np.array([0]), "keras")[0], np.float64)
    assert keras > exact


@pytest.mark.parametrize("name", ["categorical_hinge", "multiclass_perceptron"])
def test_multiclass_targets_are_checked(name):
    fn = losses.get(name)
    x = np.zeros((2, 3))
    with pytest.raises(DomainError, match=r"targets\[1\] .* not a one-hot row"):
        fn(x, np.array([[0, 1, 0], [1, 1, 0]]))
    with pytest.raises(DomainError, match="not a one-hot row"):
        fn(x, np.array([[0, 1, 0], [0.5, 0.5, 0]]))
    with pytest.raises(LabelRangeError, match=r"labels\[1\] = 3"):
        fn(x, np.array([0, 3]))
    with pytest.raises(DTypeError, match="integer class labels"):
        fn(x, np.array([0.0, 2.0]))
    with pytest.raises(ShapeError):
        fn(x, np.array([0, 1, 2]))


@pytest.mark.parametrize("name", ["categorical_hinge", "multiclass_perceptron"])
def test_a_nan_in_a_one_hot_row_poisons_that_row_only(name):
    x = np.array([[0.5, 1.0, -1.0], [2.0, 0.0, 0.5]])
    t = np.array([[0.0, np.nan, 0.0], [1.0, 0.0, 0.0]])
    result = losses.get(name)(x, t, reduction="none")
    assert np.isnan(result.value[0]) and np.all(np.isnan(result.grad[0]))
    expected = losses.get(name)(x[1:], [0], reduction="none")
    np.testing.assert_array_equal(result.value[1:], expected.value)
    np.testing.assert_array_equal(result.grad[1:], expected.grad)


def test_multi_margin_options_and_labels_are_checked():
    x = np.zeros((2, 3))
    with pytest.raises(OptionError, match="p=3"):
        losses.multi_margin(x, [0, 1], p=3)
    for margin in (np.nan, np.inf, "1"):
        with pytest.raises(OptionError, match="margin"):
            losses.multi_margin(x, [0, 1], margin=margin)
    with pytest.raises(LabelRangeError, match=r"labels\[0\] = -1"):
        losses.multi_margin(x, [-1, 1])
    with pytest.raises(ShapeError, match="categorical_hinge"):
        losses.multi_margin(x, np.eye(3)[[0, 1]])


# ---------------------------------------------------------------------------------------------
# PyTorch's weighting and normalisation


@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_weights_the_powered_term_and_mean_divides_by_n(p):
    rng = np.random.default_rng(2)
    x = rng.normal(scale=2.0, size=(6, 4))
    labels = rng.integers(0, 4, size=6)
    w = np.array([0.5, 2.0, 1.0, 3.0])
    expected = ref.ref_multi_margin(x, labels, p=p, margin=0.75, class_weight=w)
    none = losses.multi_margin(x, labels, p=p, margin=0.75, class_weight=w, reduction="none")
    tol.assert_close(none.value, expected, np.float64)
    mean = losses.multi_margin(x, labels, p=p, margin=0.75, class_weight=w)
    tol.assert_close(mean.value, expected.sum() / len(x), np.float64)
    tol.assert_close(mean.grad, none.grad / len(x), np.float64)
    assert not np.isclose(mean.value, expected.sum() / w[labels].sum())  # not Σ w_y
    s = rng.uniform(0.5, 2.0, size=6)
    weighted = losses.multi_margin(x, labels, p=p, margin=0.75, class_weight=w, sample_weight=s)
    tol.assert_close(weighted.value, np.sum(s * expected) / s.sum(), np.float64)


def test_multi_margin_weight_sits_outside_the_square():
    """PyTorch's kernel: w_y·max(0, z)², not max(0, w_y·z)² as its documentation writes."""
    x = np.array([[0.0, 0.5, 0.0]])
    w = np.array([3.0, 1.0, 1.0])
    value = float(losses.multi_margin(x, [0], p=2, class_weight=w))
    assert value == pytest.approx(ref.ref_multi_margin(x, np.array([0]), p=2, class_weight=w)[0])
    assert value != pytest.approx(ref.ref_multi_margin(x, np.array([0]), p=2)[0] * 3.0**2)


def test_multilabel_soft_margin_class_weights_and_mean():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 4))
    t = rng.integers(0, 2, size=(5, 4)).astype(float)
    w = np.array([0.5, 2.0, 1.0, 3.0])
    expected = ref.ref_multilabel_soft_margin(x, t, class_weight=w)
    mean = losses.multilabel_soft_margin(x, t, class_weight=w)
    tol.assert_close(mean.value, expected.mean(), np.float64)


def test_multilabel_soft_margin_targets_are_probabilities():
    x = np.zeros((1, 3))
    with pytest.raises(DomainError, match=r"targets\[0, 1\] = 1.5"):
        losses.multilabel_soft_margin(x, np.array([[0.0, 1.5, 1.0]]))
    with pytest.raises(ShapeError, match="multilabel_margin"):
        losses.multilabel_soft_margin(x, np.array([2]))


# ---------------------------------------------------------------------------------------------
# multilabel_margin's −1-padded label lists


def test_multilabel_margin_reads_targets_up_to_the_padding():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 4))
    x[1] = x[0]
    labels = np.array([[3, 0, -1, -1], [0, 3, -1, -1], [2, -1, -1, -1], [-1, -1, -1, -1],
                       [1, 0, 3, 2]])
    result = losses.multilabel_margin(x, labels, reduction="none")
    tol.assert_close(result.value, ref.ref_multilabel_margin(x, labels), np.float64)
    assert result.value[0] == result.value[1]  # the order of a row's targets does not matter
    # no target, or every class a target: no pair, so no loss and no gradient
    np.testing.assert_array_equal(result.value[3:], 0)
    np.testing.assert_array_equal(result.grad[3:], 0)


def test_multilabel_margin_label_lists_are_checked():
    x = np.zeros((2, 4))
    ok = [-1, -1, -1, -1]
    with pytest.raises(DomainError, match=r"labels\[1, 2\] = 2 follows the -1 padding"):
        losses.multilabel_margin(x, [ok, [0, -1, 2, -1]])
    with pytest.raises(DomainError, match=r"labels\[1, 2\] = 0 repeats"):
        losses.multilabel_margin(x, [ok, [0, 1, 0, -1]])
    for bad in (-2, 4):
        with pytest.raises(LabelRangeError, match=rf"labels\[1, 1\] = {bad}"):
            losses.multilabel_margin(x, [ok, [0, bad, -1, -1]])
    with pytest.raises(DTypeError, match="multilabel_soft_margin"):
        losses.multilabel_margin(x, np.zeros((2, 4)))
    with pytest.raises(ShapeError):
        losses.multilabel_margin(x, [[0, -1]] * 2)


def test_multilabel_margin_along_axis_1():
    """PyTorch's layout (N, C) with the class axis given explicitly, and a class-first layout."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 4))
    labels = np.array([[1, -1, -1, -1], [2, 0, -1, -1], [3, 1, 2, -1]])
    last = losses.multilabel_margin(x, labels, reduction="none")
    first = losses.multilabel_margin(x.T, labels.T, axis=0, reduction="none")
    np.testing.assert_array_equal(first.value, last.value)
    np.testing.assert_array_equal(first.grad, last.grad.T)


# ---------------------------------------------------------------------------------------------
# extreme scores


def _mp_softplus(m):
    return float(mpmath.log(1 + mpmath.exp(mpmath.mpf(float(m)))))


def _mp_sigmoid(m):
    return float(1 / (1 + mpmath.exp(-mpmath.mpf(float(m)))))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_soft_margin_is_exact_at_huge_scores(dtype):
    x = np.array([1e9, -1e9, 1e9, 50.0], dtype=dtype)
    y = np.array([1.0, 1.0, -1.0, -1.0], dtype=dtype)
    result = losses.soft_margin(x, y, reduction="none")
    expected = [_mp_softplus(-yi * xi) for xi, yi in zip(x.astype(float), y.astype(float))]
    tol.assert_close(result.value, expected, dtype)
    sigma = [_mp_sigmoid(-yi * xi) for xi, yi in zip(x.astype(float), y.astype(float))]
    tol.assert_close(result.grad, -y * np.array(sigma), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multilabel_soft_margin_is_exact_at_huge_logits(dtype):
    x = np.array([[1e9, -1e9, 1e9, -1e9]], dtype=dtype)
    t = np.array([[0.0, 1.0, 1.0, 0.0]], dtype=dtype)
    result = losses.multilabel_soft_margin(x, t, reduction="none")
    terms = [_mp_softplus(xi) if ti == 0 else _mp_softplus(-xi)
             for xi, ti in zip(x[0].astype(float), t[0])]
    tol.assert_close(result.value, [np.mean(terms)], dtype)
    sigma = np.array([[_mp_sigmoid(xi) for xi in x[0].astype(float)]])
    tol.assert_close(result.grad, (sigma - t) / 4, dtype)


def test_infinite_logits_with_matching_targets_add_nothing():
    x = np.array([[-np.inf, np.inf, 0.0]])
    t = np.array([[0.0, 1.0, 1.0]])
    w = np.array([1.0, 1.0, 0.0])
    result = losses.multilabel_soft_margin(x, t, reduction="none")
    tol.assert_close(result.value, ref.ref_multilabel_soft_margin(x[:, 2:], t[:, 2:]) / 3,
                     np.float64)
    np.testing.assert_array_equal(result.grad[0, :2], 0)
    weighted = losses.multilabel_soft_margin(np.array([[0.0, 0.0, np.inf]]), np.zeros((1, 3)),
                                             class_weight=w, reduction="none")
    assert np.isfinite(weighted.value).all()


@pytest.mark.parametrize("scale", [1e9, -1e9])
@pytest.mark.parametrize("name", ["hinge", "perceptron", "hinge_embedding", "categorical_hinge",
                                  "multiclass_perceptron", "multi_margin", "multilabel_margin"])
def test_linear_losses_are_exact_at_huge_scores(name, scale):
    rng = np.random.default_rng(6)
    case = next(c for c in CASES if c.name == name)
    x, t = case.inputs(rng, 4)
    x = x * scale
    result = losses.get(name)(x, t, reduction="none")
    np.testing.assert_allclose(result.value, case.reference(x, t), rtol=1e-15)
    assert np.all(np.isfinite(result.grad))


# ---------------------------------------------------------------------------------------------
# registry


def test_framework_aliases_resolve_to_this_family():
    aliases = {
        "hinge": ["Hinge", "hinge_loss"], "squared_hinge": ["SquaredHinge"],
        "categorical_hinge": ["CategoricalHinge", "multiclass_hinge_loss"],
        "multiclass_perceptron": ["multiclass_perceptron_loss"],
        "multi_margin": ["MultiMarginLoss", "multi_margin_loss"],
        "multilabel_margin": ["MultiLabelMarginLoss", "multilabel_margin_loss"],
        "multilabel_soft_margin": ["MultiLabelSoftMarginLoss", "multilabel_soft_margin_loss"],
        "soft_margin": ["SoftMarginLoss", "soft_margin_loss"], "perceptron": ["perceptron_loss"],
        "hinge_embedding": ["HingeEmbeddingLoss", "hinge_embedding_loss"],
    }
    for name, spellings in aliases.items():
        for spelling in spellings:
            assert losses.get(spelling).__name__ == name, spelling
