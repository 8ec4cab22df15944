"""Convolution and pooling (lossgrad.autodiff.conv): values against loop references, gradcheck and
gradgradcheck in float64 over stride/padding/dilation/groups, PyTorch's max-pooling rule (ties, NaN,
−inf windows, padding) pinned against a loop that implements it, dtypes, unbatched inputs, bad
arguments; the live tests compare values and gradients of x, w and b with torch.nn.functional.

The loop references index the padded input window by window — nothing shared with the im2col /
strided-slice code under test.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from lossgrad.autodiff import Tensor, gradcheck, gradgradcheck
from lossgrad.autodiff.conv import (
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    max_pool1d,
    max_pool2d,
)
from lossgrad.errors import DTypeError, OptionError, ShapeError
from tests import tolerances as tol

RTOL, ATOL = tol.CENTRAL
CONV = {1: conv1d, 2: conv2d}
MAX_POOL = {1: max_pool1d, 2: max_pool2d}
AVG_POOL = {1: avg_pool1d, 2: avg_pool2d}


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def per_axis(value, dims):
    return (value,) * dims if isinstance(value, int) else tuple(value)


def window(xp, position, kernel, stride, dilation):
    """The entries of xp (…, *spatial) that the window at ``position`` reads, kernel-shaped."""
    return xp[(Ellipsis,) + tuple(slice(p * s, p * s + d * (k - 1) + 1, d) for p, k, s, d in
                                  zip(position, kernel, stride, dilation))]


def out_size(size, kernel, stride, dilation, before, after):
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1 for n, k, s, d, lo, hi in
                 zip(size, kernel, stride, dilation, before, after))


# ---------------------------------------------------------------------------------------------
# loop references


def ref_conv(x, w, b, stride, pads, dilation, groups):
    """y[n, o, pos] = b[o] + Σ window·w[o], the window taken from o's group of channels."""
    before, after = zip(*pads)
    xp = np.pad(x, [(0, 0), (0, 0)] + list(pads))
    size = out_size(x.shape[2:], w.shape[2:], stride, dilation, before, after)
    per_group_in, per_group_out = w.shape[1], w.shape[0] // groups
    y = np.zeros(x.shape[:1] + w.shape[:1] + size)
    for n, o in itertools.product(range(x.shape[0]), range(w.shape[0])):
        g = o // per_group_out
        channels = xp[n, g * per_group_in:(g + 1) * per_group_in]
        for pos in np.ndindex(*size):
            y[(n, o) + pos] = np.sum(window(channels, pos, w.shape[2:], stride, dilation) * w[o])
        y[n, o] += 0 if b is None else b[o]
    return y


def ref_max_pool(x, u, kernel, stride, pad, dilation):
    """PyTorch's kernel as a loop: a running max over the in-input entries of each window in
    row-major order, replaced by a strictly greater value or a NaN, starting at −inf on the first
    in-input entry. Returns the values and the gradient for the cotangent u."""
    size = out_size(x.shape[2:], kernel, stride, dilation, pad, pad)
    y, dx = np.zeros(x.shape[:2] + size), np.zeros_like(x)
    for lead in np.ndindex(*x.shape[:2]):
        for pos in np.ndindex(*size):
            best, at = -np.inf, None
            for k in np.ndindex(*kernel):
                i = tuple(p * s + kk * d - q for p, kk, s, d, q in
                          zip(pos, k, stride, dilation, pad))
                if any(j < 0 or j >= n for j, n in zip(i, x.shape[2:])):
                    continue
                at = i if at is None else at
                v = x[lead + i]
                if v > best or np.isnan(v):
                    best, at = v, i
            y[lead + pos] = best
            dx[lead + at] += u[lead + pos]
    return y, dx


def ref_avg_pool(x, kernel, stride, pad, count_include_pad):
    dims = x.ndim - 2
    size = out_size(x.shape[2:], kernel, stride, (1,) * dims, pad, pad)
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    inside = np.pad(np.ones(x.shape[2:]), [(p, p) for p in pad])
    y = np.zeros(x.shape[:2] + size)
    for pos in np.ndindex(*size):
        ones = (1,) * dims
        total = window(xp, pos, kernel, stride, ones).sum(axis=tuple(range(2, 2 + dims)))
        count = np.prod(kernel) if count_include_pad else window(inside, pos, kernel, stride,
                                                                 ones).sum()
        y[(Ellipsis,) + pos] = total / count
    return y


