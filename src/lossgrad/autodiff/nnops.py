"""Neural-network primitives: activations, the softmax family and dropout, each with its VJP.

The forward passes reuse :mod:`lossgrad.numerics` (the max-shifted softmax, the overflow-free
sigmoid); the VJPs are written with Tensor ops (see :mod:`.ops`), so they can be differentiated
again. relu′(0) = 0, as in PyTorch.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .. import numerics
from ..errors import OptionError
from .ops import erf, exp, mul, tanh, tensor
from .tensor import Tensor, record

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TANH_SCALE = math.sqrt(2 / math.pi)  # the tanh approximation: tanh(√(2/π)·(x + 0.044715x³))
_TANH_CUBIC = 0.044715


def relu(a) -> Tensor:
    """max(a, 0); the gradient is 1 where a > 0 and 0 elsewhere, at 0 included (PyTorch).

    >>> print(relu(Tensor([-1.0, 0.0, 2.0])).numpy())
    [0. 0. 2.]
    """
    a = tensor(a)
    return record(np.maximum(a.data, 0), (a,), lambda g, out: (g * (a.data > 0),))


def sigmoid(a) -> Tensor:
    """1 / (1 + e^−a) without overflow (scipy's expit); ∂ = g·σ(1 − σ).

    >>> print(sigmoid(Tensor([-800.0, 0.0, 800.0])).numpy())
    [0.  0.5 1. ]
    """
    a = tensor(a)
    return record(special.expit(a.data), (a,), lambda g, out: (g * out * (1 - out),))


def gelu(a, approximate: str = "none") -> Tensor:
    """x·Φ(x), Φ the standard normal CDF, as ``torch.nn.functional.gelu``.

    approximate="none": Φ(x) = ½(1 + erf(x/√2)), ∂ = Φ(x) + x·φ(x).
    approximate="tanh": ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³),
        ∂ = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²).

    >>> print(gelu(Tensor([-1.0, 0.0, 1.0])).numpy().round(4))
    [-0.1587  0.      0.8413]
    """
    if approximate not in ("none", "tanh"):
        raise OptionError(f"gelu: approximate={approximate!r} is not valid; choose 'none' or "
                          "'tanh'")
    a = tensor(a)
    x = a.data
    if approximate == "none":
        data = x * (0.5 * (1 + special.erf(x * _SQRT_HALF)))
        return record(data, (a,), lambda g, out: (g * _gelu_slope(a),))
    data = 0.5 * x * (1 + np.tanh(_TANH_SCALE * (x + _TANH_CUBIC * x * x * x)))
    return record(data, (a,), lambda g, out: (g * _gelu_tanh_slope(a),))


def _gelu_slope(a: Tensor) -> Tensor:
    return 0.5 * (1 + erf(a * _SQRT_HALF)) + a * exp(-0.5 * a * a) * _INV_SQRT_2PI


def _gelu_tanh_slope(a: Tensor) -> Tensor:
    t = tanh(_TANH_SCALE * (a + _TANH_CUBIC * a * a * a))
    return 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * (_TANH_SCALE * (1 + 3 * _TANH_CUBIC * a * a))


def softmax(a, axis: int = -1) -> Tensor:
    """e^(a − m) / Σ e^(a − m) along ``axis`` (m the maximum); ∂ = p ⊙ (g − Σ g·p).

    >>> print(softmax(Tensor([2.0, 1.0, 0.1])).numpy().round(4))
    [0.659  0.2424 0.0986]
    """
    a = tensor(a)
    return record(numerics.softmax(a.data, axis=axis), (a,),
                  lambda g, out: (out * (g - (g * out).sum(axis=axis, keepdims=True)),))


def log_softmax(a, axis: int = -1) -> Tensor:
    """a − logsumexp(a) along ``axis``, exact where the softmax underflows;
    ∂ = g − softmax(a)·Σ g.

    >>> print(log_softmax(Tensor([2.0, 1.0, 0.1])).numpy().round(4))
    [-0.417 -1.417 -2.317]
    >>> print(log_softmax(Tensor([0.0, -1e4])).numpy()[1])   # softmax underflows to 0 there
    -10000.0
    """
    a = tensor(a)
    return record(numerics.log_softmax(a.data, axis=axis), (a,),
                  lambda g, out: (g - exp(out) * g.sum(axis=axis, keepdims=True),))


def logsumexp(a, axis: int = -1, keepdims: bool = False) -> Tensor:
    """log Σ e^a along ``axis`` (max-shifted); ∂ = g·softmax(a).

    >>> print(logsumexp(Tensor(np.array([1000.0, 1000.0]))).numpy().round(4))
    1000.6931
    """
    a = tensor(a)

    def vjp(g, out):
        if not keepdims:
            g, out = g.unsqueeze(axis), out.unsqueeze(axis)
        return (g * exp(a - out),)

    return record(numerics.logsumexp(a.data, axis=axis, keepdims=keepdims), (a,), vjp)


def dropout(a, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None):
    """Inverted dropout: each entry kept with probability 1 − p and scaled by 1/(1 − p), so the
    expectation is unchanged and evaluation (training=False) is the identity.

    rng: the NumPy Generator the mask is drawn from (a fresh unseeded one when None); pass a
        seeded one to reproduce a run. p = 1 drops everything (zeros, as PyTorch).

    >>> x = Tensor(np.ones(6))
    >>> print(dropout(x, 0.5, rng=np.random.default_rng(0)).numpy())
    [2. 0. 0. 0. 2. 2.]
    """
    if isinstance(p, bool) or not 0 <= p <= 1:
        raise OptionError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    a = tensor(a)
    if not training or p == 0:
        return a
    rng = np.random.default_rng() if rng is None else rng
    scale = 0.0 if p == 1 else 1 / (1 - p)
    mask = ((rng.random(a.shape) >= p) * scale).astype(a.dtype)
    return mul(a, mask)


def install(cls) -> None:
    """Give Tensor the methods of this module (``x.relu()``, ``x.softmax(axis)``, …)."""
    for fn in (relu, sigmoid, gelu, softmax, log_softmax, logsumexp):
        setattr(cls, fn.__name__, fn)
