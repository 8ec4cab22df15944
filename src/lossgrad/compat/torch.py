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

import numpy as np

from .. import losses
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
                       mse_loss, l1_loss, huber_loss, smooth_l1_loss)


# ---------------------------------------------------------------------------------------------
# torch.nn classes


class TorchLoss(LossObject):
    """What every ``torch.nn`` loss module shares: ``loss(input, target)`` = ``loss.forward(input,
    target)``, the functional call with the module's constructor arguments."""

    def forward(self, input, target):
        return self.function(input, target, **self.options)

    def __call__(self, input, target):
        return self.forward(input, target)


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


class SmoothL1Loss(TorchLoss):
    """``torch.nn.SmoothL1Loss(reduction='mean', beta=1.0)``."""

    function = staticmethod(smooth_l1_loss)

    def __init__(self, *, reduction="mean", beta=1.0):
        super().__init__(reduction=reduction, beta=beta)


__all__ = [
    "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MultiMarginLoss",
    "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "SoftMarginLoss", "HingeEmbeddingLoss",
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "functional", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "multi_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "soft_margin_loss",
    "hinge_embedding_loss", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
]
