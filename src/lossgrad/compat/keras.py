"""``keras.losses`` with Keras 3's signatures and defaults: ``(y_true, y_pred)`` order, classes with
``reduction`` and ``sample_weight``, and the per-sample functions. Each returns a LossResult: the
value Keras computes (on its TensorFlow backend, ``convention="keras"``: ε = 1e-7 clipping,
renormalised probabilities, {0, 1} hinge labels) and its gradient with respect to ``y_pred``.

A class computes in its ``dtype`` (Keras's default ``floatx()``, float32) and reduces its per-sample
values with Keras's vocabulary: "sum_over_batch_size" (the default) and its synonym "mean" divide by
the number of values (of non-ignored ones with ``ignore_class``), "sum", "mean_with_sample_weight"
(Σwℓ / Σw), None or "none". Where that divisor is 0 the result is 0 (Keras's ``divide_no_nan``).
Keras's elementwise losses (binary cross-entropy, binary focal, hinge, squared hinge and the
regression losses) first average over the last axis (``axis``): their per-sample values are those
means.

Seed 003:
    >>> import numpy as np
    >>> from lossgrad.compat import keras
    >>> scce = keras.SparseCategoricalCrossentropy()
    >>> r = scce(np.array([1, 2]), np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
    >>> print(f"{r.numpy():.7f}")
    1.1769392
    >>> print(np.round(r.grad, 4))
    [[ 0.5    -0.0263  0.    ]
     [ 0.5     0.5    -4.5   ]]
"""

from __future__ import annotations

import numpy as np

from .. import losses
from ..errors import OptionError, ShapeError
from ..losses.core import mean_then_reduce
from ._common import (
    KERAS_REDUCTIONS,
    LossObject,
    as_labels,
    as_tensor,
    translate_reduction,
)

#: ``keras.config.floatx()``: the dtype a Keras loss object computes in unless given one.
FLOATX = "float32"
#: Keras divides with ``divide_no_nan``: an all-ignored or zero-weight batch gives 0.
_EMPTY = "zero"
#: ``keras.backend.epsilon()``: the ε Keras's Poisson adds to y_pred (its KLDivergence and
#: CosineSimilarity use it too, through lossgrad's convention="keras").
EPSILON = 1e-7
#: Keras's CTC blank, which also pads its labels (``mask_index`` of keras.ops.ctc_loss).
_CTC_BLANK = 0
#: What a per-sample function passes to the shared translations.
_PER_SAMPLE = {"reduction": "none", "sample_weight": None}


# ---------------------------------------------------------------------------------------------
# translations shared by each function and its class: (y_true, y_pred, options, reduction,
# sample_weight) → lossgrad's call


def _categorical(y_true, y_pred, *, from_logits, label_smoothing, axis, **reduce):
    loss = losses.softmax_cross_entropy if from_logits else losses.categorical_cross_entropy
    return loss(y_pred, y_true, label_smoothing=label_smoothing, axis=axis, convention="keras",
                empty=_EMPTY, **reduce)


def _sparse(y_true, y_pred, *, from_logits, ignore_class, axis, **reduce):
    loss = (losses.sparse_softmax_cross_entropy if from_logits
            else losses.sparse_categorical_cross_entropy)
    return loss(y_pred, _squeeze_labels(as_labels(y_true), y_pred), ignore_index=ignore_class,
                axis=axis, convention="keras", empty=_EMPTY, **reduce)


def _squeeze_labels(labels, y_pred):
    """Keras takes (N, …, 1) labels as (N, …): the trailing 1 is a layout, not a class axis."""
    if labels.ndim == y_pred.ndim and labels.shape[-1:] == (1,):
        return labels[..., 0]
    return labels


def _binary(y_true, y_pred, *, from_logits, label_smoothing, axis, **reduce):
    if from_logits:
        result = losses.sigmoid_binary_cross_entropy(y_pred, y_true, reduction="none",
                                                     label_smoothing=label_smoothing)
    else:
        result = losses.binary_cross_entropy(y_pred, y_true, reduction="none",
                                             label_smoothing=label_smoothing, convention="keras")
    return _per_sample_mean(result, axis, **reduce)


