"""THE PARITY TABLE: every spec of every family, and the (spec, call, dtype) cases the suites run.

Each family's specs live in ``specs_<family>.py`` beside this module (one import line each); see
:mod:`tests.parity.spec` for what a spec is.
"""

from __future__ import annotations

import pytest

from tests.parity import (
    specs_binary,
    specs_compat,
    specs_cross_entropy,
    specs_divergence,
    specs_focal,
    specs_margin,
    specs_probabilities,
    specs_ranking,
    specs_regression,
    specs_segmentation,
    specs_sequence,
    specs_sparsemax,
)
from tests.parity.spec import Spec, with_known_failures

#: Open disagreements, lossgrad's to fix: spec id → {call name, or (call name, dtype) when one
#: dtype disagrees: the exact description}. Each is a strict xfail of the lossgrad comparison, so
#: the fix turns it into a failure until its entry is removed here.
KNOWN_FAILURES: dict[str, dict] = {}

SPECS: list[Spec] = with_known_failures([
    *specs_cross_entropy.SPECS,
    *specs_probabilities.SPECS,
    *specs_binary.SPECS,
    *specs_margin.SPECS,
    *specs_focal.SPECS,
    *specs_regression.SPECS,
    *specs_sparsemax.SPECS,
    *specs_sequence.SPECS,
    *specs_divergence.SPECS,
    *specs_ranking.SPECS,
    *specs_segmentation.SPECS,
    *specs_compat.SPECS,
], KNOWN_FAILURES)

BY_ID: dict[str, Spec] = {s.id: s for s in SPECS}
if len(BY_ID) != len(SPECS):
    raise ValueError("parity spec ids repeat")


def cases():
    """(spec, call name, dtype) for every call of every spec in each of its dtypes."""
    return [(s, c.name, d) for s in SPECS for d in s.dtypes for c in s.calls]


def case_id(spec: Spec, call: str, dtype: str) -> str:
    return f"{spec.id}[{dtype}]{call}"


def params(*, known_failures: bool):
    """``cases()`` as pytest params; with ``known_failures``, a spec's xfail is a strict xfail."""
    out = []
    for spec, call, dtype in cases():
        reason = spec.known_failure(call, dtype) if known_failures else None
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(spec, call, dtype, marks=marks, id=case_id(spec, call, dtype)))
    return out
