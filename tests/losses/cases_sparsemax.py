"""Case rows and references for the sparsemax losses (losses/sparsemax.py).

The reference projection is Michelot's algorithm — drop the scores below the running threshold until
none is left to drop — not the sort lossgrad uses, and the multiclass reference is Martins &
Astudillo's closed form −z_y + ½Σ_{j∈S}(z_j² − τ²) + ½, not lossgrad's Σ p_j(z_j − z_y) form. The
support is decided on the real parts, so for a fixed support both references are polynomials of the
scores: complex-safe. The losses are continuously differentiable, but their second derivatives jump
where a score crosses τ (multiclass) or s·x crosses ±1 (binary); the input makers keep samples off
those points so the central differences see one polynomial piece.
"""

from __future__ import annotations

import numpy as np

from tests.losses.cases import Case
from tests.losses.cases_margin import away_from_kinks


def michelot(z):
    """(τ, support mask) of each row of z (last axis) for the projection onto the simplex."""
    rows = np.real(z).reshape(-1, z.shape[-1])
    flat = np.reshape(z, (-1, z.shape[-1]))
    taus = np.zeros(len(rows), dtype=flat.dtype)
    support = np.ones(rows.shape, dtype=bool)
    for i, row in enumerate(rows):
        while True:
            tau = (np.sum(flat[i][support[i]]) - 1) / np.count_nonzero(support[i])
            keep = support[i] & (row > np.real(tau))
            if np.array_equal(keep, support[i]):
                break
            support[i] = keep
        taus[i] = tau
    return taus.reshape(z.shape[:-1]), support.reshape(z.shape)


def ref_sparsemax(z):
    tau, support = michelot(z)
    return np.where(support, z - tau[..., None], 0)


def ref_multiclass_sparsemax(z, labels):
    tau, support = michelot(z)
    true = np.take_along_axis(z, labels[..., None], axis=-1)[..., 0]
    squares = np.sum(np.where(support, z**2 - tau[..., None] ** 2, 0), axis=-1)
    return -true + 0.5 * squares + 0.5


def ref_binary_sparsemax(x, y):
    """optax's sparse_plus(z) at z = −x for y = 1, z = x for y = 0 (the piecewise definition)."""
    z = np.where(y == 1, -x, x)
    return np.where(np.real(z) <= -1, 0, np.where(np.real(z) >= 1, z, (z + 1) ** 2 / 4))


# ---------------------------------------------------------------------------------------------
# input makers


def scores_and_labels(extra=()):
    """Scores (n, *extra, 4) in N(0, 1) — supports of one to four classes — and labels."""

    def draw(rng, n):
        return rng.normal(size=(n, *extra, 4)), rng.integers(0, 4, size=(n, *extra))

    return away_from_kinks(draw, lambda z, labels: z - michelot(z)[0][..., None])


def logits_and_bits(rng, n):
    return rng.normal(scale=2.0, size=(n, 3)), rng.integers(0, 2, size=(n, 3)).astype(float)


def joins(x, y):
    z = np.where(y == 1, -x, x)
    return np.stack([z - 1, z + 1], axis=-1)


CASES: list[Case] = [
    Case("multiclass_sparsemax", scores_and_labels(), ref_multiclass_sparsemax, labels=True),
    Case("multiclass_sparsemax", scores_and_labels((2,)), ref_multiclass_sparsemax, labels=True,
         tag="spatial"),
    Case("binary_sparsemax", away_from_kinks(logits_and_bits, joins), ref_binary_sparsemax),
]