def _binary_focal(y_true, y_pred, *, apply_class_balancing, alpha, gamma, from_logits,
                  label_smoothing, axis, **reduce):
    loss = losses.sigmoid_focal if from_logits else losses.binary_focal
    result = loss(y_pred, y_true, reduction="none", gamma=gamma, label_smoothing=label_smoothing,
                  alpha=alpha if apply_class_balancing else None, convention="keras")
    return _per_sample_mean(result, axis, **reduce)


def _categorical_focal(y_true, y_pred, *, alpha, gamma, from_logits, label_smoothing, axis,
                       **reduce):
    loss = losses.softmax_focal if from_logits else losses.categorical_focal
    return loss(y_pred, y_true, alpha=alpha, gamma=gamma, label_smoothing=label_smoothing,
                axis=axis, convention="keras", empty=_EMPTY, **reduce)


def _generalized(y_true, y_pred, *, q, **reduce):
    return losses.categorical_generalized_cross_entropy(y_pred, as_labels(y_true), q=q,
                                                        empty=_EMPTY, **reduce)


def _hinge(y_true, y_pred, **reduce):
    return _per_sample_mean(losses.hinge(y_pred, y_true, reduction="none", convention="keras"),
                            -1, **reduce)


def _squared_hinge(y_true, y_pred, **reduce):
    result = losses.squared_hinge(y_pred, y_true, reduction="none", convention="keras")
    return _per_sample_mean(result, -1, **reduce)


def _categorical_hinge(y_true, y_pred, **reduce):
    return losses.categorical_hinge(y_pred, y_true, convention="keras", empty=_EMPTY, **reduce)


def _mse(y_true, y_pred, **reduce):
    return _per_sample_mean(losses.squared_error(y_pred, y_true, reduction="none"), -1, **reduce)


def _mae(y_true, y_pred, **reduce):
    return _per_sample_mean(losses.absolute_error(y_pred, y_true, reduction="none"), -1, **reduce)


def _mape(y_true, y_pred, **reduce):
    return _per_sample_mean(losses.mape(y_pred, y_true, reduction="none"), -1, **reduce)


def _msle(y_true, y_pred, **reduce):
    return _per_sample_mean(losses.msle(y_pred, y_true, reduction="none"), -1, **reduce)


def _huber(y_true, y_pred, *, delta, **reduce):
    return _per_sample_mean(losses.huber(y_pred, y_true, delta=delta, reduction="none"), -1,
                            **reduce)


def _log_cosh(y_true, y_pred, **reduce):
    result = losses.log_cosh(y_pred, y_true, reduction="none", convention="keras")
    return _per_sample_mean(result, -1, **reduce)


def _ctc(y_true, y_pred, **reduce):
    """Keras's CTC: blank 0, every input as long as y_pred's time axis, each label sequence as
    long as its count of non-zero labels (so labels must be padded with 0 at the end)."""
    labels = as_labels(y_true)
    if labels.ndim != 2:
        raise ShapeError(f"keras.losses.ctc: y_true of shape {labels.shape} must be (batch_size, "
                         "max_length) integer labels, padded with 0 at the end")
    # The loss refuses a y_pred that is not (N, T, C) before it reads the input lengths.
    frames = np.full(y_pred.shape[:1], y_pred.shape[1]) if y_pred.ndim == 3 else None
    counts = np.count_nonzero(labels != _CTC_BLANK, axis=-1)
    return losses.softmax_ctc(y_pred, labels, frames, counts, blank=_CTC_BLANK, empty=_EMPTY,
                              **reduce)


def _kl_divergence(y_true, y_pred, **reduce):
    return losses.categorical_kl_divergence(y_pred, y_true, convention="keras", empty=_EMPTY,
                                            **reduce)


def _poisson(y_true, y_pred, **reduce):
    return _per_sample_mean(losses.poisson(y_pred, y_true, eps=EPSILON, reduction="none"), -1,
                            **reduce)


def _cosine_similarity(y_true, y_pred, *, axis, **reduce):
    return losses.cosine_similarity(y_pred, y_true, axis=axis, convention="keras", empty=_EMPTY,
                                    **reduce)


def _dice(y_true, y_pred, *, axis, **reduce):
    return losses.dice(y_pred, y_true, per_sample=_per_sample(axis, y_pred, "dice"),
                       empty=_EMPTY, **reduce)


