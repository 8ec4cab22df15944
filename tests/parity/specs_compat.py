"""Parity specs of the front ends themselves (lossgrad.compat): the real framework object and the
compat object, constructed and called identically, must give the same value and the same gradient
with respect to the prediction (``y_pred``, ``input``, ``logits``).

Each spec is a :class:`FrontSpec` whose one framework Call and whose lossgrad side run the same
``use(root, a)`` against two API roots: ``keras.losses`` ↔ ``lossgrad.compat.keras``; ``torch.nn``
and ``torch.nn.functional`` ↔ ``lossgrad.compat.torch`` and its ``functional``; ``tf`` ↔
``lossgrad.compat.tf``. Ids are ``compat/<front>/<API name>/<case>``. Keras classes get the
spec's dtype (``dtype=``) so float64 specs run in float64 on both sides.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from types import SimpleNamespace

import numpy as np

from lossgrad.compat import keras as compat_keras
from lossgrad.compat import tf as compat_tf
from lossgrad.compat import torch as compat_torch
from tests.parity.inputs import IGNORE_ALL, IGNORE_SOME, classification, elementwise
from tests.parity.spec import Call, FrontSpec, ref, resolve, show_kwargs
from tests.parity.specs_margin import multilabel
from tests.parity.specs_sequence import sequences

#: front → (the framework runner, the framework's API root from the imported modules, the
#: compat root, how the API is written in names).
_ROOTS = {
    "keras": ("keras", lambda fw: fw.keras.losses, compat_keras, "keras.losses"),
    "torch": ("torch", lambda fw: SimpleNamespace(nn=fw.torch.nn, functional=fw.F),
              SimpleNamespace(nn=compat_torch, functional=compat_torch.functional), "torch"),
    "tf": ("tf", lambda fw: fw.tf, compat_tf, "tf"),
}


def _front(front: str, path: str, case: str, inputs, use, shown: str) -> FrontSpec:
    runner, fw_root, compat_root, prefix = _ROOTS[front]
    name = f"{prefix}.{path}"
    call = Call(runner, name, lambda fw, a: use(fw_root(fw), a), f"{prefix}.{shown}")
    return FrontSpec(id=f"compat/{front}/{path}/{case}", loss=f"lossgrad.compat.{front}.{path}",
                     options={}, inputs=inputs, calls=(call,), use=use, compat_root=compat_root)


def _get(root, path: str):
    for part in path.split("."):
        root = getattr(root, part)
    return root


# ---------------------------------------------------------------------------------------------
# the shapes of call


def keras_class(path, case, inputs, **kwargs) -> FrontSpec:
    """``<root>.<path>(**kwargs, dtype=a.dtype)(y_true, y_pred, sample_weight=…)``."""

    def use(root, a):
        loss = _get(root, path)(**resolve(kwargs, a), dtype=a.dtype)
        return loss(a.target, a.prediction, sample_weight=getattr(a, "sample_weight", None))

    return _front("keras", path, case, inputs, use, f"{path}({show_kwargs(kwargs)})(y_true, "
                  "y_pred, sample_weight)")


def keras_function(front, path, case, inputs, **kwargs) -> FrontSpec:
    """``<root>.<path>(y_true, y_pred, **kwargs)``: Keras's per-sample functions (also tf.losses)."""

    def use(root, a):
        return _get(root, path)(a.target, a.prediction, **resolve(kwargs, a))

    return _front(front, path, case, inputs, use, f"{path}(y_true, y_pred, {show_kwargs(kwargs)})")


def torch_class(path, case, inputs, **kwargs) -> FrontSpec:
    """``torch.nn.<name>(**kwargs)(input, target)``."""

    def use(root, a):
        return _get(root, path)(**resolve(kwargs, a))(a.prediction, a.target)

    return _front("torch", path, case, inputs, use, f"{path}({show_kwargs(kwargs)})(input, target)")


