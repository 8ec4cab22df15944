"""The ranking / metric-learning family beyond the generic contract: the subgradient at each kink,
the two eps placements of the triplet distance, zero vectors, anchors without partners, and the
properties of the batch-wide (coupled) losses.

Expected values come from the plain references in cases_ranking.py, never typed in. At a kink the
expected gradient is that of the piece the frameworks pick, measured by central differences of
the reference at a point nudged onto that piece (dyadic inputs and steps keep the piecewise-linear
differences exact).
"""

from __future__ import annotations

import numpy as np
import pytest

import tests.losses.cases  # noqa: F401  (first: the table imports each family's rows)
from lossgrad import losses
from lossgrad.errors import DomainError, DTypeError, OptionError, ShapeError
from tests import tolerances as tol
from tests.gradcheck import central_differences
from tests.losses import cases_ranking as ref

STEP = 2.0**-10
NUDGE = 2.0**-4


def reference_gradient(fn, x):
    """Central differences of Σ fn at x with a dyadic step."""
    return central_differences(lambda v: float(np.sum(fn(v))), x, step=STEP)


# ---------------------------------------------------------------------------------------------
# margin ranking


@pytest.mark.parametrize("y", [1.0, -1.0])
def test_margin_ranking_passes_the_gradient_at_the_kink(y):
    """At −y·(x1 − x2) + margin = 0 the gradient is the active piece's (PyTorch's clamp_min)."""
    x1, x2, t = np.array([0.75]), np.array([1.0]), np.array([y])
    margin = y * (x1[0] - x2[0])  # puts the ramp exactly at 0
    r = losses.margin_ranking(x1, x2, t, margin=margin, reduction="sum")
    assert r.value == 0
    active = x1 - NUDGE * y  # onto the side where the ramp is positive
    np.testing.assert_array_equal(
        r.grads["x1"], reference_gradient(lambda v: ref.ref_margin_ranking(v, x2, t, margin),
                                          active))
    np.testing.assert_array_equal(
        r.grads["x2"], reference_gradient(lambda v: ref.ref_margin_ranking(active, v, t, margin),
                                          x2))


def test_margin_ranking_targets_are_signs_and_shapes_never_broadcast():
    x, y, t = np.array([0.5, 1.0]), np.array([1.5, -1.0]), np.array([1.0, 0.5])
    with pytest.raises(DomainError, match=r"targets\[1\] = 0.5 is not -1 or 1"):
        losses.margin_ranking(x, y, t)
    # validate=False applies the formula to any target, as PyTorch does
    tol.assert_close(losses.margin_ranking(x, y, t, validate=False, reduction="none").value,
                     ref.ref_margin_ranking(x, y, t), np.float64)
    with pytest.raises(ShapeError, match=r"x2 of shape \(1,\) does not match x1 of shape \(2,\)"):
        losses.margin_ranking(x, x[:1], [1.0, 1.0])


# ---------------------------------------------------------------------------------------------
# triplet margin


def triplet_grads(anchor, positive, negative, **opts):
    r = losses.triplet_margin(anchor, positive, negative, reduction="sum", **opts)
    return r, [r.grads[k] for k in ("anchor", "positive", "negative")]


def test_triplet_passes_the_gradient_at_the_hinge():
    a, p, n = np.array([[0.0, 0.0]]), np.array([[0.75, 0.0]]), np.array([[0.0, 1.0]])
    r, grads = triplet_grads(a, p, n, eps=0.0, margin=0.25)  # 0.25 + 0.75 − 1 = 0
    assert r.value == 0
    onto = p + np.array([[NUDGE, 0.0]])  # farther positive: the hinge is active
    expected = [reference_gradient(fn, x) for fn, x in (
        (lambda v: ref.ref_triplet_margin(v, onto, n, margin=0.25, eps=0.0), a),
        (lambda v: ref.ref_triplet_margin(a, v, n, margin=0.25, eps=0.0), onto),
        (lambda v: ref.ref_triplet_margin(a, onto, v, margin=0.25, eps=0.0), n))]
    assert expected[0].any()
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_triplet_swap_shares_the_gradient_at_a_tie():
    """d(a, n) = d(p, n): the two distances share the negative term equally (torch.minimum), the
    mean of the gradients on either side of the tie."""
    a, p, n = np.array([[0.0, 0.0]]), np.array([[2.0, 0.0]]), np.array([[1.0, 0.0]])
    _, grads = triplet_grads(a, p, n, eps=0.0, swap=True)
    for k, got in enumerate(grads):
        sides = []
        for side in (1, -1):  # n nudged so that either distance is the smaller
            inputs = [a, p, n + np.array([[side * NUDGE, 0.0]])]

            def fn(v, k=k, inputs=inputs):
                moved = inputs[:k] + [v] + inputs[k + 1:]
                return ref.ref_triplet_margin(*moved, eps=0.0, swap=True)

            sides.append(reference_gradient(fn, inputs[k]))
        assert not np.array_equal(*sides)
        np.testing.assert_allclose(got, (sides[0] + sides[1]) / 2, rtol=0, atol=1e-12)


