"""Seeded input makers for parity specs: random inputs and the extreme ones frameworks must survive.

A maker is ``make(rng, dtype) -> {"prediction": …, "target": …, …}``; see
:class:`tests.parity.spec.Spec`. Two families: :func:`classification` (a class axis: logits,
probabilities or log-probabilities against labels or distributions) and :func:`elementwise` (one
target per prediction entry: binary, sign, real targets).
"""

from __future__ import annotations

import numpy as np

#: How many entries of a batch carry the ignore label: every third one, or all of them.
IGNORE_SOME, IGNORE_ALL = "some", "all"
#: Logits drawn from {−s, 0, s}: exact and finite in every framework (TESTING.md §2).
EXTREME_SCALES = {"logits1e4": 1e4, "logits1e9": 1e9}
#: A probability whose log is below PyTorch's −100 floor, yet a normal float32 number.
TINY = 1e-44


def classification(shape=(6, 5), *, axis=-1, prediction="logits", target="labels", scale=None,
                   neg_inf=False, ignore=None, sample_weight=None, class_weight=False):
    """A prediction over classes and its targets.

    shape: class-last shape (N, …, C); the class axis is then moved to ``axis`` (1 gives PyTorch's
        (N, C, d1, …) layout) in the prediction and in dense targets.
    prediction: "logits" (N(0, 2²), or drawn from {−s, 0, s} with ``scale`` s); "probabilities"
        (their softmax); "log_probabilities"; "saturated" (probabilities, every other row an exact
        one-hot: entries exactly 0 and 1); "tiny" (probabilities with the target's set to TINY);
        "unnormalised" (probabilities with rows scaled by [0.5, 1]: entries stay in [0, 1]).
    target: "labels" (integers), "one_hot", or "soft" (Dirichlet rows, no zero entries).
    neg_inf: set each non-target logit to −inf with probability ½ (the label's logit stays finite).
    ignore: (label, IGNORE_SOME | IGNORE_ALL) to mark entries ignored (labels only).
    sample_weight: None, "sample" (one weight per leading index) or "entry" (one per value).
    class_weight: add a (C,) vector of class weights in [0.5, 2], multiples of 1/8 so they are
        exact in float32: Keras's Model.fit casts class weights to floatx whatever the data's dtype.
    """

    def make(rng, dtype):
        num_classes = shape[-1]
        labels = rng.integers(0, num_classes, size=shape[:-1])
        logits = _logits(rng, shape, scale)
        if neg_inf:
            logits = _neg_inf_off_target(rng, logits, labels)
        out = {"prediction": np.moveaxis(_over_classes(rng, prediction, logits, labels), -1, axis),
               "target": _class_target(rng, target, labels, num_classes, ignore, axis)}
        return _with_weights(rng, out, shape[:-1], sample_weight, class_weight and num_classes)

    return make


def elementwise(shape=(4, 3), *, prediction="logits", target="soft", scale=None,
                sample_weight=None, pos_weight=False):
    """A prediction and a target of the same shape.

    prediction: "logits" (N(0, 2²), or from {−s, 0, s} with ``scale``), "real" (N(0, 1)),
        "probabilities" (uniform in [0.05, 0.95]) or "saturated" (exactly 0 or 1).
    target: "soft" (uniform in [0, 1]), "hard" ({0, 1}), "signs" ({−1, 1}) or "real" (N(0, 1)).
    sample_weight: None, "sample" or "entry", as in :func:`classification`.
    pos_weight: add a per-column positive-class weight vector ("pos_weight") in [0.5, 3].
    """

    def make(rng, dtype):
        out = {"prediction": _elementwise_prediction(rng, prediction, shape, scale),
               "target": _elementwise_target(rng, target, shape)}
        if pos_weight:
            out["pos_weight"] = rng.integers(4, 25, size=shape[-1]) / 8
        return _with_weights(rng, out, shape, sample_weight, None)

    return make


def _logits(rng, shape, scale):
    if scale is None:
        return rng.normal(scale=2.0, size=shape)
    return rng.choice([-scale, 0.0, scale], size=shape)


def _neg_inf_off_target(rng, logits, labels):
    off_target = np.arange(logits.shape[-1]) != labels[..., None]
    return np.where(off_target & (rng.random(logits.shape) < 0.5), -np.inf, logits)


def _log_softmax(x):
    # Shifted, so −inf logits give −inf (never log 0, whose warning `-W error` would raise).
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _over_classes(rng, kind, logits, labels):
    if kind == "logits":
        return logits
    if kind == "log_probabilities":
        return _log_softmax(logits)
    p = np.exp(_log_softmax(logits))
    if kind == "probabilities":
        return p
    if kind == "saturated":
        hot = np.eye(p.shape[-1])[rng.integers(0, p.shape[-1], size=labels.shape)]
        return np.where((np.arange(len(p)) % 2 == 0).reshape((-1,) + (1,) * (p.ndim - 1)), hot, p)
    if kind == "tiny":
        gold = np.arange(p.shape[-1]) == labels[..., None]
        rest = np.where(gold, 0, p)
        return np.where(gold, TINY, rest / np.sum(rest, axis=-1, keepdims=True))
    if kind == "unnormalised":
        return p * rng.uniform(0.5, 1.0, size=p.shape[:-1] + (1,))
    raise ValueError(f"unknown prediction kind {kind!r}")


def _class_target(rng, kind, labels, num_classes, ignore, axis):
    if kind == "labels":
        return labels if ignore is None else _ignored(labels, *ignore)
    if ignore is not None:
        raise ValueError("ignore applies to integer labels only")
    if kind == "one_hot":
        dense = np.eye(num_classes)[labels]
    elif kind == "soft":
        dense = rng.dirichlet(np.ones(num_classes), size=labels.shape)
    else:
        raise ValueError(f"unknown target kind {kind!r}")
    return np.moveaxis(dense, -1, axis)


def _ignored(labels, label, how):
    labels = labels.copy()
    flat = labels.reshape(-1)
    flat[:: 1 if how == IGNORE_ALL else 3] = label
    return labels


def _elementwise_prediction(rng, kind, shape, scale):
    if kind == "logits":
        return _logits(rng, shape, scale)
    draws = {"real": lambda: rng.normal(size=shape),
             "probabilities": lambda: rng.uniform(0.05, 0.95, size=shape),
             "saturated": lambda: rng.integers(0, 2, size=shape).astype(float)}
    return draws[kind]()


def _elementwise_target(rng, kind, shape):
    draws = {"soft": lambda: rng.uniform(0.0, 1.0, size=shape),
             "hard": lambda: rng.integers(0, 2, size=shape).astype(float),
             "signs": lambda: rng.choice([-1.0, 1.0], size=shape),
             "real": lambda: rng.normal(size=shape)}
    return draws[kind]()


def _with_weights(rng, out, value_shape, sample_weight, num_classes):
    if sample_weight is not None:
        shape = {"sample": value_shape[:1], "entry": value_shape}[sample_weight]
        out["sample_weight"] = rng.uniform(0.1, 2.0, size=shape)
    if num_classes:
        out["class_weight"] = rng.integers(4, 17, size=num_classes) / 8
    return out