def _tversky(y_true, y_pred, *, alpha, beta, axis, **reduce):
    return losses.tversky(y_pred, y_true, alpha=alpha, beta=beta,
                          per_sample=_per_sample(axis, y_pred, "tversky"), empty=_EMPTY, **reduce)


def _per_sample(axis, y_pred, name) -> bool:
    """Keras's ``axis`` of Dice and Tversky as lossgrad's ``per_sample``: every axis (None) sums
    over the batch, every axis but the first sums over each sample; others are refused."""
    ndim = y_pred.ndim
    axes = tuple(range(ndim)) if axis is None else tuple(np.atleast_1d(axis).tolist())
    if all(isinstance(a, int) and -ndim <= a < ndim for a in axes):
        chosen = sorted(a % ndim for a in axes)
        if chosen in (list(range(ndim)), list(range(1, ndim))):
            return chosen == list(range(1, ndim))
    raise OptionError(f"keras.losses.{name}: axis={axis!r} is not supported for inputs of "
                      f"{ndim} axes; lossgrad sums over every axis (axis=None) or over each "
                      f"sample's axes (axis={tuple(range(1, ndim))})")


def _circle(y_true, y_pred, *, gamma, margin, remove_diagonal, **reduce):
    return losses.circle(y_pred, _squeeze_labels(as_labels(y_true), y_pred), gamma=gamma,
                         margin=margin, remove_diagonal=remove_diagonal, empty=_EMPTY, **reduce)


def _per_sample_mean(result, axis, *, reduction, sample_weight):
    """Keras's elementwise losses: the mean over ``axis`` is each sample's value."""
    return mean_then_reduce(result, axis, reduction=reduction, sample_weight=sample_weight,
                            empty=_EMPTY, name="keras.losses")


def _tensors(y_true, y_pred):
    return as_tensor(y_true), as_tensor(y_pred)


# ---------------------------------------------------------------------------------------------
# the functions: per-sample values, in the inputs' dtype


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``keras.losses.categorical_crossentropy``: per-sample CE of probabilities (default) or
    logits against distributions along ``axis``; y ← y(1−α) + α/C under label smoothing α."""
    return _categorical(*_tensors(y_true, y_pred), from_logits=from_logits,
                        label_smoothing=label_smoothing, axis=axis, **_PER_SAMPLE)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """``keras.losses.sparse_categorical_crossentropy``: per-sample CE of integer labels (floats
    of whole numbers are taken as labels, (N, 1) as (N,)); ``ignore_class`` entries give 0."""
    return _sparse(*_tensors(y_true, y_pred), from_logits=from_logits, ignore_class=ignore_class,
                   axis=axis, **_PER_SAMPLE)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``keras.losses.binary_crossentropy``: the mean over ``axis`` of the elementwise BCE
    (probabilities clipped to [ε, 1−ε]; logits exact); y ← y(1−α) + α/2 under smoothing α."""
    return _binary(*_tensors(y_true, y_pred), from_logits=from_logits,
                   label_smoothing=label_smoothing, axis=axis, **_PER_SAMPLE)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """``keras.losses.binary_focal_crossentropy``: the mean over ``axis`` of (1−p_t)^γ·BCE, times
    αy + (1−α)(1−y) only with ``apply_class_balancing`` (defaults α = 0.25, γ = 2)."""
    return _binary_focal(*_tensors(y_true, y_pred), apply_class_balancing=apply_class_balancing,
                         alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis, **_PER_SAMPLE)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """``keras.losses.categorical_focal_crossentropy``: per-sample Σ_c α(1−p_c)^γ·(−y_c log p_c),
    α always applied (default 0.25), γ = 2."""
    return _categorical_focal(*_tensors(y_true, y_pred), alpha=alpha, gamma=gamma,
                              from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
                              **_PER_SAMPLE)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """``keras.losses.categorical_generalized_cross_entropy``: per-sample (1 − p_y^q)/q of integer
    labels under probabilities (no default q in Keras's function)."""
    return _generalized(*_tensors(y_true, y_pred), q=q, **_PER_SAMPLE)


def hinge(y_true, y_pred):
    """``keras.losses.hinge``: the mean over the last axis of max(0, 1 − y·ŷ); {0, 1} labels are
    mapped to ±1 when every label of the call is 0 or 1."""
    return _hinge(*_tensors(y_true, y_pred), **_PER_SAMPLE)


