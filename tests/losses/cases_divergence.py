"""Case rows and plain-formula references for the divergences and likelihoods
(losses/divergence.py).

The references are the frameworks' definitions written directly: PyTorch's KLDivLoss
(t·(log t − x)), Keras's KLDivergence (Σ t·log(t/p) after clipping), the generalised JSD as
Liger-Kernel defines it (β·KL(P‖M) + (1 − β)·KL(Q‖M)), PyTorch's PoissonNLLLoss and
GaussianNLLLoss, optax's and Keras's cosine similarity and PyTorch's CosineEmbeddingLoss — not
lossgrad's stabilised forms. They are complex-safe (every branch is chosen on the real part), so the
complex step differentiates them with respect to every input in a row's ``wrt``.

The inputs stay inside each loss's domain with room for the central differences' steps (no
probability within 1e-3 of 0 or 1, variances ≥ 0.3, rates ≥ 0.2), off the clamps (Keras's ε,
PyTorch's variance floor, the cosine floors) and, for cosine_embedding, away from the kink at
cos = margin. The behaviour at zero probabilities, clamps, zero vectors and the kink is pinned in
test_divergence.py, and so is kl_divergence's ``log_target=True``: it needs log-probabilities as
targets, while the generic tests also call every row without its options.
"""

from __future__ import annotations

import numpy as np

from tests.losses.cases import Case
from tests.losses.cases_margin import GAP

#: keras.backend.epsilon(): Keras clips KLDivergence's inputs and floors the cosine's norms at it.
KERAS_EPSILON = 1e-7
#: PyTorch's CosineEmbeddingLoss adds the float32 constant 1e-12 to each squared norm.
TORCH_COSINE_EPSILON = float(np.float32(1e-12))
MARGINS = (0.0, 0.3, -0.2)
WIDTH = 4  # not 3: a random (1, 3) variance would broadcast against (N, 3) (see gaussian_nll)


# ---------------------------------------------------------------------------------------------
# input makers


def _log_softmax(z):
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


def _distributions(rng, n):
    """Rows of a Dirichlet(2, …, 2): no entry within 1e-3 of 0 or 1 in practice."""
    return rng.dirichlet(np.full(WIDTH, 2.0), size=n)


def log_probs_and_probs(rng, n):
    return np.log(_distributions(rng, n)), _distributions(rng, n)


def log_probs_and_log_targets(rng, n):
    return np.log(_distributions(rng, n)), np.log(_distributions(rng, n))


def probs_and_targets(rng, n):
    return _distributions(rng, n), _distributions(rng, n)


def _counts(rng, n):
    """Poisson counts as floats: zeros, ones and counts above 1 (Stirling's term)."""
    return rng.poisson(2.0, size=(n, WIDTH)).astype(float)


def rates_and_counts(rng, n):
    return rng.uniform(0.2, 4.0, size=(n, WIDTH)), _counts(rng, n)


def log_rates_and_counts(rng, n):
    return rng.normal(size=(n, WIDTH)), _counts(rng, n)


def gaussian(var_shape):
    """Means and targets (n, WIDTH) and variances in [0.3, 2] of shape ``var_shape(n)``."""

    def make(rng, n):
        mean, target = rng.normal(size=(n, WIDTH)), rng.normal(size=(n, WIDTH))
        return mean, target, rng.uniform(0.3, 2.0, size=var_shape(n))

    return make


def vectors(rng, n):
    """Pairs of vectors whose norms stay far above the floors the rows use (≥ 0.1 against √1e-3)."""
    x, z = rng.normal(size=(n, WIDTH)), rng.normal(size=(n, WIDTH))
    for v in (x, z):
        small = np.linalg.norm(v, axis=-1) < 0.1
        v[small] += 1.0
    return x, z


def embedding_pairs(rng, n):
    """x1, x2 and y = ±1 per pair, redrawn until no dissimilar pair has cos within GAP of any
    margin in MARGINS (the kink of max(0, cos − margin))."""
    x1, x2 = vectors(rng, n)
    y = rng.choice([-1.0, 1.0], size=n)
    for _ in range(1000):
        cos = np.sum(x1 * x2, -1) / (np.linalg.norm(x1, axis=-1) * np.linalg.norm(x2, axis=-1))
        near = (y == -1) & np.any(np.abs(cos[:, None] - np.array(MARGINS)) < GAP, axis=1)
        if not near.any():
            return x1, x2, y
        x1[near], x2[near] = (v[near] for v in vectors(rng, n))
    raise RuntimeError("could not draw pairs away from the margins")


# ---------------------------------------------------------------------------------------------
# references (complex-safe)


def _floored(a, low, high=None):
    """a clipped to [low, high] by its real part (a perturbed entry keeps its imaginary part only
    where the clip is inactive, as a clip's derivative is 0 there)."""
    out = np.where(np.real(a) < low, low, a)
    return out if high is None else np.where(np.real(out) > high, high, out)


def ref_kl_divergence(x, t, log_target=False):
    """PyTorch's KLDivLoss: t·(log t − x); with log targets s: e^s·(s − x)."""
    return np.exp(t) * (t - x) if log_target else t * (np.log(t) - x)


