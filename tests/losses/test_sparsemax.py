"""sparsemax and the sparsemax losses beyond the generic contract: the projection itself (against
Michelot's algorithm, its optimality conditions, extreme and non-finite scores), the gradient at
ties and on the support boundary, the identities that tie the losses to others, binary targets,
and a live check of the projection against optax's.

Expected numbers come from the references in cases_sparsemax.py (a different algorithm and a
different formula from lossgrad's), from another lossgrad loss an identity names, or from optax.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossgrad import losses
from lossgrad.errors import DomainError, DTypeError, OptionError, ShapeError
from lossgrad.losses.sparsemax import sparsemax
from tests import tolerances as tol
from tests.gradcheck import central_differences
from tests.losses.cases import CASES  # noqa: F401  (first: the table imports each family's rows)
from tests.losses import cases_sparsemax as ref

finite = st.floats(-20, 20, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def score_rows(draw, max_rows=5, max_classes=6):
    n = draw(st.integers(1, max_rows))
    c = draw(st.integers(1, max_classes))
    return draw(hnp.arrays(np.float64, (n, c), elements=finite))


# ---------------------------------------------------------------------------------------------
# the projection


@given(score_rows())
def test_sparsemax_is_the_projection_onto_the_simplex(z):
    p = sparsemax(z)
    tol.assert_close(p, ref.ref_sparsemax(z), np.float64)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1, rtol=0, atol=1e-12)


@given(score_rows(), st.floats(-1e3, 1e3))
def test_sparsemax_is_shift_invariant(z, shift):
    np.testing.assert_allclose(sparsemax(z + shift), sparsemax(z), rtol=0, atol=1e-10)


@given(score_rows(max_classes=5), st.randoms(use_true_random=False))
def test_no_point_of_the_simplex_is_closer(z, random):
    """The projection's defining property, against random points q of the simplex."""
    p = sparsemax(z)
    rng = np.random.default_rng(random.getrandbits(32))
    q = rng.dirichlet(np.ones(z.shape[-1]), size=(16, len(z)))
    assert np.all(np.sum((p - z) ** 2, axis=-1) <= np.sum((q - z) ** 2, axis=-1) + 1e-9)


def test_low_scores_get_exactly_zero_and_the_rest_a_common_shift():
    z = np.array([[0.5, 1.2, -1.0, 0.9], [3.0, 0.0, 0.1, 2.5]])
    p = sparsemax(z)
    tau, support = ref.michelot(z)
    np.testing.assert_array_equal(p[~support], 0)
    tol.assert_close(p[support], (z - tau[:, None])[support], np.float64)


def _reference_along(z, axis):
    return np.moveaxis(ref.ref_sparsemax(np.moveaxis(z, axis, -1)), -1, axis)


def test_sparsemax_along_an_axis_and_in_every_dtype():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 4, 5))
    expected = _reference_along(z, 1)
    tol.assert_close(sparsemax(z, axis=1), expected, np.float64)
    tol.assert_close(sparsemax(z, axis=-2), expected, np.float64)
    for dtype in (np.float16, np.float32):
        low = z.astype(dtype)
        p = sparsemax(low, axis=1)
        assert p.dtype == dtype
        tol.assert_close(p, _reference_along(low.astype(np.float64), 1), dtype)


def test_huge_scores_keep_their_digits():
    """The max is subtracted first: 1e9 + 0.5 against 1e9 is 0.5 against 0."""
    z = np.array([1e9, 1e9 + 0.5, 1e9 - 2.0])
    np.testing.assert_array_equal(sparsemax(z), ref.ref_sparsemax(z - 1e9))
    assert sparsemax(np.array([1e300, -1e300])).tolist() == [1.0, 0.0]


def test_non_finite_scores():
    z = np.array([[0.3, -np.inf, 0.1], [np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0],
                  [-np.inf, -np.inf, -np.inf], [2.0, 0.5, -1.0]])
    p = sparsemax(z)
    np.testing.assert_array_equal(p[0], np.insert(ref.ref_sparsemax(z[0, [0, 2]]), 1, 0.0))
    assert np.all(np.isnan(p[1:4]))
    np.testing.assert_array_equal(p[4], ref.ref_sparsemax(z[4]))


