"""gradcheck and gradgradcheck can fail: a wrong VJP, a VJP that is right to first order but not
differentiable (it detaches), and non-float64 inputs are each caught with a message that says
where."""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad.autodiff import GradcheckError, Tensor, gradcheck, gradgradcheck, record
from lossgrad.errors import DTypeError


def wrong_square(a: Tensor) -> Tensor:
    """x² with the VJP of x³ (3x² instead of 2x)."""
    return record(a.data**2, (a,), lambda g, out: (g * 3.0 * a * a,))


def detached_exp(a: Tensor) -> Tensor:
    """exp with a first-order-correct VJP that cuts the graph (out.data as a constant)."""
    return record(np.exp(a.data), (a,), lambda g, out: (g * Tensor(out.data),))


def inputs(*shape):
    return [Tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)]


def test_gradcheck_catches_a_wrong_vjp_and_says_where():
    with pytest.raises(GradcheckError, match=r"input 0 of shape \(2, 3\).*index \(0, 0\)"):
        gradcheck(wrong_square, inputs(2, 3))


def test_gradcheck_error_is_an_assertion_error():
    with pytest.raises(AssertionError):
        gradcheck(wrong_square, inputs(3))


def test_gradgradcheck_catches_a_vjp_that_is_not_differentiable():
    assert gradcheck(detached_exp, inputs(4))
    with pytest.raises(GradcheckError):
        gradgradcheck(detached_exp, inputs(4))


def test_a_second_derivative_error_is_caught():
    def cube_with_wrong_curvature(a):
        # first derivative 3x² is right; its VJP says 3x (not 6x)
        def vjp(g, out):
            slope = record(3.0 * a.data**2, (a,), lambda gg, o: (gg * 3.0 * a,))
            return (g * slope,)
        return record(a.data**3, (a,), vjp)

    assert gradcheck(cube_with_wrong_curvature, inputs(3))
    with pytest.raises(GradcheckError):
        gradgradcheck(cube_with_wrong_curvature, inputs(3))


def test_several_outputs_and_unconnected_inputs():
    a, b = inputs(3)[0], Tensor(np.ones(2), requires_grad=True)
    assert gradcheck(lambda x, y: (x * x, x.exp()), [a, b])
    assert gradgradcheck(lambda x, y: (x * x, x.exp()), [a, b])


def test_linear_function_has_zero_second_derivative():
    assert gradgradcheck(lambda x: x * 2.0, inputs(3))


def test_float32_inputs_are_refused():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(DTypeError, match="float64"):
        gradcheck(lambda t: t * t, [x])


def test_inputs_are_restored_bit_for_bit():
    (x,) = inputs(5)
    before = x.data.copy()
    gradcheck(lambda t: t.tanh(), [x])
    assert x.data.tobytes() == before.tobytes()
