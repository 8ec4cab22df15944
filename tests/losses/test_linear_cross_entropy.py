"""linear_softmax_cross_entropy (issue #5): the chunked linear layer + softmax cross-entropy against
the materialised computation (logits = hidden·weightᵀ + bias, then the sparse cross-entropy and the
chain rule by hand), central differences, bounded memory, errors, Tensors and dtypes."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from lossgrad import Tensor, losses
from lossgrad.errors import LabelRangeError, OptionError, ShapeError
from lossgrad.losses import kernels
from tests import tolerances as tol
from tests.gradcheck import central_differences

linear_ce = losses.linear_softmax_cross_entropy
#: The budget holds on the fused path; the NumPy fallback (no compiler at install) takes a few
#: chunk-sized temporaries.
NEEDS_KERNELS = pytest.mark.skipif(not kernels.available(),
                                   reason="the compiled kernels are not built")
N, H, V = 13, 5, 11
IGNORE = -100
REDUCTIONS = ("none", "sum", "mean", "sum_over_batch_size")
CHUNKS = {"1": 1, "7": 7, "N": N, "more_than_N": N + 5}
OPTIONS = {
    "plain": {}, "smoothing": {"label_smoothing": 0.1}, "class_weight": {"class_weight": "w"},
    "ignore_index": {"ignore_index": IGNORE}, "z_loss": {"z_loss": 1e-2},
    "softcap": {"softcap": 3.0},
    "all": {"label_smoothing": 0.1, "class_weight": "w", "ignore_index": IGNORE, "z_loss": 1e-2,
            "softcap": 3.0},
}


def problem(options: dict, n=N, seed=0):
    """hidden (n, H), weight (V, H), bias (V,), labels (n,) (every fourth ignored when the options
    take ignore_index) and the options with real class weights (one of them 0)."""
    rng = np.random.default_rng(seed)
    hidden, weight, bias = (rng.normal(size=s) for s in ((n, H), (V, H), (V,)))
    labels = rng.integers(0, V, size=n)
    if "ignore_index" in options:
        labels[::4] = IGNORE
    weights = rng.uniform(0.25, 2.0, V)
    weights[3] = 0.0
    return hidden, weight, bias, labels, {k: weights if v == "w" else v
                                          for k, v in options.items()}


def materialised(hidden, weight, labels, bias=None, **options):
    """(value, lse, grads) through the whole N×V logits: the sparse cross-entropy's gradient G
    with respect to them gives hidden = G W, weight = Gᵀ H, bias = Σ_i G_i."""
    z = hidden @ weight.T + (0.0 if bias is None else bias)
    r = losses.sparse_softmax_cross_entropy(z, labels, kernel="reference", return_lse=True,
                                            **options)
    if r.grad is None:
        return r.value, r.aux["lse"], {}
    grads = {"hidden": r.grad @ weight, "weight": r.grad.T @ hidden}
    if bias is not None:
        grads["bias"] = r.grad.sum(axis=0)
    return r.value, r.aux["lse"], grads


def assert_matches(result, expected, dtype=np.float64) -> None:
    value, lse, grads = expected
    tol.assert_close(result.value, value, dtype, err_msg="value")
    tol.assert_close(result.aux["lse"], lse, dtype, err_msg="lse")
    assert result.grads.keys() == grads.keys()
    for key, g in grads.items():
        tol.assert_close(result.grads[key], g, dtype, err_msg=key)


# ---------------------------------------------------------------------------------------------
# against the materialised computation


@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("chunk", CHUNKS.values(), ids=CHUNKS.keys())
@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_equals_the_materialised_loss_for_every_chunk_size(options, chunk, with_bias):
    hidden, weight, bias, labels, options = problem(options)
    bias = bias if with_bias else None
    r = linear_ce(hidden, weight, labels, bias, chunk_size=chunk, reduction="none",
                  return_lse=True, **options)
    assert r.grad is r.grads["hidden"]
    assert_matches(r, materialised(hidden, weight, labels, bias, reduction="none", **options))


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [OPTIONS["plain"], OPTIONS["all"]], ids=["plain", "all"])
def test_equals_the_materialised_loss_for_every_reduction(options, reduction, weighted):
    hidden, weight, bias, labels, options = problem(options)
    sw = np.linspace(0.0, 2.0, N) if weighted else None
    call = {"reduction": reduction, "sample_weight": sw, **options}
    r = linear_ce(hidden, weight, labels, bias, chunk_size=4, return_lse=True, **call)
    assert_matches(r, materialised(hidden, weight, labels, bias, **call))


def test_grad_false_gives_the_values_alone():
    hidden, weight, bias, labels, options = problem(OPTIONS["all"])
    r = linear_ce(hidden, weight, labels, bias, chunk_size=4, grad=False, return_lse=True,
                  **options)
    assert r.grad is None and not r.grads
    assert_matches(r, materialised(hidden, weight, labels, bias, grad=False, **options))


@pytest.mark.parametrize("empty, expected", [("nan", np.nan), ("zero", 0.0)])
def test_every_row_ignored_follows_the_empty_policy(empty, expected):
    hidden, weight, bias, _, _ = problem({})
    r = linear_ce(hidden, weight, np.full(N, IGNORE), bias, ignore_index=IGNORE, chunk_size=4,
                  empty=empty)
    np.testing.assert_array_equal(r.value, expected)
    for key, g in r.grads.items():
        np.testing.assert_array_equal(g, 0.0, err_msg=key)


@pytest.mark.parametrize("reduction, expected", [("none", np.zeros(0)), ("sum", 0.0),
                                                 ("mean", np.nan)])
def test_an_empty_batch(reduction, expected):
    hidden, weight, bias, labels, _ = problem({}, n=0)
    r = linear_ce(hidden, weight, labels, bias, reduction=reduction)
    np.testing.assert_array_equal(r.value, expected)
    assert r.grads["hidden"].shape == (0, H)
    np.testing.assert_array_equal(r.grads["weight"], np.zeros((V, H)))
    np.testing.assert_array_equal(r.grads["bias"], np.zeros(V))


# ---------------------------------------------------------------------------------------------
# central differences


@pytest.mark.parametrize("wrt", ["hidden", "weight", "bias"])
def test_gradients_against_central_differences(wrt):
    rng = np.random.default_rng(1)
    arrays = {"hidden": rng.normal(size=(4, 3)), "weight": rng.normal(size=(5, 3)),
              "bias": rng.normal(size=5)}
    labels = np.array([0, 4, IGNORE, 2])
    options = {"label_smoothing": 0.1, "class_weight": [1.0, 0.5, 2.0, 1.5, 0.75],
               "ignore_index": IGNORE, "z_loss": 1e-2, "softcap": 2.0,
               "sample_weight": [0.5, 1.0, 1.0, 2.0], "chunk_size": 3}

    def f(x):
        return float(linear_ce(**{**arrays, wrt: x}, labels=labels, grad=False, **options))

    analytic = linear_ce(**arrays, labels=labels, **options).grads[wrt]
    rtol, atol = tol.CENTRAL
    np.testing.assert_allclose(analytic, central_differences(f, arrays[wrt]), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------------
# memory

BIG = (2048, 64, 8192)  # N, H, V: the materialised float32 logits would be 64 MiB
BUDGET = 4 * 2**20
#: Besides the chunk's logits (the budget) and the returned gradients, the call holds O(N + V)
#: vectors: the values, log-sum-exps, the labels and the kernel's int64 copy, one chunk's reduction
#: factors, the bias's column sums — each at most max(N, V) entries of ≤ 8 bytes; eight of them
#: bound it (with room for NumPy's and Python's small objects).
SLACK = 8 * max(BIG[0], BIG[2]) * 8


def extra_peak(hidden, weight, labels, **options) -> tuple[int, dict]:
    """The call's traced peak memory beyond the gradients it returns, and those gradients."""
    tracemalloc.start()
    try:
        r = linear_ce(hidden, weight, labels, **options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - sum(g.nbytes for g in r.grads.values()), r.grads


def big_problem(n, h, v):
    rng = np.random.default_rng(2)
    hidden = rng.normal(size=(n, h)).astype(np.float32)
    weight = (rng.normal(size=(v, h)) / 8).astype(np.float32)
    return hidden, weight, rng.integers(0, v, size=n)


@NEEDS_KERNELS
def test_peak_memory_stays_within_the_budget():
    n, h, v = BIG
    extra, grads = extra_peak(*big_problem(n, h, v), memory_budget=BUDGET)
    assert extra <= BUDGET + SLACK
    # The measurement sees NumPy's allocations: the chunk's logits buffer itself is in it.
    assert extra >= BUDGET // (v * 4) * v * 4
    assert grads["hidden"].shape == (n, h) and np.isfinite(grads["weight"]).all()


@NEEDS_KERNELS
def test_peak_memory_stays_within_the_budget_with_a_softcap():
    n, h, v = 512, 16, BIG[2]
    budget = 2**20
    extra, _ = extra_peak(*big_problem(n, h, v), memory_budget=budget, softcap=30.0)
    assert extra <= budget + SLACK


def chunk_rows(monkeypatch, *, num_rows, dtype, **options) -> list[int]:
    """The rows of each chunk the call hands the kernel."""
    seen = []
    run = kernels.RowProblem.run

    def spy(self, logits, *args, **kwargs):
        seen.append(logits.shape[0])
        return run(self, logits, *args, **kwargs)

    monkeypatch.setattr(kernels.RowProblem, "run", spy)
    hidden, weight, _, labels, _ = problem({}, n=num_rows)
    linear_ce(hidden.astype(dtype), weight, labels, **options)
    return seen


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("budget", [2000, 2399, 4 * V * 8 - 1, 1])
@pytest.mark.parametrize("softcap", [None, 3.0], ids=["plain", "softcap"])
def test_chunks_follow_the_memory_budget(monkeypatch, budget, softcap, dtype):
    num_rows = 23
    rows = budget // (V * np.dtype(dtype).itemsize * (1 if softcap is None else 2))
    rows = min(max(rows, 1), num_rows)
    seen = chunk_rows(monkeypatch, num_rows=num_rows, dtype=dtype, memory_budget=budget,
                      softcap=softcap)
    assert seen == [rows] * (num_rows // rows) + ([num_rows % rows] if num_rows % rows else [])


def test_chunk_size_wins_over_the_budget_and_the_default_takes_all_rows(monkeypatch):
    assert chunk_rows(monkeypatch, num_rows=23, dtype=np.float64, chunk_size=10,
                      memory_budget=2000) == [10, 10, 3]
    assert chunk_rows(monkeypatch, num_rows=23, dtype=np.float64) == [23]


# ---------------------------------------------------------------------------------------------
# errors

GOOD = problem({})[:4]
BAD_INPUTS = {
    "hidden_1d": ({"hidden": GOOD[0][0]}, ShapeError, "hidden must be"),
    "hidden_3d": ({"hidden": GOOD[0][None]}, ShapeError, "hidden must be"),
    "weight_wrong_H": ({"weight": GOOD[1][:, :-1]}, ShapeError, "weight must be"),
    "weight_1d": ({"weight": GOOD[1][0]}, ShapeError, "weight must be"),
    "bias_wrong_length": ({"bias": GOOD[2][:-1]}, ShapeError, "bias must have one entry"),
    "label_too_big": ({"labels": np.full(N, V)}, LabelRangeError, rf"labels\[0\] = {V}"),
    "label_negative": ({"labels": np.full(N, -1)}, LabelRangeError, r"labels\[0\] = -1"),
    "labels_short": ({"labels": GOOD[3][:-1]}, ShapeError, "labels of shape"),
    "labels_column": ({"labels": GOOD[3][:, None]}, ShapeError, "labels of shape"),
}


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=BAD_INPUTS.keys())
def test_bad_inputs_raise(bad):
    change, error, match = BAD_INPUTS[bad]
    arrays = {**dict(zip(("hidden", "weight", "bias", "labels"), GOOD)), **change}
    with pytest.raises(error, match=match):
        linear_ce(**arrays)


@pytest.mark.parametrize("option", [{"chunk_size": 0}, {"chunk_size": -3},
                                    {"chunk_size": 2.5}, {"chunk_size": True},
                                    {"memory_budget": 0}, {"memory_budget": -1.0},
                                    {"memory_budget": float("nan")}],
                         ids=["chunk_0", "chunk_negative", "chunk_fraction", "chunk_bool",
                              "budget_0", "budget_negative", "budget_nan"])
def test_bad_chunking_options_raise(option):
    hidden, weight, _, labels = GOOD
    with pytest.raises(OptionError, match=next(iter(option))):
        linear_ce(hidden, weight, labels, **option)


# ---------------------------------------------------------------------------------------------
# Tensors and the VJP


def tensors(hidden, weight, bias):
    return (Tensor(hidden, requires_grad=True), Tensor(weight, requires_grad=True),
            Tensor(bias, requires_grad=True))


def test_tensors_backward_gives_the_arrays_gradients():
    hidden, weight, bias, labels, options = problem(OPTIONS["all"])
    th, tw, tb = tensors(hidden, weight, bias)
    loss = linear_ce(th, tw, labels, tb, chunk_size=4, **options)
    assert isinstance(loss, Tensor)
    loss.backward()
    r = linear_ce(hidden, weight, labels, bias, chunk_size=4, **options)
    tol.assert_close(loss.data, r.value, np.float64)
    for t, key in ((th, "hidden"), (tw, "weight"), (tb, "bias")):
        tol.assert_close(t.grad, r.grads[key], np.float64, err_msg=key)


def cotangent_weighted(hidden, weight, labels, bias, c, options) -> dict:
    """Σ_i c_i ∂ℓ_i/∂(hidden, weight, bias) through the materialised per-row gradients."""
    z = hidden @ weight.T + bias
    g = losses.sparse_softmax_cross_entropy(z, labels, kernel="reference", reduction="none",
                                            **options).grad * c[:, None]
    return {"hidden": g @ weight, "weight": g.T @ hidden, "bias": g.sum(axis=0)}


def test_a_non_uniform_cotangent_weights_each_rows_gradient():
    hidden, weight, bias, labels, options = problem(OPTIONS["all"])
    c = np.random.default_rng(3).normal(size=N)  # signs of both kinds: not a sample weight
    expected = cotangent_weighted(hidden, weight, labels, bias, c, options)
    th, tw, tb = tensors(hidden, weight, bias)
    loss = linear_ce(th, tw, labels, tb, reduction="none", chunk_size=4, **options)
    (loss * Tensor(c)).sum().backward()
    for t, key in ((th, "hidden"), (tw, "weight"), (tb, "bias")):
        tol.assert_close(t.grad, expected[key], np.float64, err_msg=key)
    # The same through the result's own VJP, which the Tensor path calls.
    r = linear_ce(hidden, weight, labels, bias, reduction="none", chunk_size=4, **options)
    assert r.vjp is not None
    got = r.vjp(c)
    for key, g in expected.items():
        tol.assert_close(got[key], g, np.float64, err_msg=key)
    with pytest.raises(ShapeError, match="cotangent"):
        r.vjp(c[:-1])


def test_a_plain_array_weight_beside_a_tensor_hidden():
    hidden, weight, bias, labels, _ = problem({})
    th = Tensor(hidden, requires_grad=True)
    linear_ce(th, weight, labels, bias, chunk_size=5).backward()
    tol.assert_close(th.grad, linear_ce(hidden, weight, labels, bias).grads["hidden"], np.float64)


# ---------------------------------------------------------------------------------------------
# dtypes


@pytest.mark.parametrize("hidden_dtype, weight_dtype",
                         [(np.float32, np.float32), (np.float32, np.float64),
                          (np.float64, np.float32), (np.float16, np.float32)])
def test_gradients_take_their_inputs_dtypes(hidden_dtype, weight_dtype):
    hidden, weight, bias, labels, options = problem(OPTIONS["all"])
    hidden = hidden.astype(hidden_dtype)
    weight, bias = weight.astype(weight_dtype), bias.astype(weight_dtype)
    r = linear_ce(hidden, weight, labels, bias, chunk_size=5, return_lse=True, **options)
    assert r.value.dtype == hidden_dtype and r.aux["lse"].dtype == hidden_dtype
    assert r.grads["hidden"].dtype == hidden_dtype
    assert r.grads["weight"].dtype == weight_dtype and r.grads["bias"].dtype == weight_dtype
    # The numbers are float64's on the inputs rounded to the compute dtype (float16 computes in
    # float32); every pair here has a float32 computation or a float32 weight, so the weight's and
    # the bias's gradients are float32-accurate.
    compute = np.float64 if hidden_dtype == np.float64 else np.float32
    h64, w64, b64 = (a.astype(compute).astype(np.float64) for a in (hidden, weight, bias))
    value, lse, grads = materialised(h64, w64, labels, b64, **options)
    for key, got, want in (("value", r.value, value), ("lse", r.aux["lse"], lse),
                           ("hidden", r.grads["hidden"], grads["hidden"])):
        tol.assert_close(got, want, hidden_dtype, err_msg=key)
    for key in ("weight", "bias"):
        tol.assert_close(r.grads[key], grads[key], np.float32, err_msg=key)


def test_without_the_compiled_kernels_it_runs_on_the_reference_path(monkeypatch):
    rng = np.random.default_rng(3)
    h, w, b = rng.normal(size=(9, 5)), rng.normal(size=(13, 5)), rng.normal(size=13)
    y = rng.integers(0, 13, size=9)
    y[2] = -100
    options = dict(ignore_index=-100, label_smoothing=0.1, z_loss=1e-3, softcap=4.0,
                   class_weight=rng.uniform(0.5, 2.0, 13), chunk_size=4, return_lse=True)
    fused = linear_ce(h, w, y, b, **options)
    monkeypatch.setattr(kernels, "_fused", None)
    plain = linear_ce(h, w, y, b, **options)
    tol.assert_close(plain.value, fused.value, np.float64)
    tol.assert_close(plain.aux["lse"], fused.aux["lse"], np.float64)
    for key in ("hidden", "weight", "bias"):
        tol.assert_close(plain.grads[key], fused.grads[key], np.float64, err_msg=key)
