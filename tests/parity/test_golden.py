"""lossgrad against the golden files the real frameworks wrote (NumPy and lossgrad only).

Every (spec, call, dtype) must have its golden entry, and lossgrad's value and gradients (one per
input of the spec's ``wrt``) must equal the framework's at tests/tolerances.FRAMEWORK. The index
must describe the specs as they are now, the stored gradients must be those of ``wrt`` and the
stored inputs must be the ones the specs draw, or the files are stale.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.parity import golden
from tests.parity.spec import check_same
from tests.parity.specs import BY_ID, SPECS, params

GOLDEN = golden.Golden()


@pytest.mark.parametrize("spec,call,dtype", params(known_failures=True))
def test_lossgrad_equals_golden(spec, call, dtype):
    try:
        value, grads = GOLDEN.result(spec.id, dtype, call, spec.wrt)
    except KeyError:
        pytest.fail(f"no golden entry for {spec.id} [{dtype}] {call}; {golden.REGENERATE}")
    result = spec.run_lossgrad(GOLDEN.inputs(spec.id, dtype))
    check_same(result.value, spec.lossgrad_grads(result), value, grads, dtype,
               f"{spec.id} [{dtype}] lossgrad vs {spec.call(call).description}")


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_golden_files_describe_the_spec(spec):
    recorded = GOLDEN.index["specs"].get(spec.id)
    assert recorded == golden.describe(spec), f"{spec.id} changed; {golden.REGENERATE}"
    for dtype in spec.dtypes:
        for call in spec.calls:
            held = GOLDEN.gradients_stored(spec.id, dtype, call.name)
            assert not held or held == set(spec.wrt), \
                f"{spec.id} [{dtype}] {call.name}: gradients of {sorted(held)} stored, wrt is " \
                f"{list(spec.wrt)}; {golden.REGENERATE}"
        stored, drawn = GOLDEN.inputs(spec.id, dtype), spec.make_inputs(dtype)
        assert stored.keys() == drawn.keys(), f"{spec.id}: inputs changed; {golden.REGENERATE}"
        for name, array in drawn.items():
            assert stored[name].dtype == array.dtype, f"{spec.id} {name}; {golden.REGENERATE}"
            np.testing.assert_array_equal(stored[name], array,
                                          err_msg=f"{spec.id} {name}; {golden.REGENERATE}")


def test_no_golden_entry_without_a_spec():
    orphans = set(GOLDEN.index["specs"]) - set(BY_ID)
    assert not orphans, f"golden entries of removed specs {sorted(orphans)}; {golden.REGENERATE}"
