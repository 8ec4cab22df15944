"""Properties that hold for every input (TESTING.md §5), checked with hypothesis."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossgrad import losses, one_hot
from tests import tolerances as tol

# Generated logits may happen to look like probabilities (rows of [0, 0.5, 0.5]); the warning for
# that is tested on its own, so these math properties switch it off.
sparse_ce = functools.partial(losses.sparse_softmax_cross_entropy, validate=False)

finite = st.floats(-30, 30, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def logits_and_labels(draw, max_rows=6, max_classes=6):
    n = draw(st.integers(1, max_rows))
    c = draw(st.integers(2, max_classes))
    x = draw(hnp.arrays(np.float64, (n, c), elements=finite))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return x, y


@given(logits_and_labels(), st.floats(-50, 50))
def test_cross_entropy_is_non_negative_and_shift_invariant(data, shift):
    x, y = data
    r = sparse_ce(x, y, reduction="none")
    shifted = sparse_ce(x + shift, y, reduction="none")
    assert np.all(r.value >= 0)
    np.testing.assert_allclose(shifted.value, r.value, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(shifted.grad, r.grad, rtol=1e-9, atol=1e-12)


@given(logits_and_labels(), st.floats(0, 1))
def test_sparse_equals_dense_on_one_hot_targets(data, smoothing):
    x, y = data
    sparse = sparse_ce(x, y, label_smoothing=smoothing, reduction="none")
    dense = losses.softmax_cross_entropy(x, one_hot(y, x.shape[-1], dtype=np.float64),
                                         label_smoothing=smoothing, reduction="none",
                                         validate=False)
    tol.assert_close(sparse.value, dense.value, np.float64)
    tol.assert_close(sparse.grad, dense.grad, np.float64)


@given(logits_and_labels())
def test_unweighted_gradient_rows_sum_to_zero(data):
    x, y = data
    grad = sparse_ce(x, y, reduction="sum").grad
    np.testing.assert_allclose(grad.sum(axis=-1), 0, atol=1e-12)


@given(logits_and_labels(), st.randoms(use_true_random=False))
def test_permuting_the_batch_permutes_the_values(data, random):
    x, y = data
    order = list(range(len(y)))
    random.shuffle(order)
    r = sparse_ce(x, y, reduction="none")
    p = sparse_ce(x[order], y[order], reduction="none")
    np.testing.assert_array_equal(p.value, r.value[order])
    np.testing.assert_array_equal(p.grad, r.grad[order])


@given(logits_and_labels())
def test_zero_label_smoothing_is_no_smoothing(data):
    x, y = data
    plain = sparse_ce(x, y)
    zero = sparse_ce(x, y, label_smoothing=0.0)
    np.testing.assert_array_equal(zero.value, plain.value)
    np.testing.assert_array_equal(zero.grad, plain.grad)


@given(logits_and_labels(), st.sampled_from([np.float16, np.float32, np.float64]))
def test_dtype_is_preserved(data, dtype):
    x, y = data
    r = sparse_ce(x.astype(dtype), y)
    assert r.value.dtype == dtype and r.grad.dtype == dtype


@st.composite
def logits_and_binary_targets(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=5))
    x = draw(hnp.arrays(np.float64, shape, elements=finite))
    y = draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 1)))
    return x, y


@given(logits_and_binary_targets())
def test_sigmoid_bce_is_symmetric_under_flipping_sign_and_target(data):
    x, y = data
    r = losses.sigmoid_binary_cross_entropy(x, y, reduction="none")
    flipped = losses.sigmoid_binary_cross_entropy(-x, 1 - y, reduction="none")
    tol.assert_close(flipped.value, r.value, np.float64)
    tol.assert_close(flipped.grad, -r.grad, np.float64)


@given(logits_and_binary_targets())
def test_logits_path_equals_probability_path_away_from_saturation(data):
    x, y = data
    x = np.clip(x, -10, 10)  # σ(x) stays well inside (0, 1): no clipping, no log of 0
    from_logits = losses.sigmoid_binary_cross_entropy(x, y, reduction="none")
    p = 1 / (1 + np.exp(-x))
    from_probs = losses.binary_cross_entropy(p, y, reduction="none")
    # Looser than the reference table: the probability path rounds σ(x) before taking its log,
    # which costs a few ulps relative to the logits path (a wrong formula is off by O(1)).
    np.testing.assert_allclose(from_probs.value, from_logits.value, rtol=1e-9, atol=1e-12)
    # chain rule through σ: ∂ℓ/∂x = ∂ℓ/∂p · p(1 − p)
    np.testing.assert_allclose(from_probs.grad * p * (1 - p), from_logits.grad, rtol=1e-8,
                               atol=1e-12)


@given(logits_and_labels())
def test_softmax_path_equals_categorical_path(data):
    x, y = data
    from_logits = sparse_ce(x, y, reduction="none")
    from_probs = losses.sparse_categorical_cross_entropy(
        np.exp(x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))), y, reduction="none")
    # As above: the probability path rounds p before its log.
    np.testing.assert_allclose(from_probs.value, from_logits.value, rtol=1e-9, atol=1e-10)
