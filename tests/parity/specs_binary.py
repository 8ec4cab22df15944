"""Parity specs of the elementwise cross-entropies: binary_cross_entropy (probabilities) and
sigmoid_binary_cross_entropy (logits); and of squared_error.

Keras averages these over the last axis before its reduction, so a Keras class equals lossgrad's
"mean" (rows of equal length, no weights) or "sum_over_batch_size" with per-sample weights; the
Keras functions' per-row means have no lossgrad reduction and are not specced. PyTorch's ``weight``
is lossgrad's ``sample_weight``, and its "mean" then divides by the element count: lossgrad's
"sum_over_batch_size".
"""

from __future__ import annotations

from tests.parity.inputs import EXTREME_SCALES, elementwise
from tests.parity.spec import (
    TORCH_REDUCTIONS,
    keras_class,
    optax_fn,
    ref,
    spec,
    sweep,
    tf_nn,
    torch_fn,
    torch_sweep,
)

BINARY = "binary_cross_entropy"
SIGMOID = "sigmoid_binary_cross_entropy"
SQUARED = "squared_error"
SOBS = "sum_over_batch_size"
NONE = {"reduction": "none"}
ALL = tuple(TORCH_REDUCTIONS)
#: PyTorch's "mean" with a ``weight`` divides by the element count.
TORCH_WEIGHTED_REDUCTIONS = {"mean": SOBS, "sum": "sum", "none": "none"}


def _torch_weighted(loss, name, inputs, function, **options):
    """``F.<function>(weight=sample_weight)`` once per reduction; PyTorch's "mean" then divides by
    the element count: lossgrad's "sum_over_batch_size"."""
    kwargs = {"weight": ref("sample_weight")}
    return sweep(loss, "torch", name, inputs, TORCH_WEIGHTED_REDUCTIONS,
                 lambda r: [torch_fn(function, **kwargs, reduction=r)], **options)


def _keras(loss, name, inputs, cls, keras_kwargs=(), *, reduction="mean", **options):
    """A Keras class at its default reduction: lossgrad's "mean", or "sum_over_batch_size" when
    the inputs hold per-sample weights."""
    return spec(loss, "keras", name, inputs, [keras_class(cls, **dict(keras_kwargs))],
                reduction=reduction, **options)


# ---------------------------------------------------------------------------------------------
# binary_cross_entropy ↔ BinaryCrossentropy, F.binary_cross_entropy


def _binary():
    probs = elementwise(prediction="probabilities")
    saturated_hard = elementwise(prediction="saturated", target="hard")
    saturated_soft = elementwise(prediction="saturated")
    keras = {"convention": "keras"}
    torch = {"convention": "torch"}
    return [
        _keras(BINARY, "default", probs, "BinaryCrossentropy", **keras),
        _keras(BINARY, "smoothing", probs, "BinaryCrossentropy", {"label_smoothing": 0.2},
               label_smoothing=0.2, **keras),
        _keras(BINARY, "sample_weight", elementwise(prediction="probabilities",
                                                    sample_weight="sample"),
               "BinaryCrossentropy", reduction=SOBS, **keras),
        _keras(BINARY, "saturated", saturated_hard, "BinaryCrossentropy", **keras),
        _keras(BINARY, "saturated_soft", saturated_soft, "BinaryCrossentropy", **keras),
        spec(BINARY, "torch", "default", probs, [torch_fn("binary_cross_entropy")], **torch),
        *torch_sweep(BINARY, "soft", probs, ALL, "binary_cross_entropy", **torch),
        *_torch_weighted(BINARY, "weight", elementwise(prediction="probabilities",
                                                       sample_weight="entry"),
                         "binary_cross_entropy", **torch),
        *torch_sweep(BINARY, "saturated", saturated_hard, ("mean", "none"),
                     "binary_cross_entropy", **torch),
    ]


# ---------------------------------------------------------------------------------------------
# sigmoid_binary_cross_entropy ↔ tf.nn, optax, F.binary_cross_entropy_with_logits, Keras


def _sigmoid():
    logits = elementwise()
    everyone = [tf_nn("sigmoid_cross_entropy_with_logits"),
                optax_fn("sigmoid_binary_cross_entropy"),
                torch_fn("binary_cross_entropy_with_logits", reduction="none")]
    extremes = [spec(SIGMOID, "none", name, elementwise(target="hard", scale=scale), everyone,
                     **NONE) for name, scale in EXTREME_SCALES.items()]
    pos_weight = elementwise(pos_weight=True)
    from_logits = {"from_logits": True}
    return [
        spec(SIGMOID, "none", "soft", logits, everyone, **NONE),
        *extremes,
        spec(SIGMOID, "none", "pos_weight", pos_weight,
             [tf_nn("weighted_cross_entropy_with_logits", pos_weight=ref("pos_weight")),
              torch_fn("binary_cross_entropy_with_logits", pos_weight=ref("pos_weight"),
                       reduction="none")], **NONE),
        spec(SIGMOID, "torch", "default", logits, [torch_fn("binary_cross_entropy_with_logits")]),
        *torch_sweep(SIGMOID, "soft", logits, ALL, "binary_cross_entropy_with_logits"),
        *torch_sweep(SIGMOID, "pos_weight", pos_weight, ("mean", "sum"),
                     "binary_cross_entropy_with_logits", {"pos_weight": ref("pos_weight")}),
        *_torch_weighted(SIGMOID, "weight", elementwise(sample_weight="entry"),
                         "binary_cross_entropy_with_logits"),
        _keras(SIGMOID, "from_logits", logits, "BinaryCrossentropy", from_logits),
        _keras(SIGMOID, "smoothing", logits, "BinaryCrossentropy",
               {**from_logits, "label_smoothing": 0.2}, label_smoothing=0.2),
        _keras(SIGMOID, "logits1e9", elementwise(target="hard", scale=1e9), "BinaryCrossentropy",
               from_logits),
    ]


# ---------------------------------------------------------------------------------------------
# squared_error ↔ F.mse_loss, MeanSquaredError, optax.squared_error


def _squared():
    real = elementwise(prediction="real", target="real")
    return [
        spec(SQUARED, "none", "real", real,
             [optax_fn("squared_error"), torch_fn("mse_loss", reduction="none")], **NONE),
        spec(SQUARED, "torch", "default", real, [torch_fn("mse_loss")]),
        *torch_sweep(SQUARED, "real", real, ALL, "mse_loss"),
        _keras(SQUARED, "default", real, "MeanSquaredError"),
        _keras(SQUARED, "sample_weight", elementwise(prediction="real", target="real",
                                                     sample_weight="sample"),
               "MeanSquaredError", reduction=SOBS),
    ]


SPECS = [*_binary(), *_sigmoid(), *_squared()]