def torch_function(path, case, inputs, **kwargs) -> FrontSpec:
    """``torch.nn.functional.<name>(input, target, **kwargs)``."""

    def use(root, a):
        return _get(root, path)(a.prediction, a.target, **resolve(kwargs, a))

    return _front("torch", path, case, inputs, use, f"{path}(input, target, {show_kwargs(kwargs)})")


def tf_nn(path, case, inputs, **kwargs) -> FrontSpec:
    """``tf.nn.<name>(labels=target, logits=prediction, **kwargs)``."""

    def use(root, a):
        return _get(root, path)(labels=a.target, logits=a.prediction, **resolve(kwargs, a))

    return _front("tf", path, case, inputs, use, f"{path}(labels, logits, {show_kwargs(kwargs)})")


# ---------------------------------------------------------------------------------------------
# inputs beyond tests.parity.inputs


def _per_column_weight(shape=(4, 3), **options):
    """Elementwise inputs plus a (C,) ``weight`` that PyTorch broadcasts against (N, C)."""
    base = elementwise(shape, **options)

    def make(rng, dtype):
        return {**base(rng, dtype), "weight": rng.uniform(0.1, 2.0, size=shape[-1:])}

    return make


def _unbatched(num_classes=5):
    """A single (C,) logit vector, its label and class weights: PyTorch's unbatched layout (class
    axis 0)."""

    def make(rng, dtype):
        return {"prediction": rng.normal(scale=2.0, size=num_classes),
                "target": np.int64(rng.integers(0, num_classes)),
                "class_weight": rng.integers(4, 17, size=num_classes) / 8}

    return make


probs = partial(classification, prediction="probabilities")
SOME, EVERY = IGNORE_SOME, IGNORE_ALL


# ---------------------------------------------------------------------------------------------
# keras.losses


def _keras_classes():
    soft, labels = probs(target="soft"), probs()
    weighted_soft = probs(target="soft", sample_weight="sample")
    signs, bits = elementwise(target="signs"), elementwise(target="hard")
    real = elementwise(prediction="real", target="real")
    p = elementwise(prediction="probabilities")
    cce, scce = "CategoricalCrossentropy", "SparseCategoricalCrossentropy"
    bce, bfce, cfce = "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy"
    return [
        keras_class(cce, "default", soft),
        keras_class(cce, "from_logits_smoothing_sum", classification(target="soft"),
                    from_logits=True, label_smoothing=0.2, reduction="sum"),
        keras_class(cce, "axis1_none", classification((4, 3, 5), axis=1, target="soft"),
                    from_logits=True, axis=1, reduction=None),
        keras_class(cce, "mean_with_sample_weight", weighted_soft,
                    reduction="mean_with_sample_weight"),
        keras_class(cce, "mean", weighted_soft, reduction="mean"),
        keras_class(scce, "default", labels),
        keras_class(scce, "from_logits_ignore_class", classification(
            ignore=(0, SOME), sample_weight="sample"), from_logits=True, ignore_class=0),
        keras_class(scce, "ignore_mean_with_sample_weight", probs(ignore=(-1, SOME),
                                                                  sample_weight="sample"),
                    ignore_class=-1, reduction="mean_with_sample_weight"),
        keras_class(scce, "ignore_all", classification(ignore=(-1, EVERY)), from_logits=True,
                    ignore_class=-1),
        keras_class(scce, "spatial_none", classification((4, 3, 5)), from_logits=True,
                    reduction="none"),
        keras_class(bce, "default", p),
        keras_class(bce, "from_logits_smoothing", elementwise(), from_logits=True,
                    label_smoothing=0.2),
        keras_class(bce, "sample_weight_sum", elementwise(prediction="probabilities",
                                                          sample_weight="sample"),
                    reduction="sum"),
        keras_class(bce, "axis0_none", p, axis=0, reduction=None),
        keras_class(bfce, "default", elementwise(prediction="probabilities", target="hard")),
        keras_class(bfce, "from_logits_balanced", elementwise(), from_logits=True,
                    apply_class_balancing=True, alpha=0.75, gamma=0.5),
        keras_class(bfce, "sample_weight", elementwise(prediction="probabilities",
                                                       sample_weight="sample"),
                    reduction="mean_with_sample_weight"),
        keras_class(cfce, "default", soft),
        keras_class(cfce, "from_logits_options_none", classification(target="soft"),
                    from_logits=True, alpha=0.5, gamma=0.5, label_smoothing=0.1, reduction=None),
        keras_class("CategoricalGeneralizedCrossEntropy", "default", labels),
        keras_class("CategoricalGeneralizedCrossEntropy", "q_sum", probs(sample_weight="sample"),
                    q=0.2, reduction="sum"),
        keras_class("Hinge", "signs", signs),
        keras_class("Hinge", "bits_sample_weight", elementwise(target="hard",
                                                                sample_weight="sample")),
        keras_class("SquaredHinge", "bits_mean", bits, reduction="mean"),
        keras_class("CategoricalHinge", "default", classification(target="one_hot")),
        keras_class("CategoricalHinge", "sample_weight_none", classification(
            target="one_hot", sample_weight="sample"), reduction=None),
        keras_class("MeanSquaredError", "default", real),
        keras_class("MeanSquaredError", "mean_with_sample_weight", elementwise(
            prediction="real", target="real", sample_weight="sample"),
                    reduction="mean_with_sample_weight"),
        *_keras_regression_classes(),
    ]


