"""The engine itself (tensor.py): accumulation over shared subgraphs, depth, determinism, recording
modes, broadcasting undone, dtypes, gradients of gradients, and its errors.

Expected gradients are the derivatives written out by hand from the function under test (d(x²)/dx
= 2x, …), or central differences; no number is copied from the engine's own output.
"""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad.autodiff import Tensor, enable_grad, grad, is_grad_enabled, no_grad, unbroadcast
from lossgrad.errors import DTypeError, ShapeError
from tests import tolerances as tol
from tests.gradcheck import central_differences

RNG = np.random.default_rng(20)


def leaf(*shape, dtype=np.float64):
    return Tensor(RNG.standard_normal(shape).astype(dtype), requires_grad=True)


def test_diamond_graph_accumulates_both_paths():
    x = leaf(3)
    a, b = x * 2.0, x * x  # x feeds two branches that meet again
    (a * b).sum().backward()  # f = 2x³, f′ = 6x²
    np.testing.assert_allclose(x.grad, 6 * x.data**2, rtol=1e-15)


def test_same_tensor_used_twice_in_one_op():
    x = leaf(4)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data)


def test_long_chain_backpropagates_without_recursion():
    x = Tensor(np.float64(1.0), requires_grad=True)
    y = x
    for _ in range(100_000):  # far beyond Python's recursion limit
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0
    del y  # freeing the chain must not overflow the C stack either


def test_order_is_deterministic_bit_for_bit():
    def run():
        x = Tensor(np.random.default_rng(0).standard_normal((50, 40)).astype(np.float32),
                   requires_grad=True)
        w = Tensor(np.random.default_rng(1).standard_normal((40, 30)).astype(np.float32),
                   requires_grad=True)
        h = (x @ w).tanh()
        loss = (h * h).sum() + (h @ w.T).exp().mean() + x.sum() * h.max()
        loss.backward()
        return x.grad, w.grad

    (gx1, gw1), (gx2, gw2) = run(), run()
    assert gx1.tobytes() == gx2.tobytes() and gw1.tobytes() == gw2.tobytes()


def test_no_grad_records_nothing_and_enable_grad_restores():
    w = leaf(3)
    with no_grad():
        assert not is_grad_enabled()
        y = w * 2.0
        with enable_grad():
            z = w * 2.0
    assert is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y._parents == ()
    assert z.requires_grad and not z.is_leaf


def test_ops_on_constants_are_not_recorded():
    y = Tensor([1.0, 2.0]) * 3.0
    assert not y.requires_grad and y.is_leaf


def test_backward_twice_accumulates_into_grad():
    x = leaf(3)
    y = (x * x).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad, 4 * x.data)


def test_backward_with_a_gradient_for_a_non_scalar():
    x = leaf(2, 3)
    u = RNG.standard_normal((2, 3))
    (x * x).backward(u)
    np.testing.assert_array_equal(x.grad, 2 * x.data * u)


def test_grad_of_an_intermediate_and_unused_inputs():
    x, unused = leaf(3), leaf(3)
    h = x * x
    (dh,) = grad([h.sum() * 3.0], [h])
    np.testing.assert_array_equal(dh.data, np.full(3, 3.0))
    assert grad([h.sum()], [x, unused], allow_unused=True)[1] is None
    with pytest.raises(ShapeError, match="allow_unused"):
        grad([h.sum()], [unused])
    assert x.grad is None  # grad() does not touch .grad


@pytest.mark.parametrize("shape_a, shape_b", [((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((), (2, 3)),
                                              ((2, 1, 3), (5, 3))])
def test_broadcasting_is_undone(shape_a, shape_b):
    a, b = leaf(*shape_a), leaf(*shape_b)
    (a * b).sum().backward()
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    rtol, atol = tol.CENTRAL
    np.testing.assert_allclose(a.grad, central_differences(
        lambda v: np.sum(v * b.data), a.data.copy()), rtol=rtol, atol=atol)
    np.testing.assert_allclose(b.grad, central_differences(
        lambda v: np.sum(a.data * v), b.data.copy()), rtol=rtol, atol=atol)


def test_unbroadcast_sums_leading_and_length_one_axes():
    g = Tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)).data,
                                  np.arange(24.0).reshape(2, 3, 4).sum(axis=(0, 2))[:, None])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_dtype_is_preserved_forward_and_backward(dtype):
    x = leaf(2, 3, dtype=dtype)
    y = ((x * 2.0 + 1.0) / 3.0).exp().log().softmax().sum()
    assert y.dtype == dtype
    y.backward()
    assert x.grad.dtype == dtype


def test_python_floats_become_float32_and_arrays_keep_their_dtype():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.array([1.0])).dtype == np.float64
    assert Tensor([1, 2]).dtype == np.int64
    assert (Tensor(np.float32([1.0])) * 2.5).dtype == np.float32


def test_double_backward_by_create_graph():
    x = leaf(3)
    (dx,) = grad([(x**3).sum()], [x], create_graph=True)
    (ddx,) = grad([dx.sum()], [x])
    np.testing.assert_allclose(dx.data, 3 * x.data**2, rtol=1e-15)
    np.testing.assert_allclose(ddx.data, 6 * x.data, rtol=1e-15)


def test_backward_pass_without_create_graph_is_not_recorded():
    x = leaf(3)
    (dx,) = grad([(x**3).sum()], [x])
    assert not dx.requires_grad


def test_gradient_of_a_composite_matches_central_differences():
    x0 = RNG.standard_normal((3, 4))

    def f(x):
        t = Tensor(x, requires_grad=True)
        return t, ((t @ t.T).tanh() * t[:, :3]).mean() + t.max(axis=1).sum()

    t, y = f(x0)
    y.backward()
    numeric = central_differences(lambda x: f(x)[1].item(), x0)
    np.testing.assert_allclose(t.grad, numeric, rtol=tol.CENTRAL[0], atol=tol.CENTRAL[1])


def test_errors():
    with pytest.raises(ShapeError, match=r"shape \(3,\).*gradient"):
        (leaf(3) * 2.0).backward()
    with pytest.raises(DTypeError, match="int64"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(DTypeError, match="int32"):
        Tensor(np.array([1], dtype=np.int32)).requires_grad_()
    with pytest.raises(ShapeError, match="does not require a gradient"):
        Tensor([1.0]).sum().backward()
    with pytest.raises(ShapeError, match=r"\(2,\) does not match"):
        (leaf(3) * 2.0).backward(np.ones(2))
    with pytest.raises(ShapeError, match="single value"):
        leaf(2).item()
    with pytest.raises(DTypeError):
        Tensor(["a"])


def test_python_protocols():
    t = Tensor([1.0, 2.0, 3.0])
    assert [float(v) for v in t] == [1.0, 2.0, 3.0]
    assert len(t) == 3 and bool(Tensor([1.0])) and not bool(Tensor(0.0))
    with pytest.raises(ValueError):
        bool(t)
    with pytest.raises(TypeError, match="0-d"):
        iter(Tensor(1.0))
    assert {t: 1}[t] == 1  # hashable by identity although == is elementwise
    np.testing.assert_array_equal(np.asarray(t), t.data)
    assert "requires_grad=True" in repr(leaf(2))
    d = leaf(2).detach()
    assert not d.requires_grad
