"""Case rows and plain-formula references for the regression losses (losses/regression.py; the
squared error's row lives in cases_cross_entropy.py).

The references are the frameworks' definitions written piece by piece (PyTorch's smooth L1, Keras's
MAPE and MSLE, TensorFlow Addons' pinball loss), not lossgrad's code. They are complex-safe: each
branch is chosen on the real part and |e| is written sign(Re e)·e, so the complex step
differentiates them wherever the inputs stay off a kink — which every input maker here ensures (see
cases_margin.away_from_kinks); the subgradients at the kinks are pinned in test_regression.py.
"""

from __future__ import annotations

import numpy as np

from tests.losses.cases import Case
from tests.losses.cases_margin import away_from_kinks

#: The options the rows sweep; the input makers keep every sample off the kinks of each of them.
DELTAS = (1.0, 0.5, 2.0)
BETAS = (1.0, 0.5)
#: keras.backend.epsilon(): MAPE rounds it to the input's dtype, MSLE converts it to float32.
KERAS_EPSILON = 1e-7
MSLE_EPSILON = float(np.float32(KERAS_EPSILON))


# ---------------------------------------------------------------------------------------------
# input makers


def real_errors(rng, n):
    """Predictions and targets (n, 3) in N(0, 2²): errors reach past every δ and β above."""
    return rng.normal(scale=2.0, size=(n, 3)), rng.normal(scale=2.0, size=(n, 3))


def percentages(rng, n):
    """Predictions in N(0, 2²) and targets with |y| in [0.5, 3]. MAPE's ε floor (a zero target,
    ℓ = 1e9·|x|) is tested on its own: beside such a value, the summed loss of the gradient checks
    would round away the other entries' differences."""
    magnitude = rng.uniform(0.5, 3.0, size=(n, 3))
    return rng.normal(scale=2.0, size=(n, 3)), rng.choice([-1.0, 1.0], size=(n, 3)) * magnitude


def around_the_floor(rng, n):
    """Predictions and targets in [−1, 4], so MSLE's floor max(·, ε) is active for about one in
    five of each."""
    return rng.uniform(-1.0, 4.0, size=(n, 3)), rng.uniform(-1.0, 4.0, size=(n, 3))


def error(x, y):
    return x - y


def error_and_joins(widths):
    """e and |e| − w for each width w: the kink at 0 and the joins of Huber / smooth L1."""

    def distances(x, y):
        e = x - y
        return np.stack([e, *[np.abs(e) - w for w in widths]], axis=-1)

    return distances


# ---------------------------------------------------------------------------------------------
# references (complex-safe)


def _abs(e):
    return np.sign(np.real(e)) * e


def ref_absolute_error(x, y):
    return _abs(x - y)


def ref_huber(x, y, delta=1.0):
    """½e² where |e| ≤ δ, δ|e| − ½δ² beyond (Keras's and Wikipedia's form)."""
    e = x - y
    return np.where(np.abs(np.real(e)) <= delta, 0.5 * e**2, delta * _abs(e) - 0.5 * delta**2)


def ref_smooth_l1(x, y, beta=1.0):
    """PyTorch's: 0.5·e²/β where |e| < β, |e| − 0.5·β otherwise; |e| for β = 0."""
    e = x - y
    if beta == 0:
        return _abs(e)
    return np.where(np.abs(np.real(e)) < beta, 0.5 * e**2 / beta, _abs(e) - 0.5 * beta)


def ref_log_cosh(x, y, convention="exact"):
    """log cosh e; Keras subtracts float32(log 2) where log 2 belongs."""
    offset = float(np.float32(np.log(2))) - np.log(2) if convention == "keras" else 0.0
    return np.log(np.cosh(x - y)) - offset


def ref_mape(x, y):
    """Keras's: 100·|(y − x) / max(|y|, ε)|."""
    return 100 * _abs((y - x) / np.maximum(np.abs(y), KERAS_EPSILON))


def ref_msle(x, y):
    """Keras's: (log(max(x, ε) + 1) − log(max(y, ε) + 1))² with ε = float32(1e-7)."""
    floored = np.where(np.real(x) < MSLE_EPSILON, MSLE_EPSILON, x)
    return (np.log(floored + 1) - np.log(np.maximum(y, MSLE_EPSILON) + 1)) ** 2


def ref_quantile(x, y, tau=0.5):
    """TensorFlow Addons': max(τ·(y − x), (τ − 1)·(y − x))."""
    d = y - x
    return np.where(np.real(d) >= 0, tau * d, (tau - 1) * d)


# ---------------------------------------------------------------------------------------------
# the rows

CASES: list[Case] = [
    Case("absolute_error", away_from_kinks(real_errors, error), ref_absolute_error,
         domain="real"),
    Case("huber", away_from_kinks(real_errors, error_and_joins(DELTAS)), ref_huber, domain="real",
         options=({}, {"delta": 0.5}, {"delta": 2.0})),
    Case("smooth_l1", away_from_kinks(real_errors, error_and_joins(BETAS)), ref_smooth_l1,
         domain="real", options=({}, {"beta": 0.5}, {"beta": 0.0})),
    Case("log_cosh", real_errors, ref_log_cosh, domain="real",
         options=({}, {"convention": "keras"})),
    Case("mape", away_from_kinks(percentages, error), ref_mape, domain="real"),
    Case("msle", away_from_kinks(around_the_floor, lambda x, y: x - MSLE_EPSILON), ref_msle,
         domain="real"),
    Case("quantile", away_from_kinks(real_errors, error), ref_quantile, domain="real",
         options=({}, {"tau": 0.1}, {"tau": 0.9}, {"tau": 0.0}, {"tau": 1.0})),
]
