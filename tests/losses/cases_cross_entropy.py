"""Case rows: cross-entropy on probabilities, sigmoid cross-entropy, NLL, and squared error.

The references are the plain formulas, written from the frameworks' definitions (CONVENTIONS.md
§A–§B, checked against live Keras/PyTorch), not from lossgrad's code: no gathering, no masks, a
one-hot where a label is needed. Clips and clamps select on the real part only, so a complex step
passes through every entry they leave alone (all inputs here are away from the clip bounds).
"""

from __future__ import annotations

import numpy as np

from tests.losses.cases import Case, both_paths

KERAS_EPSILON = 1e-7
TORCH_LOG_FLOOR = -100.0


# ---------------------------------------------------------------------------------------------
# input makers


def _probability_rows(rng, shape, num_classes, floor=0.05):
    """Rows of a Dirichlet lifted to a floor: every entry in (floor, 1 − floor·(C−1)), sums 1."""
    return floor + (1 - floor * num_classes) * rng.dirichlet(2 * np.ones(num_classes), size=shape)


def probs_and_distributions(num_classes: int):
    def make(rng, n):
        return _probability_rows(rng, n, num_classes), rng.dirichlet(np.ones(num_classes), size=n)

    return make


def probs_and_labels(num_classes: int, extra=(), log=False):
    """Probabilities (or their logs) (n, *extra, C) and labels (n, *extra)."""

    def make(rng, n):
        p = _probability_rows(rng, (n, *extra), num_classes)
        return (np.log(p) if log else p), rng.integers(0, num_classes, size=(n, *extra))

    return make


def binary_pairs(size: int, logits=False):
    """Probabilities in (0.05, 0.95) or logits, and soft targets in [0, 1], both (n, size)."""

    def make(rng, n):
        x = rng.normal(scale=2.0, size=(n, size)) if logits else rng.uniform(0.05, 0.95, (n, size))
        return x, rng.uniform(0.0, 1.0, size=(n, size))

    return make


def real_pairs(size: int):
    def make(rng, n):
        return rng.normal(size=(n, size)), rng.normal(size=(n, size))

    return make


# ---------------------------------------------------------------------------------------------
# references


def _clip(p, low, high):
    return np.where(p.real < low, low, np.where(p.real > high, high, p))


def _log(p, convention):
    """log p; PyTorch's clamped at −100."""
    logp = np.log(p)
    if convention == "torch":
        return np.where(logp.real < TORCH_LOG_FLOOR, TORCH_LOG_FLOOR, logp)
    return logp


def _smoothed(t, alpha, num_classes):
    return t * (1 - alpha) + alpha / num_classes


def ref_categorical_cross_entropy(p, t, label_smoothing=0.0, class_weight=None, convention="exact"):
    num_classes = p.shape[-1]
    t = _smoothed(t, label_smoothing, num_classes)
    w = np.ones(num_classes) if class_weight is None else np.asarray(class_weight)
    if convention == "keras":  # renormalise, then clip; class weights weight the arg-max's row
        p = _clip(p / np.sum(p, axis=-1, keepdims=True), KERAS_EPSILON, 1 - KERAS_EPSILON)
        return -np.sum(t * np.log(p), axis=-1) * w[np.argmax(t, axis=-1)]
    return -np.sum(w * t * _log(p, convention), axis=-1)


def ref_sparse_categorical_cross_entropy(p, labels, label_smoothing=0.0, class_weight=None,
                                         ignore_index=None, convention="exact"):
    num_classes = p.shape[-1]
    valid = np.ones(labels.shape, bool) if ignore_index is None else labels != ignore_index
    safe = np.where(valid, labels, 0)
    t = _smoothed(np.eye(num_classes)[safe], label_smoothing, num_classes)
    w = np.ones(num_classes) if class_weight is None else np.asarray(class_weight)
    if convention == "keras":  # TF: clip, then log-softmax of log p̂; class weights per row
        q = _clip(p, KERAS_EPSILON, 1 - KERAS_EPSILON)
        log_q = np.log(q) - np.log(np.sum(q, axis=-1, keepdims=True))
        value = -np.sum(t * log_q, axis=-1) * w[safe]
    else:
        value = -np.sum(w * t * _log(p, convention), axis=-1)
    return value * valid


