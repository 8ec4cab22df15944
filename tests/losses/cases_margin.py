"""Case rows and plain-formula references for the hinge / margin family (losses/margin.py).

The references are written from the frameworks' definitions (loops where PyTorch's kernels loop),
not from lossgrad's code. Every input maker redraws any sample lying within GAP of a kink of the
losses it feeds, for every option set of the row, so central differences never straddle a kink; the
subgradients chosen at the kinks are pinned in test_margin.py.
"""

from __future__ import annotations

import numpy as np

from tests.losses.cases import Case

#: No sample lies this close to a kink (central differences step 1e-6, directional checks ~1e-5).
GAP = 1e-2

_WEIGHTS4 = np.array([0.5, 2.0, 1.0, 1.5])
_MARGINS = (1.0, 0.5, 2.0)  # every margin the option sets below use


# ---------------------------------------------------------------------------------------------
# input makers


def away_from_kinks(draw, distances):
    """An input maker: ``draw(rng, n)``, then redraw every sample (first axis) for which any of
    ``distances(pred, target)`` — signed distances to the kinks, sample-first — is within GAP."""

    def make(rng, n):
        pred, target = draw(rng, n)
        for _ in range(1000):
            near = np.any(np.abs(distances(pred, target)).reshape(n, -1) < GAP, axis=1)
            if not near.any():
                return pred, target
            fresh_pred, fresh_target = draw(rng, n)
            pred[near], target[near] = fresh_pred[near], fresh_target[near]
        raise RuntimeError("could not draw inputs away from the kinks")

    return make


def scores_and_signs(rng, n):
    return rng.normal(scale=2.0, size=(n, 3)), rng.choice([-1.0, 1.0], size=(n, 3))


def scores_and_labels(rng, n):
    return rng.normal(scale=2.0, size=(n, 4)), rng.integers(0, 4, size=n)


def scores_and_one_hot(rng, n):
    x, y = scores_and_labels(rng, n)
    return x, np.eye(4)[y]


def scores_and_multilabel(rng, n):
    """Scores (n, 4) and PyTorch label lists: a random subset of the classes, -1 padded."""
    labels = np.full((n, 4), -1)
    for row in labels:
        chosen = rng.permutation(4)[: rng.integers(0, 5)]
        row[: len(chosen)] = chosen
    return rng.normal(scale=2.0, size=(n, 4)), labels


def scores_and_probabilities(rng, n):
    """Targets in [0, 1] with exact 0s and 1s among them (multi-hot and soft labels)."""
    return rng.normal(scale=2.0, size=(n, 4)), np.clip(rng.uniform(-0.3, 1.3, size=(n, 4)), 0, 1)


def _labels_of(x, t):
    return np.argmax(t, axis=-1) if t.shape == x.shape else t


def _true_score(x, labels):
    return np.take_along_axis(x, labels[..., None], axis=-1)


def _top_two_gap(candidates):
    """max − second max of each row (a max changes branch where it is 0)."""
    top2 = np.sort(candidates, axis=-1)[..., -2:]
    return top2[..., 1] - top2[..., 0]


def categorical_candidates(x, t, keras):
    """The candidates of the Crammer–Singer max: x_y, x_k + 1 (k ≠ y) and, for Keras, 1."""
    labels = _labels_of(x, t)
    z = x + 1.0 - np.eye(x.shape[-1])[labels]
    return np.concatenate([z, np.ones(z.shape[:-1] + (1,))], axis=-1) if keras else z


def categorical_distances(x, t):
    return np.stack([_top_two_gap(categorical_candidates(x, t, keras)) for keras in (False, True)],
                    axis=-1)


def multi_margin_distances(x, labels):
    terms = [m - _true_score(x, labels) + x for m in _MARGINS]
    true = np.eye(x.shape[-1], dtype=bool)[labels]
    return np.stack([np.where(true, 1.0, z) for z in terms], axis=-1)


def multilabel_distances(x, labels):
    """1 − (x_j − x_i) for every (target j, non-target i) pair; 1 for the other pairs."""
    target = np.array([[c in row for c in range(x.shape[-1])] for row in labels])
    pairs = target[:, :, None] & ~target[:, None, :]
    return np.where(pairs, 1 - x[:, :, None] + x[:, None, :], 1.0)


# ---------------------------------------------------------------------------------------------
# references


def keras_signs(y):
    """Keras's convert_binary_labels_to_hinge: 2y − 1 only if the whole batch is in {0, 1}."""
    return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y


def ref_hinge(x, y, convention="exact"):
    y = keras_signs(y) if convention == "keras" else y
    return np.maximum(0, 1 - y * x)


def ref_squared_hinge(x, y, convention="exact"):
    return ref_hinge(x, y, convention) ** 2