def test_triplet_zero_difference_gives_a_zero_gradient_not_nan():
    a = np.array([[0.5, -1.0]])
    r, grads = triplet_grads(a, a.copy(), np.array([[1.5, -1.0]]), eps=0.0, margin=2.0)
    np.testing.assert_allclose(r.value, 1.0)
    assert not grads[1].any() and np.all(np.isfinite(grads[0]))


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_triplet_eps_placement_of_each_convention(p):
    """PyTorch adds eps to every difference, optax once under the root: at a = p over D = 4
    features the distances are eps·4^{1/p} and eps^{1/p}."""
    a = np.zeros((1, 4))
    far = np.full((1, 4), 10.0)
    for convention in ("torch", "optax"):
        r = losses.triplet_margin(a, a, far, p=p, eps=1e-2, margin=100.0, convention=convention,
                                  reduction="none")
        d_ap = ref.ref_distance(a, a, p=p, eps=1e-2, convention=convention)
        d_an = ref.ref_distance(a, far, p=p, eps=1e-2, convention=convention)
        tol.assert_close(r.value, 100.0 + d_ap - d_an, np.float64)
    torch_d = ref.ref_distance(a, a, p=p, eps=1e-2, convention="torch")
    optax_d = ref.ref_distance(a, a, p=p, eps=1e-2, convention="optax")
    tol.assert_close(torch_d, 1e-2 * 4 ** (1 / p), np.float64)
    tol.assert_close(optax_d, 1e-2 ** (1 / p), np.float64)


