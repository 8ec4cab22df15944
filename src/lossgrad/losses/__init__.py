"""THE INDEX of lossgrad's losses: every loss on one line, and the registry of names and aliases.

``lossgrad.losses.get(name)`` resolves a lossgrad name or a framework spelling (Keras class or
function name, PyTorch class, ``tf.nn`` function); ``NAMES`` lists every loss.
"""

from __future__ import annotations

from ..errors import OptionError
from .core import LossResult
from .cross_entropy import (binary_cross_entropy, categorical_cross_entropy, nll,
                            sigmoid_binary_cross_entropy, softmax_cross_entropy,
                            sparse_categorical_cross_entropy, sparse_softmax_cross_entropy)
from .focal import (binary_focal, categorical_focal, categorical_generalized_cross_entropy,
                    poly1_cross_entropy, sigmoid_focal, softmax_focal)
from .margin import (categorical_hinge, hinge, hinge_embedding, multi_margin, multiclass_perceptron,
                     multilabel_margin, multilabel_soft_margin, perceptron, soft_margin,
                     squared_hinge)
from .regression import (absolute_error, huber, log_cosh, mape, msle, quantile, smooth_l1,
                         squared_error)
from .sparsemax import binary_sparsemax, multiclass_sparsemax
from .sequence import ctc, softmax_ctc
from .divergence import (categorical_kl_divergence, cosine_distance, cosine_embedding,
                         cosine_similarity, gaussian_nll, js_divergence, kl_divergence,
                         log_poisson, poisson)
from .ranking import circle, margin_ranking, ntxent, triplet_margin
from .segmentation import (dice, sigmoid_dice, softmax_dice, softmax_generalized_dice,
                           tversky)
# (imports of the other families go here, one line per module)
# Not in the index below: its inputs are a layer's (hidden states, weight), not a prediction, so
# the case table's contract does not apply; tests/losses/test_linear_cross_entropy.py checks it.
from .linear_cross_entropy import linear_softmax_cross_entropy
from . import kernels