def squared_hinge(y_true, y_pred):
    """``keras.losses.squared_hinge``: the mean over the last axis of max(0, 1 − y·ŷ)²."""
    return _squared_hinge(*_tensors(y_true, y_pred), **_PER_SAMPLE)


def categorical_hinge(y_true, y_pred):
    """``keras.losses.categorical_hinge``: max(0, 1 + max_k((1−y_k)ŷ_k) − Σ y·ŷ) of one-hot rows."""
    return _categorical_hinge(*_tensors(y_true, y_pred), **_PER_SAMPLE)


def mean_squared_error(y_true, y_pred):
    """``keras.losses.mean_squared_error`` (``tf.losses.MSE``): the mean over the last axis of
    (y − ŷ)²."""
    return _mse(*_tensors(y_true, y_pred), **_PER_SAMPLE)


def mean_absolute_error(y_true, y_pred):
    """``keras.losses.mean_absolute_error`` (``tf.losses.MAE``): the mean over the last axis of
    |y − ŷ|."""
    return _mae(*_tensors(y_true, y_pred), **_PER_SAMPLE)


def mean_absolute_percentage_error(y_true, y_pred):
    """``keras.losses.mean_absolute_percentage_error`` (``tf.losses.MAPE``): the mean over the last
    axis of 100·|y − ŷ| / max(|y|, ε)."""
    return _mape(*_tensors(y_true, y_pred), **_PER_SAMPLE)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``keras.losses.mean_squared_logarithmic_error`` (``tf.losses.MSLE``): the mean over the last
    axis of (log(1 + max(ŷ, ε)) − log(1 + max(y, ε)))²."""
    return _msle(*_tensors(y_true, y_pred), **_PER_SAMPLE)


def huber(y_true, y_pred, delta=1.0):
    """``keras.losses.huber``: the mean over the last axis of ½e² (|e| ≤ δ) or δ(|e| − ½δ)."""
    return _huber(*_tensors(y_true, y_pred), delta=delta, **_PER_SAMPLE)


def log_cosh(y_true, y_pred):
    """``keras.losses.log_cosh`` (``tf.losses.logcosh``): the mean over the last axis of
    log cosh(ŷ − y)."""
    return _log_cosh(*_tensors(y_true, y_pred), **_PER_SAMPLE)


def ctc(y_true, y_pred):
    """``keras.losses.ctc``: per-sample CTC of labels (N, S), padded with 0 at the end, under
    logits (N, T, C); class 0 is the blank and every sample uses all T frames."""
    return _ctc(*_tensors(y_true, y_pred), **_PER_SAMPLE)


def kl_divergence(y_true, y_pred):
    """``keras.losses.kl_divergence`` (``tf.losses.KLD``): per-sample Σ y·log(y/ŷ) along the last
    axis, both clipped to [ε, 1] first."""
    return _kl_divergence(*_tensors(y_true, y_pred), **_PER_SAMPLE)


def poisson(y_true, y_pred):
    """``keras.losses.poisson``: the mean over the last axis of ŷ − y·log(ŷ + ε)."""
    return _poisson(*_tensors(y_true, y_pred), **_PER_SAMPLE)


def cosine_similarity(y_true, y_pred, axis=-1):
    """``keras.losses.cosine_similarity``: per-sample −cos(y, ŷ) along ``axis``, each norm floored
    at ε (a zero vector gives 0)."""
    return _cosine_similarity(*_tensors(y_true, y_pred), axis=axis, **_PER_SAMPLE)


def dice(y_true, y_pred, axis=None):
    """``keras.losses.dice``: 1 − 2·Σ y·ŷ / (Σ y + Σ ŷ + ε) over ``axis``: every axis (None, one
    value for the batch) or each sample's axes (1, …, ndim − 1)."""
    return _dice(*_tensors(y_true, y_pred), axis=axis, **_PER_SAMPLE)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``keras.losses.tversky``: 1 − I / (I + α·FP + β·FN + ε) over ``axis`` (as :func:`dice`),
    α on the false positives — Keras's order since its fix; Keras ≤ 3.15 applied α to the false
    negatives (docs/conventions.md)."""
    return _tversky(*_tensors(y_true, y_pred), alpha=alpha, beta=beta, axis=axis, **_PER_SAMPLE)


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80,
           margin=0.4):
    """``keras.losses.circle``: per-sample Circle loss of integer labels and (unit-norm)
    embeddings against the rest of the batch; 0 for a sample without a positive or a negative.
    Reference labels and embeddings other than the batch itself are not supported."""
    if ref_labels is not None or ref_embeddings is not None:
        raise OptionError("keras.losses.circle: lossgrad compares the batch with itself; "
                          "ref_labels and ref_embeddings are not supported, leave them None")
    return _circle(*_tensors(y_true, y_pred), gamma=gamma, margin=margin,
                   remove_diagonal=remove_diagonal, **_PER_SAMPLE)


#: Keras 2's and ``tf.losses``'s short spellings of the regression functions and the KL divergence.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
logcosh = log_cosh
kld = KLD = kl_divergence


# ---------------------------------------------------------------------------------------------
# the classes: reduced values, in the loss's dtype (float32 by default)


class KerasLoss(LossObject):
    """What every Keras loss class shares: ``reduction``, ``name``, ``dtype`` and the call
    ``loss(y_true, y_pred, sample_weight=None)`` (``keras.losses.Loss.__call__``).

    Both inputs are first cast to ``dtype`` (Keras's ``floatx()``, float32, when None), as Keras
    does; ``sample_weight`` has one weight per sample (or per value), or is a scalar.
    """

    def __init__(self, reduction, name, dtype, **options):
        super().__init__(**options, reduction=reduction, name=name, dtype=dtype)
        self.reduction, self.name, self.dtype = reduction, name, dtype
        self._reduction = translate_reduction(reduction, KERAS_REDUCTIONS)
        self._loss_options = options

    def __call__(self, y_true, y_pred, sample_weight=None):
        dtype = self.dtype or FLOATX
        return self.function(as_tensor(y_true, dtype), as_tensor(y_pred, dtype),
                             reduction=self._reduction, sample_weight=sample_weight,
                             **self._loss_options)


class CategoricalCrossentropy(KerasLoss):
    """``keras.losses.CategoricalCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1,
    reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None)``."""

    function = staticmethod(_categorical)

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(KerasLoss):
    """``keras.losses.SparseCategoricalCrossentropy(from_logits=False, ignore_class=None,
    reduction="sum_over_batch_size", axis=-1, name="sparse_categorical_crossentropy",
    dtype=None)``; with ``ignore_class`` the mean is over the non-ignored entries (0 if none)."""

    function = staticmethod(_sparse)

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(reduction, name, dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)


class BinaryCrossentropy(KerasLoss):
    """``keras.losses.BinaryCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1,
    reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None)``."""

    function = staticmethod(_binary)

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class BinaryFocalCrossentropy(KerasLoss):
    """``keras.losses.BinaryFocalCrossentropy(apply_class_balancing=False, alpha=0.25, gamma=2.0,
    from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
    name="binary_focal_crossentropy", dtype=None)``."""

    function = staticmethod(_binary_focal)

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(reduction, name, dtype, apply_class_balancing=apply_class_balancing,
                         alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(KerasLoss):
    """``keras.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=False,
    label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
    name="categorical_focal_crossentropy", dtype=None)``."""

    function = staticmethod(_categorical_focal)

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(reduction, name, dtype, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalGeneralizedCrossEntropy(KerasLoss):
    """``keras.losses.CategoricalGeneralizedCrossEntropy(q=0.5, reduction="sum_over_batch_size",
    name="categorical_generalized_cross_entropy", dtype=None)``: integer labels, probabilities."""

    function = staticmethod(_generalized)

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        super().__init__(reduction, name, dtype, q=q)


class Hinge(KerasLoss):
    """``keras.losses.Hinge(reduction="sum_over_batch_size", name="hinge", dtype=None)``."""

    function = staticmethod(_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(reduction, name, dtype)


class SquaredHinge(KerasLoss):
    """``keras.losses.SquaredHinge(reduction="sum_over_batch_size", name="squared_hinge",
    dtype=None)``."""

    function = staticmethod(_squared_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(reduction, name, dtype)


class CategoricalHinge(KerasLoss):
    """``keras.losses.CategoricalHinge(reduction="sum_over_batch_size", name="categorical_hinge",
    dtype=None)``."""

    function = staticmethod(_categorical_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(reduction, name, dtype)


class MeanSquaredError(KerasLoss):
    """``keras.losses.MeanSquaredError(reduction="sum_over_batch_size",
    name="mean_squared_error", dtype=None)``."""

    function = staticmethod(_mse)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(reduction, name, dtype)


class MeanAbsoluteError(KerasLoss):
    """``keras.losses.MeanAbsoluteError(reduction="sum_over_batch_size",
    name="mean_absolute_error", dtype=None)``."""

    function = staticmethod(_mae)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(reduction, name, dtype)


class MeanAbsolutePercentageError(KerasLoss):
    """``keras.losses.MeanAbsolutePercentageError(reduction="sum_over_batch_size",
    name="mean_absolute_percentage_error", dtype=None)``."""

    function = staticmethod(_mape)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(reduction, name, dtype)


class MeanSquaredLogarithmicError(KerasLoss):
    """``keras.losses.MeanSquaredLogarithmicError(reduction="sum_over_batch_size",
    name="mean_squared_logarithmic_error", dtype=None)``."""

    function = staticmethod(_msle)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(reduction, name, dtype)


class Huber(KerasLoss):
    """``keras.losses.Huber(delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
    dtype=None)``."""

    function = staticmethod(_huber)

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(reduction, name, dtype, delta=delta)


class LogCosh(KerasLoss):
    """``keras.losses.LogCosh(reduction="sum_over_batch_size", name="log_cosh", dtype=None)``."""

    function = staticmethod(_log_cosh)

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(reduction, name, dtype)


class CTC(KerasLoss):
    """``keras.losses.CTC(reduction="sum_over_batch_size", name="ctc", dtype=None)``; see
    :func:`ctc`."""

    function = staticmethod(_ctc)

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(reduction, name, dtype)


class KLDivergence(KerasLoss):
    """``keras.losses.KLDivergence(reduction="sum_over_batch_size", name="kl_divergence",
    dtype=None)``; see :func:`kl_divergence`."""

    function = staticmethod(_kl_divergence)

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(reduction, name, dtype)


class Poisson(KerasLoss):
    """``keras.losses.Poisson(reduction="sum_over_batch_size", name="poisson", dtype=None)``."""

    function = staticmethod(_poisson)

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(reduction, name, dtype)


class CosineSimilarity(KerasLoss):
    """``keras.losses.CosineSimilarity(axis=-1, reduction="sum_over_batch_size",
    name="cosine_similarity", dtype=None)``; see :func:`cosine_similarity`."""

    function = staticmethod(_cosine_similarity)

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(reduction, name, dtype, axis=axis)


class Dice(KerasLoss):
    """``keras.losses.Dice(reduction="sum_over_batch_size", name="dice", axis=None, dtype=None)``;
    see :func:`dice` (with axis=None the batch's one value is left as it is by every reduction)."""

    function = staticmethod(_dice)

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(reduction, name, dtype, axis=axis)


class Tversky(KerasLoss):
    """``keras.losses.Tversky(alpha=0.5, beta=0.5, reduction="sum_over_batch_size",
    name="tversky", axis=None, dtype=None)``; see :func:`tversky`."""

    function = staticmethod(_tversky)

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)


class Circle(KerasLoss):
    """``keras.losses.Circle(gamma=80.0, margin=0.4, remove_diagonal=True,
    reduction="sum_over_batch_size", name="circle", dtype=None)``: the reductions leave out the
    samples without a positive or a negative partner (Keras masks their zero values)."""

    function = staticmethod(_circle)

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(reduction, name, dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)


__all__ = [
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy",
    "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "CategoricalGeneralizedCrossEntropy",
    "Hinge", "SquaredHinge", "CategoricalHinge", "CTC", "MeanSquaredError", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Huber", "LogCosh",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_focal_crossentropy",
    "categorical_generalized_cross_entropy", "hinge", "squared_hinge", "categorical_hinge",
    "ctc", "mean_squared_error", "mse", "MSE", "mean_absolute_error", "mae", "MAE",
    "mean_absolute_percentage_error", "mape", "MAPE", "mean_squared_logarithmic_error", "msle",
    "MSLE", "huber", "log_cosh", "logcosh",
    "KLDivergence", "Poisson", "CosineSimilarity", "kl_divergence", "kld", "KLD", "poisson",
    "cosine_similarity", "Dice", "Tversky", "Circle", "dice", "tversky", "circle",
]