def _keras_regression_classes():
    real = elementwise(prediction="real", target="real")
    weighted = elementwise(prediction="real", target="real", sample_weight="sample")
    mae, mape, msle = ("MeanAbsoluteError", "MeanAbsolutePercentageError",
                       "MeanSquaredLogarithmicError")
    return [
        keras_class(mae, "default", real),
        keras_class(mae, "sum", real, reduction="sum"),
        keras_class(mae, "none", real, reduction=None),
        keras_class(mape, "sample_weight_sum", weighted, reduction="sum"),
        keras_class(msle, "default", elementwise(prediction="probabilities")),
        keras_class(msle, "floor_none", real, reduction=None),  # about half the entries floored
        keras_class("Huber", "default", real),
        keras_class("Huber", "delta_sum", weighted, delta=0.5, reduction="sum"),
        keras_class("LogCosh", "default", real),
        keras_class("LogCosh", "mean_with_sample_weight", weighted,
                    reduction="mean_with_sample_weight"),
    ]


def _keras_functions():
    k = partial(keras_function, "keras")
    return [
        k("categorical_crossentropy", "from_logits_smoothing", classification(target="soft"),
          from_logits=True, label_smoothing=0.1),
        k("sparse_categorical_crossentropy", "default", probs()),
        k("sparse_categorical_crossentropy", "from_logits_ignore", classification(
            ignore=(1, SOME)), from_logits=True, ignore_class=1),
        k("binary_crossentropy", "default", elementwise(prediction="probabilities")),
        k("binary_focal_crossentropy", "from_logits", elementwise(target="hard"),
          from_logits=True),
        k("categorical_focal_crossentropy", "default", probs(target="soft")),
        k("categorical_generalized_cross_entropy", "q", probs(), q=0.5),
        k("hinge", "bits", elementwise(target="hard")),
        k("squared_hinge", "signs", elementwise(target="signs")),
        k("categorical_hinge", "one_hot", classification(target="one_hot")),
        k("mean_squared_error", "real", elementwise(prediction="real", target="real")),
        *[k(name, "real", elementwise(prediction="real", target="real"))
          for name in ("mean_absolute_error", "mean_absolute_percentage_error",
                       "mean_squared_logarithmic_error", "log_cosh")],
        k("huber", "delta", elementwise(prediction="real", target="real"), delta=0.5),
    ]


# ---------------------------------------------------------------------------------------------
# torch.nn and torch.nn.functional