# ---------------------------------------------------------------------------------------------
# convolution

#: (dims, x shape, w shape, stride, padding, dilation, groups)
CONV_CASES = [
    (1, (2, 3, 7), (4, 3, 3), 1, 0, 1, 1),
    (1, (2, 4, 9), (6, 2, 2), 2, 1, 1, 2),
    (1, (1, 2, 8), (2, 2, 3), 3, 2, 2, 1),
    (1, (2, 3, 6), (3, 1, 4), 1, "same", 1, 3),
    (1, (2, 2, 7), (2, 2, 2), 1, "same", 2, 1),
    (1, (2, 2, 5), (3, 2, 5), 1, "valid", 1, 1),
    (2, (2, 3, 6, 5), (4, 3, 3, 3), 1, 0, 1, 1),
    (2, (2, 4, 7, 6), (4, 2, 3, 2), (2, 1), (1, 2), (1, 2), 2),
    (2, (1, 2, 8, 7), (3, 2, 2, 3), 2, 1, 2, 1),
    (2, (2, 2, 5, 6), (2, 1, 2, 3), 1, "same", 1, 2),
    (2, (1, 3, 6, 6), (2, 3, 4, 2), 1, "same", (1, 2), 1),
    (2, (2, 1, 6, 6), (2, 1, 5, 5), 1, 2, 1, 1),
]


