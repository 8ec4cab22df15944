"""The benchmark groups, in the order the report shows them.

Each group module defines TITLE; SIZES and RUNS, keyed by mode ("quick", "full");
``inputs(size)`` (the arrays, allocated before any timing); CONTENDERS, key → factory
``(inputs) -> Contender``; and ``run(size, runs, log) -> dict``, the group's whole measurement
(run in its own process by :mod:`benchmarks.child`).
"""

from __future__ import annotations

import importlib
from types import ModuleType

NAMES = ("copy", "ce", "tools", "linear", "lenet")


def load(name: str) -> ModuleType:
    """The module of group ``name`` (one of NAMES)."""
    if name not in NAMES:
        raise ValueError(f"unknown benchmark group {name!r}; the groups are {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")