@pytest.mark.parametrize("convention", ["torch", "optax"])
def test_triplet_distances_do_not_overflow(convention):
    """With eps = margin = 0 the loss is homogeneous: 1e200·(a, p, n) gives 1e200 times the loss
    and the same gradients, where |w|³ alone would overflow."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=(3, 4))
    p, n = a + 2 * rng.normal(size=(3, 4)), a + 0.2 * rng.normal(size=(3, 4))  # active hinges
    opts = {"p": 3.0, "eps": 0.0, "margin": 0.0, "convention": convention}
    small, small_grads = triplet_grads(a, p, n, **opts)
    big, big_grads = triplet_grads(1e200 * a, 1e200 * p, 1e200 * n, **opts)
    assert small.value > 0
    tol.assert_close(big.value, 1e200 * small.value, np.float64)
    for got, want in zip(big_grads, small_grads):
        tol.assert_close(got, want, np.float64)


def test_triplet_feature_axis_and_options():
    rng = np.random.default_rng(3)
    a, p, n = (rng.normal(size=(4, 5)) for _ in range(3))
    last = losses.triplet_margin(a.T, p.T, n.T, reduction="none")
    first = losses.triplet_margin(a, p, n, axis=0, reduction="none")
    np.testing.assert_allclose(first.value, last.value, rtol=1e-15)
    np.testing.assert_allclose(first.grads["negative"], last.grads["negative"].T, rtol=1e-15)
    with pytest.raises(OptionError, match="p must be ≥ 1"):
        losses.triplet_margin(a, p, n, p=0.5)
    with pytest.raises(OptionError, match="'torch', 'optax'"):
        losses.triplet_margin(a, p, n, convention="keras")
    with pytest.raises(ShapeError, match=r"negative of shape \(4, 4\) does not match anchor"):
        losses.triplet_margin(a, p, n[:, :4])


# ---------------------------------------------------------------------------------------------
# NT-Xent (coupled)


def test_ntxent_mean_is_over_positive_pairs_and_an_empty_batch_of_pairs_follows_empty():
    rng = np.random.default_rng(4)
    e, labels = rng.normal(size=(5, 3)), np.array([0, 0, 0, 1, 2])
    r = losses.ntxent(e, labels)
    tol.assert_close(float(r), np.sum(ref.ref_ntxent(e, labels)) / 6, np.float64)  # 3·2 pairs
    distinct = losses.ntxent(e, np.arange(5), reduction="none")
    np.testing.assert_array_equal(distinct.value, 0)
    assert not distinct.grad.any()
    assert np.isnan(float(losses.ntxent(e, np.arange(5))))
    assert float(losses.ntxent(e, np.arange(5), empty="zero")) == 0


def test_ntxent_anchors_without_negatives_have_zero_loss():
    e = np.random.default_rng(5).normal(size=(4, 3))
    r = losses.ntxent(e, np.zeros(4, dtype=int), reduction="none")
    np.testing.assert_array_equal(r.value, 0)
    assert not r.grad.any()


def test_ntxent_is_invariant_to_the_embedding_scale():
    """Cosine similarities: e and c·e give one loss, and the gradient scales by 1/c."""
    rng = np.random.default_rng(6)
    e, labels = rng.normal(size=(6, 4)), ref.pair_labels(6)
    r, scaled = losses.ntxent(e, labels), losses.ntxent(8.0 * e, labels)
    tol.assert_close(scaled.value, r.value, np.float64)
    tol.assert_close(scaled.grad * 8.0, r.grad, np.float64)


def test_ntxent_zero_embedding_is_finite_and_orthogonal_to_everything():
    """A zero row has similarity 0 with every other row (optax clips its squared norm at ε): the
    values are those with the row replaced by a unit vector orthogonal to the others."""
    rng = np.random.default_rng(7)
    e, labels = rng.normal(size=(4, 5)), ref.pair_labels(4)
    e[0] = 0
    orthogonal = e.copy()
    orthogonal[0] = np.linalg.svd(e[1:])[2][-1]  # spans the others' orthogonal complement
    r = losses.ntxent(e, labels, reduction="none")
    assert np.all(np.isfinite(r.grad))
    tol.assert_close(r.value, ref.ref_ntxent(orthogonal, labels), np.float64)


def test_ntxent_inputs_are_checked():
    e = np.zeros((4, 3))
    with pytest.raises(DTypeError, match="labels must be integers"):
        losses.ntxent(e, np.zeros(4))
    with pytest.raises(ShapeError, match=r"embeddings must have shape \(N, D\)"):
        losses.ntxent(e[..., None], np.zeros(4, dtype=int))
    with pytest.raises(OptionError, match="temperature must be > 0"):
        losses.ntxent(e, np.zeros(4, dtype=int), temperature=0.0)


# ---------------------------------------------------------------------------------------------
# Circle (coupled)


def test_circle_passes_the_gradient_where_a_similarity_reaches_1():
    """Two identical unit embeddings of different labels sit on the kink of max(1 − s, 0): the
    gradient is the one from inside (s < 1), as TensorFlow's maximum passes it."""
    rng = np.random.default_rng(8)
    e = rng.normal(size=(4, 3))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    e[1] = e[0]
    labels = np.array([0, 1, 0, 1])
    s = e @ e.T
    assert s[0, 1] == 1 or abs(s[0, 1] - 1) < 1e-15
    at = losses.circle(e, labels, gamma=4.0, reduction="sum")
    inside = losses.circle(e * (1 - 1e-9), labels, gamma=4.0, reduction="sum")
    outside = losses.circle(e * (1 + 1e-9), labels, gamma=4.0, reduction="sum")
    np.testing.assert_allclose(at.grad, inside.grad, rtol=1e-6)
    assert not np.allclose(at.grad, outside.grad, rtol=1e-3)


def test_circle_samples_without_a_positive_or_a_negative_do_not_count():
    rng = np.random.default_rng(9)
    e = rng.normal(size=(5, 3))
    labels = np.array([0, 0, 1, 1, 2])  # sample 4 has no positive
    none = losses.circle(e, labels, reduction="none")
    assert none.value[4] == 0
    tol.assert_close(none.value, ref.ref_circle(e, labels), np.float64)
    for reduction in ("mean", "sum_over_batch_size"):
        tol.assert_close(losses.circle(e, labels, reduction=reduction).value,
                         np.sum(none.value) / 4, np.float64)
    alone = losses.circle(e, np.zeros(5, dtype=int))
    assert np.isnan(float(alone)) and not alone.grad.any()
    assert float(losses.circle(e, np.zeros(5, dtype=int), empty="zero")) == 0


def test_circle_stays_finite_for_a_large_gamma():
    rng = np.random.default_rng(10)
    e = rng.normal(size=(6, 3))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    r = losses.circle(e.astype(np.float32), ref.pair_labels(6), gamma=1e4, reduction="none")
    assert np.all(np.isfinite(r.value)) and np.all(np.isfinite(r.grad))