def _torch_classes():
    weighted = classification(class_weight=True)
    cw = ref("class_weight")
    return [
        torch_class("nn.CrossEntropyLoss", "default", classification()),
        torch_class("nn.CrossEntropyLoss", "weight_smoothing", weighted, weight=cw,
                    label_smoothing=0.1),
        torch_class("nn.CrossEntropyLoss", "NCd1_weight_ignore", classification(
            (3, 2, 4), axis=1, ignore=(-100, SOME), class_weight=True), weight=cw),
        torch_class("nn.CrossEntropyLoss", "probabilities_weight_smoothing", classification(
            target="soft", class_weight=True), weight=cw, label_smoothing=0.2),
        torch_class("nn.CrossEntropyLoss", "NCd1_probabilities_sum", classification(
            (3, 4, 5), axis=1, target="soft"), reduction="sum"),
        torch_class("nn.CrossEntropyLoss", "ignore_all", classification(ignore=(2, EVERY)),
                    ignore_index=2),
        torch_class("nn.CrossEntropyLoss", "unbatched_weight", _unbatched(), weight=cw),
        torch_class("nn.NLLLoss", "weight_ignore", classification(
            prediction="log_probabilities", ignore=(-100, SOME), class_weight=True), weight=cw),
        torch_class("nn.NLLLoss", "NCd1_none", classification(
            (3, 4, 5), axis=1, prediction="log_probabilities"), reduction="none"),
        torch_class("nn.BCELoss", "default", elementwise(prediction="probabilities")),
        torch_class("nn.BCELoss", "column_weight", _per_column_weight(prediction="probabilities"),
                    weight=ref("weight")),
        torch_class("nn.BCELoss", "entry_weight_sum", elementwise(
            prediction="probabilities", sample_weight="entry"), weight=ref("sample_weight"),
                    reduction="sum"),
        torch_class("nn.BCEWithLogitsLoss", "default", elementwise()),
        torch_class("nn.BCEWithLogitsLoss", "weight_pos_weight", _per_column_weight(
            pos_weight=True), weight=ref("weight"), pos_weight=ref("pos_weight")),
        torch_class("nn.MultiMarginLoss", "default", classification((6, 4))),
        torch_class("nn.MultiMarginLoss", "p2_margin_weight", classification(
            (6, 4), class_weight=True), p=2, margin=0.5, weight=cw),
        torch_class("nn.MultiLabelMarginLoss", "default", multilabel()),
        torch_class("nn.MultiLabelSoftMarginLoss", "weight", classification(
            (6, 4), target="one_hot", class_weight=True), weight=cw),
        torch_class("nn.SoftMarginLoss", "sum", elementwise(target="signs"), reduction="sum"),
        torch_class("nn.HingeEmbeddingLoss", "margin", elementwise(target="signs"), margin=0.5),
        torch_class("nn.MSELoss", "default", elementwise(prediction="real", target="real")),
        torch_class("nn.MSELoss", "none", elementwise(prediction="real", target="real"),
                    reduction="none"),
        torch_class("nn.L1Loss", "default", elementwise(prediction="real", target="real")),
        torch_class("nn.L1Loss", "none", elementwise(prediction="real", target="real"),
                    reduction="none"),
        torch_class("nn.HuberLoss", "delta_sum", elementwise(prediction="real", target="real"),
                    reduction="sum", delta=0.5),
        torch_class("nn.SmoothL1Loss", "default", elementwise(prediction="real", target="real")),
        torch_class("nn.SmoothL1Loss", "beta0_none", elementwise(prediction="real",
                                                                 target="real"),
                    reduction="none", beta=0.0),
    ]