def ref_nll(log_p, labels, class_weight=None, ignore_index=None):
    num_classes = log_p.shape[-1]
    valid = np.ones(labels.shape, bool) if ignore_index is None else labels != ignore_index
    safe = np.where(valid, labels, 0)
    w = np.ones(num_classes) if class_weight is None else np.asarray(class_weight)
    return -np.sum(np.eye(num_classes)[safe] * log_p, axis=-1) * w[safe] * valid


def ref_binary_cross_entropy(p, y, label_smoothing=0.0, convention="exact"):
    y = _smoothed(y, label_smoothing, 2)
    if convention == "keras":
        p = _clip(p, KERAS_EPSILON, 1 - KERAS_EPSILON)
    return -(y * _log(p, convention) + (1 - y) * _log(1 - p, convention))


def ref_sigmoid_binary_cross_entropy(x, y, pos_weight=None, label_smoothing=0.0, kernel=None):
    y = _smoothed(y, label_smoothing, 2)
    pw = 1.0 if pos_weight is None else np.asarray(pos_weight)
    sigma = 1 / (1 + np.exp(-x))
    return -(pw * y * np.log(sigma) + (1 - y) * np.log(1 - sigma))


def ref_squared_error(x, y):
    return (x - y) ** 2


# ---------------------------------------------------------------------------------------------
# the rows

_WEIGHTS4 = np.array([0.5, 2.0, 1.0, 1.5])
_KERAS = {"convention": "keras"}
_TORCH = {"convention": "torch"}

CASES: list[Case] = [
    Case("categorical_cross_entropy", probs_and_distributions(4), ref_categorical_cross_entropy,
         domain="probabilities",
         options=({}, {"label_smoothing": 0.2}, {"class_weight": _WEIGHTS4}, _KERAS,
                  {**_KERAS, "label_smoothing": 0.1}, {**_KERAS, "class_weight": _WEIGHTS4},
                  {**_TORCH, "class_weight": _WEIGHTS4})),
    Case("sparse_categorical_cross_entropy", probs_and_labels(4),
         ref_sparse_categorical_cross_entropy, domain="probabilities", labels=True,
         ignore_index=-100,
         options=({}, {"label_smoothing": 0.2}, {"class_weight": _WEIGHTS4, "label_smoothing": 0.1},
                  {"ignore_index": -100}, _KERAS, {**_KERAS, "label_smoothing": 0.1},
                  {**_KERAS, "class_weight": _WEIGHTS4, "label_smoothing": 0.1},
                  {**_KERAS, "ignore_index": -100}, {**_TORCH, "class_weight": _WEIGHTS4})),
    Case("sparse_categorical_cross_entropy", probs_and_labels(3, extra=(2,)),
         ref_sparse_categorical_cross_entropy, domain="probabilities", labels=True, tag="spatial",
         options=({}, _KERAS)),
    Case("binary_cross_entropy", binary_pairs(3), ref_binary_cross_entropy, domain="probabilities",
         options=({}, {"label_smoothing": 0.1}, _KERAS, {**_KERAS, "label_smoothing": 0.2},
                  _TORCH)),
    Case("sigmoid_binary_cross_entropy", binary_pairs(3, logits=True),
         ref_sigmoid_binary_cross_entropy,
         options=both_paths({}, {"pos_weight": 2.5}, {"pos_weight": np.array([0.5, 1.0, 3.0])},
                            {"pos_weight": np.array([0.5, 1.0, 3.0]), "label_smoothing": 0.1})),
    Case("nll", probs_and_labels(4, log=True), ref_nll, domain="log_probabilities", labels=True,
         ignore_index=-100,
         options=({}, {"class_weight": _WEIGHTS4}, {"ignore_index": -100},
                  {"class_weight": _WEIGHTS4, "ignore_index": -100})),
    Case("squared_error", real_pairs(3), ref_squared_error, domain="real"),
]
