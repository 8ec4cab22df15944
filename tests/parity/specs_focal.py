"""Parity specs of the focal family (losses/focal.py): sigmoid/binary focal, softmax/categorical
focal, poly-1 cross-entropy, generalized cross-entropy.

optax returns per-example values ("exact", reduction "none"). Keras runs under convention="keras"
on its TensorFlow backend; its binary focal loss averages over the last axis, so a Keras class
equals lossgrad's "sum_over_batch_size" there, and its categorical losses always apply α (0.25 by
default), given to lossgrad explicitly. Not checked: torchvision's ``sigmoid_focal_loss`` (the
"torch" convention) — torchvision is not among the installed frameworks.
"""

from __future__ import annotations

from tests.parity.inputs import classification, elementwise
from tests.parity.spec import keras_class, keras_fn, optax_fn, spec

SOBS = "sum_over_batch_size"
EXACT_NONE = {"convention": "exact", "reduction": "none"}
KERAS = {"convention": "keras", "reduction": SOBS}
KERAS_ALPHA = 0.25  # Keras's default α, which its categorical focal loss always applies


def _keras(loss, name, inputs, cls, keras_kwargs=(), *, function=None, **options):
    """The Keras class at its default reduction; with ``function``, also its per-sample function
    against lossgrad's "none"."""
    kwargs = dict(keras_kwargs)
    specs = [spec(loss, "keras", name, inputs, [keras_class(cls, **kwargs)], **KERAS, **options)]
    if function:
        calls = [keras_class(cls, **kwargs, reduction=None), keras_fn(function, **kwargs)]
        specs.append(spec(loss, "keras", f"{name}-none", inputs, calls, convention="keras",
                          reduction="none", **options))
    return specs


def _binary_focal():
    logits, probs = elementwise(target="hard"), elementwise(prediction="probabilities",
                                                             target="hard")
    soft_logits = elementwise()
    from_logits = {"from_logits": True}
    balanced = {"apply_class_balancing": True, "alpha": 0.75, "gamma": 0.5}
    return [
        spec("sigmoid_focal", "exact", "hard", logits, [optax_fn("sigmoid_focal_loss")],
             **EXACT_NONE),
        spec("sigmoid_focal", "exact", "alpha_gamma", soft_logits,
             [optax_fn("sigmoid_focal_loss", alpha=0.25, gamma=0.5)], **EXACT_NONE,
             alpha=0.25, gamma=0.5),
        spec("sigmoid_focal", "exact", "logits1e4", elementwise(target="hard", scale=1e4),
             [optax_fn("sigmoid_focal_loss")], **EXACT_NONE),
        *_keras("sigmoid_focal", "from_logits", logits, "BinaryFocalCrossentropy", from_logits),
        *_keras("sigmoid_focal", "balanced", soft_logits, "BinaryFocalCrossentropy",
                {**from_logits, **balanced}, alpha=0.75, gamma=0.5),
        *_keras("sigmoid_focal", "smoothing", logits, "BinaryFocalCrossentropy",
                {**from_logits, "label_smoothing": 0.2}, label_smoothing=0.2),
        *_keras("binary_focal", "default", probs, "BinaryFocalCrossentropy"),
        *_keras("binary_focal", "balanced", elementwise(prediction="probabilities"),
                "BinaryFocalCrossentropy", balanced, alpha=0.75, gamma=0.5),
        *_keras("binary_focal", "saturated", elementwise(prediction="saturated", target="hard"),
                "BinaryFocalCrossentropy"),
        *_keras("binary_focal", "sample_weight", elementwise(
            prediction="probabilities", target="hard", sample_weight="sample"),
                "BinaryFocalCrossentropy"),
    ]


def _categorical_focal():
    soft = classification(target="soft")
    probs = classification(prediction="probabilities", target="soft")
    cls = "CategoricalFocalCrossentropy"
    function = "categorical_focal_crossentropy"
    from_logits = {"from_logits": True}
    alpha = {"alpha": KERAS_ALPHA}
    return [
        *_keras("softmax_focal", "soft", soft, cls, from_logits, function=function, **alpha),
        *_keras("softmax_focal", "gamma_smoothing", soft, cls,
                {**from_logits, "gamma": 0.5, "alpha": 0.5, "label_smoothing": 0.2},
                gamma=0.5, alpha=0.5, label_smoothing=0.2),
        *_keras("softmax_focal", "logits1e4", classification(target="one_hot", scale=1e4), cls,
                from_logits, function=function, **alpha),
        *_keras("categorical_focal", "soft", probs, cls, function=function, **alpha),
        *_keras("categorical_focal", "saturated", classification(
            prediction="saturated", target="soft"), cls, function=function, **alpha),
        *_keras("categorical_focal", "unnormalised", classification(
            prediction="unnormalised", target="soft"), cls, function=function, **alpha),
        *_keras("categorical_focal", "sample_weight", classification(
            prediction="probabilities", target="soft", sample_weight="sample"), cls, **alpha),
    ]


def _poly_and_generalized():
    soft = classification(target="soft")
    probs_labels = classification(prediction="probabilities")
    cls, function = "CategoricalGeneralizedCrossEntropy", "categorical_generalized_cross_entropy"
    return [
        spec("poly1_cross_entropy", "none", "soft", soft,
             [optax_fn("poly_loss_cross_entropy")], reduction="none"),
        spec("poly1_cross_entropy", "none", "epsilon", soft,
             [optax_fn("poly_loss_cross_entropy", epsilon=-1.0)], reduction="none", epsilon=-1.0),
        spec("poly1_cross_entropy", "none", "axis1", classification((4, 3, 5), axis=1,
                                                                    target="soft"),
             [optax_fn("poly_loss_cross_entropy", axis=1)], reduction="none", axis=1),
        spec("categorical_generalized_cross_entropy", "keras", "default", probs_labels,
             [keras_class(cls)], reduction=SOBS),
        spec("categorical_generalized_cross_entropy", "keras", "q", probs_labels,
             [keras_class(cls, q=0.2, reduction=None), keras_fn(function, q=0.2)],
             reduction="none", q=0.2),
        spec("categorical_generalized_cross_entropy", "keras", "sample_weight",
             classification(prediction="probabilities", sample_weight="sample"),
             [keras_class(cls, q=0.8, reduction="sum")], reduction="sum", q=0.8),
    ]


SPECS = [*_binary_focal(), *_categorical_focal(), *_poly_and_generalized()]
