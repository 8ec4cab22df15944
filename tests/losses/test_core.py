"""core.mean_then_reduce: a reduction="none" result averaged over axes, then reduced with weights."""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad import losses
from lossgrad.errors import OptionError, ShapeError
from lossgrad.losses.core import LossResult, mean_then_reduce

RNG = np.random.default_rng(0)
PROBS = RNG.uniform(0.05, 0.95, size=(4, 3))
TARGETS = RNG.uniform(0, 1, size=(4, 3))
LOGITS = RNG.normal(size=(4, 3))
WEIGHTS = np.array([0.5, 1.0, 2.0, 0.0])


def bce_none():
    return losses.binary_cross_entropy(PROBS, TARGETS, reduction="none")


def test_per_sample_means_and_their_gradient():
    r = mean_then_reduce(bce_none())
    np.testing.assert_allclose(r.value, bce_none().value.mean(axis=-1))
    np.testing.assert_allclose(r.grad, bce_none().grad / 3)


@pytest.mark.parametrize("reduction,divisor", [("sum", 1.0), ("sum_over_batch_size", 4.0),
                                               ("mean", WEIGHTS.sum())])
def test_weighted_reductions_of_the_means(reduction, divisor):
    r = mean_then_reduce(bce_none(), reduction=reduction, sample_weight=WEIGHTS)
    means = bce_none().value.mean(axis=-1)
    np.testing.assert_allclose(r.value, np.sum(WEIGHTS * means) / divisor)
    np.testing.assert_allclose(r.grad, bce_none().grad * WEIGHTS[:, None] / 3 / divisor)


def test_gradient_matches_central_differences():
    def total(p):
        return float(mean_then_reduce(losses.binary_cross_entropy(p, TARGETS, reduction="none"),
                                      reduction="mean", sample_weight=WEIGHTS).value)

    numeric = np.zeros_like(PROBS)
    for i in np.ndindex(PROBS.shape):
        step = np.zeros_like(PROBS)
        step[i] = 1e-6
        numeric[i] = (total(PROBS + step) - total(PROBS - step)) / 2e-6
    r = mean_then_reduce(bce_none(), reduction="mean", sample_weight=WEIGHTS)
    np.testing.assert_allclose(r.grad, numeric, rtol=1e-7, atol=1e-7)


def test_axis_none_is_the_mean_of_everything_and_empty_axes_average_nothing():
    whole = mean_then_reduce(bce_none(), None)
    assert whole.value.shape == ()
    np.testing.assert_allclose(whole.value, losses.binary_cross_entropy(PROBS, TARGETS).value)
    np.testing.assert_allclose(whole.grad, losses.binary_cross_entropy(PROBS, TARGETS).grad)
    summed = mean_then_reduce(bce_none(), (), reduction="sum")
    np.testing.assert_allclose(summed.value, bce_none().value.sum())


def test_a_leading_axis():
    r = mean_then_reduce(bce_none(), 0)
    np.testing.assert_allclose(r.value, bce_none().value.mean(axis=0))
    np.testing.assert_allclose(r.grad, bce_none().grad / 4)


def test_a_row_loss_gradient_keeps_its_class_axis():
    labels = np.array([0, 2, 1, 1])
    r = mean_then_reduce(losses.sparse_softmax_cross_entropy(LOGITS, labels, reduction="none"),
                         None)
    mean = losses.sparse_softmax_cross_entropy(LOGITS, labels)
    np.testing.assert_allclose(r.value, mean.value)
    np.testing.assert_allclose(r.grad, mean.grad)
    assert r.grads["logits"] is r.grad


@pytest.mark.parametrize("empty,expected", [("zero", 0.0), ("nan", np.nan)])
def test_zero_weights_follow_the_empty_policy(empty, expected):
    r = mean_then_reduce(bce_none(), reduction="mean", sample_weight=np.zeros(4), empty=empty)
    np.testing.assert_equal(r.value, expected)
    assert not r.grad.any()


def test_without_a_gradient():
    r = mean_then_reduce(losses.binary_cross_entropy(PROBS, TARGETS, reduction="none", grad=False))
    assert r.grad is None and r.value.shape == (4,)


def test_float32_stays_float32():
    r = losses.binary_cross_entropy(PROBS.astype(np.float32), TARGETS, reduction="none")
    out = mean_then_reduce(r, reduction="sum_over_batch_size", sample_weight=WEIGHTS)
    assert out.value.dtype == out.grad.dtype == np.float32


def test_bad_arguments_raise():
    with pytest.raises(OptionError, match="axis=2"):
        mean_then_reduce(bce_none(), 2)
    with pytest.raises(OptionError, match="repeats"):
        mean_then_reduce(bce_none(), (1, -1))
    with pytest.raises(OptionError, match="reduction"):
        mean_then_reduce(bce_none(), reduction="batch")
    with pytest.raises(ShapeError, match="sample_weight"):
        mean_then_reduce(bce_none(), sample_weight=np.ones(3))
    misaligned = LossResult(np.ones((2, 3)), np.ones((2, 4, 3)))  # class axis 1, not last
    with pytest.raises(ShapeError, match="class axis last"):
        mean_then_reduce(misaligned)