def test_sparsemax_checks_its_input():
    with pytest.raises(ShapeError, match="scalar"):
        sparsemax(1.0)
    with pytest.raises(ShapeError, match=r"\(2, 0\)"):
        sparsemax(np.zeros((2, 0)))
    for axis in (2, -3, 1.0):
        with pytest.raises(OptionError, match="axis"):
            sparsemax(np.zeros((2, 3)), axis=axis)
    with pytest.raises(DTypeError):
        sparsemax(np.zeros(3, dtype=np.int64))
    z = np.array([[1.0, 2.0]])
    z.flags.writeable = False
    sparsemax(z)  # a read-only input is fine and left alone
    np.testing.assert_array_equal(z, [[1.0, 2.0]])


# ---------------------------------------------------------------------------------------------
# multiclass_sparsemax


@given(score_rows(), st.data())
def test_multiclass_gradient_is_sparsemax_minus_one_hot_and_the_loss_non_negative(z, data):
    labels = data.draw(hnp.arrays(np.int64, (len(z),), elements=st.integers(0, z.shape[-1] - 1)))
    r = losses.multiclass_sparsemax(z, labels, reduction="none")
    assert np.all(r.value >= -1e-12)
    np.testing.assert_allclose(r.grad, sparsemax(z) - np.eye(z.shape[-1])[labels], rtol=0,
                               atol=1e-15)


@pytest.mark.parametrize("z,label", [
    ([1.0, 1.0, 0.0], 0),  # a tie on the support
    ([1.0, 0.0, -1.0], 1),  # z_1 = τ = 0: on the support boundary
    ([0.5, 0.5, 0.5, 0.5], 2),  # every score tied
    ([2.0, 1.0, 1.0], 0),  # two tied scores on the boundary
], ids=["tie", "boundary", "all-tied", "tied-boundary"])
def test_ties_and_the_support_boundary_have_one_gradient(z, label):
    """The loss is continuously differentiable: its gradient there is p − onehot(y), and central
    differences across the boundary approach it (to O(step), the second derivative jumps)."""
    z = np.array([z])
    labels = np.array([label])
    r = losses.multiclass_sparsemax(z, labels, reduction="sum")
    expected = ref.ref_sparsemax(z) - np.eye(z.shape[-1])[labels]
    np.testing.assert_allclose(r.grad, expected, rtol=0, atol=1e-15)
    numeric = central_differences(lambda s: float(ref.ref_multiclass_sparsemax(s, labels)[0]), z)
    np.testing.assert_allclose(r.grad, numeric, rtol=0, atol=1e-5)


def test_a_label_ahead_by_the_margin_costs_nothing():
    """z_y ≥ z_j + 1 for every j ≠ y: p = onehot(y), so the loss and its gradient are 0."""
    z = np.array([[3.0, 2.0, -1.0], [0.0, 1.0, 0.0], [5.0, 1.0, 4.0]])
    labels = np.array([0, 1, 0])
    r = losses.multiclass_sparsemax(z, labels, reduction="none")
    np.testing.assert_array_equal(r.value, 0)
    np.testing.assert_array_equal(r.grad, 0)


@pytest.mark.parametrize("scale", [1.0, 1e4, 1e9])
def test_a_single_class_support_is_the_multiclass_perceptron(scale):
    """When the top score leads by more than 1, p is one-hot at the arg-max k and the loss is
    z_k − z_y: the multiclass perceptron loss, value and gradient, at any scale."""
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 4))
    z[np.arange(6), np.argmax(z, axis=-1)] += 1.5  # the top score now leads by more than 1
    z = z * scale
    labels = rng.integers(0, 4, size=6)
    sparse = losses.multiclass_sparsemax(z, labels, reduction="none")
    perceptron = losses.multiclass_perceptron(z, labels, reduction="none")
    tol.assert_close(sparse.value, perceptron.value, np.float64)
    tol.assert_close(sparse.grad, perceptron.grad, np.float64)


