"""``torch.nn`` loss classes and ``torch.nn.functional`` loss functions with PyTorch's signatures
and defaults: ``(input, target)`` order, the (N, C, d1, …) layout (classes on axis 1, on axis 0 for
an unbatched (C,) input), reduction 'mean' | 'sum' | 'none'. Each returns a LossResult: PyTorch's
value (``convention="torch"`` where a loss has one: log clamped at −100) and its gradient with
respect to ``input``.

'mean' means what it means in PyTorch: Σ w_y ℓ / Σ w_y over the non-ignored entries for
CrossEntropyLoss and NLLLoss with class indices (NaN when every entry is ignored), Σ ℓ / N for
probability targets, and the mean over every element — ``weight`` included in the sum, not in
the divisor — for the elementwise and margin losses. The deprecated ``size_average`` and
``reduce`` arguments are not taken; after ``weight`` every argument is keyword-only.

    >>> import numpy as np
    >>> from lossgrad.compat import torch
    >>> loss = torch.CrossEntropyLoss(weight=np.array([1.0, 2.0, 1.0]), label_smoothing=0.1)
    >>> r = loss(np.array([[2.0, 0.5, 6.0], [0.1, 0.0, 3.0]]), np.array([2, 1]))
    >>> print(f"{r.item():.4f}")
    2.1374
    >>> print(np.round(r.grad, 4))
    [[-0.0049 -0.0208  0.0258]
     [ 0.021  -0.5932  0.5722]]
    >>> torch.functional.cross_entropy is torch.cross_entropy
    True
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import losses
from ..errors import OptionError, ShapeError
from ._common import (
    TORCH_NORMALISED,
    TORCH_REDUCTIONS,
    LossObject,
    as_tensor,
    class_axis,
    namespace,
    translate_reduction,
)

# ---------------------------------------------------------------------------------------------
# torch.nn.functional


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """``F.cross_entropy(input, target, weight=None, ignore_index=-100, reduction='mean',
    label_smoothing=0.0)``: integer targets are class indices (ignore_index honoured), float
    targets of the input's shape are class probabilities (ignore_index unused)."""
    input, target = as_tensor(input), as_tensor(target)
    options = {"class_weight": weight, "label_smoothing": label_smoothing, "axis": class_axis(input),
               "reduction": translate_reduction(reduction, TORCH_NORMALISED), "convention": "torch"}
    if target.dtype.kind in "iu":
        return losses.sparse_softmax_cross_entropy(input, target, ignore_index=ignore_index,
                                                   empty="nan", **options)
    return losses.softmax_cross_entropy(input, target, **options)


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """``F.nll_loss(input, target, weight=None, ignore_index=-100, reduction='mean')`` on
    log-probabilities; 'mean' = Σ w_y ℓ / Σ w_y (NaN when every entry is ignored)."""
    input = as_tensor(input)
    return losses.nll(input, as_tensor(target), class_weight=weight, ignore_index=ignore_index,
                      axis=class_axis(input), empty="nan",
                      reduction=translate_reduction(reduction, TORCH_NORMALISED))


