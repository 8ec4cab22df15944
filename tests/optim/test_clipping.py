"""Gradient clipping beyond the golden cases: the returned norm is the norm of all gradients as
one vector, clipping keeps the direction and lands at max_norm, small gradients are untouched,
and the inputs and options it refuses."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossgrad.errors import DomainError, OptionError
from lossgrad.optim import clip_grad_norm_, clip_grad_value_
from lossgrad.optim.clipping import NORM_EPS
from tests.optim.problem import Param, clip_grads

NORMS = (1.0, 2.0, 3.0, math.inf)


def with_grads(grads) -> list[Param]:
    return [Param(np.zeros(g.shape, g.dtype), g.copy()) for g in grads]


def flat(ps) -> np.ndarray:
    return np.concatenate([p.grad.ravel() for p in ps if p.grad is not None])


_arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
                     elements=st.floats(-1e3, 1e3))


@given(st.lists(_arrays, min_size=1, max_size=3), st.sampled_from(NORMS),
       st.floats(1e-3, 1e3))
def test_clip_grad_norm_is_the_norm_of_one_vector_and_keeps_the_direction(grads, p, max_norm):
    ps = with_grads(grads)
    before = flat(ps)
    total = clip_grad_norm_(ps, max_norm, norm_type=p)
    norm = np.linalg.norm(before, p) if before.size else 0.0
    np.testing.assert_allclose(total, norm, rtol=1e-12)
    scale = min(max_norm / (norm + NORM_EPS), 1.0)
    np.testing.assert_allclose(flat(ps), before * scale, rtol=1e-15, atol=0)
    assert np.linalg.norm(flat(ps), p) <= max_norm * (1 + 1e-12) if before.size else True


@pytest.mark.parametrize("p", NORMS)
def test_clipped_gradients_land_just_under_max_norm(p):
    ps = with_grads(clip_grads("float64", with_inf=False))
    total = clip_grad_norm_(ps, 0.5, norm_type=p)
    assert total > 0.5
    np.testing.assert_allclose(np.linalg.norm(flat(ps), p), 0.5 * total / (total + NORM_EPS),
                               rtol=1e-14)


def test_gradients_under_max_norm_are_untouched_bit_for_bit():
    grads = clip_grads("float64", with_inf=False)
    ps = with_grads(grads)
    total = clip_grad_norm_(ps, 1e4)
    assert total < 1e4
    for p, g in zip(ps, grads):
        np.testing.assert_array_equal(p.grad, g)


def test_float32_stays_float32_and_the_norm_has_its_dtype():
    ps = with_grads(clip_grads("float32", with_inf=False))
    total = clip_grad_norm_(ps, 1.0)
    assert total.dtype == np.float32 and all(p.grad.dtype == np.float32 for p in ps)


def test_parameters_without_gradient_are_skipped_and_a_lone_parameter_works():
    ps = with_grads(clip_grads("float64", with_inf=False)) + [Param(np.zeros(3))]
    norm = np.linalg.norm(flat(ps))
    np.testing.assert_allclose(clip_grad_norm_(ps, 1.0), norm, rtol=1e-14)
    lone = Param(np.zeros(2), np.array([3.0, 4.0]))
    assert clip_grad_norm_(lone, 10.0) == 5.0
    assert clip_grad_norm_([], 1.0) == 0.0 and clip_grad_norm_([Param(np.zeros(1))], 1.0) == 0.0


def test_a_non_finite_norm_can_be_refused():
    ps = with_grads(clip_grads("float64", with_inf=True))
    before = [p.grad.copy() for p in ps]
    with pytest.raises(DomainError, match="total 2.0-norm of the gradients is inf"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    for p, g in zip(ps, before):
        np.testing.assert_array_equal(p.grad, g)


@pytest.mark.parametrize("options,match", [
    ({"max_norm": -1.0}, "max_norm must be ≥ 0"), ({"max_norm": math.nan}, "max_norm must be ≥ 0"),
    ({"max_norm": 1.0, "norm_type": 0}, "norm_type must be a real > 0, math.inf or 'inf', got 0"),
    ({"max_norm": 1.0, "norm_type": -2.0}, "norm_type must be a real > 0"),
    ({"max_norm": 1.0, "norm_type": "two"}, "got 'two'"),
    ({"max_norm": 1.0, "norm_type": True}, "got True"),
    ({"max_norm": 1.0, "error_if_nonfinite": 1}, "error_if_nonfinite must be True or False"),
])
def test_invalid_clip_grad_norm_options_are_refused(options, match):
    with pytest.raises(OptionError, match=match):
        clip_grad_norm_(with_grads([np.ones(3)]), **options)


def test_clip_grad_value_clamps_every_entry_and_keeps_nan():
    grads = clip_grads("float64", with_inf=True)
    grads[0][0, 0] = np.nan
    ps = with_grads(grads) + [Param(np.zeros(2))]
    clip_grad_value_(ps, 0.5)
    for p, g in zip(ps, grads):
        clamped = np.where(np.isnan(g), g, np.minimum(np.maximum(g, -0.5), 0.5))
        np.testing.assert_array_equal(p.grad, clamped)
    assert ps[-1].grad is None


def test_clip_grad_value_refuses_a_negative_bound():
    with pytest.raises(OptionError, match="clip_value must be ≥ 0"):
        clip_grad_value_(with_grads([np.ones(3)]), -1.0)
