"""The segmentation family beyond the generic contract: perfect predictions, empty masks, the
Tversky weights' order, the relations between the losses (Tversky ½–½ is Dice, per-sample values
are batch values of one sample, ignore_background is a class weight), and the checks of inputs.

Expected values come from the plain references in cases_segmentation.py or from another lossgrad
loss the property relates, never typed in.
"""

from __future__ import annotations

import numpy as np
import pytest

import tests.losses.cases  # noqa: F401  (first: the table imports each family's rows)
from lossgrad import losses
from lossgrad.errors import DomainError, ShapeError
from tests import tolerances as tol
from tests.losses import cases_segmentation as ref

RNG = np.random.default_rng(11)
PROBS, MASKS = ref.probabilities_and_masks(RNG, 4)
LOGITS, ONE_HOT = ref.logits_and_one_hot(RNG, 3)


def assert_same(a, b):
    tol.assert_close(a.value, b.value, np.float64)
    tol.assert_close(a.grad, b.grad, np.float64)


# ---------------------------------------------------------------------------------------------
# perfect predictions and empty masks


@pytest.mark.parametrize("per_sample", [False, True])
def test_dice_of_a_perfect_prediction_is_0_up_to_epsilon(per_sample):
    r = losses.dice(MASKS, MASKS, per_sample=per_sample, reduction="none")
    tol.assert_close(r.value, ref.ref_dice(MASKS, MASKS, per_sample=per_sample), np.float64)
    assert np.all(r.value < 1e-7)
    exact = losses.dice(MASKS, MASKS, per_sample=per_sample, epsilon=0.0, reduction="none")
    np.testing.assert_array_equal(exact.value, 0)


def test_smoothed_dice_of_a_saturated_perfect_prediction_is_exactly_0():
    """Logits ±1e9 give probabilities exactly 0 and 1: (I + s) / (I + s) = 1, whatever s."""
    binary = losses.sigmoid_dice(np.where(MASKS > 0, 1e9, -1e9), MASKS, reduction="none")
    multi = losses.softmax_dice(np.where(ONE_HOT > 0, 1e9, -1e9), ONE_HOT, reduction="none")
    np.testing.assert_array_equal(binary.value, 0)
    np.testing.assert_array_equal(multi.value, 0)
    assert not binary.grad.any() and not multi.grad.any()


def test_an_empty_mask_predicted_empty():
    """Keras's ε alone gives a loss of 1 and a zero gradient; optax's smoothing gives 0; with
    neither the index is 0/0 = NaN."""
    zeros = np.zeros((2, 3))
    keras = losses.dice(zeros, zeros, per_sample=True, reduction="none")
    np.testing.assert_array_equal(keras.value, ref.ref_dice(zeros, zeros, per_sample=True))
    np.testing.assert_array_equal(keras.value, 1)
    assert np.all(np.isfinite(keras.grad))
    smoothed = losses.sigmoid_dice(np.full((2, 3), -1e9), zeros, reduction="none")
    np.testing.assert_array_equal(smoothed.value, 0)
    assert np.all(np.isnan(losses.dice(zeros, zeros, epsilon=0.0, per_sample=True,
                                       reduction="none").value))


def test_batch_level_dice_of_an_empty_batch_is_the_empty_mask():
    r = losses.dice(np.zeros((0, 3)), np.zeros((0, 3)))
    np.testing.assert_array_equal(r.value, ref.ref_dice(np.zeros((0, 3)), np.zeros((0, 3))))
    assert r.value == 1 and r.grad.shape == (0, 3)


# ---------------------------------------------------------------------------------------------
# Tversky's weights and the relations between the losses


@pytest.mark.parametrize("per_sample", [False, True])
def test_tversky_with_half_and_half_is_dice_with_half_its_epsilon(per_sample):
    assert_same(losses.tversky(PROBS, MASKS, per_sample=per_sample, epsilon=0.5e-7,
                               reduction="none"),
                losses.dice(PROBS, MASKS, per_sample=per_sample, reduction="none"))


def test_tversky_alpha_weighs_false_positives_and_beta_false_negatives():
    """A prediction with only a false positive moves with α alone, one with only a false negative
    with β alone (Keras's current order; Keras ≤ 3.15 had them the other way round)."""
    t = np.array([[1.0, 0.0]])
    only_fp, only_fn = np.array([[1.0, 1.0]]), np.array([[0.5, 0.0]])
    for alpha, beta in ((0.2, 0.9), (0.9, 0.2)):
        for p in (only_fp, only_fn):
            tol.assert_close(losses.tversky(p, t, alpha=alpha, beta=beta).value,
                             ref.ref_tversky(p, t, alpha=alpha, beta=beta), np.float64)
    fp = [float(losses.tversky(only_fp, t, alpha=a, beta=0.5)) for a in (0.2, 0.9)]
    assert fp[0] < fp[1]
    assert float(losses.tversky(only_fp, t, alpha=0.5, beta=0.2)) == float(
        losses.tversky(only_fp, t, alpha=0.5, beta=0.9))
    fn = [float(losses.tversky(only_fn, t, alpha=0.5, beta=b)) for b in (0.2, 0.9)]
    assert fn[0] < fn[1]