def test_minus_infinity_scores():
    z = np.array([[0.3, -np.inf, 0.1], [0.3, -np.inf, 0.1]])
    r = losses.multiclass_sparsemax(z, np.array([0, 1]), reduction="none")
    expected = ref.ref_multiclass_sparsemax(z[:1, [0, 2]], np.array([0]))
    tol.assert_close(r.value[0], expected[0], np.float64)  # off the support: adds exactly 0
    assert r.value[1] == np.inf  # on the label: as cross-entropy
    assert np.all(np.isfinite(r.grad)) and np.all(r.grad[:, 1] == [0, -1])


def test_multiclass_takes_integer_labels_only():
    z = np.zeros((2, 3))
    with pytest.raises(ShapeError, match="argmax"):
        losses.multiclass_sparsemax(z, np.eye(3)[[0, 1]])
    with pytest.raises(DTypeError, match="integer class labels"):
        losses.multiclass_sparsemax(z, np.array([0.0, 1.0]))


# ---------------------------------------------------------------------------------------------
# binary_sparsemax


@st.composite
def logits_and_bits(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=5))
    return (draw(hnp.arrays(np.float64, shape, elements=finite)),
            draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0]))))


@given(logits_and_bits())
def test_binary_is_multiclass_on_the_scores_0_and_x(data):
    """Two classes with scores (0, x): the class-1 probability is the sparse sigmoid of x."""
    x, y = data
    binary = losses.binary_sparsemax(x, y, reduction="none")
    scores = np.stack([np.zeros_like(x), x], axis=-1)
    multi = losses.multiclass_sparsemax(scores, y.astype(np.int64), reduction="none")
    tol.assert_close(binary.value, multi.value, np.float64)
    tol.assert_close(binary.grad, multi.grad[..., 1], np.float64)


def test_binary_is_exact_for_huge_logits():
    x = np.array([1e9, 1e9, -1e9, -1e9])
    y = np.array([0.0, 1.0, 0.0, 1.0])
    r = losses.binary_sparsemax(x, y, reduction="none")
    np.testing.assert_array_equal(r.value, ref.ref_binary_sparsemax(x, y))
    np.testing.assert_array_equal(r.grad, [1.0, 0.0, 0.0, -1.0])


def test_binary_targets_are_0_or_1():
    x = np.full((2, 3), 0.25)
    y = np.ones((2, 3))
    y[1, 2] = -1.0
    with pytest.raises(DomainError, match=r"targets\[1, 2\] = -1.0 is not 0 or 1"):
        losses.binary_sparsemax(x, y)
    # validate=False: the formula sparse_plus((1 − 2y)·x) for any y, here (1 − 2y)·x = 3x
    loose = losses.binary_sparsemax(x, y, validate=False, reduction="none")
    tol.assert_close(loose.value[1, 2], ref.ref_binary_sparsemax(3 * x[1, 2], 0.0), np.float64)
    y[1, 2] = np.nan
    r = losses.binary_sparsemax(x, y, reduction="none")
    assert np.isnan(r.value[1, 2]) and np.isnan(r.grad[1, 2])
    assert np.all(np.isfinite(np.delete(r.value.ravel(), 5)))


@pytest.mark.parametrize("alias,name", [("multiclass_sparsemax_loss", "multiclass_sparsemax"),
                                        ("sparsemax_loss", "binary_sparsemax")])
def test_optax_names_resolve(alias, name):
    assert losses.get(alias).__name__ == name


# ---------------------------------------------------------------------------------------------
# live: the projection against optax's


@pytest.mark.live
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparsemax_equals_optax_projection_simplex(dtype):
    from tests.parity import frameworks

    fw = frameworks.load()
    rng = np.random.default_rng(2)
    z = (rng.normal(size=(8, 6)) * rng.choice([0.1, 1.0, 10.0], size=(8, 1))).astype(dtype)
    theirs = np.asarray(fw.jax.vmap(fw.optax.projections.projection_simplex)(fw.jnp.asarray(z)))
    tol.assert_close(sparsemax(z), theirs, dtype, table=tol.FRAMEWORK)
