"""Case rows and plain-formula references for the segmentation family (losses/segmentation.py).

The references follow the frameworks' formulas as written: Keras's dice (2·Σ y·p / (Σ y + Σ p + ε))
and tversky (with α on the false positives, Keras's current order), optax's dice_loss (per class
over the spatial axes, (I + s) / (I + α(P − I) + β(T − I) + s), class weights, background dropped,
mean over classes) and multiclass_generalized_dice_loss — not lossgrad's shared Tversky helper.
All of them are smooth: every row is checked by the complex step. Batch-level Dice and Tversky
(one value for the batch) and generalized Dice (weights from the batch's targets) are coupled.
"""

from __future__ import annotations

import numpy as np

from tests.losses.cases import Case

KERAS_EPSILON = 1e-7
_WEIGHTS3 = np.array([0.5, 2.0, 1.0])


# ---------------------------------------------------------------------------------------------
# input makers


def probabilities_and_masks(rng, n):
    """Probabilities in [0.05, 0.95] and binary masks, (n, 2, 3)."""
    return rng.uniform(0.05, 0.95, size=(n, 2, 3)), (rng.uniform(size=(n, 2, 3)) < 0.5) * 1.0


def logits_and_masks(rng, n):
    return rng.normal(scale=2.0, size=(n, 2, 3)), (rng.uniform(size=(n, 2, 3)) < 0.5) * 1.0


def logits_and_one_hot(rng, n):
    """Logits (n, 2, 2, 3) over 3 classes and one-hot targets."""
    return rng.normal(scale=2.0, size=(n, 2, 2, 3)), np.eye(3)[rng.integers(0, 3, size=(n, 2, 2))]


# ---------------------------------------------------------------------------------------------
# references


def _axes(x, per_sample):
    return tuple(range(1, x.ndim)) if per_sample else None


def ref_dice(p, t, per_sample=False, epsilon=KERAS_EPSILON):
    """keras.losses.dice: 1 − 2·Σ y·p / (Σ y + Σ p + ε)."""
    axes = _axes(p, per_sample)
    return 1 - 2 * np.sum(t * p, axis=axes) / (np.sum(t, axis=axes) + np.sum(p, axis=axes)
                                               + epsilon)


def ref_tversky(p, t, alpha=0.5, beta=0.5, per_sample=False, epsilon=KERAS_EPSILON):
    """Keras's tversky after its fix: I / (I + α·Σ p(1 − y) + β·Σ (1 − p)y + ε)."""
    axes = _axes(p, per_sample)
    inter = np.sum(p * t, axis=axes)
    return 1 - inter / (inter + alpha * np.sum(p * (1 - t), axis=axes)
                        + beta * np.sum((1 - p) * t, axis=axes) + epsilon)


def _optax_dice(p, t, axes, alpha, beta, smooth):
    """optax.losses.dice_loss per class: 1 − (I + s) / (I + α(P − I) + β(T − I) + s)."""
    inter = np.sum(p * t, axis=axes)
    pred, true = np.sum(p, axis=axes), np.sum(t, axis=axes)
    return 1 - (inter + smooth) / (inter + alpha * (pred - inter) + beta * (true - inter) + smooth)


def ref_sigmoid_dice(x, t, alpha=0.5, beta=0.5, smooth=1.0):
    p = 1 / (1 + np.exp(-x))
    return _optax_dice(p, t, tuple(range(1, x.ndim)), alpha, beta, smooth)


def _softmax(x):
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)


def ref_softmax_dice(x, t, alpha=0.5, beta=0.5, smooth=1.0, class_weight=None,
                     ignore_background=False):
    per_class = _optax_dice(_softmax(x), t, tuple(range(1, x.ndim - 1)), alpha, beta, smooth)
    if class_weight is not None:
        per_class = per_class * class_weight
    if ignore_background:
        per_class = per_class[..., 1:]
    return np.mean(per_class, axis=-1)


def ref_softmax_generalized_dice(x, t, smooth=1.0, ignore_background=False):
    """optax: class weights 1 / (F_c² + 1e-7) from the batch's class frequencies F, scaled to sum
    to C."""
    frequency = np.sum(t, axis=tuple(range(t.ndim - 1)))
    w = 1 / (frequency**2 + 1e-7)
    return ref_softmax_dice(x, t, smooth=smooth, class_weight=w / np.sum(w) * len(w),
                            ignore_background=ignore_background)


# ---------------------------------------------------------------------------------------------
# the table

_PER_SAMPLE = {"per_sample": True}

CASES: list[Case] = [
    Case("dice", probabilities_and_masks, ref_dice, domain="probabilities",
         options=(_PER_SAMPLE, {**_PER_SAMPLE, "epsilon": 1e-3})),
    Case("dice", probabilities_and_masks, ref_dice, domain="probabilities", tag="batch",
         coupled=True, options=({}, {"epsilon": 0.0})),
    Case("tversky", probabilities_and_masks, ref_tversky, domain="probabilities",
         options=(_PER_SAMPLE, {**_PER_SAMPLE, "alpha": 0.7, "beta": 0.2})),
    Case("tversky", probabilities_and_masks, ref_tversky, domain="probabilities", tag="batch",
         coupled=True, options=({}, {"alpha": 0.3, "beta": 0.9, "epsilon": 1e-2})),
    Case("sigmoid_dice", logits_and_masks, ref_sigmoid_dice,
         options=({}, {"alpha": 0.3, "beta": 0.7, "smooth": 0.5})),
    Case("softmax_dice", logits_and_one_hot, ref_softmax_dice,
         options=({}, {"class_weight": _WEIGHTS3},
                  {"alpha": 0.2, "beta": 0.8, "smooth": 0.5, "ignore_background": True})),
    Case("softmax_generalized_dice", logits_and_one_hot, ref_softmax_generalized_dice,
         coupled=True, options=({}, {"smooth": 0.5, "ignore_background": True})),
]
