"""lossgrad against the golden files PyTorch wrote (NumPy and lossgrad only).

Every case × dtype: lossgrad's trajectory (weights after each step, the schedule's rates) or
clipping result equals PyTorch's at tests/optim/golden.TOLERANCE. The index must describe the
cases as they are now and the seeded problem must be the one the numbers came from, or the files
are stale.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.optim import golden, problem
from tests.optim.cases import BY_ID, CASES, DTYPES, params

GOLDEN = golden.Golden()


@pytest.mark.parametrize("case,dtype", params())
def test_lossgrad_equals_golden(case, dtype):
    expected = GOLDEN.result(case.id, dtype)
    assert expected, f"no golden entry for {case.id} [{dtype}]; {golden.REGENERATE}"
    golden.assert_same(problem.run(problem.Lossgrad, case, dtype), expected, dtype,
                       f"{case.id} [{dtype}] lossgrad vs torch {GOLDEN.index['versions']['torch']}")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden_files_describe_the_case(case):
    assert GOLDEN.index["cases"].get(case.id) == case.describe(), \
        f"{case.id} changed; {golden.REGENERATE}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_golden_files_come_from_this_problem(dtype):
    stored = GOLDEN.result("problem", dtype)
    for name, array in golden.problem_arrays(dtype).items():
        np.testing.assert_array_equal(stored[name], array,
                                      err_msg=f"problem {name} changed; {golden.REGENERATE}")


def test_no_golden_entry_without_a_case():
    orphans = set(GOLDEN.index["cases"]) - set(BY_ID)
    stored = {k.split("|")[0] for k in GOLDEN.arrays} - set(BY_ID) - {"problem"}
    assert not orphans | stored, f"golden entries of removed cases {sorted(orphans | stored)}; " \
        + golden.REGENERATE