def ref_perceptron(x, y):
    return np.maximum(0, -y * x)


def ref_soft_margin(x, y):
    return np.log(1 + np.exp(-y * x))


def ref_hinge_embedding(x, y, margin=1.0):
    return np.where(y == 1, x, np.maximum(0, margin - x))


def ref_categorical_hinge(x, t, convention="exact"):
    """optax: max_k(x_k + 1 − onehot_k) − x_y; Keras: max(0, 1 + max((1 − t)·x) − Σ t·x)."""
    onehot = np.eye(x.shape[-1])[_labels_of(x, t)]
    if convention == "keras":
        return np.maximum(0, 1 + np.max((1 - onehot) * x, axis=-1) - np.sum(onehot * x, axis=-1))
    return np.max(x + 1 - onehot, axis=-1) - np.sum(onehot * x, axis=-1)


def ref_multiclass_perceptron(x, t):
    onehot = np.eye(x.shape[-1])[_labels_of(x, t)]
    return np.max(x, axis=-1) - np.sum(onehot * x, axis=-1)


def ref_multi_margin(x, labels, p=1, margin=1.0, class_weight=None):
    """PyTorch's MultiMarginCriterion kernel, loop for loop."""
    num_classes = x.shape[-1]
    w = np.ones(num_classes) if class_weight is None else class_weight
    out = np.zeros(len(x))
    for n, y in enumerate(labels):
        for k in range(num_classes):
            z = margin - x[n, y] + x[n, k]
            if k != y and z > 0:
                out[n] += w[y] * z**p
    return out / num_classes


def ref_multilabel_margin(x, labels):
    """PyTorch's MultiLabelMarginCriterion kernel: targets up to the first -1."""
    num_classes = x.shape[-1]
    out = np.zeros(len(x))
    for n, row in enumerate(labels):
        targets = []
        for label in row:
            if label < 0:
                break
            targets.append(label)
        for j in targets:
            for i in range(num_classes):
                if i not in targets:
                    out[n] += max(0.0, 1 - (x[n, j] - x[n, i]))
    return out / num_classes


def ref_multilabel_soft_margin(x, t, class_weight=None):
    """PyTorch's formula with log σ(x) = log(1 / (1 + e^{−x})): complex-safe."""
    w = np.ones(x.shape[-1]) if class_weight is None else class_weight
    log_sig = np.log(1 / (1 + np.exp(-x)))
    log_sig_neg = np.log(1 / (1 + np.exp(x)))
    return -np.sum(w * (t * log_sig + (1 - t) * log_sig_neg), axis=-1) / x.shape[-1]


# ---------------------------------------------------------------------------------------------
# the rows

CASES: list[Case] = [
    Case("hinge", away_from_kinks(scores_and_signs, lambda x, y: 1 - y * x), ref_hinge,
         analytic=False, options=({}, {"convention": "keras"})),
    Case("squared_hinge", away_from_kinks(scores_and_signs, lambda x, y: 1 - y * x),
         ref_squared_hinge, analytic=False, options=({}, {"convention": "keras"})),
    Case("perceptron", away_from_kinks(scores_and_signs, lambda x, y: x), ref_perceptron,
         analytic=False),
    Case("soft_margin", scores_and_signs, ref_soft_margin),
    Case("hinge_embedding",
         away_from_kinks(scores_and_signs, lambda x, y: np.stack([m - x for m in _MARGINS], -1)),
         ref_hinge_embedding, analytic=False,
         options=({}, {"margin": 0.5}, {"margin": 2.0})),
    Case("categorical_hinge", away_from_kinks(scores_and_labels, categorical_distances),
         ref_categorical_hinge, analytic=False, labels=True,
         options=({}, {"convention": "keras"})),
    Case("categorical_hinge", away_from_kinks(scores_and_one_hot, categorical_distances),
         ref_categorical_hinge, analytic=False, tag="one_hot",
         options=({}, {"convention": "keras"})),
    Case("multiclass_perceptron",
         away_from_kinks(scores_and_labels, lambda x, t: _top_two_gap(x)),
         ref_multiclass_perceptron, analytic=False, labels=True),
    Case("multi_margin", away_from_kinks(scores_and_labels, multi_margin_distances),
         ref_multi_margin, analytic=False, labels=True,
         options=({}, {"p": 2}, {"margin": 0.5}, {"class_weight": _WEIGHTS4},
                  {"p": 2, "margin": 2.0, "class_weight": _WEIGHTS4})),
    Case("multilabel_margin", away_from_kinks(scores_and_multilabel, multilabel_distances),
         ref_multilabel_margin, analytic=False, labels=True),
    Case("multilabel_soft_margin", scores_and_probabilities, ref_multilabel_soft_margin,
         options=({}, {"class_weight": _WEIGHTS4})),
]
