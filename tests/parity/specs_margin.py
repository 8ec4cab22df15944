"""Parity specs of the hinge / margin family (losses/margin.py).

optax's margin losses return per-example values ("exact", reduction "none"); Keras's Hinge,
SquaredHinge and CategoricalHinge run under convention="keras" (its {0, 1} → {−1, 1} mapping);
PyTorch's margin losses have no convention (lossgrad's are PyTorch's definitions). Inputs are
N(0, 2²) scores: a sample on a kink, where the frameworks' subgradients differ, has probability 0.
"""

from __future__ import annotations

import numpy as np

from tests.parity.inputs import classification, elementwise
from tests.parity.spec import (
    TORCH_REDUCTIONS,
    Call,
    keras_class,
    keras_fn,
    optax_fn,
    ref,
    spec,
    torch_fn,
    torch_sweep,
)

SOBS = "sum_over_batch_size"
NONE = {"reduction": "none"}
EXACT_NONE = {"convention": "exact", "reduction": "none"}
KERAS = {"convention": "keras"}


def _torch(loss, name, inputs, function, reductions=tuple(TORCH_REDUCTIONS), *, weighted=False,
           torch_kwargs=(), **options):
    """``F.<function>`` once per reduction; ``weighted`` passes the class weights as ``weight``."""
    kwargs = {**dict(torch_kwargs), **({"weight": ref("class_weight")} if weighted else {})}
    return torch_sweep(loss, name, inputs, reductions, function, kwargs, **options)


def multilabel(shape=(6, 4)):
    """Scores and PyTorch's label lists: distinct classes of a random subset, then −1 padding."""

    def make(rng, dtype):
        labels = np.full(shape, -1)
        for row in labels:
            chosen = rng.permutation(shape[-1])[: rng.integers(0, shape[-1] + 1)]
            row[: len(chosen)] = chosen
        return {"prediction": rng.normal(scale=2.0, size=shape), "target": labels}

    return make


def _optax_squared_hinge() -> Call:
    """The square of optax.losses.hinge_loss (optax has no squared hinge of its own)."""

    def fn(fw, a):
        return fw.optax.losses.hinge_loss(a.prediction, a.target) ** 2

    return Call("optax", "optax.losses.hinge_loss", fn,
                "optax.losses.hinge_loss(predictor_outputs, targets) ** 2")


# ---------------------------------------------------------------------------------------------
# elementwise: hinge, squared_hinge, perceptron, soft_margin, hinge_embedding


def _binary_margins():
    signs = elementwise(prediction="logits", target="signs")
    bits = elementwise(prediction="logits", target="hard")
    weighted = elementwise(prediction="logits", target="signs", sample_weight="sample")
    keras = [
        spec(loss, "keras", name, inputs, [keras_class(cls)], reduction=SOBS, **KERAS)
        for loss, cls in (("hinge", "Hinge"), ("squared_hinge", "SquaredHinge"))
        for name, inputs in (("signs", signs), ("bits", bits), ("sample_weight", weighted))
    ]
    return [
        spec("hinge", "exact", "signs", signs, [optax_fn("hinge_loss")], **EXACT_NONE),
        spec("squared_hinge", "exact", "signs", signs, [_optax_squared_hinge()], **EXACT_NONE),
        spec("perceptron", "none", "signs", signs, [optax_fn("perceptron_loss")], **NONE),
        *keras,
        *_torch("soft_margin", "signs", signs, "soft_margin_loss"),
        spec("hinge_embedding", "torch", "default", signs, [torch_fn("hinge_embedding_loss")]),
        *_torch("hinge_embedding", "signs", signs, "hinge_embedding_loss", ("mean", "none")),
        *_torch("hinge_embedding", "margin", signs, "hinge_embedding_loss", ("sum",),
                torch_kwargs={"margin": 0.5}, margin=0.5),
    ]


# ---------------------------------------------------------------------------------------------
# over classes: categorical_hinge, multiclass_perceptron, multi_margin, multilabel_*


def _class_margins():
    labels = classification((6, 4))
    one_hot = classification((6, 4), target="one_hot")
    weighted = classification((6, 4), class_weight=True)
    multi_hot = elementwise((6, 4), target="hard")
    soft = elementwise((6, 4), target="soft")
    categorical_keras = [
        spec("categorical_hinge", "keras", "default", one_hot, [keras_class("CategoricalHinge")],
             reduction=SOBS, **KERAS),
        spec("categorical_hinge", "keras", "one_hot-none", one_hot,
             [keras_class("CategoricalHinge", reduction=None), keras_fn("categorical_hinge")],
             reduction="none", **KERAS),
        spec("categorical_hinge", "keras", "sample_weight", classification(
            (6, 4), target="one_hot", sample_weight="sample"), [keras_class("CategoricalHinge")],
             reduction=SOBS, **KERAS),
    ]
    return [
        spec("categorical_hinge", "exact", "labels", labels,
             [optax_fn("multiclass_hinge_loss")], **EXACT_NONE),
        *categorical_keras,
        spec("multiclass_perceptron", "none", "labels", labels,
             [optax_fn("multiclass_perceptron_loss")], **NONE),
        spec("multi_margin", "torch", "default", labels, [torch_fn("multi_margin_loss")]),
        *_torch("multi_margin", "labels", labels, "multi_margin_loss"),
        *_torch("multi_margin", "p2_margin", labels, "multi_margin_loss", ("mean", "none"),
                torch_kwargs={"p": 2, "margin": 0.5}, p=2, margin=0.5),
        *_torch("multi_margin", "weight", weighted, "multi_margin_loss", ("mean", "none"),
                weighted=True),
        spec("multilabel_margin", "torch", "default", multilabel(),
             [torch_fn("multilabel_margin_loss")]),
        *_torch("multilabel_margin", "labels", multilabel(), "multilabel_margin_loss"),
        *_torch("multilabel_soft_margin", "multi_hot", multi_hot, "multilabel_soft_margin_loss"),
        *_torch("multilabel_soft_margin", "soft", soft, "multilabel_soft_margin_loss",
                ("mean", "none")),
        *_torch("multilabel_soft_margin", "weight", classification(
            (6, 4), target="one_hot", class_weight=True), "multilabel_soft_margin_loss",
                ("mean", "none"), weighted=True),
    ]


SPECS = [*_binary_margins(), *_class_margins()]
