"""Metrics: per-sample scores whose mean over the data is the logged value.

A metric is called as ``metric(outputs, targets)`` on one batch — the model's outputs and the
targets as NumPy arrays — and returns one score per sample (shape (N,)); the logged value is the
mean over every sample of the epoch, so it does not depend on how the data was batched.

Names (:func:`get`): ``"accuracy"`` (also ``"acc"``) and ``"top_k_accuracy"`` (k = 5, Keras's
default) or ``"top_<k>_accuracy"`` for another k.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import OptionError, ShapeError


class Metric:
    """Base class: a ``name`` for the logs and ``__call__(outputs, targets)`` → scores (N,)."""

    name = "metric"

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Accuracy(Metric):
    """The fraction of samples whose predicted class is the target's.

    Outputs with a class axis of 2 or more, (N, C): the predicted class is the arg-max, compared
    with integer labels (N,) or with the arg-max of target rows (N, C) (one-hot, probabilities or
    ±1). Single outputs, (N,) or (N, 1): the prediction is ``output > threshold`` and the target
    class ``target > 0.5`` (so 0/1 and ±1 targets both work). ``threshold`` None means 0.5, or 0
    when :func:`fit` knows the loss takes logits (``sigmoid_binary_cross_entropy``).

    >>> acc = Accuracy()
    >>> acc(np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([0, 0]))
    array([1., 0.])
    >>> Accuracy(threshold=0.0)(np.array([[-1.0], [2.0]]), np.array([[0.0], [0.0]]))
    array([1., 0.])
    """

    name = "accuracy"

    def __init__(self, threshold: float | None = None):
        self.threshold = threshold

    def __call__(self, outputs, targets):
        outputs, targets = np.asarray(outputs), np.asarray(targets)
        if outputs.ndim >= 2 and outputs.shape[-1] >= 2:
            predicted = outputs.argmax(axis=-1)
            labels = targets.argmax(axis=-1) if targets.shape == outputs.shape else targets
            return _per_sample(predicted == _labels(labels, predicted.shape, self.name))
        threshold = 0.5 if self.threshold is None else self.threshold
        if targets.shape != outputs.shape:
            raise ShapeError(f"{self.name}: single outputs of shape {outputs.shape} need targets "
                             f"of the same shape, got {targets.shape}")
        return _per_sample((outputs > threshold) == (targets > 0.5))


class TopKAccuracy(Metric):
    """The fraction of samples whose target class is among the k highest outputs (N, C).

    Ties count in the target's favour: the target is in the top k when fewer than k classes score
    strictly higher (``tf.math.in_top_k``'s rule). Targets are labels (N,) or rows (N, C), whose
    arg-max is the class.

    >>> TopKAccuracy(2)(np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1]]), np.array([2, 2]))
    array([1., 0.])
    """

    def __init__(self, k: int = 5):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise OptionError(f"TopKAccuracy: k must be an int ≥ 1, got {k!r}")
        self.k = int(k)
        self.name = f"top_{self.k}_accuracy"

    def __call__(self, outputs, targets):
        outputs, targets = np.asarray(outputs), np.asarray(targets)
        if outputs.ndim != 2:
            raise ShapeError(f"{self.name}: outputs must be class scores (N, C), got shape "
                             f"{outputs.shape}")
        labels = targets.argmax(axis=-1) if targets.shape == outputs.shape else targets
        labels = _labels(labels, outputs.shape[:1], self.name)
        own = np.take_along_axis(outputs, labels[:, None], axis=-1)
        return (np.sum(outputs > own, axis=-1) < self.k).astype(np.float64)


def _labels(labels: np.ndarray, shape: tuple, name: str) -> np.ndarray:
    if labels.shape != shape or labels.dtype.kind not in "iu":
        raise ShapeError(f"{name}: expected integer labels of shape {shape} or target rows of the "
                         f"outputs' shape, got {labels.dtype} of shape {labels.shape}")
    return labels


def _per_sample(hits: np.ndarray) -> np.ndarray:
    """The mean hit per sample (over every axis after the first)."""
    hits = hits.astype(np.float64)
    return hits.reshape(len(hits), -1).mean(axis=1) if hits.ndim > 1 else hits


_TOP_K = re.compile(r"top_(\d+|k)_accuracy")


def get(spec) -> Metric:
    """A metric from its name (see the module docstring), or the Metric given.

    >>> get("top_3_accuracy").k, get("accuracy").name
    (3, 'accuracy')
    """
    if isinstance(spec, Metric):
        return spec
    if spec in ("accuracy", "acc"):
        return Accuracy()
    match = _TOP_K.fullmatch(spec) if isinstance(spec, str) else None
    if match:
        return TopKAccuracy(5 if match[1] == "k" else int(match[1]))
    raise OptionError(f"unknown metric {spec!r}; use 'accuracy', 'top_k_accuracy', "
                      "'top_<k>_accuracy' or a lossgrad.train.Metric")
