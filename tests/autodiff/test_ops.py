"""Every primitive op: its value against a NumPy/SciPy reference, gradcheck and gradgradcheck in
float64 (random shapes with broadcasting, 0-d and empty inputs), the subgradient chosen at each
kink pinned exactly, and the op-specific rules (comparisons off the graph, repeated indices add,
dtypes). The live test compares values and gradients, kinks included, with PyTorch.

Inputs for the central differences stay at least 0.1 away from every kink and tie, so the checks
compare smooth pieces; the kinks have their own tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest
from scipy import special

import lossgrad.autodiff as ad
from lossgrad import numerics
from lossgrad.autodiff import Tensor, gradcheck, gradgradcheck
from lossgrad.errors import OptionError
from tests import tolerances as tol

RTOL, ATOL = tol.CENTRAL


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def positive(*shape, seed=0):
    return np.abs(normal(*shape, seed=seed)) + 0.5


def away_from_zero(*shape, seed=0):
    """Entries with |x| ≥ 0.1 (central differences never straddle the kink at 0)."""
    x = normal(*shape, seed=seed)
    return np.where(np.abs(x) < 0.1, np.sign(x + 1e-300) * 0.1 + x, x)


def distinct(*shape, seed=0):
    """Entries at least 0.1 apart (no ties for max/min within eps)."""
    values = np.arange(int(np.prod(shape)), dtype=np.float64) * 0.37 - 1.1
    return np.random.default_rng(seed).permutation(values).reshape(shape)


@dataclass
class Case:
    id: str
    fn: Callable  # Tensors → Tensor
    reference: Callable  # arrays → array
    inputs: list = field(default_factory=list)  # float64 arrays, each a checked input


CASES = [
    # arithmetic, broadcasting, 0-d and empty
    Case("add-broadcast", lambda a, b: a + b, np.add, [normal(3, 1), normal(1, 4, seed=1)]),
    Case("add-0d", lambda a, b: a + b, np.add, [normal(), normal(2, 3)]),
    Case("add-empty", lambda a, b: a + b, np.add, [normal(0, 3), normal(3)]),
    Case("sub", lambda a, b: a - b, np.subtract, [normal(2, 3), normal(3, seed=1)]),
    Case("rsub-scalar", lambda a: 1.5 - a, lambda a: 1.5 - a, [normal(4)]),
    Case("mul-broadcast", lambda a, b: a * b, np.multiply, [normal(3, 1), normal(1, 4, seed=1)]),
    Case("mul-ndarray-left", lambda a: np.full(3, 2.0) * a, lambda a: 2.0 * a, [normal(2, 3)]),
    Case("div", lambda a, b: a / b, np.divide, [normal(2, 3), positive(3, seed=1)]),
    Case("rdiv-scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, [positive(4)]),
    Case("neg", lambda a: -a, np.negative, [normal(2, 2)]),
    Case("pow-tensors", lambda a, b: a**b, np.power, [positive(2, 3), normal(3, seed=1)]),
    Case("pow-int", lambda a: a**3, lambda a: a**3, [normal(4)]),
    Case("pow-half", lambda a: a**0.5, np.sqrt, [positive(4)]),
    Case("rpow", lambda a: 2.0**a, lambda a: 2.0**a, [normal(4)]),
    Case("abs", abs, np.abs, [away_from_zero(2, 3)]),
    # matmul in every layout np.matmul takes
    Case("matmul", lambda a, b: a @ b, np.matmul, [normal(3, 4), normal(4, 5, seed=1)]),
    Case("matmul-batched", lambda a, b: a @ b, np.matmul, [normal(2, 3, 4), normal(4, 5, seed=1)]),
    Case("matmul-batch-broadcast", lambda a, b: a @ b, np.matmul,
         [normal(2, 1, 3, 4), normal(5, 4, 2, seed=1)]),
    Case("matmul-vv", lambda a, b: a @ b, np.matmul, [normal(4), normal(4, seed=1)]),
    Case("matmul-vm", lambda a, b: a @ b, np.matmul, [normal(4), normal(2, 4, 5, seed=1)]),
    Case("matmul-mv", lambda a, b: a @ b, np.matmul, [normal(2, 3, 4), normal(4, seed=1)]),
    Case("matmul-empty", lambda a, b: a @ b, np.matmul, [normal(0, 3), normal(3, 2, seed=1)]),
    # elementwise functions
    Case("exp", ad.exp, np.exp, [normal(2, 3)]),
    Case("exp-0d", ad.exp, np.exp, [normal()]),
    Case("tanh-empty", ad.tanh, np.tanh, [normal(2, 0)]),
    Case("log", ad.log, np.log, [positive(2, 3)]),
    Case("sqrt", ad.sqrt, np.sqrt, [positive(2, 3)]),
    Case("tanh", ad.tanh, np.tanh, [normal(2, 3)]),
    Case("erf", ad.erf, special.erf, [normal(2, 3)]),
    Case("sigmoid", ad.sigmoid, special.expit, [normal(2, 3) * 3]),
    Case("relu", ad.relu, lambda a: np.maximum(a, 0), [away_from_zero(2, 3)]),
    Case("gelu", ad.gelu, lambda a: a * special.ndtr(a), [normal(2, 3) * 2]),
    Case("gelu-tanh", lambda a: ad.gelu(a, approximate="tanh"),
         lambda a: 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a**3))),
         [normal(2, 3) * 2]),
    Case("softmax-0", lambda a: ad.softmax(a, axis=0), lambda a: numerics.softmax(a, axis=0),
         [normal(3, 4)]),
    Case("softmax-last", ad.softmax, numerics.softmax, [normal(2, 3, 4)]),
    Case("log_softmax", ad.log_softmax, numerics.log_softmax, [normal(3, 4)]),
    Case("log_softmax-1", lambda a: ad.log_softmax(a, axis=1),
         lambda a: numerics.log_softmax(a, axis=1), [normal(2, 3, 2)]),
    Case("logsumexp", ad.logsumexp, lambda a: special.logsumexp(a, axis=-1), [normal(3, 4)]),
    Case("logsumexp-0-keepdims", lambda a: ad.logsumexp(a, axis=0, keepdims=True),
         lambda a: special.logsumexp(a, axis=0, keepdims=True), [normal(3, 4)]),
    # reductions
    Case("sum", ad.sum, np.sum, [normal(2, 3)]),
    Case("sum-0d", ad.sum, np.sum, [normal()]),
    Case("sum-empty", lambda a: a.sum(axis=0), lambda a: a.sum(axis=0), [normal(0, 3)]),
    Case("sum-axes-keepdims", lambda a: a.sum(axis=(0, 2), keepdims=True),
         lambda a: a.sum(axis=(0, 2), keepdims=True), [normal(2, 3, 4)]),
    Case("sum-negative-axis", lambda a: a.sum(axis=-1), lambda a: a.sum(axis=-1), [normal(2, 3)]),
    Case("mean", ad.mean, np.mean, [normal(2, 3)]),
    Case("mean-0d", ad.mean, np.mean, [normal()]),
    Case("mean-axis", lambda a: a.mean(axis=1), lambda a: a.mean(axis=1), [normal(2, 3, 2)]),
    Case("mean-axes-keepdims", lambda a: a.mean(axis=[0, -1], keepdims=True),
         lambda a: a.mean(axis=(0, -1), keepdims=True), [normal(2, 3, 2)]),
    Case("max", ad.max, np.max, [distinct(3, 4)]),
    Case("max-axis", lambda a: a.max(axis=1), lambda a: a.max(axis=1), [distinct(3, 4)]),
    Case("min-keepdims", lambda a: a.min(axis=0, keepdims=True),
         lambda a: a.min(axis=0, keepdims=True), [distinct(3, 4)]),
    # shapes
    Case("reshape", lambda a: a.reshape(3, -1), lambda a: a.reshape(3, -1), [normal(2, 3, 2)]),
    Case("reshape-tuple", lambda a: a.reshape((6,)), lambda a: a.reshape(6), [normal(2, 3)]),
    Case("flatten", lambda a: a.flatten(1), lambda a: a.reshape(2, -1), [normal(2, 3, 4)]),
    Case("unsqueeze", lambda a: a.unsqueeze(1), lambda a: a[:, None], [normal(2, 3)]),
    Case("squeeze", lambda a: a.squeeze(1), lambda a: a[:, 0], [normal(2, 1, 3)]),
    Case("permute", lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1),
         [normal(2, 3, 4)]),
    Case("T", lambda a: a.T, lambda a: a.T, [normal(2, 3, 4)]),
    Case("transpose", lambda a: a.transpose(0, 2), lambda a: a.swapaxes(0, 2), [normal(2, 3, 4)]),
    Case("swapaxes", lambda a: a.swapaxes(-1, 0), lambda a: a.swapaxes(-1, 0), [normal(2, 3)]),
    Case("broadcast_to", lambda a: a.broadcast_to((2, 3, 4)),
         lambda a: np.broadcast_to(a, (2, 3, 4)), [normal(3, 1)]),
    Case("concat", lambda a, b: ad.concat([a, b], axis=-1),
         lambda a, b: np.concatenate([a, b], axis=-1), [normal(2, 3), normal(2, 2, seed=1)]),
    Case("stack", lambda a, b: ad.stack([a, b], axis=1), lambda a, b: np.stack([a, b], axis=1),
         [normal(2, 3), normal(2, 3, seed=1)]),
    Case("pad", lambda a: ad.pad(a, ((1, 2), (0, 1)), value=0.5),
         lambda a: np.pad(a, ((1, 2), (0, 1)), constant_values=0.5), [normal(2, 3)]),
    # indexing
    Case("slice-step", lambda a: a[::-2, 1:], lambda a: a[::-2, 1:], [normal(5, 3)]),
    Case("int-and-ellipsis", lambda a: a[1, ..., None], lambda a: a[1, ..., None],
         [normal(3, 2, 2)]),
    Case("int-array-repeats", lambda a: a[[0, 2, 0, 0]], lambda a: a[[0, 2, 0, 0]],
         [normal(3, 2)]),
    Case("int-arrays-2d", lambda a: a[np.array([[0, 1], [1, 1]]), 1:],
         lambda a: a[np.array([[0, 1], [1, 1]]), 1:], [normal(2, 3)]),
    Case("bool-mask", lambda a: a[np.array([True, False, True])],
         lambda a: a[np.array([True, False, True])], [normal(3, 2)]),
    Case("tensor-index", lambda a: a[Tensor(np.array([2, 0]))], lambda a: a[[2, 0]],
         [normal(3)]),
    Case("scatter_add", lambda v: ad.scatter_add(v, np.array([1, 1, 3]), (5, 2)),
         lambda v: np.stack([np.zeros(2), v[0] + v[1], np.zeros(2), v[2], np.zeros(2)]),
         [normal(3, 2)]),
    # selection
    Case("where", lambda a, b: ad.where(np.array([True, False, True]), a, b),
         lambda a, b: np.where([True, False, True], a, b), [normal(2, 3), normal(3, seed=1)]),
    Case("where-scalar", lambda a: ad.where(a > 0, a, 0.0), lambda a: np.where(a > 0, a, 0.0),
         [normal(4)]),
    Case("maximum", ad.maximum, np.maximum, [distinct(2, 3), distinct(3, seed=1)]),
    Case("minimum", ad.minimum, np.minimum, [distinct(2, 3), distinct(2, 3, seed=1)]),
    Case("clip", lambda a: a.clip(-0.45, 0.55), lambda a: np.clip(a, -0.45, 0.55),
         [distinct(3, 4)]),
    Case("clip-min-only", lambda a: a.clamp(min=0.05), lambda a: np.maximum(a, 0.05),
         [distinct(3, 4)]),
    Case("dropout", lambda a: ad.dropout(a, 0.3, rng=np.random.default_rng(5)),
         lambda a: a * (np.random.default_rng(5).random(a.shape) >= 0.3) / 0.7, [normal(4, 5)]),
]
IDS = [c.id for c in CASES]


def tensors(case):
    return [Tensor(x.copy(), requires_grad=True) for x in case.inputs]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_value_matches_reference(case):
    out = case.fn(*tensors(case))
    expected = case.reference(*case.inputs)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck(case):
    assert gradcheck(case.fn, tensors(case), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradgradcheck(case):
    assert gradgradcheck(case.fn, tensors(case), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------------------------
# kinks: the subgradient each op chooses, exactly


def grad_of(fn, x):
    t = Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    fn(t).sum().backward()
    return t.grad


def test_relu_abs_at_zero():
    np.testing.assert_array_equal(grad_of(ad.relu, [-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad_of(abs, [-1.0, 0.0, 2.0]), [-1.0, 0.0, 1.0])


def test_max_min_split_ties_evenly():
    x = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    np.testing.assert_array_equal(grad_of(lambda t: t.max(axis=1), x),
                                  [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_array_equal(grad_of(lambda t: t.min(), [[2.0, 3.0, 2.0], [2.0, 5.0, 6.0]]),
                                  [[1 / 3, 0, 1 / 3], [1 / 3, 0, 0]])


def test_maximum_minimum_halve_at_a_tie():
    a = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = Tensor(np.array([2.0, 2.0, 2.0]), requires_grad=True)
    (ad.maximum(a, b) + ad.minimum(a, b) * 10.0).sum().backward()
    np.testing.assert_array_equal(a.grad, [10.0, 5.5, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 5.5, 10.0])


def test_clip_passes_the_gradient_at_the_bounds():
    np.testing.assert_array_equal(grad_of(lambda t: t.clip(-1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0]),
                                  [0, 1, 1, 1, 0])


def test_edges_of_the_domain_are_silent_and_follow_pytorch():
    # sqrt′(0) = inf; log 0 = −inf; 0 ** 0 has ∂base = 0 and ∂exponent = 0; no RuntimeWarning
    # (warnings are errors in this test run).
    np.testing.assert_array_equal(grad_of(ad.sqrt, [0.0]), [np.inf])
    assert ad.log(Tensor(np.array([0.0]))).data[0] == -np.inf
    base = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    exponent = Tensor(np.array([0.0, 0.0]), requires_grad=True)
    (base**exponent).sum().backward()
    np.testing.assert_array_equal(base.grad, [0.0, 0.0])
    np.testing.assert_array_equal(exponent.grad, [0.0, np.log(2.0)])


def test_extreme_logits_stay_finite():
    x = Tensor(np.array([[1e4, 0.0, -1e4]]), requires_grad=True)
    out = ad.log_softmax(x) + ad.softmax(x) + ad.sigmoid(x) + ad.logsumexp(x, keepdims=True)
    assert np.isfinite(out.data).all()
    out.sum().backward()
    assert np.isfinite(x.grad).all()


# ---------------------------------------------------------------------------------------------
# op-specific rules


def test_comparisons_are_bool_tensors_off_the_graph():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for result, expected in [(x < 2, [1, 0, 0]), (x <= 2, [1, 1, 0]), (x > 2, [0, 0, 1]),
                             (x >= 2, [0, 1, 1]), (x == 2, [0, 1, 0]), (x != 2, [1, 0, 1]),
                             (2 < x, [0, 0, 1])]:
        assert result.dtype == bool and not result.requires_grad
        np.testing.assert_array_equal(result.data, np.array(expected, dtype=bool))


def test_repeated_indices_add_up():
    np.testing.assert_array_equal(grad_of(lambda t: t[[0, 0, 2, 0]], [5.0, 6.0, 7.0]),
                                  [3.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad_of(lambda t: t[t > 5.5], [5.0, 6.0, 7.0]), [0, 1, 1])


def test_python_numbers_take_the_tensor_dtype():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for y in (x + 1, 2.0 * x, x / 3.0, 1.0 - x, x**2, 2.0**x, ad.where(x > 0, x, 0.0),
              ad.maximum(x, 0.5), x.clip(0.0, 2.0)):
        assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_astype_casts_the_gradient_back_and_integer_casts_leave_the_graph():
    x = Tensor(np.array([1.5, 2.5], dtype=np.float32), requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [3.0, 5.0])
    assert not x.astype(np.int32).requires_grad


def test_dropout_is_inverted_and_identity_when_not_training():
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    y = ad.dropout(x, 0.25, rng=np.random.default_rng(0))
    kept = y.data != 0
    np.testing.assert_array_equal(y.data[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.01  # 10 000 draws: standard error 0.004
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)
    assert ad.dropout(x, 0.25, training=False) is x
    np.testing.assert_array_equal(ad.dropout(x, 1.0).data, 0.0)
    with pytest.raises(OptionError, match="p must be"):
        ad.dropout(x, 1.5)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(OptionError, match="'tanh'"):
        ad.gelu(Tensor([1.0]), approximate="erf")


def test_mean_of_empty_is_nan_without_warning():
    assert np.isnan(ad.mean(Tensor(np.zeros((0, 3)))).item())


def test_methods_and_functions_are_the_same_ops():
    x = Tensor(distinct(2, 3))
    for method, function in [("exp", ad.exp), ("relu", ad.relu), ("sigmoid", ad.sigmoid),
                             ("softmax", ad.softmax), ("abs", ad.abs), ("mean", ad.mean),
                             ("max", ad.max), ("log_softmax", ad.log_softmax)]:
        np.testing.assert_array_equal(getattr(x, method)().data, function(x).data)


# ---------------------------------------------------------------------------------------------
# live: PyTorch's values and gradients, kinks and ties included


def _torch_cases():
    import torch

    x = np.array([[-2.0, -0.0, 0.0, 0.5, 3.0], [1.0, 3.0, 3.0, -1.0, 0.5]])
    y = np.array([[0.5, 0.0, -1.0, 0.5, 3.0], [1.0, 2.0, 4.0, -1.0, 0.5]])
    return x, y, [
        ("relu", ad.relu, torch.relu),
        ("abs", ad.abs, torch.abs),
        ("gelu", ad.gelu, torch.nn.functional.gelu),
        ("gelu-tanh", lambda t: ad.gelu(t, approximate="tanh"),
         lambda t: torch.nn.functional.gelu(t, approximate="tanh")),
        ("sigmoid", ad.sigmoid, torch.sigmoid),
        ("amax", lambda t: t.max(axis=1), lambda t: torch.amax(t, dim=1)),
        ("amin", lambda t: t.min(), torch.amin),
        ("clip", lambda t: t.clip(0.0, 0.5), lambda t: torch.clamp(t, 0.0, 0.5)),
        ("softmax", lambda t: ad.softmax(t, 0), lambda t: torch.softmax(t, 0)),
        ("log_softmax", ad.log_softmax, lambda t: torch.log_softmax(t, -1)),
        ("logsumexp", ad.logsumexp, lambda t: torch.logsumexp(t, -1)),
        ("maximum", lambda t: ad.maximum(t, Tensor(y)), lambda t: torch.maximum(
            t, torch.tensor(y))),
        ("minimum", lambda t: ad.minimum(t, Tensor(y)), lambda t: torch.minimum(
            t, torch.tensor(y))),
    ]


@pytest.mark.live
def test_values_and_gradients_equal_pytorch():
    import torch

    x, _, cases = _torch_cases()
    u = np.random.default_rng(3)
    for name, ours, theirs in cases:
        t = Tensor(x.copy(), requires_grad=True)
        out = ours(t)
        cotangent = u.standard_normal(out.shape)
        out.backward(cotangent)
        tt = torch.tensor(x, requires_grad=True)
        ref = theirs(tt)
        ref.backward(torch.tensor(cotangent))
        rtol = tol.FRAMEWORK[np.dtype(np.float64)]
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=rtol, atol=rtol,
                                   err_msg=name)
        np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=rtol, atol=rtol, err_msg=name)
