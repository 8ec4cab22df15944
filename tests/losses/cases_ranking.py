"""Case rows and plain-formula references for the ranking / metric-learning family
(losses/ranking.py).

The references follow the frameworks' definitions (PyTorch's MarginRankingLoss and
TripletMarginLoss, optax's triplet_margin_loss and ntxent, Keras's circle), written as loops over
pairs where the frameworks build masks, not from lossgrad's code. Every input maker redraws the
samples that lie within GAP of a kink for any option set of the row, so central differences never
straddle one; the subgradients at the kinks are pinned in test_ranking.py. ntxent and circle are
coupled rows: every value depends on the whole batch.
"""

from __future__ import annotations

import numpy as np

from tests.losses.cases import Case

#: No sample lies this close to a kink (central differences step 1e-6, directional checks ~1e-5).
GAP = 1e-2
_MARGINS = (0.0, 0.5, 1.0)  # every margin the option sets below use


def redraw_near_kinks(draw, distances, gap=GAP):
    """An input maker: ``draw(rng, n)`` (a tuple of inputs), then redraw every sample (first axis)
    for which any of ``distances(*inputs)`` (signed distances to kinks, sample-first) is within
    ``gap``."""

    def make(rng, n):
        inputs = list(draw(rng, n))
        for _ in range(1000):
            near = np.any(np.abs(distances(*inputs)).reshape(n, -1) < gap, axis=1)
            if not near.any():
                return tuple(inputs)
            fresh = draw(rng, n)
            for x, y in zip(inputs, fresh):
                x[near] = y[near]
        raise RuntimeError("could not draw inputs away from the kinks")

    return make


def pair_labels(n):
    """Labels 0, 1, 0, 1, …: for n ≥ 4 every sample has a positive and a negative partner (for
    n = 3 the middle one has no positive)."""
    return np.arange(n) % 2


# ---------------------------------------------------------------------------------------------
# margin ranking


def _ranking_draw(rng, n):
    return (rng.normal(size=(n, 3)), rng.normal(size=(n, 3)),
            rng.choice([-1.0, 1.0], size=(n, 3)))


def _ranking_distances(x1, x2, y):
    return np.stack([m - y * (x1 - x2) for m in _MARGINS], axis=-1)


def ref_margin_ranking(x1, x2, y, margin=0.0):
    return np.maximum(0, -y * (x1 - x2) + margin)


# ---------------------------------------------------------------------------------------------
# triplet margin


_TRIPLET_OPTIONS = ({}, {"p": 1.0, "swap": True, "margin": 0.5},
                    {"p": 3.0, "convention": "optax", "eps": 1e-3},
                    {"swap": True, "convention": "optax", "margin": 0.5})


def _triplet_draw(rng, n):
    return tuple(rng.normal(size=(n, 4)) for _ in range(3))


def _triplet_distances(a, p, n):
    """The hinge of every option set, the swap's tie d(a, n) = d(p, n), and each difference's
    components (the kinks of the 1-norm)."""
    out = [a - p + 1e-6, a - n + 1e-6, p - n + 1e-6]
    for opts in _TRIPLET_OPTIONS:
        d_an, d_pn = ref_distance(a, n, **opts), ref_distance(p, n, **opts)
        negative = np.minimum(d_an, d_pn) if opts.get("swap") else d_an
        out += [(opts.get("margin", 1.0) + ref_distance(a, p, **opts) - negative)[:, None],
                (d_an - d_pn)[:, None]]
    return np.concatenate(out, axis=-1)


def ref_distance(u, v, p=2.0, eps=1e-6, convention="torch", **_):
    """PyTorch: ‖u − v + eps‖_p; optax: (Σ|u − v|^p + eps)^{1/p}."""
    if convention == "torch":
        return np.sum(np.abs(u - v + eps) ** p, axis=-1) ** (1 / p)
    return (np.sum(np.abs(u - v) ** p, axis=-1) + eps) ** (1 / p)


def ref_triplet_margin(a, pos, neg, margin=1.0, p=2.0, eps=1e-6, swap=False, convention="torch"):
    kw = {"p": p, "eps": eps, "convention": convention}
    negative = ref_distance(a, neg, **kw)
    if swap:
        negative = np.minimum(negative, ref_distance(pos, neg, **kw))
    return np.maximum(0, margin + ref_distance(a, pos, **kw) - negative)


