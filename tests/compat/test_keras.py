"""lossgrad.compat.keras: Keras 3's signatures, defaults, (y_true, y_pred) order, dtypes and
reduction vocabulary, each mapped onto lossgrad's losses (the parity suite checks the numbers
against Keras itself: tests/parity/specs_compat.py)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from lossgrad import losses
from lossgrad.compat import keras
from lossgrad.errors import LabelRangeError, LossgradError, OptionError, ShapeError
from lossgrad.losses.core import mean_then_reduce

RNG = np.random.default_rng(1)
LOGITS = RNG.normal(size=(5, 3))
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=-1, keepdims=True)
ONE_HOT = np.eye(3)[[0, 2, 1, 1, 0]]
LABELS = np.array([0, 2, 1, 1, 0])
BITS = RNG.integers(0, 2, size=(5, 3)).astype(float)
SW = np.array([0.5, 1.0, 0.0, 2.0, 1.5])


def assert_same(a, b):
    np.testing.assert_allclose(a.value, b.value, rtol=1e-6)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("cls,defaults", [
    (keras.CategoricalCrossentropy, {"from_logits": False, "label_smoothing": 0.0, "axis": -1}),
    (keras.SparseCategoricalCrossentropy, {"from_logits": False, "ignore_class": None}),
    (keras.BinaryFocalCrossentropy, {"apply_class_balancing": False, "alpha": 0.25,
                                     "gamma": 2.0}),
    (keras.CategoricalFocalCrossentropy, {"alpha": 0.25, "gamma": 2.0}),
    (keras.CategoricalGeneralizedCrossEntropy, {"q": 0.5}),
    (keras.MeanSquaredError, {"name": "mean_squared_error"}),
    (keras.MeanAbsoluteError, {"name": "mean_absolute_error"}),
    (keras.MeanAbsolutePercentageError, {"name": "mean_absolute_percentage_error"}),
    (keras.MeanSquaredLogarithmicError, {"name": "mean_squared_logarithmic_error"}),
    (keras.Huber, {"delta": 1.0, "name": "huber_loss"}),
    (keras.LogCosh, {"name": "log_cosh"}),
    (keras.KLDivergence, {"name": "kl_divergence"}),
    (keras.Poisson, {"name": "poisson"}),
    (keras.CosineSimilarity, {"axis": -1, "name": "cosine_similarity"}),
])
def test_class_defaults_are_keras(cls, defaults):
    params = inspect.signature(cls).parameters
    assert params["reduction"].default == "sum_over_batch_size" and params["dtype"].default is None
    assert {k: params[k].default for k in defaults} == defaults


def test_defaults_compute_keras_convention_in_float32_with_sum_over_batch_size():
    r = keras.CategoricalCrossentropy()(ONE_HOT, PROBS)
    expected = losses.categorical_cross_entropy(PROBS.astype(np.float32), ONE_HOT,
                                                convention="keras", reduction="sum_over_batch_size")
    assert r.value.dtype == r.grad.dtype == np.float32
    assert_same(r, expected)
    assert keras.CategoricalCrossentropy(dtype="float64")(ONE_HOT, PROBS).value.dtype == np.float64


def test_y_true_comes_first():
    with pytest.raises(LossgradError):  # probabilities where the labels go
        keras.SparseCategoricalCrossentropy()(PROBS, LABELS)
    r = keras.categorical_crossentropy(ONE_HOT, LOGITS, from_logits=True)
    assert_same(r, losses.softmax_cross_entropy(LOGITS, ONE_HOT, reduction="none"))


@pytest.mark.parametrize("theirs,ours", [("sum_over_batch_size", "sum_over_batch_size"),
                                         ("mean", "sum_over_batch_size"), ("sum", "sum"),
                                         ("mean_with_sample_weight", "mean"), (None, "none"),
                                         ("none", "none")])
def test_reduction_vocabulary(theirs, ours):
    r = keras.SparseCategoricalCrossentropy(from_logits=True, reduction=theirs, dtype="float64")
    expected = losses.sparse_softmax_cross_entropy(LOGITS, LABELS, convention="keras",
                                                   reduction=ours, sample_weight=SW)
    assert_same(r(LABELS, LOGITS, sample_weight=SW), expected)


def test_unknown_reduction_raises_at_construction():
    with pytest.raises(OptionError, match="mean_with_sample_weight"):
        keras.Hinge(reduction="average")


def test_sparse_labels_as_floats_and_as_a_column():
    loss = keras.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    expected = loss(LABELS, LOGITS)
    assert_same(loss(LABELS.astype(float), LOGITS), expected)  # the class casts y_true to its dtype
    assert_same(loss(LABELS[:, None], LOGITS), expected)


def test_ignore_class_means_over_valid_entries_and_gives_0_when_all_are_ignored():
    loss = keras.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1, dtype="float64")
    per = losses.sparse_softmax_cross_entropy(LOGITS, LABELS, reduction="none").value
    valid = LABELS != 1
    np.testing.assert_allclose(loss(LABELS, LOGITS).value, per[valid].mean())
    everything = loss(np.ones(5, dtype=int), LOGITS)
    assert everything.value == 0 and not everything.grad.any()


def test_elementwise_losses_average_the_last_axis_first():
    r = keras.binary_crossentropy(BITS, PROBS)
    per_entry = losses.binary_cross_entropy(PROBS, BITS, convention="keras", reduction="none")
    assert r.value.shape == (5,)
    assert_same(r, mean_then_reduce(per_entry))
    weighted = keras.BinaryCrossentropy(dtype="float64")(BITS, PROBS, sample_weight=SW)
    np.testing.assert_allclose(weighted.value, np.sum(SW * r.value) / 5)
    columns = keras.binary_crossentropy(BITS, PROBS, axis=0)
    assert columns.value.shape == (3,)


@pytest.mark.parametrize("function,loss", [
    (keras.hinge, losses.hinge), (keras.squared_hinge, losses.squared_hinge),
    (keras.mean_squared_error, losses.squared_error),
    (keras.mean_absolute_error, losses.absolute_error),
    (keras.mean_absolute_percentage_error, losses.mape),
    (keras.mean_squared_logarithmic_error, losses.msle), (keras.huber, losses.huber),
    (keras.log_cosh, losses.log_cosh)])
def test_per_sample_means_of_hinge_and_regression_losses(function, loss):
    options = {"convention": "keras"} if loss in (losses.hinge, losses.squared_hinge) else {}
    assert_same(function(BITS, LOGITS), mean_then_reduce(loss(LOGITS, BITS, reduction="none", **options)))


def test_focal_alpha_only_with_class_balancing():
    plain = keras.binary_focal_crossentropy(BITS, PROBS)
    balanced = keras.binary_focal_crossentropy(BITS, PROBS, apply_class_balancing=True)
    assert_same(plain, mean_then_reduce(losses.binary_focal(PROBS, BITS, convention="keras",
                                                     reduction="none")))
    assert_same(balanced, mean_then_reduce(losses.binary_focal(PROBS, BITS, alpha=0.25,
                                                        convention="keras", reduction="none")))
    assert_same(keras.categorical_focal_crossentropy(ONE_HOT, LOGITS, from_logits=True),
         losses.softmax_focal(LOGITS, ONE_HOT, alpha=0.25, convention="keras", reduction="none"))


def test_from_logits_dispatch():
    assert_same(keras.BinaryCrossentropy(from_logits=True, dtype="float64")(BITS, LOGITS),
         losses.sigmoid_binary_cross_entropy(LOGITS, BITS))
    assert_same(keras.CategoricalCrossentropy(dtype="float64")(ONE_HOT, PROBS),
         losses.categorical_cross_entropy(PROBS, ONE_HOT, convention="keras",
                                          reduction="sum_over_batch_size"))


def test_categorical_hinge_and_generalized_cross_entropy():
    assert_same(keras.CategoricalHinge(dtype="float64")(ONE_HOT, LOGITS),
         losses.categorical_hinge(LOGITS, ONE_HOT, convention="keras",
                                  reduction="sum_over_batch_size"))
    assert_same(keras.CategoricalGeneralizedCrossEntropy(q=0.3, reduction="sum", dtype="float64")(
        LABELS.astype(float), PROBS), losses.categorical_generalized_cross_entropy(
        PROBS, LABELS, q=0.3, reduction="sum"))


def test_huber_delta_and_reductions_of_the_regression_classes():
    r = keras.Huber(delta=0.5, reduction="sum", dtype="float64")(BITS, LOGITS, sample_weight=SW)
    per_entry = losses.huber(LOGITS, BITS, delta=0.5, reduction="none")
    assert_same(r, mean_then_reduce(per_entry, reduction="sum", sample_weight=SW))
    r = keras.MeanAbsolutePercentageError(reduction=None)(BITS + 1, LOGITS)
    assert r.value.dtype == np.float32 and r.value.shape == (5,)
    assert_same(r, keras.mean_absolute_percentage_error((BITS + 1).astype(np.float32),
                                                        LOGITS.astype(np.float32)))


def test_python_lists_are_float32_as_keras_converts_them():
    r = keras.mean_squared_error([[1.0, 0.0]], [[0.5, 0.5]])
    assert r.value.dtype == np.float32 and r.value.tolist() == [0.25]


def test_short_names_and_repr():
    assert keras.mse is keras.MSE is keras.mean_squared_error
    assert keras.mae is keras.MAE is keras.mean_absolute_error
    assert keras.mape is keras.MAPE is keras.mean_absolute_percentage_error
    assert keras.msle is keras.MSLE is keras.mean_squared_logarithmic_error
    assert keras.logcosh is keras.log_cosh
    assert repr(keras.Hinge()) == "Hinge(reduction='sum_over_batch_size', name='hinge', dtype=None)"


def test_kl_divergence_poisson_and_cosine_similarity():
    kl = keras.kl_divergence(PROBS[::-1], PROBS)
    assert_same(kl, losses.categorical_kl_divergence(PROBS, PROBS[::-1], convention="keras",
                                                     reduction="none"))
    assert keras.kld is keras.KLD is keras.kl_divergence
    weighted = keras.KLDivergence(dtype="float64")(PROBS[::-1], PROBS, sample_weight=SW)
    np.testing.assert_allclose(weighted.value, np.sum(SW * kl.value) / 5)
    rates = np.exp(LOGITS)
    per_entry = losses.poisson(rates, BITS, eps=keras.EPSILON, reduction="none")
    assert_same(keras.poisson(BITS, rates), mean_then_reduce(per_entry))
    assert_same(keras.Poisson(reduction="sum", dtype="float64")(BITS, rates, sample_weight=SW),
                mean_then_reduce(per_entry, reduction="sum", sample_weight=SW))
    cos = keras.CosineSimilarity(axis=0, reduction=None, dtype="float64")(ONE_HOT, LOGITS)
    assert_same(cos, losses.cosine_similarity(LOGITS, ONE_HOT, axis=0, convention="keras",
                                              reduction="none"))
    assert cos.value.shape == (3,)


def test_ctc_uses_every_frame_blank_0_and_the_non_zero_labels():
    logits = RNG.normal(size=(3, 5, 4))
    y_true = np.array([[1, 2, 0], [3, 3, 0], [2, 0, 0]])
    expected = losses.softmax_ctc(logits, y_true, [5, 5, 5], [2, 2, 1], reduction="none")
    assert_same(keras.ctc(y_true, logits), expected)
    assert_same(keras.CTC(dtype="float64")(y_true.astype(float), logits, sample_weight=SW[:3]),
                losses.softmax_ctc(logits, y_true, [5, 5, 5], [2, 2, 1], sample_weight=SW[:3],
                                   reduction="sum_over_batch_size"))
    assert repr(keras.CTC()) == "CTC(reduction='sum_over_batch_size', name='ctc', dtype=None)"


def test_ctc_labels_must_be_padded_with_0_at_the_end():
    logits = RNG.normal(size=(2, 5, 4))
    with pytest.raises(LabelRangeError, match="is the blank"):
        keras.ctc(np.array([[1, 0, 2], [3, 0, 0]]), logits)
    with pytest.raises(ShapeError, match=r"y_true of shape \(2,\)"):
        keras.ctc(np.array([1, 2]), logits)


MASKS = (RNG.uniform(size=(4, 2, 3)) < 0.5) * 1.0
MASK_PROBS = RNG.uniform(0.05, 0.95, size=(4, 2, 3))


def test_dice_tversky_and_circle_defaults_are_keras():
    defaults = {keras.Dice: {"axis": None, "name": "dice"},
                keras.Tversky: {"alpha": 0.5, "beta": 0.5, "axis": None, "name": "tversky"},
                keras.Circle: {"gamma": 80.0, "margin": 0.4, "remove_diagonal": True,
                               "name": "circle"}}
    for cls, expected in defaults.items():
        params = inspect.signature(cls).parameters
        assert params["reduction"].default == "sum_over_batch_size"
        assert {k: params[k].default for k in expected} == expected
    params = inspect.signature(keras.circle).parameters
    assert (params["gamma"].default, params["margin"].default) == (80, 0.4)


def test_dice_axis_none_is_the_batch_and_every_other_axis_each_sample():
    batch = keras.Dice(dtype="float64")(MASKS, MASK_PROBS)
    assert_same(batch, losses.dice(MASK_PROBS, MASKS))
    per_sample = keras.dice(MASKS, MASK_PROBS, axis=(1, -1))
    assert_same(per_sample, losses.dice(MASK_PROBS, MASKS, per_sample=True, reduction="none"))
    assert_same(keras.dice(MASKS, MASK_PROBS, axis=(0, 1, 2)), batch)
    with pytest.raises(OptionError, match=r"axis=-1 is not supported.*axis=\(1, 2\)"):
        keras.dice(MASKS, MASK_PROBS, axis=-1)


def test_tversky_alpha_is_on_the_false_positives():
    r = keras.Tversky(alpha=0.7, beta=0.2, axis=(1, 2), reduction="sum", dtype="float64")(
        MASKS, MASK_PROBS, sample_weight=SW[:4])
    assert_same(r, losses.tversky(MASK_PROBS, MASKS, alpha=0.7, beta=0.2, per_sample=True,
                                  reduction="sum", sample_weight=SW[:4]))


def test_circle_takes_float_or_column_labels_and_masks_samples_without_partners():
    e = LOGITS / np.linalg.norm(LOGITS, axis=1, keepdims=True)
    labels = np.array([0, 1, 0, 1, 2])  # the last sample has no positive
    r = keras.Circle(dtype="float64")(labels[:, None].astype(float), e)
    assert_same(r, losses.circle(e, labels, reduction="sum_over_batch_size"))
    assert float(keras.Circle(dtype="float64")(np.zeros(5), e)) == 0  # Keras's divide_no_nan
    with pytest.raises(OptionError, match="ref_labels and ref_embeddings are not supported"):
        keras.circle(labels, e, ref_labels=labels)