def _torch_functions():
    f = torch_function
    return [
        f("functional.cross_entropy", "NCd1", classification((3, 4, 5), axis=1)),
        f("functional.nll_loss", "default", classification(prediction="log_probabilities")),
        f("functional.binary_cross_entropy", "default", elementwise(prediction="probabilities")),
        f("functional.binary_cross_entropy_with_logits", "pos_weight", elementwise(
            pos_weight=True), pos_weight=ref("pos_weight")),
        f("functional.multi_margin_loss", "default", classification((6, 4))),
        f("functional.multilabel_margin_loss", "default", multilabel()),
        f("functional.multilabel_soft_margin_loss", "default", elementwise((6, 4), target="hard")),
        f("functional.soft_margin_loss", "default", elementwise(target="signs")),
        f("functional.hinge_embedding_loss", "default", elementwise(target="signs")),
        f("functional.mse_loss", "sum", elementwise(prediction="real", target="real"),
          reduction="sum"),
        f("functional.l1_loss", "sum", elementwise(prediction="real", target="real"),
          reduction="sum"),
        f("functional.huber_loss", "default", elementwise(prediction="real", target="real")),
        f("functional.smooth_l1_loss", "beta", elementwise(prediction="real", target="real"),
          beta=0.5),
    ]


# ---------------------------------------------------------------------------------------------
# tf


def _tf():
    losses = partial(keras_function, "tf")
    return [
        tf_nn("nn.softmax_cross_entropy_with_logits", "soft", classification(target="soft")),
        tf_nn("nn.softmax_cross_entropy_with_logits", "axis1", classification(
            (4, 3, 5), axis=1, target="soft"), axis=1),
        tf_nn("nn.sparse_softmax_cross_entropy_with_logits", "labels", classification()),
        tf_nn("nn.sigmoid_cross_entropy_with_logits", "soft", elementwise()),
        tf_nn("nn.weighted_cross_entropy_with_logits", "pos_weight", elementwise(pos_weight=True),
              pos_weight=ref("pos_weight")),
        losses("losses.categorical_crossentropy", "from_logits", classification(target="one_hot"),
               from_logits=True),
        losses("losses.categorical_crossentropy", "probabilities_smoothing", probs(target="soft"),
               label_smoothing=0.1),
        losses("losses.sparse_categorical_crossentropy", "default", probs()),
        losses("losses.binary_crossentropy", "default", elementwise(prediction="probabilities")),
        # TensorFlow 2.21's tf.losses has the short names only (no mean_squared_error, log_cosh)
        *[losses(f"losses.{name}", "real", elementwise(prediction="real", target="real"))
          for name in ("MSE", "mse", "MAE", "mae", "MAPE", "mape", "MSLE", "msle", "logcosh")],
        losses("losses.huber", "delta", elementwise(prediction="real", target="real"),
               delta=2.0),
    ]


# ---------------------------------------------------------------------------------------------
# divergences and likelihoods (losses/divergence.py)


def torch_class_of_three(path, case, inputs, third, **kwargs) -> FrontSpec:
    """``torch.nn.<name>(**kwargs)(input, target, <third>)``: GaussianNLLLoss's var,
    CosineEmbeddingLoss's target (the spec's ``target`` is its second input)."""

    def use(root, a):
        return _get(root, path)(**resolve(kwargs, a))(a.prediction, a.target, getattr(a, third))

    return _front("torch", path, case, inputs, use,
                  f"{path}({show_kwargs(kwargs)})(input, target, {third})")


def _log_poisson_loss(case, inputs, **kwargs) -> FrontSpec:
    """``tf.nn.log_poisson_loss(targets, log_input, **kwargs)``."""

    def use(root, a):
        return root.nn.log_poisson_loss(a.target, a.prediction, **kwargs)

    return _front("tf", "nn.log_poisson_loss", case, inputs, use,
                  f"nn.log_poisson_loss(targets, log_input, {show_kwargs(kwargs)})")


