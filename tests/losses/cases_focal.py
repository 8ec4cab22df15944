"""Case rows: focal (sigmoid, binary, softmax, categorical), poly-1, generalized cross-entropy.

The references are the papers' and frameworks' formulas written plainly (optax's
``sigmoid_focal_loss`` and ``poly_loss_cross_entropy``, torchvision's ``sigmoid_focal_loss``, Keras's
``binary_focal_crossentropy``, ``categorical_focal_crossentropy`` and
``categorical_generalized_cross_entropy``), not lossgrad's code: a one-hot where a label is given, no
gathering, no log-space tricks, and no max shift, so a complex step passes through them. The inputs
keep probabilities inside Keras's clip bounds and logits unsaturated, where the conventions differ
only by rounding; their saturated behaviour is pinned in test_focal.py.
"""

from __future__ import annotations

import numpy as np

from tests.losses.cases import Case, logits_and_distributions, logits_and_labels
from tests.losses.cases_cross_entropy import probs_and_distributions, probs_and_labels

_ALPHA4 = np.array([0.5, 2.0, 0.25, 1.0])


# ---------------------------------------------------------------------------------------------
# input makers


def logits_and_binary_targets(size: int):
    """Logits (n, size) and targets (n, size): hard 0/1 labels, with one column of soft ones."""

    def make(rng, n):
        y = rng.integers(0, 2, size=(n, size)).astype(float)
        y[:, 0] = rng.uniform(size=n)
        return rng.normal(scale=2.0, size=(n, size)), y

    return make


def probs_and_binary_targets(size: int):
    """Probabilities (n, size) in (0.05, 0.95) and targets like :func:`logits_and_binary_targets`."""
    targets = logits_and_binary_targets(size)

    def make(rng, n):
        _, y = targets(rng, n)
        return rng.uniform(0.05, 0.95, size=(n, size)), y

    return make


# ---------------------------------------------------------------------------------------------
# references


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _dense(t, num_classes):
    """Integer labels as one-hot rows; distributions unchanged."""
    return np.eye(num_classes)[t] if t.dtype.kind in "iu" else t


def _balance(y, alpha):
    return 1.0 if alpha is None else alpha * y + (1 - alpha) * (1 - y)


def ref_sigmoid_focal(x, y, gamma=2.0, alpha=None, label_smoothing=0.0, convention="exact"):
    """optax / torchvision / Keras-on-TF: α_t·(1 − p_t)^γ·BCE-with-logits (every convention)."""
    y = y * (1 - label_smoothing) + label_smoothing / 2
    ce = y * np.log(1 + np.exp(-x)) + (1 - y) * np.log(1 + np.exp(x))
    one_minus_pt = y * _sigmoid(-x) + (1 - y) * _sigmoid(x)
    return _balance(y, alpha) * one_minus_pt**gamma * ce


def ref_binary_focal(p, y, gamma=2.0, alpha=None, label_smoothing=0.0, convention="exact"):
    """Keras's binary_focal_crossentropy on probabilities (its clip is inactive on these inputs)."""
    y = y * (1 - label_smoothing) + label_smoothing / 2
    ce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    p_t = y * p + (1 - y) * (1 - p)
    return _balance(y, alpha) * (1 - p_t) ** gamma * ce


def _categorical_focal(p, t, gamma, alpha, label_smoothing):
    num_classes = p.shape[-1]
    t = _dense(t, num_classes) * (1 - label_smoothing) + label_smoothing / num_classes
    a = 1.0 if alpha is None else np.asarray(alpha)
    return -np.sum(a * t * (1 - p) ** gamma * np.log(p), axis=-1)


def ref_softmax_focal(x, t, gamma=2.0, alpha=None, label_smoothing=0.0, convention="exact"):
    p = np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
    return _categorical_focal(p, t, gamma, alpha, label_smoothing)


def ref_categorical_focal(p, t, gamma=2.0, alpha=None, label_smoothing=0.0, convention="exact"):
    if convention == "keras":  # Keras renormalises (its clip is inactive on these inputs)
        p = p / np.sum(p, axis=-1, keepdims=True)
    return _categorical_focal(p, t, gamma, alpha, label_smoothing)


def ref_poly1_cross_entropy(x, t, epsilon=2.0):
    """optax: CE + ε·Σ labels·(1 − p)."""
    t = _dense(t, x.shape[-1])
    p = np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
    return -np.sum(t * np.log(p), axis=-1) + epsilon * np.sum(t * (1 - p), axis=-1)


def ref_categorical_generalized_cross_entropy(p, t, q=0.5):
    """Keras: (1 − p_y^q)/q, read off a one-hot; dense targets weight each class's term."""
    return np.sum(_dense(t, p.shape[-1]) * (1 - p**q) / q, axis=-1)


# ---------------------------------------------------------------------------------------------
# the rows

_BINARY_OPTIONS = ({}, {"gamma": 0.0}, {"gamma": 0.5, "alpha": 0.25}, {"label_smoothing": 0.2},
                   {"gamma": 1.0, "alpha": 0.75, "label_smoothing": 0.1})
_CLASS_OPTIONS = ({}, {"gamma": 0.0}, {"gamma": 0.5}, {"alpha": _ALPHA4},
                  {"gamma": 0.5, "alpha": 0.25, "label_smoothing": 0.2})
_KERAS = ({"convention": "keras"}, {"convention": "keras", "gamma": 0.5, "alpha": 0.25,
                                    "label_smoothing": 0.1})

CASES: list[Case] = [
    Case("sigmoid_focal", logits_and_binary_targets(3), ref_sigmoid_focal,
         options=_BINARY_OPTIONS + _KERAS + (
             {"convention": "torch"}, {"convention": "torch", "gamma": 0.5, "alpha": 0.25})),
    Case("binary_focal", probs_and_binary_targets(3), ref_binary_focal, domain="probabilities",
         options=_BINARY_OPTIONS + _KERAS),
    Case("softmax_focal", logits_and_distributions(4), ref_softmax_focal,
         options=_CLASS_OPTIONS + _KERAS),
    Case("softmax_focal", logits_and_labels(4), ref_softmax_focal, labels=True, tag="labels",
         options=_CLASS_OPTIONS + _KERAS),
    Case("softmax_focal", logits_and_labels(3, extra=(2,)), ref_softmax_focal, labels=True,
         tag="spatial", options=({}, {"gamma": 0.5, "label_smoothing": 0.3})),
    Case("categorical_focal", probs_and_distributions(4), ref_categorical_focal,
         domain="probabilities", options=_CLASS_OPTIONS + _KERAS),
    Case("categorical_focal", probs_and_labels(4), ref_categorical_focal, domain="probabilities",
         labels=True, tag="labels", options=_CLASS_OPTIONS + _KERAS),
    Case("poly1_cross_entropy", logits_and_distributions(4), ref_poly1_cross_entropy,
         options=({}, {"epsilon": -1.0}, {"epsilon": 0.5})),
    Case("poly1_cross_entropy", logits_and_labels(4), ref_poly1_cross_entropy, labels=True,
         tag="labels", options=({}, {"epsilon": -1.0})),
    Case("categorical_generalized_cross_entropy", probs_and_labels(4),
         ref_categorical_generalized_cross_entropy, domain="probabilities", labels=True,
         options=({}, {"q": 0.1}, {"q": 0.9}, {"q": 1.0})),
    Case("categorical_generalized_cross_entropy", probs_and_distributions(4),
         ref_categorical_generalized_cross_entropy, domain="probabilities", tag="dense",
         options=({}, {"q": 0.1})),
]
