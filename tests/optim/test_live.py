"""The optimizer cases against the installed PyTorch (marker ``live``).

Two checks per case and dtype: lossgrad equals torch.optim / torch.nn.utils now, and the committed
golden entry still equals what PyTorch computes now, so the golden file cannot drift. Also: every
option lossgrad refuses that PyTorch refuses too is refused by PyTorch (so the refusals claimed to
be PyTorch's are). torch failing to import fails every test here.
"""

from __future__ import annotations

import functools

import pytest

from tests.optim import golden, problem, reference
from tests.optim.cases import BY_ID, INVALID_OPTIONS, params

GOLDEN = golden.Golden()

pytestmark = pytest.mark.live


@functools.cache
def torch_result(case_id: str, dtype: str):
    """Each case runs once per session, shared by both checks."""
    return problem.run(reference.Torch(), BY_ID[case_id], dtype)


@pytest.mark.parametrize("case,dtype", params())
def test_lossgrad_equals_torch(case, dtype):
    golden.assert_same(problem.run(problem.Lossgrad, case, dtype), torch_result(case.id, dtype), dtype,
                       f"{case.id} [{dtype}] lossgrad vs torch {reference.versions()['torch']}")


@pytest.mark.parametrize("case,dtype", params())
def test_golden_equals_torch(case, dtype):
    golden.assert_same(GOLDEN.result(case.id, dtype), torch_result(case.id, dtype), dtype,
                       f"{case.id} [{dtype}] golden file vs torch now; {golden.REGENERATE}")


@pytest.mark.parametrize("name,options,match", [row[:3] for row in INVALID_OPTIONS if row[3]],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_torch_refuses_it_too(name, options, match):
    fw = reference.Torch()
    with pytest.raises(ValueError):
        fw.optimizer(name, [fw.parameter(w) for w in problem.initial_weights("float64")], options)
