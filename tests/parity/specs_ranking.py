"""Parity specs of the ranking / metric-learning family (losses/ranking.py).

PyTorch's MarginRankingLoss and TripletMarginLoss ("torch" convention; their 'mean' is lossgrad's
"mean" here, no weights) are compared with the gradient of every input; optax's
triplet_margin_loss (per-example values, convention="optax") and ntxent (one scalar: lossgrad's
"mean" over the positive pairs); Keras's Circle with each of its reductions (its mask of the
zero values is lossgrad's count of the samples with a positive and a negative partner) and its
per-sample function. Spec inputs: "prediction" and "target" are the loss's first two inputs (x1
and x2, anchor and positive, embeddings and labels), later inputs keep lossgrad's names. Inputs
are N(0, 1): a sample on a kink, where the frameworks' subgradients could differ, has
probability 0; the kinks themselves are pinned in tests/losses/test_ranking.py.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tests.parity.spec import (
    KERAS_REDUCTIONS,
    TORCH_REDUCTIONS,
    Call,
    keras_class,
    keras_fn,
    spec,
)

NONE = {"reduction": "none"}


def _wrt(specs, *names):
    return [replace(s, wrt=("prediction", *names)) for s in specs]


# ---------------------------------------------------------------------------------------------
# input makers


def ranking_pairs(shape=(5, 3)):
    def make(rng, dtype):
        return {"prediction": rng.normal(size=shape), "target": rng.normal(size=shape),
                "targets": rng.choice([-1.0, 1.0], size=shape)}

    return make


def triplets(shape=(6, 4)):
    def make(rng, dtype):
        return {"prediction": rng.normal(size=shape), "target": rng.normal(size=shape),
                "negative": rng.normal(size=shape)}

    return make


def embeddings(n=8, dim=4, *, unit=False, labels=(0, 0, 1, 1, 2, 2, 0, 3), sample_weight=False):
    """Embeddings (N(0, 1), or unit rows) and group labels; the default labels leave sample 7
    without a positive partner."""

    def make(rng, dtype):
        e = rng.normal(size=(n, dim))
        out = {"prediction": e / np.linalg.norm(e, axis=1, keepdims=True) if unit else e,
               "target": np.array(labels)}
        if sample_weight:
            out["sample_weight"] = rng.uniform(0.5, 2.0, size=n)
        return out

    return make


# ---------------------------------------------------------------------------------------------
# framework calls


def _torch_margin_ranking(reduction, **kwargs) -> Call:
    def fn(fw, a):
        return fw.F.margin_ranking_loss(a.prediction, a.target, a.targets, reduction=reduction,
                                        **kwargs)

    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return Call("torch", "torch.nn.functional.margin_ranking_loss", fn,
                f"F.margin_ranking_loss(input1, input2, target, {shown}, reduction={reduction!r})")


def _torch_triplet(reduction, **kwargs) -> Call:
    def fn(fw, a):
        return fw.F.triplet_margin_loss(a.prediction, a.target, a.negative, reduction=reduction,
                                        **kwargs)

    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return Call("torch", "torch.nn.functional.triplet_margin_loss", fn,
                f"F.triplet_margin_loss(anchor, positive, negative, {shown}, "
                f"reduction={reduction!r})")


def _optax_triplet(**kwargs) -> Call:
    def fn(fw, a):
        return fw.optax.losses.triplet_margin_loss(a.prediction, a.target, a.negative, **kwargs)

    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return Call("optax", "optax.losses.triplet_margin_loss", fn,
                f"optax.losses.triplet_margin_loss(anchors, positives, negatives, {shown})")


def _optax_ntxent(temperature) -> Call:
    def fn(fw, a):
        return fw.optax.losses.ntxent(a.prediction, a.target, temperature)

    return Call("optax", "optax.losses.ntxent", fn,
                f"optax.losses.ntxent(embeddings, labels, temperature={temperature})")


# ---------------------------------------------------------------------------------------------
# the specs


def _margin_ranking():
    inputs = ranking_pairs()
    return _wrt([
        spec("margin_ranking", "torch", f"margin{margin}-{ours}", inputs,
             [_torch_margin_ranking(theirs, margin=margin)], margin=margin, reduction=ours)
        for margin in (0.0, 0.5) for theirs, ours in TORCH_REDUCTIONS.items()], "target")


def _triplet_margin():
    torch_options = ({}, {"p": 1.0, "swap": True, "margin": 0.5},
                     {"p": 3.0, "eps": 1e-3, "margin": 2.0, "swap": True})
    torch = [spec("triplet_margin", "torch", f"{i}-{ours}", triplets(),
                  [_torch_triplet(theirs, **opts)], **opts, reduction=ours)
             for i, opts in enumerate(torch_options) for theirs, ours in TORCH_REDUCTIONS.items()]
    optax = [spec("triplet_margin", "optax", f"p{p}", triplets(),
                  [_optax_triplet(norm_degree=p, margin=margin, eps=1e-3)], p=p, margin=margin,
                  eps=1e-3, convention="optax", **NONE)
             for p, margin in ((2.0, 1.0), (4.0, 0.5))]
    axis = spec("triplet_margin", "optax", "axis0", triplets((4, 6)),
                [_optax_triplet(axis=0)], axis=0, convention="optax", **NONE)
    return _wrt([*torch, *optax, axis], "target", "negative")


def _ntxent():
    return [spec("ntxent", "optax", f"tau{tau}", embeddings(), [_optax_ntxent(tau)],
                 temperature=tau, reduction="mean")
            for tau in (0.07, 0.5)]


def _circle():
    reductions = ("sum_over_batch_size", "sum", None, "mean_with_sample_weight")
    specs = []
    for name, kwargs in (("default", {}),
                         ("options", {"gamma": 4.0, "margin": 0.25, "remove_diagonal": False})):
        for theirs in reductions:
            weighted = theirs == "mean_with_sample_weight"
            calls = [keras_class("Circle", **kwargs, reduction=theirs)]
            if theirs is None:
                calls.append(keras_fn("circle", **kwargs))
            specs.append(spec("circle", "keras", f"{name}-{KERAS_REDUCTIONS[theirs]}",
                              embeddings(unit=True, sample_weight=weighted), calls, **kwargs,
                              reduction=KERAS_REDUCTIONS[theirs]))
    return specs


SPECS = [*_margin_ranking(), *_triplet_margin(), *_ntxent(), *_circle()]