def binary_cross_entropy(input, target, weight=None, *, reduction="mean"):
    """``F.binary_cross_entropy(input, target, weight=None, reduction='mean')`` on probabilities,
    each log clamped at −100; ``weight`` broadcasts against the input."""
    input = as_tensor(input)
    return losses.binary_cross_entropy(input, as_tensor(target), convention="torch",
                                       **_elementwise(weight, input, reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction="mean",
                                     pos_weight=None):
    """``F.binary_cross_entropy_with_logits(input, target, weight=None, reduction='mean',
    pos_weight=None)``: ``weight`` broadcasts against the input, ``pos_weight`` along its last
    axis."""
    input = as_tensor(input)
    return losses.sigmoid_binary_cross_entropy(input, as_tensor(target), pos_weight=pos_weight,
                                               **_elementwise(weight, input, reduction))


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, *, reduction="mean"):
    """``F.multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction='mean')``:
    input (N, C) or (C,), target class indices."""
    return losses.multi_margin(as_tensor(input), as_tensor(target), p=p, margin=margin,
                               class_weight=weight,
                               reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def multilabel_margin_loss(input, target, *, reduction="mean"):
    """``F.multilabel_margin_loss(input, target, reduction='mean')``: target rows list the target
    classes, then −1 padding."""
    return losses.multilabel_margin(as_tensor(input), as_tensor(target),
                                    reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def multilabel_soft_margin_loss(input, target, weight=None, *, reduction="mean"):
    """``F.multilabel_soft_margin_loss(input, target, weight=None, reduction='mean')``: per-sample
    mean over classes of the class-weighted sigmoid cross-entropy."""
    return losses.multilabel_soft_margin(as_tensor(input), as_tensor(target), class_weight=weight,
                                         reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def soft_margin_loss(input, target, *, reduction="mean"):
    """``F.soft_margin_loss(input, target, reduction='mean')``: log(1 + e^{−y·x}), y = ±1."""
    return losses.soft_margin(as_tensor(input), as_tensor(target),
                              reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def hinge_embedding_loss(input, target, margin=1.0, *, reduction="mean"):
    """``F.hinge_embedding_loss(input, target, margin=1.0, reduction='mean')``: x for y = 1,
    max(0, margin − x) for y = −1."""
    return losses.hinge_embedding(as_tensor(input), as_tensor(target), margin=margin,
                                  reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def mse_loss(input, target, *, reduction="mean"):
    """``F.mse_loss(input, target, reduction='mean')``: (x − y)²."""
    return losses.squared_error(as_tensor(input), as_tensor(target),
                                reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def l1_loss(input, target, *, reduction="mean"):
    """``F.l1_loss(input, target, reduction='mean')``: |x − y|."""
    return losses.absolute_error(as_tensor(input), as_tensor(target),
                                 reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def huber_loss(input, target, reduction="mean", delta=1.0):
    """``F.huber_loss(input, target, reduction='mean', delta=1.0)``: ½e² where |e| < δ,
    δ(|e| − ½δ) beyond."""
    return losses.huber(as_tensor(input), as_tensor(target), delta=delta,
                        reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def smooth_l1_loss(input, target, *, reduction="mean", beta=1.0):
    """``F.smooth_l1_loss(input, target, reduction='mean', beta=1.0)``: ½e²/β where |e| < β,
    |e| − ½β beyond; β = 0 is the L1 loss."""
    return losses.smooth_l1(as_tensor(input), as_tensor(target), beta=beta,
                            reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """``F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean',
    zero_infinity=False)``: log-probabilities (T, N, C), time first, or (T, C) unbatched; targets
    padded (N, S) or concatenated 1-D (the labels of every sample in turn, sum(target_lengths) of
    them); 'mean' divides each loss by its target length (at least 1) and then takes the batch
    mean. The gradient is PyTorch's (``ctc(convention="torch")``), in the input's layout."""
    log_probs = as_tensor(log_probs)
    input_lengths, target_lengths = as_tensor(input_lengths), as_tensor(target_lengths)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs[None]
        input_lengths, target_lengths = input_lengths.reshape(-1), target_lengths.reshape(-1)
    elif log_probs.ndim == 3:
        log_probs = np.swapaxes(log_probs, 0, 1)
    result = losses.ctc(log_probs, _padded(as_tensor(targets), target_lengths, blank),
                        input_lengths, target_lengths, blank=blank, zero_infinity=zero_infinity,
                        divide_by_label_length=reduction == "mean", convention="torch",
                        reduction=translate_reduction(reduction, TORCH_NORMALISED))
    if unbatched:
        return _moved(result, lambda a: a.reshape(a.shape[1:]), values=reduction == "none")
    return _moved(result, lambda a: np.swapaxes(a, 0, 1))


def _padded(targets, lengths, blank):
    """Concatenated 1-D targets as the padded (N, S) rows lossgrad takes (padded with the blank);
    padded targets as they are. Lengths that are not non-negative integers, one per sample, are
    left for the loss to report."""
    valid = lengths.ndim == 1 and lengths.dtype.kind in "iu" and not np.any(lengths < 0)
    if targets.ndim != 1 or not valid:
        return targets
    if targets.size != lengths.sum():
        raise ShapeError(
            f"ctc_loss: 1-D targets hold {targets.size} labels, but target_lengths add up to "
            f"{lengths.sum()}; concatenate exactly each sample's labels, or pass padded (N, S) "
            "targets")
    rows = np.full((len(lengths), lengths.max(initial=0)), blank, dtype=targets.dtype)
    rows[np.arange(rows.shape[1]) < lengths[:, None]] = targets
    return rows


def _moved(result, move, values=False):
    """A batch-first CTC result in PyTorch's layout: ``move`` applied to each gradient, and to
    the per-sample values with ``values``."""
    grads = {name: move(g) for name, g in result.grads.items()}
    value = move(result.value) if values else result.value
    return replace(result, value=value, grad=grads.get("log_probs"), grads=grads)


#: KLDivLoss's reductions: its 'batchmean' divides the sum by the batch size (input.size(0)).
_KL_REDUCTIONS = {**TORCH_REDUCTIONS, "batchmean": "batchmean"}


def kl_div(input, target, *, reduction="mean", log_target=False):
    """``F.kl_div(input, target, reduction='mean', log_target=False)``: input log-probabilities,
    target probabilities (log-probabilities with ``log_target``); 'mean' divides the sum by the
    element count, 'batchmean' by the batch size. Both gradients are returned."""
    return losses.kl_divergence(as_tensor(input), as_tensor(target), log_target=log_target,
                                reduction=translate_reduction(reduction, _KL_REDUCTIONS))


def poisson_nll_loss(input, target, log_input=True, full=False, *, eps=1e-8, reduction="mean"):
    """``F.poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8,
    reduction='mean')``: e^x − y·x of log-rates, or λ − y·log(λ + eps) of rates with
    ``log_input=False``; ``full`` adds Stirling's term where y > 1."""
    input, target = as_tensor(input), as_tensor(target)
    reduction = translate_reduction(reduction, TORCH_REDUCTIONS)
    if log_input:
        return losses.log_poisson(input, target, full=full, reduction=reduction)
    return losses.poisson(input, target, eps=eps, full=full, reduction=reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """``F.gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction='mean')``: var
    of the input's shape, without its last axis, with one axis of size 1, or a float; clamped at
    eps with the gradient passing straight through, as PyTorch clamps it under no_grad."""
    return losses.gaussian_nll(as_tensor(input), as_tensor(target), as_tensor(var), full=full,
                               eps=eps, reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def cosine_embedding_loss(input1, input2, target, margin=0, *, reduction="mean"):
    """``F.cosine_embedding_loss(input1, input2, target, margin=0, reduction='mean')``: inputs
    (N, D) or unbatched (D,), target ±1 per pair; 1 − cos for 1, max(0, cos − margin) for −1."""
    input1 = as_tensor(input1)
    return losses.cosine_embedding(input1, as_tensor(input2), as_tensor(target), margin=margin,
                                   axis=class_axis(input1),
                                   reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def margin_ranking_loss(input1, input2, target, margin=0, *, reduction="mean"):
    """``F.margin_ranking_loss(input1, input2, target, margin=0, reduction='mean')``:
    max(0, −y·(x1 − x2) + margin) of inputs and ±1 targets of one shape; the gradients with
    respect to input1 (``grad``) and input2 (``grads["x2"]``)."""
    return losses.margin_ranking(as_tensor(input1), as_tensor(input2), as_tensor(target),
                                 margin=margin,
                                 reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, *,
                        reduction="mean"):
    """``F.triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6,
    swap=False, reduction='mean')``: inputs (N, D) or unbatched (D,), distances
    ‖u − v + eps‖_p over the last axis; margin ≤ 0 is refused, as PyTorch refuses it."""
    if not margin > 0:
        raise OptionError(f"triplet_margin_loss: margin must be greater than 0, got {margin!r} "
                          "(PyTorch's rule; lossgrad.losses.triplet_margin takes any margin)")
    return losses.triplet_margin(as_tensor(anchor), as_tensor(positive), as_tensor(negative),
                                 margin=margin, p=p, eps=eps, swap=swap, convention="torch",
                                 reduction=translate_reduction(reduction, TORCH_REDUCTIONS))


def _elementwise(weight, input, reduction) -> dict:
    """PyTorch's elementwise ``weight`` (broadcast against the input, as PyTorch broadcasts it)
    as lossgrad's sample weights, and 'mean' as the mean over every element."""
    weights = None if weight is None else np.broadcast_to(np.asarray(weight), input.shape)
    return {"sample_weight": weights,
            "reduction": translate_reduction(reduction, TORCH_REDUCTIONS)}


#: ``torch.nn.functional``: ``from lossgrad.compat.torch import functional as F``.
functional = namespace(cross_entropy, nll_loss, binary_cross_entropy,
                       binary_cross_entropy_with_logits, multi_margin_loss, multilabel_margin_loss,
                       multilabel_soft_margin_loss, soft_margin_loss, hinge_embedding_loss,
                       mse_loss, l1_loss, huber_loss, smooth_l1_loss, ctc_loss, kl_div,
                       poisson_nll_loss, gaussian_nll_loss, cosine_embedding_loss,
                       margin_ranking_loss, triplet_margin_loss)


# ---------------------------------------------------------------------------------------------
# torch.nn classes


class TorchLoss(LossObject):
    """What every ``torch.nn`` loss module shares: ``loss(input, target)`` = ``loss.forward(input,
    target)``, the functional call with the module's constructor arguments (a loss of three or
    four inputs, such as TripletMarginLoss or CTCLoss, takes them in the functional's order)."""

    def forward(self, *inputs):
        return self.function(*inputs, **self.options)

    def __call__(self, *inputs):
        return self.forward(*inputs)


class CrossEntropyLoss(TorchLoss):
    """``torch.nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean',
    label_smoothing=0.0)``; see :func:`cross_entropy`."""

    function = staticmethod(cross_entropy)

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction,
                         label_smoothing=label_smoothing)


class NLLLoss(TorchLoss):
    """``torch.nn.NLLLoss(weight=None, ignore_index=-100, reduction='mean')``."""

    function = staticmethod(nll_loss)

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean"):
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction)


class BCELoss(TorchLoss):
    """``torch.nn.BCELoss(weight=None, reduction='mean')``."""

    function = staticmethod(binary_cross_entropy)

    def __init__(self, weight=None, *, reduction="mean"):
        super().__init__(weight=weight, reduction=reduction)


class BCEWithLogitsLoss(TorchLoss):
    """``torch.nn.BCEWithLogitsLoss(weight=None, reduction='mean', pos_weight=None)``."""

    function = staticmethod(binary_cross_entropy_with_logits)

    def __init__(self, weight=None, *, reduction="mean", pos_weight=None):
        super().__init__(weight=weight, reduction=reduction, pos_weight=pos_weight)


class MultiMarginLoss(TorchLoss):
    """``torch.nn.MultiMarginLoss(p=1, margin=1.0, weight=None, reduction='mean')``."""

    function = staticmethod(multi_margin_loss)

    def __init__(self, p=1, margin=1.0, weight=None, *, reduction="mean"):
        super().__init__(p=p, margin=margin, weight=weight, reduction=reduction)


class MultiLabelMarginLoss(TorchLoss):
    """``torch.nn.MultiLabelMarginLoss(reduction='mean')``."""

    function = staticmethod(multilabel_margin_loss)

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction=reduction)


class MultiLabelSoftMarginLoss(TorchLoss):
    """``torch.nn.MultiLabelSoftMarginLoss(weight=None, reduction='mean')``."""

    function = staticmethod(multilabel_soft_margin_loss)

    def __init__(self, weight=None, *, reduction="mean"):
        super().__init__(weight=weight, reduction=reduction)


class SoftMarginLoss(TorchLoss):
    """``torch.nn.SoftMarginLoss(reduction='mean')``."""

    function = staticmethod(soft_margin_loss)

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction=reduction)


class HingeEmbeddingLoss(TorchLoss):
    """``torch.nn.HingeEmbeddingLoss(margin=1.0, reduction='mean')``."""

    function = staticmethod(hinge_embedding_loss)

    def __init__(self, margin=1.0, *, reduction="mean"):
        super().__init__(margin=margin, reduction=reduction)


class MSELoss(TorchLoss):
    """``torch.nn.MSELoss(reduction='mean')``."""

    function = staticmethod(mse_loss)

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction=reduction)


class L1Loss(TorchLoss):
    """``torch.nn.L1Loss(reduction='mean')``."""

    function = staticmethod(l1_loss)

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction=reduction)


class HuberLoss(TorchLoss):
    """``torch.nn.HuberLoss(reduction='mean', delta=1.0)``."""

    function = staticmethod(huber_loss)

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction, delta=delta)


class CTCLoss(TorchLoss):
    """``torch.nn.CTCLoss(blank=0, reduction='mean', zero_infinity=False)``, called as
    ``loss(log_probs, targets, input_lengths, target_lengths)``; see :func:`ctc_loss`."""

    function = staticmethod(ctc_loss)

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(blank=blank, reduction=reduction, zero_infinity=zero_infinity)


class SmoothL1Loss(TorchLoss):
    """``torch.nn.SmoothL1Loss(reduction='mean', beta=1.0)``."""

    function = staticmethod(smooth_l1_loss)

    def __init__(self, *, reduction="mean", beta=1.0):
        super().__init__(reduction=reduction, beta=beta)


class KLDivLoss(TorchLoss):
    """``torch.nn.KLDivLoss(reduction='mean', log_target=False)``; see :func:`kl_div`."""

    function = staticmethod(kl_div)

    def __init__(self, *, reduction="mean", log_target=False):
        super().__init__(reduction=reduction, log_target=log_target)


class PoissonNLLLoss(TorchLoss):
    """``torch.nn.PoissonNLLLoss(log_input=True, full=False, eps=1e-8, reduction='mean')``."""

    function = staticmethod(poisson_nll_loss)

    def __init__(self, log_input=True, full=False, *, eps=1e-8, reduction="mean"):
        super().__init__(log_input=log_input, full=full, eps=eps, reduction=reduction)


class GaussianNLLLoss(TorchLoss):
    """``torch.nn.GaussianNLLLoss(full=False, eps=1e-6, reduction='mean')``, called as
    ``loss(input, target, var)``; see :func:`gaussian_nll_loss`."""

    function = staticmethod(gaussian_nll_loss)

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(full=full, eps=eps, reduction=reduction)


class CosineEmbeddingLoss(TorchLoss):
    """``torch.nn.CosineEmbeddingLoss(margin=0.0, reduction='mean')``, called as
    ``loss(input1, input2, target)``; see :func:`cosine_embedding_loss`."""

    function = staticmethod(cosine_embedding_loss)

    def __init__(self, margin=0.0, *, reduction="mean"):
        super().__init__(margin=margin, reduction=reduction)


class MarginRankingLoss(TorchLoss):
    """``torch.nn.MarginRankingLoss(margin=0.0, reduction='mean')``, called as
    ``loss(input1, input2, target)``; see :func:`margin_ranking_loss`."""

    function = staticmethod(margin_ranking_loss)

    def __init__(self, margin=0.0, *, reduction="mean"):
        super().__init__(margin=margin, reduction=reduction)


class TripletMarginLoss(TorchLoss):
    """``torch.nn.TripletMarginLoss(margin=1.0, p=2.0, eps=1e-6, swap=False, reduction='mean')``,
    called as ``loss(anchor, positive, negative)``; see :func:`triplet_margin_loss`."""

    function = staticmethod(triplet_margin_loss)

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, *, reduction="mean"):
        super().__init__(margin=margin, p=p, eps=eps, swap=swap, reduction=reduction)



__all__ = [
    "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MultiMarginLoss",
    "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "SoftMarginLoss", "HingeEmbeddingLoss",
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CTCLoss", "functional", "cross_entropy",
    "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "multi_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "soft_margin_loss",
    "hinge_embedding_loss", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "ctc_loss",
    "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CosineEmbeddingLoss", "kl_div",
    "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss", "MarginRankingLoss",
    "TripletMarginLoss", "margin_ranking_loss", "triplet_margin_loss",
]
