"""Parity specs of the cross-entropies on probabilities and log-probabilities:
categorical_cross_entropy, sparse_categorical_cross_entropy, nll.

"keras" against the Keras classes at their defaults (``from_logits=False``) and with options;
"torch" against ``F.nll_loss`` — on ``log(p).clamp(min=−100)`` for probabilities (the torch idiom
the losses' docstrings name, PyTorch's BCELoss floor), on the log-probabilities themselves for
nll; "exact" against seed 001's TensorFlow formula.

Not specced because no framework claims them: PyTorch's autograd gives NaN (0/0 through log)
wherever a probability is exactly 0, and TensorFlow's −Σ t·log p gives NaN at t = 0, p = 0, where
lossgrad gives 0.
"""

from __future__ import annotations

import functools

from tests.parity.inputs import IGNORE_ALL, IGNORE_SOME, classification
from tests.parity.spec import (
    KERAS_REDUCTIONS,
    TORCH_REDUCTIONS,
    Call,
    keras_class,
    keras_fit,
    keras_sweep,
    only,
    ref,
    resolve,
    show_kwargs,
    spec,
    sweep,
    torch_fn,
    torch_sweep,
)

CATEGORICAL = "categorical_cross_entropy"
SPARSE = "sparse_categorical_cross_entropy"
NLL = "nll"
KERAS_CLASS = {CATEGORICAL: "CategoricalCrossentropy", SPARSE: "SparseCategoricalCrossentropy"}
KERAS_FN = {CATEGORICAL: "categorical_crossentropy", SPARSE: "sparse_categorical_crossentropy"}
SOBS = "sum_over_batch_size"
PROBS = "probabilities"


_probs = functools.partial(classification, prediction=PROBS)


# ---------------------------------------------------------------------------------------------
# keras


def _keras(loss, name, inputs, reductions, *, weighted=False, **options):
    """One spec per Keras reduction; ``weighted``: the inputs hold sample weights."""
    kwargs = {"ignore_class": options["ignore_index"]} if "ignore_index" in options else {}
    kwargs.update({k: options[k] for k in ("label_smoothing", "axis") if k in options})
    return keras_sweep(loss, name, inputs, reductions, KERAS_CLASS[loss],
                       None if weighted else KERAS_FN[loss], kwargs, convention="keras", **options)


def _keras_specs(loss, target):
    """Defaults, reductions, weights and the probabilities Keras clips or renormalises."""
    return [
        spec(loss, "keras", "default", _probs(target=target),
             [keras_class(KERAS_CLASS[loss])], convention="keras", reduction=SOBS),
        spec(loss, "keras", "fit_class_weight", _probs(target=target, class_weight=True),
             [keras_fit(KERAS_CLASS[loss])], convention="keras", reduction=SOBS),
        *_keras(loss, target, _probs(target=target), (SOBS, "sum", None)),
        *_keras(loss, "sample_weight", _probs(target=target, sample_weight="sample"),
                tuple(KERAS_REDUCTIONS), weighted=True),
        *_keras(loss, "saturated", _probs(prediction="saturated", target=target), (None,)),
        *_keras(loss, "unnormalised", _probs(prediction="unnormalised", target=target), (None,)),
    ]


def _categorical_keras():
    return [
        *_keras_specs(CATEGORICAL, "soft"),
        *_keras(CATEGORICAL, "smoothing", _probs(target="soft"), (SOBS, None), label_smoothing=0.2),
        *_keras(CATEGORICAL, "axis1", _probs(shape=(4, 3, 5), axis=1, target="soft"), (None,),
                axis=1),
    ]


def _sparse_keras():
    some = (-1, IGNORE_SOME)
    return [
        *_keras_specs(SPARSE, "labels"),
        *_keras(SPARSE, "spatial", _probs(shape=(4, 3, 5)), (SOBS, None)),
        *_keras(SPARSE, "ignore", _probs(ignore=some), (SOBS, None), ignore_index=-1),
        *_keras(SPARSE, "ignore_all", _probs(ignore=(-1, IGNORE_ALL)), (SOBS,), ignore_index=-1,
                empty="zero"),
    ]


# ---------------------------------------------------------------------------------------------
# torch