#: name → (function, aliases). One entry per loss; aliases are the frameworks' spellings. A Keras
#: name resolves to the loss for Keras's default input (probabilities: from_logits=False).
_INDEX = {
    "softmax_cross_entropy": (softmax_cross_entropy, (
        "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
        "safe_softmax_cross_entropy")),
    "sparse_softmax_cross_entropy": (sparse_softmax_cross_entropy, (
        "CrossEntropyLoss", "cross_entropy", "sparse_softmax_cross_entropy_with_logits",
        "softmax_cross_entropy_with_integer_labels")),
    # --- cross-entropy on probabilities, sigmoid, NLL (cross_entropy.py) ---
    "categorical_cross_entropy": (categorical_cross_entropy, (
        "CategoricalCrossentropy", "categorical_crossentropy")),
    "sparse_categorical_cross_entropy": (sparse_categorical_cross_entropy, (
        "SparseCategoricalCrossentropy", "sparse_categorical_crossentropy")),
    "binary_cross_entropy": (binary_cross_entropy, (
        "BinaryCrossentropy", "binary_crossentropy", "BCELoss")),
    "sigmoid_binary_cross_entropy": (sigmoid_binary_cross_entropy, (
        "BCEWithLogitsLoss", "binary_cross_entropy_with_logits",
        "sigmoid_cross_entropy_with_logits", "weighted_cross_entropy_with_logits")),
    "nll": (nll, ("NLLLoss", "nll_loss")),
    # --- focal, poly-1, generalized CE (focal.py) ---
    "sigmoid_focal": (sigmoid_focal, ("sigmoid_focal_loss",)),
    "binary_focal": (binary_focal, ("BinaryFocalCrossentropy", "binary_focal_crossentropy")),
    "softmax_focal": (softmax_focal, ()),
    "categorical_focal": (categorical_focal, (
        "CategoricalFocalCrossentropy", "categorical_focal_crossentropy")),
    "poly1_cross_entropy": (poly1_cross_entropy, ("poly_loss_cross_entropy", "poly1_loss")),
    "categorical_generalized_cross_entropy": (categorical_generalized_cross_entropy, (
        "CategoricalGeneralizedCrossEntropy", "generalized_cross_entropy")),
    # --- hinge / margin family (margin.py) ---
    "hinge": (hinge, ("hinge_loss",)),
    "squared_hinge": (squared_hinge, ("SquaredHinge",)),
    "categorical_hinge": (categorical_hinge, ("CategoricalHinge", "multiclass_hinge_loss")),
    "multiclass_perceptron": (multiclass_perceptron, ("multiclass_perceptron_loss",)),
    "multi_margin": (multi_margin, ("MultiMarginLoss", "multi_margin_loss")),
    "multilabel_margin": (multilabel_margin, ("MultiLabelMarginLoss", "multilabel_margin_loss")),
    "multilabel_soft_margin": (multilabel_soft_margin, (
        "MultiLabelSoftMarginLoss", "multilabel_soft_margin_loss")),
    "soft_margin": (soft_margin, ("SoftMarginLoss", "soft_margin_loss")),
    "perceptron": (perceptron, ("perceptron_loss",)),
    "hinge_embedding": (hinge_embedding, ("HingeEmbeddingLoss", "hinge_embedding_loss")),
    # --- regression (regression.py) ---
    "squared_error": (squared_error, (
        "MeanSquaredError", "mean_squared_error", "mse", "MSELoss", "mse_loss")),
    "absolute_error": (absolute_error, (
        "MeanAbsoluteError", "mean_absolute_error", "mae", "L1Loss", "l1_loss")),
    "huber": (huber, ("Huber", "HuberLoss", "huber_loss")),
    "smooth_l1": (smooth_l1, ("SmoothL1Loss", "smooth_l1_loss")),
    "log_cosh": (log_cosh, ("LogCosh", "logcosh")),
    "mape": (mape, ("MeanAbsolutePercentageError", "mean_absolute_percentage_error")),
    "msle": (msle, ("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error")),
    "quantile": (quantile, ("PinballLoss", "pinball_loss", "pinball")),
    # --- sparsemax (sparsemax.py) ---
    "multiclass_sparsemax": (multiclass_sparsemax, ("multiclass_sparsemax_loss",)),
    "binary_sparsemax": (binary_sparsemax, ("sparsemax_loss",)),
    # --- sequences (sequence.py): PyTorch's names take log-probabilities, Keras's CTC logits ---
    "ctc": (ctc, ("CTCLoss", "ctc_loss")),
    "softmax_ctc": (softmax_ctc, ("CTC",)),
    # --- divergences and likelihoods (divergence.py): kl_divergence takes log-probabilities ---
    # (PyTorch, optax), categorical_kl_divergence probabilities (Keras, convention="keras").
    "kl_divergence": (kl_divergence, (
        "KLDivLoss", "kl_div", "kl_divergence_with_log_targets")),
    "categorical_kl_divergence": (categorical_kl_divergence, (
        "KLDivergence", "kld", "kullback_leibler_divergence")),
    "js_divergence": (js_divergence, ("LigerJSD", "jsd", "jensen_shannon_divergence")),
    "poisson": (poisson, ("Poisson",)),
    "log_poisson": (log_poisson, ("PoissonNLLLoss", "poisson_nll_loss", "log_poisson_loss")),
    "gaussian_nll": (gaussian_nll, ("GaussianNLLLoss", "gaussian_nll_loss")),
    "cosine_similarity": (cosine_similarity, ("CosineSimilarity",)),
    "cosine_distance": (cosine_distance, ()),
    "cosine_embedding": (cosine_embedding, ("CosineEmbeddingLoss", "cosine_embedding_loss")),
    # --- ranking and metric learning (ranking.py) ---
    "margin_ranking": (margin_ranking, ("MarginRankingLoss", "margin_ranking_loss")),
    "triplet_margin": (triplet_margin, ("TripletMarginLoss", "triplet_margin_loss")),
    "ntxent": (ntxent, ()),
    "circle": (circle, ("Circle",)),
    # --- segmentation (segmentation.py): dice / tversky take probabilities, the rest logits ---
    "dice": (dice, ("Dice",)),
    "tversky": (tversky, ("Tversky",)),
    "sigmoid_dice": (sigmoid_dice, ("binary_dice_loss",)),
    "softmax_dice": (softmax_dice, ("dice_loss",)),
    "softmax_generalized_dice": (softmax_generalized_dice, (
        "multiclass_generalized_dice_loss", "generalized_dice")),
}

NAMES: tuple[str, ...] = tuple(_INDEX)

_ALIASES = {alias.lower(): name for name, (_, aliases) in _INDEX.items() for alias in aliases}


def get(name: str):
    """The loss function for a lossgrad name or any framework spelling (case-insensitive).

    >>> get("CrossEntropyLoss").__name__
    'sparse_softmax_cross_entropy'
    """
    key = name if name in _INDEX else _ALIASES.get(name.lower(), name.lower())
    if key not in _INDEX:
        raise OptionError(f"unknown loss {name!r}; lossgrad.losses.NAMES lists them all")
    return _INDEX[key][0]


__all__ = ["NAMES", "LossResult", "get", "kernels", "linear_softmax_cross_entropy", *NAMES]
