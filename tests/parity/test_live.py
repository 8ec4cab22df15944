"""The parity specs against the installed TensorFlow, Keras, PyTorch and optax (marker ``live``).

The default run deselects these (``-m 'not live'``); CI runs ``python -m pytest -m live``. Two
checks per (spec, call, dtype), each on the value and every gradient of the spec's ``wrt``:
lossgrad equals the framework now, and the committed golden entry still equals what the framework
computes now, so a golden file cannot drift from its framework. A
framework that cannot be imported makes every test here error: the CI installs them, so parity
must never be skipped silently.
"""

from __future__ import annotations

import functools

import pytest

from tests.parity import frameworks, golden
from tests.parity.spec import check_same
from tests.parity.specs import BY_ID, params

pytestmark = pytest.mark.live

GOLDEN = golden.Golden()


@pytest.fixture(scope="session")
def installed():
    """The frameworks, imported once per session (an ImportError here fails every test)."""
    return frameworks.load()


@functools.cache
def framework_result(spec_id: str, call: str, dtype: str):
    """Each framework call runs once per session, shared by both checks."""
    spec = BY_ID[spec_id]
    return frameworks.run(spec.call(call), spec.make_inputs(dtype), dtype, spec.wrt)


@pytest.mark.parametrize("spec,call,dtype", params(known_failures=True))
def test_lossgrad_equals_framework(installed, spec, call, dtype):
    value, grads = framework_result(spec.id, call, dtype)
    result = spec.run_lossgrad(spec.make_inputs(dtype))
    check_same(result.value, spec.lossgrad_grads(result), value, grads, dtype,
               f"{spec.id} [{dtype}] lossgrad vs {spec.call(call).description}")


@pytest.mark.parametrize("spec,call,dtype", params(known_failures=False))
def test_golden_equals_framework(installed, spec, call, dtype):
    # At the framework tolerance, not bit for bit: another CPU or thread count may change the last
    # bits of a framework's result; a changed formula or convention moves it far more.
    try:
        stored = GOLDEN.result(spec.id, dtype, call, spec.wrt)
    except KeyError:
        pytest.fail(f"no golden entry for {spec.id} [{dtype}] {call}; {golden.REGENERATE}")
    value, grads = framework_result(spec.id, call, dtype)
    check_same(*stored, value, grads, dtype,
               f"{spec.id} [{dtype}] golden file vs {spec.call(call).description} now; "
               + golden.REGENERATE)