def _torch_nll_of_log(**kwargs) -> Call:
    """``F.nll_loss(torch.log(p).clamp(min=-100), labels, **kwargs)``; one-hot targets are given
    to PyTorch as their arg-max labels."""

    def fn(fw, a):
        labels = a.target if a.target.dtype == fw.torch.int64 else a.target.argmax(dim=1)
        log_p = fw.torch.log(a.prediction).clamp(min=-100)
        return fw.F.nll_loss(log_p, labels, **resolve(kwargs, a))

    return Call("torch", "torch.nn.functional.nll_loss", fn,
                f"torch.nn.functional.nll_loss(torch.log(p).clamp(min=-100), labels, "
                f"{show_kwargs(kwargs)})")


def _torch(loss, name, inputs, reductions=tuple(TORCH_REDUCTIONS), *, weighted=False,
           **options):
    """One spec per reduction of F.nll_loss: on the log-probabilities themselves for nll, on
    log(p) clamped for the probability losses; class weights (``weighted``) are its ``weight``."""
    kwargs = {"ignore_index": options["ignore_index"]} if "ignore_index" in options else {}
    if weighted:
        kwargs["weight"] = ref("class_weight")
    if loss == NLL:  # no convention: nll is PyTorch's definition
        return torch_sweep(loss, name, inputs, reductions, "nll_loss", kwargs, **options)
    return sweep(loss, "torch", name, inputs, only(TORCH_REDUCTIONS, *reductions),
                 lambda r: [_torch_nll_of_log(**kwargs, reduction=r)], convention="torch",
                 **options)


def _categorical_torch():
    # One-hot targets: PyTorch's NLL takes labels. Its "mean" divides by Σ w_y where lossgrad's
    # dense loss divides by N, so class weights are compared under "none" and "sum" only.
    one_hot = {"target": "one_hot"}
    return [
        *_torch(CATEGORICAL, "one_hot", _probs(**one_hot)),
        *_torch(CATEGORICAL, "weight", _probs(**one_hot, class_weight=True), ("sum", "none"),
                weighted=True),
        *_torch(CATEGORICAL, "tiny", _probs(prediction="tiny", **one_hot), ("none",)),
    ]


def _labelled_torch(loss, prediction):
    """What SCCE and NLL share under PyTorch: NLLLoss's weight, ignore_index and layout."""
    some = (-100, IGNORE_SOME)
    make = functools.partial(classification, prediction=prediction)
    return [
        *_torch(loss, "labels", make()),
        *_torch(loss, "weight", make(class_weight=True), weighted=True),
        *_torch(loss, "ignore", make(ignore=some), ignore_index=-100),
        *_torch(loss, "ignore_weight", make(ignore=some, class_weight=True), ("mean",),
                weighted=True, ignore_index=-100),
        *_torch(loss, "ignore_all", make(ignore=(-100, IGNORE_ALL)), ("mean", "sum"),
                ignore_index=-100, empty="nan"),
        *_torch(loss, "axis1", make((3, 2, 4, 5), axis=1, ignore=some, class_weight=True),
                ("mean",), weighted=True, ignore_index=-100, axis=1),
    ]


def _nll_torch():
    log_probs = "log_probabilities"
    return [
        spec(NLL, "torch", "default", classification(prediction=log_probs),
             [torch_fn("nll_loss")]),
        *_labelled_torch(NLL, log_probs),
        *_torch(NLL, "neg_inf", classification(prediction=log_probs, neg_inf=True),
                ("mean", "none")),
    ]


# ---------------------------------------------------------------------------------------------
# exact


def _tf_seed_001() -> Call:
    """Seed 001's ``-tf.reduce_sum(labels * tf.log(p), 1)`` (tf.log is tf.math.log in TF 2)."""

    def fn(fw, a):
        return -fw.tf.reduce_sum(a.target * fw.tf.math.log(a.prediction), axis=-1)

    return Call("tf", "tf.math.log", fn, "-tf.reduce_sum(labels * tf.math.log(p), axis=-1)")


SPECS = [
    *_categorical_keras(), *_sparse_keras(),
    *_categorical_torch(), *_labelled_torch(SPARSE, PROBS),
    *_torch(SPARSE, "tiny", _probs(prediction="tiny"), ("none",)),
    *_nll_torch(),
    spec(CATEGORICAL, "exact", "seed001", _probs(target="soft"), [_tf_seed_001()],
         convention="exact", reduction="none"),
]