def conv_pads(padding, w_shape, dilation, dims):
    """The (before, after) pads a case means: "same" puts the odd unit after (PyTorch)."""
    if padding == "valid":
        return [(0, 0)] * dims
    if padding == "same":
        total = [d * (k - 1) for k, d in zip(w_shape[2:], per_axis(dilation, dims))]
        return [(t // 2, t - t // 2) for t in total]
    return [(p, p) for p in per_axis(padding, dims)]


def conv_inputs(case, dtype=np.float64, seed=0):
    _, x_shape, w_shape, *_ = case
    return (normal(*x_shape, seed=seed).astype(dtype), normal(*w_shape, seed=seed + 1).astype(dtype),
            normal(w_shape[0], seed=seed + 2).astype(dtype))


def conv_call(case, x, w, b):
    dims, _, _, stride, padding, dilation, groups = case
    return CONV[dims](x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_value_matches_loop_reference(case, bias):
    dims, _, w_shape, stride, padding, dilation, groups = case
    x, w, b = conv_inputs(case)
    b = b if bias else None
    expected = ref_conv(x, w, b, per_axis(stride, dims), conv_pads(padding, w_shape, dilation, dims),
                        per_axis(dilation, dims), groups)
    tol.assert_close(conv_call(case, Tensor(x), Tensor(w), b).data, expected, np.float64)


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv_gradcheck(case):
    x, w, b = (Tensor(a, requires_grad=True) for a in conv_inputs(case))
    assert gradcheck(lambda *t: conv_call(case, *t), [x, w, b], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CONV_CASES[1::3], ids=str)
def test_conv_gradgradcheck(case):
    """The VJPs are recorded ops (transposed conv, correlation), so they differentiate again."""
    x, w, b = (Tensor(a, requires_grad=True) for a in conv_inputs(case))
    assert gradgradcheck(lambda *t: conv_call(case, *t), [x, w, b], rtol=RTOL, atol=ATOL)


def test_conv_gradient_of_an_input_that_needs_none_is_not_formed():
    """A first layer's input needs no gradient: only w and b get one (and the graph is valid)."""
    case = CONV_CASES[6]
    x, w, b = conv_inputs(case)
    wt, bt = Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
    conv_call(case, Tensor(x), wt, bt).sum().backward()
    expected_b = np.full(b.shape, np.prod(conv_call(case, x, w, b).shape) / b.size)
    np.testing.assert_allclose(bt.grad, expected_b, rtol=1e-15)
    assert wt.grad.shape == w.shape


@pytest.mark.parametrize("dims", [1, 2])
def test_float32_stays_float32(dims):
    case = CONV_CASES[1 if dims == 1 else 7]
    x, w, b = (Tensor(a, requires_grad=True) for a in conv_inputs(case, np.float32))
    y = conv_call(case, x, w, b)
    pooled = MAX_POOL[dims](y, 2, padding=1) + AVG_POOL[dims](y, 2, None, 1, False)
    pooled.sum().backward()
    assert {t.dtype for t in (y, pooled)} == {np.dtype(np.float32)}
    assert {t.grad.dtype for t in (x, w, b)} == {np.dtype(np.float32)}


@pytest.mark.parametrize("dims", [1, 2])
def test_unbatched_input_equals_a_batch_of_one(dims):
    case = CONV_CASES[1 if dims == 1 else 7]
    x, w, b = conv_inputs(case)
    single = conv_call(case, Tensor(x[0]), Tensor(w), b).data
    np.testing.assert_array_equal(single, conv_call(case, Tensor(x[:1]), Tensor(w), b).data[0])
    for pool in (MAX_POOL[dims], AVG_POOL[dims]):
        np.testing.assert_array_equal(pool(Tensor(x[0]), 2).data, pool(Tensor(x[:1]), 2).data[0])


def test_read_only_and_strided_inputs_are_read_not_written():
    x = normal(2, 3, 12, 10)[:, :, ::2, ::-2]  # strided and reversed
    w = normal(4, 3, 3, 3, seed=1)
    for a in (x, w):
        a.flags.writeable = False
    expected = ref_conv(np.ascontiguousarray(x), w, None, (1, 1), [(1, 1)] * 2, (1, 1), 1)
    tol.assert_close(conv2d(Tensor(x), Tensor(w), padding=1).data, expected, np.float64)
    tol.assert_close(max_pool2d(Tensor(x), 2).data,
                     ref_max_pool(np.ascontiguousarray(x), np.zeros((2, 3, 3, 2)), (2, 2), (2, 2),
                                  (0, 0), (1, 1))[0], np.float64)


def layouts(shape, seed, dtype=np.float64):
    """The same values stored three ways: C order, batch-last (a conv output's layout) and with
    rows of a wider buffer (no contiguity at all)."""
    x = normal(*shape, seed=seed).astype(dtype)
    batch_last = np.ascontiguousarray(np.moveaxis(x, 0, -1))
    wide = np.zeros(shape[:-1] + (shape[-1] + 3,), dtype)[..., :shape[-1]]
    wide[...] = x
    return x, np.moveaxis(batch_last, -1, 0), wide


def value_and_grads(fn, x, *params):
    """fn's value and the gradients of ⟨u, fn⟩ for every input (u a fixed random cotangent)."""
    ts = [Tensor(a, requires_grad=True) for a in (x, *params)]
    out = fn(*ts)
    out.backward(normal(*out.shape, seed=99).astype(out.dtype))
    return [out.data] + [t.grad for t in ts]


@pytest.mark.parametrize("dims", [1, 2])
def test_memory_layout_of_the_input_does_not_change_any_number(dims):
    """Ops read C-ordered, batch-last (what conv and pooling return) and strided inputs alike:
    the same values and gradients, bit for bit."""
    case = CONV_CASES[1 if dims == 1 else 7]
    _, w, b = conv_inputs(case)
    calls = [lambda x, w, b: conv_call(case, x, w, b),
             lambda x: MAX_POOL[dims](x, 3, 2, 1), lambda x: AVG_POOL[dims](x, 2, 1, 1, False)]
    for call, params in zip(calls, [(w, b), (), ()]):
        results = [value_and_grads(call, x, *params) for x in layouts(case[1], seed=21)]
        for other in results[1:]:
            for got, want in zip(other, results[0]):
                np.testing.assert_array_equal(got, want)


def test_a_batch_of_32_by_32_float32_images_is_read_correctly():
    """Samples exactly 4 KiB apart take the blocked copy into batch-last order (the cache-set
    aliasing case); 13 samples leave a partial block."""
    x, _, wide = layouts((13, 1, 32, 32), seed=22, dtype=np.float32)
    w = normal(2, 1, 5, 5, seed=23).astype(np.float32)
    assert x.strides[0] == 4096
    np.testing.assert_array_equal(conv2d(Tensor(x), Tensor(w)).data,
                                  conv2d(Tensor(wide), Tensor(w)).data)
    tol.assert_close(conv2d(Tensor(x), Tensor(w)).data,
                     ref_conv(x.astype(np.float64), w.astype(np.float64), None, (1, 1),
                              [(0, 0)] * 2, (1, 1), 1), np.float32)


def test_products_over_many_column_blocks_match_a_sliding_window_reference():
    """P·N = 2·40·70 = 5600 output columns, more than one BLAS block of 4096: the value, ∂w
    (summed over blocks) and ∂x (checked through ⟨∂x, v⟩ = ⟨u, conv(v, w)⟩, conv being linear in
    x) against einsum over NumPy's sliding windows."""
    x, v = normal(2, 3, 44, 72, seed=24), normal(2, 3, 44, 72, seed=25)
    w, u = normal(4, 3, 5, 3, seed=26), normal(2, 4, 40, 70, seed=27)

    def reference(a):
        windows = np.lib.stride_tricks.sliding_window_view(a, (5, 3), axis=(2, 3))
        return windows, np.einsum("ncijpq,ocpq->noij", windows, w)

    windows, expected = reference(x)
    xt, wt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    y = conv2d(xt, wt)
    y.backward(u)
    tol.assert_close(y.data, expected, np.float64)
    tol.assert_close(wt.grad, np.einsum("noij,ncijpq->ocpq", u, windows), np.float64)
    tol.assert_close(np.sum(xt.grad * v), np.sum(u * reference(v)[1]), np.float64)


# ---------------------------------------------------------------------------------------------
# pooling

#: (dims, x shape, kernel_size, stride, padding, dilation)
POOL_CASES = [
    (1, (2, 3, 8), 2, None, 0, 1),
    (1, (2, 2, 9), 3, 2, 1, 1),
    (1, (1, 2, 10), 3, 1, 1, 2),
    (2, (2, 3, 6, 6), 2, None, 0, 1),
    (2, (2, 2, 7, 6), 3, 2, 1, 1),
    (2, (1, 2, 7, 8), (3, 2), (1, 2), (1, 0), (2, 1)),
    (2, (1, 2, 5, 5), 3, 1, 1, 1),
]


def pool_args(case):
    dims, _, kernel, stride, padding, dilation = case
    kernel = per_axis(kernel, dims)
    return (kernel, kernel if stride is None else per_axis(stride, dims), per_axis(padding, dims),
            per_axis(dilation, dims))


def max_call(case, x):
    dims, _, kernel, stride, padding, dilation = case
    return MAX_POOL[dims](x, kernel, stride, padding, dilation)


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_max_pool_value_and_gradient_match_loop_reference(case):
    """Integer-valued inputs: many tied maxima, each gradient sent to the first of them."""
    x = np.random.default_rng(5).integers(0, 3, case[1]).astype(np.float64)
    t = Tensor(x, requires_grad=True)
    y = max_call(case, t)
    u = normal(*y.shape, seed=6)
    y.backward(u)
    expected, dx = ref_max_pool(x, u, *pool_args(case))
    np.testing.assert_array_equal(y.data, expected)
    tol.assert_close(t.grad, dx, np.float64)  # overlapping windows add in another order


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_max_pool_gradcheck_and_gradgradcheck(case):
    x = Tensor(normal(*case[1], seed=7), requires_grad=True)  # no ties within the step
    assert gradcheck(lambda t: max_call(case, t), [x], rtol=RTOL, atol=ATOL)
    assert gradgradcheck(lambda t: max_call(case, t), [x], rtol=RTOL, atol=ATOL)


def test_max_pool_pytorch_rule_for_nan_and_minus_infinity():
    """A NaN wins its window (the last NaN when there are several); a window of −inf sends the
    gradient to its first entry inside the input, never to the padding."""
    x = np.array([[[[np.nan, 1.0, -np.inf, -np.inf],
                    [2.0, np.nan, -np.inf, -np.inf],
                    [5.0, 5.0, 0.0, np.inf],
                    [1.0, 5.0, np.inf, 0.0]]]])
    for padding in (0, 1):
        t = Tensor(x, requires_grad=True)
        y = max_pool2d(t, 2, padding=padding)
        u = normal(*y.shape, seed=8)
        y.backward(u)
        expected, dx = ref_max_pool(x, u, (2, 2), (2, 2), (padding,) * 2, (1, 1))
        np.testing.assert_array_equal(y.data, expected)
        np.testing.assert_array_equal(t.grad, dx)  # disjoint windows: one term per entry


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_max_pool_sends_an_infinite_or_nan_cotangent_only_to_the_chosen_entry(case):
    """A non-finite cotangent entry takes another path than finite ones (0·inf would be NaN):
    everywhere but its window's chosen entry the gradient stays 0."""
    x = np.random.default_rng(15).integers(0, 3, case[1]).astype(np.float64)
    t = Tensor(x, requires_grad=True)
    y = max_call(case, t)
    u = normal(*y.shape, seed=16)
    u.reshape(-1)[[0, -1]] = np.inf, np.nan
    y.backward(u)
    expected, dx = ref_max_pool(x, u, *pool_args(case))
    tol.assert_close(t.grad, dx, np.float64)


@pytest.mark.parametrize("case", [c for c in POOL_CASES if c[5] == 1], ids=str)  # no dilation
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_value_gradcheck_and_gradgradcheck(case, count_include_pad):
    dims, shape, kernel, stride, padding, _ = case
    x = normal(*shape, seed=9)
    kernel_, stride_, padding_, _ = pool_args(case)
    call = lambda t: AVG_POOL[dims](t, kernel, stride, padding, count_include_pad)
    tol.assert_close(call(Tensor(x)).data,
                     ref_avg_pool(x, kernel_, stride_, padding_, count_include_pad), np.float64)
    t = Tensor(x, requires_grad=True)
    assert gradcheck(call, [t], rtol=RTOL, atol=ATOL)
    assert gradgradcheck(call, [t], rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------------------------
# bad arguments

X2, W2 = np.zeros((1, 2, 5, 5)), np.zeros((4, 2, 3, 3))
BAD = [
    (lambda: conv2d(np.zeros((2, 5, 5)).reshape(1, 50), W2), ShapeError, "(N, C, H, W)"),
    (lambda: conv2d(X2, np.zeros((4, 2, 3))), ShapeError, "w must have shape"),
    (lambda: conv2d(X2, np.zeros((4, 3, 3, 3))), ShapeError, "in_channels = groups"),
    (lambda: conv2d(X2, np.zeros((3, 1, 3, 3)), groups=2), ShapeError, "divisible by groups"),
    (lambda: conv2d(X2, W2, np.zeros(3)), ShapeError, "b must have shape (4,)"),
    (lambda: conv2d(X2, W2.astype(np.float32)), DTypeError, "w has dtype float32"),
    (lambda: conv2d(X2.astype(np.int64), W2), DTypeError, "floating"),
    (lambda: conv2d(X2, W2, stride=0), OptionError, "stride must be an int ≥ 1"),
    (lambda: conv2d(X2, W2, padding=-1), OptionError, "padding must be an int ≥ 0"),
    (lambda: conv2d(X2, W2, padding=(1, 1, 1)), OptionError, "tuple of 2"),
    (lambda: conv2d(X2, W2, padding="full"), OptionError, '"same"'),
    (lambda: conv2d(X2, W2, stride=2, padding="same"), OptionError, "stride 1"),
    (lambda: conv2d(X2, W2, dilation=True), OptionError, "dilation"),
    (lambda: conv2d(X2, W2, groups=0), OptionError, "groups must be an int ≥ 1"),
    (lambda: conv2d(X2, W2, dilation=3), ShapeError, "kernel's reach (7, 7)"),
    (lambda: conv1d(np.zeros((1, 2, 2)), np.zeros((1, 2, 3))), ShapeError, "smaller"),
    (lambda: max_pool2d(X2, 2, padding=2), OptionError, "at most half"),
    (lambda: max_pool1d(X2, 2), ShapeError, "(N, C, L)"),
    (lambda: avg_pool2d(X2, 0), OptionError, "kernel_size"),
    (lambda: avg_pool2d(X2, 6), ShapeError, "smaller"),
]


@pytest.mark.parametrize("call, error, fragment", BAD, ids=[b[2] for b in BAD])
def test_bad_arguments_raise_typed_errors_naming_them(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)


# ---------------------------------------------------------------------------------------------
# live: torch.nn.functional


@pytest.mark.live
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_values_and_gradients_equal_pytorch(dtype):
    import torch
    import torch.nn.functional as F

    limit = tol.FRAMEWORK[np.dtype(dtype)]
    for case in CONV_CASES:
        dims, _, _, stride, padding, dilation, groups = case
        x, w, b = conv_inputs(case, dtype, seed=11)
        ours = [Tensor(a, requires_grad=True) for a in (x, w, b)]
        out = conv_call(case, *ours)
        u = normal(*out.shape, seed=12).astype(dtype)
        out.backward(u)
        theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        with warnings.catch_warnings():
            # PyTorch's note that an even "same" kernel pads a copy: about its speed, not ours.
            warnings.simplefilter("ignore", UserWarning)
            ref = (F.conv1d if dims == 1 else F.conv2d)(*theirs, stride=stride, padding=padding,
                                                         dilation=dilation, groups=groups)
        ref.backward(torch.tensor(u))
        for name, got, want in [("value", out.data, ref.detach().numpy())] + [
                (f"grad {n}", o.grad, t.grad.numpy()) for n, o, t in zip("xwb", ours, theirs)]:
            np.testing.assert_allclose(got, want, rtol=limit, atol=limit, err_msg=f"{case} {name}")


def pool_inputs_with_ties(shape, seed, specials):
    """Small integers (ties everywhere) and the given special values at random places."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, shape).astype(np.float64)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, len(specials), replace=False)] = specials
    return x


def our_pool(kind, case):
    dims, _, kernel, stride, padding, _ = case
    if kind == "max":
        return lambda t: max_call(case, t)
    return lambda t: AVG_POOL[dims](t, kernel, stride, padding, kind == "avg")


def torch_pool(F, kind, case):
    dims, _, kernel, stride, padding, dilation = case
    if kind == "max":
        return lambda t: getattr(F, f"max_pool{dims}d")(t, kernel, stride, padding, dilation)
    return lambda t: getattr(F, f"avg_pool{dims}d")(t, kernel, stride, padding,
                                                    count_include_pad=kind == "avg")


def assert_pool_equals_pytorch(ours, theirs, x, dtype):
    import torch

    limit = tol.FRAMEWORK[np.dtype(dtype)]
    x = x.astype(dtype)
    t = Tensor(x.copy(), requires_grad=True)
    out = ours(t)
    u = normal(*out.shape, seed=14).astype(dtype)
    out.backward(u)
    tt = torch.tensor(x, requires_grad=True)
    ref = theirs(tt)
    ref.backward(torch.tensor(u))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=limit, atol=limit)
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=limit, atol=limit)


LIVE_POOLS = [(case, kind) for case in POOL_CASES for kind in ("max", "avg", "avg-exclude-pad")
              if kind == "max" or case[5] == 1]  # average pooling has no dilation


@pytest.mark.live
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case, kind", LIVE_POOLS, ids=str)
def test_pooling_values_and_gradients_equal_pytorch(case, kind, dtype):
    """Ties everywhere, a NaN, and for max pooling ±inf too (inf and −inf in one window would make
    NumPy warn about inf − inf in a mean)."""
    import torch.nn.functional as F

    specials = [np.nan, np.inf, -np.inf] if kind == "max" else [np.nan]
    x = pool_inputs_with_ties(case[1], 13, specials)
    assert_pool_equals_pytorch(our_pool(kind, case), torch_pool(F, kind, case), x, dtype)


@pytest.mark.live
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool_of_minus_infinity_windows_equals_pytorch(dtype):
    """Windows whose maximum is −inf, some overlapping the padding."""
    import torch.nn.functional as F

    case = (2, (1, 2, 5, 5), 3, 2, 1, 1)
    x = np.full(case[1], -np.inf)
    assert_pool_equals_pytorch(our_pool("max", case), torch_pool(F, "max", case), x, dtype)