# ---------------------------------------------------------------------------------------------
# NT-Xent and Circle (coupled)


def _ntxent_inputs(rng, n):
    return rng.normal(size=(n, 3)), rng.permutation(pair_labels(n))


def ref_ntxent(e, labels, temperature=0.07):
    """optax: −log(e^{S_ij} / (e^{S_ij} + Σ_{k: other label} e^{S_ik})) summed over each anchor's
    positives j ≠ i, S the cosine similarities over τ (no norm clipping: the inputs are far from
    0). Complex-safe: the norm is the square root of Σe², and no max shift."""
    u = e / np.sqrt(np.sum(e * e, axis=1, keepdims=True))
    s = (u @ u.T) / temperature
    values = []
    for i in range(len(e)):
        negatives = np.sum(np.exp(s[i][labels != labels[i]]))
        positives = [j for j in range(len(e)) if j != i and labels[j] == labels[i]]
        values.append(sum(np.log(np.exp(s[i, j]) + negatives) - s[i, j] for j in positives))
    return np.array(values, dtype=s.dtype)


def ntxent_pairs(e, labels, **_):
    """Each anchor's number of positive pairs: its weight in ntxent's "mean"."""
    return np.sum(labels[:, None] == labels[None, :], axis=1) - 1


_CIRCLE_OPTIONS = ({}, {"gamma": 4.0, "margin": 0.25, "remove_diagonal": False})


def _embeddings_draw(rng, n):
    """Embeddings of norm in [0.7, 0.95]: Keras expects unit norms, but at norm 1 the diagonal
    similarity sits on the kink of max(1 − s, 0) (pinned in test_ranking.py instead)."""
    e = rng.normal(size=(n, 3))
    return e * rng.uniform(0.7, 0.95, size=(n, 1)) / np.linalg.norm(e, axis=1, keepdims=True), \
        pair_labels(n)


def _circle_distances(e, labels):
    """Negative pairs at the kink of max(1 + m − d, 0), d = 1 − s, for every margin used."""
    s = e @ e.T
    negative = labels[:, None] != labels[None, :]
    kinks = [np.where(negative, s + opts.get("margin", 0.4), 1.0) for opts in _CIRCLE_OPTIONS]
    return np.concatenate(kinks, axis=1)


def _relu(x):
    """max(x, 0) by the sign of the real part: complex-safe away from 0."""
    return np.where(np.real(x) > 0, x, 0)


def ref_circle(e, labels, gamma=80.0, margin=0.4, remove_diagonal=True):
    """Keras 3's circle, row by row: softplus of the log-sum-exps over positives and negatives;
    0 for a row without one of them."""
    d = _relu(1 - e @ e.T)
    values = []
    for i in range(len(e)):
        same = labels == labels[i]
        positives = same & (np.arange(len(e)) != i) if remove_diagonal else same
        negatives = ~same
        if not positives.any() or not negatives.any():
            values.append(0.0)
            continue
        dp, dn = d[i][positives], d[i][negatives]
        pull = np.log(np.sum(np.exp(-gamma * _relu(margin + dp) * (margin - dp))))
        push = np.log(np.sum(np.exp(gamma * _relu(1 + margin - dn) * (1 - margin - dn))))
        values.append(np.log(1 + np.exp(pull + push)))
    return np.array(values, dtype=d.dtype)


# ---------------------------------------------------------------------------------------------
# the table

CASES: list[Case] = [
    Case("margin_ranking", redraw_near_kinks(_ranking_draw, _ranking_distances),
         ref_margin_ranking, options=({}, {"margin": 0.5}), analytic=False, domain="real",
         wrt=("x2",)),
    Case("triplet_margin", redraw_near_kinks(_triplet_draw, _triplet_distances),
         ref_triplet_margin, options=_TRIPLET_OPTIONS, analytic=False, domain="real",
         wrt=("positive", "negative")),
    Case("ntxent", _ntxent_inputs, ref_ntxent, options=({}, {"temperature": 0.5}),
         domain="real", coupled=True, mean_weights=ntxent_pairs),
    # Every pair of a 64-sample batch cannot stay 1e-2 away from the kink; 1e-4 is still 100
    # central-difference steps.
    Case("circle", redraw_near_kinks(_embeddings_draw, _circle_distances, gap=1e-4), ref_circle,
         options=_CIRCLE_OPTIONS, domain="real", coupled=True),
]
