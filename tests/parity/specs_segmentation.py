"""Parity specs of the segmentation family (losses/segmentation.py).

Keras's Dice and Tversky (probabilities): the default ``axis=None`` is lossgrad's batch-level value
(one 0-d value, which every Keras reduction leaves as it is), ``axis=(1, …)`` its
``per_sample=True`` with each Keras reduction and its per-sample function. optax's losses take
logits: ``binary_dice_loss`` and ``dice_loss`` (per-example values, reduction "none") and
``multiclass_generalized_dice_loss`` (one scalar: lossgrad's "mean").

Keras up to 3.15 applied Tversky's α to the false negatives and β to the false positives; the fix
(keras-team/keras#23333) gives them the paper's order, which lossgrad follows. The Tversky calls
ask the installed Keras which order it has and pass α and β accordingly, so these specs hold on
both sides of the fix (docs/conventions.md).
"""

from __future__ import annotations

from functools import partial

from tests.parity.inputs import classification, elementwise
from tests.parity.spec import (
    KERAS_REDUCTIONS,
    Call,
    keras_class,
    keras_fn,
    optax_fn,
    ref,
    show_kwargs,
    spec,
)

NONE = {"reduction": "none"}
SOBS = "sum_over_batch_size"
SAMPLE_AXES = (1, 2)  # Keras's axis for lossgrad's per_sample=True on (N, H, W) inputs

masks = partial(elementwise, (4, 3, 3), prediction="probabilities", target="hard")
binary_logits = partial(elementwise, prediction="logits", target="hard")
class_logits = partial(classification, (3, 4, 4, 3), target="one_hot")


def keras_swaps_tversky_weights(fw) -> bool:
    """True where the installed Keras applies α to the false negatives (Keras ≤ 3.15): for one
    sample predicted [1, ½] against [1, 1] (I = 1.5, FN = ½, FP = 0) with α = 1, β = 0, that
    order gives 1 − 1.5 / 2 = ¼, the paper's order 0."""
    probe = fw.keras.losses.tversky([[1.0, 1.0]], [[1.0, 0.5]], alpha=1.0, beta=0.0)
    return float(probe) > 0.1


def _tversky_call(make_call, name: str, alpha: float, beta: float, **kwargs) -> Call:
    """A Keras Tversky call (``make_call(**keyword arguments)``) with α on the false positives,
    whichever order the installed Keras has."""
    def fn(fw, a):
        swap = keras_swaps_tversky_weights(fw)
        weights = {"alpha": beta, "beta": alpha} if swap else {"alpha": alpha, "beta": beta}
        return make_call(**weights, **kwargs).fn(fw, a)

    return Call("keras", name, fn, f"{name}(α = {alpha} on false positives, β = {beta} on false "
                                   f"negatives, {show_kwargs(kwargs)})")


def _keras_overlap(loss: str, cls: str, function: str, weights: dict):
    """Batch-level and per-sample specs of Dice or Tversky: its Keras class (and function)."""

    def call(kind, **kwargs):
        make = partial(keras_class, cls) if kind == "class" else partial(keras_fn, function)
        if loss == "tversky":
            return _tversky_call(make, f"keras.losses.{cls if kind == 'class' else function}",
                                 **weights, **kwargs)
        return make(**kwargs)

    specs = [spec(loss, "keras", "batch", masks(), [call("class"), call("function")],
                  **weights, reduction=SOBS)]
    for theirs in ("sum_over_batch_size", "sum", None, "mean_with_sample_weight"):
        weighted = theirs == "mean_with_sample_weight"
        calls = [call("class", axis=SAMPLE_AXES, reduction=theirs)]
        if theirs is None:
            calls.append(call("function", axis=SAMPLE_AXES))
        specs.append(spec(loss, "keras", f"per_sample-{KERAS_REDUCTIONS[theirs]}",
                          masks(sample_weight="sample" if weighted else None), calls, **weights,
                          per_sample=True, reduction=KERAS_REDUCTIONS[theirs]))
    return specs


def _optax_specs():
    sigmoid = [
        spec("sigmoid_dice", "optax", "binary", binary_logits((4, 3, 3)),
             [optax_fn("binary_dice_loss")], **NONE),
        spec("sigmoid_dice", "optax", "smooth", binary_logits((4, 3, 3)),
             [optax_fn("binary_dice_loss", smooth=0.5)], smooth=0.5, **NONE),
        spec("sigmoid_dice", "optax", "one_channel_tversky", binary_logits((4, 3, 3, 1)),
             [optax_fn("dice_loss", alpha=0.3, beta=0.8, smooth=0.5)], alpha=0.3, beta=0.8,
             smooth=0.5, **NONE),
    ]
    softmax = [
        spec("softmax_dice", "optax", "default", class_logits(), [optax_fn("dice_loss")], **NONE),
        spec("softmax_dice", "optax", "tversky", class_logits(),
             [optax_fn("dice_loss", alpha=0.3, beta=0.8, smooth=0.5, ignore_background=True)],
             alpha=0.3, beta=0.8, smooth=0.5, ignore_background=True, **NONE),
        spec("softmax_dice", "optax", "class_weight", class_logits(class_weight=True),
             [optax_fn("dice_loss", class_weights=ref("class_weight"))], **NONE),
    ]
    generalized = [
        spec("softmax_generalized_dice", "optax", name, class_logits(),
             [optax_fn("multiclass_generalized_dice_loss", **opts)], **opts, reduction="mean")
        for name, opts in (("default", {}), ("background", {"ignore_background": True,
                                                            "smooth": 0.5}))]
    return [*sigmoid, *softmax, *generalized]


SPECS = [
    *_keras_overlap("dice", "Dice", "dice", {}),
    *_keras_overlap("tversky", "Tversky", "tversky", {"alpha": 0.7, "beta": 0.2}),
    *_optax_specs(),
]
