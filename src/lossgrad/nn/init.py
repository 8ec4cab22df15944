"""Weight initialisers: Keras's Glorot and He schemes and PyTorch's layer defaults.

Every initialiser is ``fn(shape, rng, dtype=np.float32) -> np.ndarray``: it draws from the NumPy
Generator it is given, so a seeded Generator reproduces a model bit for bit. Shapes are in
PyTorch's layout — (out_features, in_features) for a dense weight, (out_channels,
in_channels/groups, *kernel) for a convolution — and the fans follow from it as in both frameworks
(Keras's (in, out) and (*kernel, in, out) layouts give the same numbers):
fan_in = shape[1]·receptive field, fan_out = shape[0]·receptive field.

The normal schemes are Keras's: a normal truncated at ±2σ and rescaled so the *truncated*
distribution has the scheme's variance. PyTorch's ``xavier_normal_`` and ``kaiming_normal_`` draw
an untruncated normal with the same variance.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..errors import OptionError, ShapeError

#: The standard deviation of a standard normal truncated to [−2, 2]: dividing by it restores the
#: variance the truncation removes. Var = 1 − 2·2·φ(2)/(Φ(2) − Φ(−2)).
_TRUNCATED_STD = math.sqrt(1 - 4 * math.exp(-2) / math.sqrt(2 * math.pi) / math.erf(math.sqrt(2)))


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of this shape in PyTorch's layout.

    >>> fans((6, 1, 5, 5))
    (25, 150)
    """
    shape = tuple(shape)
    if len(shape) < 2:
        raise ShapeError(f"fans: a weight has at least 2 axes (out, in, *kernel), got shape {shape}; "
                         "initialise a bias with zeros or torch_default_bias instead")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _uniform(shape, bound: float, rng: np.random.Generator, dtype) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def _truncated_normal(shape, std: float, rng: np.random.Generator, dtype) -> np.ndarray:
    """N(0, std²) truncated at ±2σ, rescaled so its standard deviation is std (Keras's)."""
    draw = rng.standard_normal(shape)
    outside = np.abs(draw) > 2
    while outside.any():  # redraw only the rejected entries (4.6 % of them each round)
        draw[outside] = rng.standard_normal(np.count_nonzero(outside))
        outside = np.abs(draw) > 2
    return (draw * (std / _TRUNCATED_STD)).astype(dtype)


def glorot_uniform(shape, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """U(−a, a) with a = √(6 / (fan_in + fan_out)) (Keras's default kernel initialiser;
    PyTorch's ``xavier_uniform_``).

    >>> w = glorot_uniform((3, 2), np.random.default_rng(0))
    >>> bool(np.all(np.abs(w) <= np.sqrt(6 / 5))), w.dtype
    (True, dtype('float32'))
    """
    fan_in, fan_out = fans(shape)
    return _uniform(shape, math.sqrt(6 / (fan_in + fan_out)), rng, dtype)


def glorot_normal(shape, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Truncated normal with σ = √(2 / (fan_in + fan_out)) (Keras's ``GlorotNormal``)."""
    fan_in, fan_out = fans(shape)
    return _truncated_normal(shape, math.sqrt(2 / (fan_in + fan_out)), rng, dtype)


def kaiming_uniform(shape, rng: np.random.Generator, a: float = 0.0,
                    dtype=np.float32) -> np.ndarray:
    """U(−b, b) with b = gain·√(3 / fan_in), gain = √(2 / (1 + a²)) (PyTorch's
    ``kaiming_uniform_`` for a leaky ReLU of negative slope a, fan_in mode)."""
    fan_in, _ = fans(shape)
    gain = math.sqrt(2 / (1 + a * a))
    return _uniform(shape, gain * math.sqrt(3 / fan_in), rng, dtype)


def he_uniform(shape, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """U(−b, b) with b = √(6 / fan_in) (Keras's ``HeUniform``; ``kaiming_uniform`` with a = 0)."""
    return kaiming_uniform(shape, rng, 0.0, dtype)


def he_normal(shape, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Truncated normal with σ = √(2 / fan_in) (Keras's ``HeNormal``)."""
    fan_in, _ = fans(shape)
    return _truncated_normal(shape, math.sqrt(2 / fan_in), rng, dtype)


def torch_default(shape, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """PyTorch's default weight of Linear and Conv: ``kaiming_uniform`` with a = √5, which is
    U(±1/√fan_in)."""
    return kaiming_uniform(shape, rng, math.sqrt(5), dtype)


def torch_default_bias(shape, fan_in: int, rng: np.random.Generator,
                       dtype=np.float32) -> np.ndarray:
    """PyTorch's default bias of Linear and Conv: U(±1/√fan_in), fan_in being the weight's
    (0 when fan_in is 0, as PyTorch)."""
    return _uniform(shape, 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0, rng, dtype)


def zeros(shape, rng: np.random.Generator | None = None, dtype=np.float32) -> np.ndarray:
    """All zeros (Keras's default bias); draws nothing from ``rng``."""
    return np.zeros(shape, dtype=dtype)


INITIALISERS: dict[str, Callable] = {fn.__name__: fn for fn in (
    glorot_uniform, glorot_normal, he_uniform, he_normal, kaiming_uniform, torch_default, zeros)}


def get(init) -> Callable:
    """An initialiser from its name (see ``INITIALISERS``) or the callable itself.

    >>> get("he_normal") is he_normal
    True
    """
    if callable(init):
        return init
    if not isinstance(init, str) or init not in INITIALISERS:
        raise OptionError(f"unknown initialiser {init!r}; valid names: {', '.join(INITIALISERS)}, "
                          "or pass a function (shape, rng, dtype) -> array")
    return INITIALISERS[init]