def _divergences():
    from tests.parity import specs_divergence as div

    log_probs = classification(prediction="log_probabilities", target="soft")
    soft = probs(target="soft")
    rates, log_rates = div.counts("rates", sample_weight=True), div.counts("log_rates")
    vectors, weighted_vectors = div.vectors(zero_rows=True), div.vectors(sample_weight=True)
    pairs = div.embedding_pairs(0.3)
    k = partial(keras_function, "keras")
    return [
        keras_class("KLDivergence", "default", soft),
        keras_class("KLDivergence", "sample_weight_none", probs(target="soft",
                                                                sample_weight="sample"),
                    reduction=None),
        keras_class("Poisson", "sample_weight_sum", rates, reduction="sum"),
        keras_class("Poisson", "mean_with_sample_weight", rates,
                    reduction="mean_with_sample_weight"),
        keras_class("CosineSimilarity", "default", vectors),
        keras_class("CosineSimilarity", "sample_weight_sum", weighted_vectors, reduction="sum"),
        keras_class("CosineSimilarity", "axis0_none", div.vectors(), axis=0, reduction=None),
        k("kl_divergence", "saturated", classification(prediction="saturated",
                                                       target="one_hot")),
        k("poisson", "rates", div.counts("rates", zeros=True)),
        k("cosine_similarity", "axis0", vectors, axis=0),
        torch_class("nn.KLDivLoss", "default", log_probs),
        torch_class("nn.KLDivLoss", "batchmean_log_target", div.log_distributions,
                    reduction="batchmean", log_target=True),
        torch_class("nn.PoissonNLLLoss", "default", log_rates),
        torch_class("nn.PoissonNLLLoss", "rates_full_sum", rates, log_input=False, full=True,
                    reduction="sum"),
        torch_class_of_three("nn.GaussianNLLLoss", "var_per_sample", div.gaussian((6,)), "var"),
        torch_class_of_three("nn.GaussianNLLLoss", "full_eps_none", div.gaussian((6, 1),
                                                                                 clamped=True),
                             "var", full=True, eps=1e-3, reduction="none"),
        torch_class_of_three("nn.CosineEmbeddingLoss", "margin", pairs, "y", margin=0.3),
        torch_class_of_three("nn.CosineEmbeddingLoss", "sum", div.embedding_pairs(0.0, True),
                             "y", reduction="sum"),
        torch_function("functional.kl_div", "batchmean", log_probs, reduction="batchmean"),
        torch_function("functional.poisson_nll_loss", "rates", rates, log_input=False,
                       eps=1e-3),
        torch_function("functional.gaussian_nll_loss", "var", div.gaussian((6, 5)),
                       var=ref("var"), reduction="sum"),
        torch_function("functional.cosine_embedding_loss", "none", pairs, target=ref("y"),
                       margin=0.3, reduction="none"),
        _log_poisson_loss("default", log_rates),
        _log_poisson_loss("full", log_rates, compute_full_loss=True),
        keras_function("tf", "losses.KLD", "soft", soft),
        keras_function("tf", "losses.kld", "soft", soft),
        keras_function("tf", "losses.poisson", "rates", div.counts("rates")),
        keras_function("tf", "losses.cosine_similarity", "vectors", vectors),
    ]


# ---------------------------------------------------------------------------------------------
# sequences (losses/sequence.py)


def torch_ctc(path, case, inputs, **kwargs) -> FrontSpec:
    """``torch.nn.CTCLoss(**kwargs)(log_probs, targets, input_lengths, target_lengths)``, or
    ``torch.nn.functional.ctc_loss`` with those four and ``**kwargs``."""
    is_class = path.startswith("nn.")

    def use(root, a):
        lengths = (a.prediction, a.target, a.input_lengths, a.label_lengths)
        if is_class:
            return _get(root, path)(**kwargs)(*lengths)
        return _get(root, path)(*lengths, **kwargs)

    call = "(log_probs, targets, input_lengths, target_lengths)"
    shown = (f"{path}({show_kwargs(kwargs)}){call}" if is_class
             else f"{path}{call[:-1]}, {show_kwargs(kwargs)})")
    return _front("torch", path, case, inputs, use, shown)


def _unbatched_ctc():
    """PyTorch's unbatched CTC: log_probs (T, C), the targets of one sample, lengths as scalars."""
    batch_of_one = sequences((1, 10, 5), 4, time_major=True, concatenated=True)

    def make(rng, dtype):
        a = batch_of_one(rng, dtype)
        return {"prediction": a["prediction"][:, 0], "target": a["target"],
                "input_lengths": a["input_lengths"][0], "label_lengths": a["label_lengths"][0]}

    return make