def test_tversky_with_alpha_and_beta_1_is_one_minus_the_jaccard_index():
    r = losses.tversky(MASKS, np.roll(MASKS, 1, axis=-1), alpha=1.0, beta=1.0, epsilon=0.0,
                       per_sample=True, reduction="none")
    a, b = MASKS > 0, np.roll(MASKS, 1, axis=-1) > 0
    intersection = np.sum(a & b, axis=(1, 2))
    union = np.sum(a | b, axis=(1, 2))
    tol.assert_close(r.value, 1 - intersection / union, np.float64)


@pytest.mark.parametrize("name", ["dice", "tversky"])
def test_per_sample_values_are_the_batch_values_of_each_sample(name):
    loss = losses.get(name)
    per_sample = loss(PROBS, MASKS, per_sample=True, reduction="none")
    for i in range(len(PROBS)):
        alone = loss(PROBS[i:i + 1], MASKS[i:i + 1], reduction="none")
        tol.assert_close(per_sample.value[i], alone.value, np.float64)
        tol.assert_close(per_sample.grad[i:i + 1], alone.grad, np.float64)


def test_batch_level_gradients_depend_on_the_other_samples():
    whole = losses.dice(PROBS, MASKS, reduction="sum")
    first = losses.dice(PROBS[:1], MASKS[:1], reduction="sum")
    assert not np.allclose(whole.grad[:1], first.grad)


def test_ignore_background_is_a_zero_weight_on_class_0_and_a_mean_over_the_others():
    dropped = losses.softmax_dice(LOGITS, ONE_HOT, ignore_background=True, reduction="none")
    weighted = losses.softmax_dice(LOGITS, ONE_HOT, class_weight=[0.0, 1.5, 1.5],
                                   reduction="none")
    assert_same(dropped, weighted)


def test_generalized_dice_of_balanced_classes_is_softmax_dice():
    """Equal class frequencies give every class the weight 1."""
    t = np.eye(3)[np.array([[0, 1, 2], [2, 1, 0]])]
    x = np.random.default_rng(12).normal(size=t.shape)
    assert_same(losses.softmax_generalized_dice(x, t, reduction="none"),
                losses.softmax_dice(x, t, reduction="none"))


def test_a_trailing_channel_of_one_is_the_same_binary_dice():
    x, t = ref.logits_and_masks(RNG, 3)
    channel = losses.sigmoid_dice(x[..., None], t[..., None], reduction="none")
    plain = losses.sigmoid_dice(x, t, reduction="none")
    tol.assert_close(channel.value, plain.value, np.float64)
    tol.assert_close(channel.grad[..., 0], plain.grad, np.float64)


# ---------------------------------------------------------------------------------------------
# inputs


def test_probabilities_and_targets_are_checked():
    with pytest.raises(DomainError, match=r"probs\[0, 0, 0\] = 1.5 is outside \[0.0, 1.0\]"):
        losses.dice(np.full((1, 2, 3), 1.5), MASKS[:1])
    with pytest.raises(DomainError, match=r"targets\[0, 0, 0\] = -1.0"):
        losses.tversky(PROBS[:1], -np.ones((1, 2, 3)))
    with pytest.raises(DomainError, match=r"targets\[0, 0, 0, 0\] = 2.0"):
        losses.softmax_dice(LOGITS[:1], 2 * np.ones((1, 2, 2, 3)))
    off = losses.dice(np.full((1, 2, 3), 1.5), MASKS[:1], validate=False, reduction="none")
    tol.assert_close(off.value, ref.ref_dice(np.full((1, 2, 3), 1.5), MASKS[:1]), np.float64)


def test_softmax_losses_need_two_classes():
    for name in ("softmax_dice", "softmax_generalized_dice"):
        with pytest.raises(ShapeError, match="at least 2 classes.*use sigmoid_dice"):
            losses.get(name)(np.zeros((3, 4, 1)), np.zeros((3, 4, 1)))
    with pytest.raises(ShapeError, match=r"class_weight"):
        losses.softmax_dice(LOGITS, ONE_HOT, class_weight=[1.0, 2.0])