def ref_categorical_kl_divergence(p, t, convention="exact"):
    """Σ t·log(t/p); Keras clips both inputs to [ε, 1] first."""
    if convention == "keras":
        p, t = _floored(p, KERAS_EPSILON, 1.0), _floored(t, KERAS_EPSILON, 1.0)
    return np.sum(t * np.log(t / p), axis=-1)


def _kl(a, log_a, log_b):
    return a * (log_a - log_b)


def ref_js_divergence(x, y, beta=0.5):
    """β·KL(P‖M) + (1 − β)·KL(Q‖M), M = βP + (1 − β)Q, per entry; Q = e^x, P = e^y."""
    q, p = np.exp(x), np.exp(y)
    log_m = np.log(beta * p + (1 - beta) * q)
    return beta * _kl(p, y, log_m) + (1 - beta) * _kl(q, x, log_m)


def _stirling(y):
    """PyTorch's: y·log y − y + ½·log(2πy), masked where y ≤ 1."""
    safe = np.where(y > 1, y, 2.0)
    return np.where(y > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0)


def ref_poisson(x, y, eps=0.0, full=False):
    """PyTorch's log_input=False: x − y·log(x + eps) (+ Stirling)."""
    return x - y * np.log(x + eps) + (_stirling(y) if full else 0)


def ref_log_poisson(x, y, full=False):
    """PyTorch's log_input=True: e^x − y·x (+ Stirling)."""
    return np.exp(x) - y * x + (_stirling(y) if full else 0)


def ref_gaussian_nll(mean, y, var, full=False):
    """PyTorch's: ½·(log v + (μ − y)²/v) (+ ½·log 2π), v one per sample when (N,)."""
    v = var.reshape(var.shape + (1,) * (mean.ndim - var.ndim))
    return 0.5 * (np.log(v) + (mean - y) ** 2 / v) + (0.5 * np.log(2 * np.pi) if full else 0)


def _norm(v, floor):
    return _floored(np.sqrt(np.sum(v * v, axis=-1)), floor)


def ref_cosine_similarity(x, t, epsilon=None, convention="exact"):
    """optax's: x·t / (√max(Σx², ε)·√max(Σt², ε)); Keras's: −x·t / (max(‖x‖, ε)·max(‖t‖, ε))."""
    keras = convention == "keras"
    floor = np.sqrt(epsilon) if epsilon is not None else (KERAS_EPSILON if keras else 0.0)
    cos = np.sum(x * t, axis=-1) / (_norm(x, floor) * _norm(t, floor))
    return -cos if keras else cos


def ref_cosine_distance(x, t, epsilon=0.0):
    return 1 - ref_cosine_similarity(x, t, epsilon=epsilon)


def ref_cosine_embedding(x1, x2, y, margin=0.0):
    """PyTorch's: cos = x1·x2 / √((Σx1² + ε)(Σx2² + ε)); 1 − cos (y = 1), max(0, cos − m)."""
    eps = TORCH_COSINE_EPSILON
    cos = np.sum(x1 * x2, -1) / np.sqrt((np.sum(x1 * x1, -1) + eps) * (np.sum(x2 * x2, -1) + eps))
    return np.where(y == 1, 1 - cos, _floored(cos - margin, 0.0))


# ---------------------------------------------------------------------------------------------
# the rows

CASES: list[Case] = [
    Case("kl_divergence", log_probs_and_probs, ref_kl_divergence, domain="log_probabilities",
         wrt=("targets",)),
    Case("categorical_kl_divergence", probs_and_targets, ref_categorical_kl_divergence,
         domain="probabilities", wrt=("targets",), options=({}, {"convention": "keras"})),
    Case("js_divergence", log_probs_and_log_targets, ref_js_divergence,
         domain="log_probabilities", wrt=("log_targets",),
         options=({}, {"beta": 0.2}, {"beta": 0.9})),
    Case("poisson", rates_and_counts, ref_poisson, domain="real",
         options=({}, {"eps": 1e-7}, {"eps": 1e-8, "full": True})),
    Case("log_poisson", log_rates_and_counts, ref_log_poisson, domain="real",
         options=({}, {"full": True})),
    Case("gaussian_nll", gaussian(lambda n: (n, WIDTH)), ref_gaussian_nll, domain="real",
         wrt=("targets", "var"), options=({}, {"full": True})),
    Case("gaussian_nll", gaussian(lambda n: (n, 1)), ref_gaussian_nll, tag="var(N,1)",
         domain="real", wrt=("targets", "var")),
    Case("gaussian_nll", gaussian(lambda n: (n,)), ref_gaussian_nll, tag="var(N,)",
         domain="real", wrt=("targets", "var"), options=({"full": True},)),
    Case("cosine_similarity", vectors, ref_cosine_similarity, domain="real", wrt=("targets",),
         options=({}, {"convention": "keras"}, {"epsilon": 1e-3})),
    Case("cosine_distance", vectors, ref_cosine_distance, domain="real", wrt=("targets",),
         options=({}, {"epsilon": 1e-3})),
    Case("cosine_embedding", embedding_pairs, ref_cosine_embedding, domain="real", wrt=("x2",),
         options=tuple({"margin": m} for m in MARGINS)),
]