def _sequences():
    time_major = partial(sequences, time_major=True)
    keras = sequences(prediction="logits", keras=True)
    float32_only = [  # Keras and TensorFlow compute CTC in float32
        keras_class("CTC", "default", keras),
        keras_class("CTC", "sample_weight_sum", sequences(prediction="logits", keras=True,
                                                          sample_weight=True), reduction="sum"),
        keras_function("keras", "ctc", "default", keras),
        keras_function("tf", "losses.ctc", "default", keras),
        tf_nn("nn.ctc_loss", "time_major", time_major(prediction="logits"),
              label_length=ref("label_lengths"), logit_length=ref("input_lengths")),
        tf_nn("nn.ctc_loss", "blank_minus_1", sequences(prediction="logits", blank=5),
              label_length=ref("label_lengths"), logit_length=ref("input_lengths"),
              logits_time_major=False, blank_index=-1),
    ]
    return [
        torch_ctc("nn.CTCLoss", "default", time_major()),
        torch_ctc("nn.CTCLoss", "blank_zero_infinity_none", time_major(blank=2, infeasible=True),
                  blank=2, reduction="none", zero_infinity=True),
        torch_ctc("nn.CTCLoss", "unbatched", _unbatched_ctc()),
        torch_ctc("functional.ctc_loss", "concatenated_sum", time_major(concatenated=True),
                  reduction="sum"),
        torch_ctc("functional.ctc_loss", "concatenated_mean", time_major(concatenated=True)),
        *[replace(s, dtypes=("float32",)) for s in float32_only],
    ]


# ---------------------------------------------------------------------------------------------
# ranking and segmentation (losses/ranking.py, losses/segmentation.py)


def _ranking_and_segmentation():
    """The front ends of margin ranking, triplet, Circle, Dice and Tversky. Tversky's fronts run
    with α = β only: Keras ≤ 3.15 swaps the two (specs_segmentation.py checks the order)."""
    from tests.parity import specs_ranking as rank
    from tests.parity import specs_segmentation as seg

    circle = rank.embeddings(unit=True)
    k = partial(keras_function, "keras")
    return [
        torch_class_of_three("nn.MarginRankingLoss", "margin", rank.ranking_pairs(), "targets",
                             margin=0.5),
        torch_class_of_three("nn.TripletMarginLoss", "swap_p1_sum", rank.triplets(), "negative",
                             p=1.0, swap=True, reduction="sum"),
        torch_function("functional.margin_ranking_loss", "none", rank.ranking_pairs(),
                       target=ref("targets"), reduction="none"),
        torch_function("functional.triplet_margin_loss", "default", rank.triplets(),
                       negative=ref("negative")),
        keras_class("Circle", "default", circle),
        keras_class("Circle", "options_mean_with_sample_weight",
                    rank.embeddings(unit=True, sample_weight=True), gamma=4.0, margin=0.25,
                    remove_diagonal=False, reduction="mean_with_sample_weight"),
        k("circle", "default", circle),
        keras_class("Dice", "batch", seg.masks()),
        keras_class("Dice", "per_sample_sum", seg.masks(sample_weight="sample"),
                    axis=seg.SAMPLE_AXES, reduction="sum"),
        keras_class("Tversky", "default", seg.masks()),
        keras_class("Tversky", "per_sample_none", seg.masks(), alpha=0.3, beta=0.3,
                    axis=seg.SAMPLE_AXES, reduction=None),
        k("dice", "per_sample", seg.masks(), axis=seg.SAMPLE_AXES),
        k("tversky", "batch", seg.masks()),
        keras_function("tf", "losses.dice", "batch", seg.masks()),
    ]


SPECS = [*_keras_classes(), *_keras_functions(), *_torch_classes(), *_torch_functions(), *_tf(),
         *_divergences(), *_sequences(), *_ranking_and_segmentation()]
