"""Checks of optimizer, schedule and clipping options (each returns the value as stored)."""

from __future__ import annotations

import numbers

from ..errors import OptionError
from ..losses.core import check_range


def nonnegative(name: str, value) -> float:
    """A finite real ≥ 0 (learning rates, eps, weight decay, momentum), as a Python float."""
    check_range(name, value, low=0)
    return float(value)


def finite(name: str, value) -> float:
    """Any finite real (dampening may be negative in PyTorch)."""
    check_range(name, value)
    return float(value)


def unit(name: str, value) -> float:
    """A real in [0, 1]."""
    check_range(name, value, low=0, high=1)
    return float(value)


def positive_unit(name: str, value) -> float:
    """A real in (0, 1] (a factor of 0 could never be scaled back up)."""
    check_range(name, value, low=0, low_open=True, high=1)
    return float(value)


def below_one(name: str, value) -> float:
    """A real in [0, 1): a decay rate of 1 never forgets, and its bias correction divides by 0."""
    check_range(name, value, low=0, high=1)
    if value == 1:
        raise OptionError(f"{name} must be ≥ 0 and < 1, got {value!r}")
    return float(value)


def betas(name: str, value) -> tuple[float, float]:
    """A pair (β₁, β₂), each in [0, 1)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise OptionError(f"{name} must be a pair (beta1, beta2) each in [0, 1), got {value!r}")
    return tuple(below_one(f"{name}[{i}]", b) for i, b in enumerate(value))


def flag(name: str, value) -> bool:
    """True or False, nothing else (a 0/1 or a string is a mistake, not a switch)."""
    if not isinstance(value, bool):
        raise OptionError(f"{name} must be True or False, got {value!r}")
    return value


def count(name: str, value, low: int = 1) -> int:
    """An integer ≥ low (step sizes, periods)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise OptionError(f"{name} must be an integer ≥ {low}, got {value!r}")
    return int(value)
