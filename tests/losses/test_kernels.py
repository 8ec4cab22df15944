"""The fused kernels (lossgrad.losses.kernels, _fused.c) beyond the tiny case table: sizes whose
rows are split across two threads with ragged row and class tails, every option on both paths,
bit-for-bit determinism across thread counts, extreme rows, the in-place gradient, goal P7 and
choosing a path.

The fused result in a dtype is compared with the reference path run in float64 on the same numbers,
by the tolerance table (tests/tolerances.py); P7's float64 reference is a plain NumPy formula here.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from lossgrad import losses
from lossgrad.errors import OptionError
from lossgrad.losses import kernels
from tests import tolerances as tol

if not kernels.available():
    pytest.skip("the compiled kernels are not built (no C compiler at install)",
                allow_module_level=True)

DTYPES = (np.float32, np.float64)
REDUCTIONS = ("none", "sum", "mean", "sum_over_batch_size")
IGNORE = -100
#: (rows, classes). Odd row counts split unevenly over two threads; no class count is a multiple of
#: the kernel's 16 lanes, so every row ends in a scalar tail; 4099 classes span 16 summation blocks
#: of 256 entries and a tail.
SIZES = {"97x1000": (97, 1000), "1001x33": (1001, 33), "17x4099": (17, 4099)}
LOSSES = {"sparse": losses.sparse_softmax_cross_entropy, "dense": losses.softmax_cross_entropy,
          "sigmoid": losses.sigmoid_binary_cross_entropy}


@pytest.fixture(autouse=True)
def two_threads(monkeypatch):
    """Two kernel threads and "auto" meaning auto in every test, whatever the environment says;
    monkeypatch puts the module's state back afterwards."""
    monkeypatch.setitem(kernels._state, "threads", 2)
    monkeypatch.setitem(kernels._state, "default", "auto")


def _cpu_has_avx512() -> bool:
    before = kernels._fused.use_avx512(True)
    has = kernels._fused.use_avx512(before)  # what the first call set: on only where the CPU has it
    return has


@pytest.fixture(autouse=True, params=["avx512", "portable"])
def exp_pass(request):
    """Every test on both float32 exp passes of the softmax kernel: the AVX-512 intrinsics one
    (where the CPU has it) and the portable one every other CPU runs."""
    if request.param == "avx512" and not _cpu_has_avx512():
        pytest.skip("this CPU has no AVX-512: only the portable exp pass runs here")
    before = kernels._fused.use_avx512(request.param == "avx512")
    yield request.param
    kernels._fused.use_avx512(before)


# ---------------------------------------------------------------------------------------------
# inputs and comparisons


def class_weights(num_classes: int, rng) -> np.ndarray:
    """Non-uniform class weights with one zero (a class that must contribute exactly nothing)."""
    w = rng.uniform(0.25, 2.0, num_classes)
    w[num_classes // 2] = 0.0
    return w


def softmax_problem(name: str, shape: tuple, dtype, *, ignore=False, seed=0):
    """Logits of ``shape`` (class axis last) and their targets: integer labels (every fifth one
    ignored with ``ignore``) or, dense, rows alternately one-hot and soft."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=3.0, size=shape).astype(dtype)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    if name == "sparse":
        if ignore:
            labels.reshape(-1)[::5] = IGNORE
        return x, labels
    t = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    t.reshape(-1, shape[-1])[::2] = np.eye(shape[-1])[labels.reshape(-1)[::2]]
    return x, t


def both(name: str, x, target, **options):
    """(fused in x's dtype, reference in float64) results of one call."""
    fn = LOSSES[name]
    fused = fn(x, target, kernel="fused", **options)
    return fused, fn(np.asarray(x, np.float64), target, kernel="reference", **options)


def assert_agree(fused, reference, dtype) -> None:
    """Values, every gradient and every by-product within the table's tolerance for ``dtype``."""
    assert fused.value.dtype == dtype
    tol.assert_close(fused.value, reference.value, dtype, err_msg="value")
    assert fused.grads.keys() == reference.grads.keys()
    for key, g in fused.grads.items():
        assert g.dtype == dtype and g.shape == reference.grads[key].shape
        tol.assert_close(g, reference.grads[key], dtype, err_msg=f"gradient {key}")
    assert fused.aux.keys() == reference.aux.keys()
    for key, a in fused.aux.items():
        tol.assert_close(a, reference.aux[key], dtype, err_msg=key)


def assert_identical(a, b) -> None:
    """Two results bit for bit: value, gradient and by-products."""
    assert a.value.tobytes() == b.value.tobytes()
    assert a.grad.tobytes() == b.grad.tobytes()
    assert a.aux.keys() == b.aux.keys()
    assert all(a.aux[k].tobytes() == b.aux[k].tobytes() for k in a.aux)


def test_the_sizes_split_rows_across_two_threads_with_ragged_tails():
    for rows, classes in SIZES.values():
        assert rows * classes >= kernels._THREADED_FROM
        assert rows % 2 == 1 and classes % 16 != 0


# ---------------------------------------------------------------------------------------------
# fused against reference: every option the kernel has

W = "class_weight"  # replaced by the size's weights in the test
SPARSE_OPTIONS = (
    {}, {"label_smoothing": 0.1}, {W: W}, {W: W, "convention": "keras"},
    {W: W, "label_smoothing": 0.1}, {W: W, "label_smoothing": 0.1, "convention": "keras"},
    {"ignore_index": IGNORE}, {"ignore_index": IGNORE, W: W, "label_smoothing": 0.1},
    {"z_loss": 1e-3}, {"z_loss": 1e-3, "label_smoothing": 0.1, W: W},
    {"softcap": 5.0}, {"softcap": 5.0, "z_loss": 1e-3, "ignore_index": IGNORE, W: W},
)
DENSE_OPTIONS = (
    {}, {"label_smoothing": 0.1}, {W: W}, {W: W, "convention": "keras"},
    {W: W, "label_smoothing": 0.1}, {W: W, "label_smoothing": 0.1, "convention": "keras"},
    {"z_loss": 1e-3}, {"softcap": 5.0}, {"softcap": 5.0, "z_loss": 1e-3, W: W},
)
OPTION_CASES = [("sparse", o) for o in SPARSE_OPTIONS] + [("dense", o) for o in DENSE_OPTIONS]


def with_weights(options: dict, num_classes: int, rng) -> dict:
    return {k: class_weights(num_classes, rng) if v is W else v for k, v in options.items()}


def option_id(case) -> str:
    name, options = case
    return name + "-" + (",".join(f"{k}={'w' if v is W else v}" for k, v in options.items())
                         or "plain")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("case", OPTION_CASES, ids=map(option_id, OPTION_CASES))
def test_fused_matches_reference_for_every_option(case, size, dtype):
    name, options = case
    rng = np.random.default_rng(1)
    x, target = softmax_problem(name, size, dtype, ignore="ignore_index" in options)
    options = with_weights(options, size[1], rng)
    fused, reference = both(name, x, target, reduction="none", return_lse=True, **options)
    assert_agree(fused, reference, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["sparse", "dense"])
def test_fused_matches_reference_for_every_reduction(name, reduction, weighted, dtype):
    rng = np.random.default_rng(2)
    x, target = softmax_problem(name, SIZES["97x1000"], dtype, ignore=True)
    sw = rng.uniform(0.0, 2.0, size=x.shape[0]) if weighted else None
    if weighted:
        sw[::7] = 0.0
    # Class weights and ignored rows make "mean" divide by Σ w·w_y, not by the row count.
    options = {"class_weight": class_weights(x.shape[1], rng), "label_smoothing": 0.1}
    if name == "sparse":
        options["ignore_index"] = IGNORE
    fused, reference = both(name, x, target, reduction=reduction, sample_weight=sw, **options)
    assert_agree(fused, reference, dtype)


@pytest.mark.parametrize("name", ["sparse", "dense", "sigmoid"])
def test_grad_false_gives_the_same_values_and_no_gradient(name):
    x, target = softmax_problem("dense" if name == "sigmoid" else name, SIZES["97x1000"],
                                np.float32)
    extra = {} if name == "sigmoid" else {"return_lse": True}
    fn = LOSSES[name]
    without = fn(x, target, kernel="fused", reduction="none", grad=False, **extra)
    full = fn(x, target, kernel="fused", reduction="none", **extra)
    assert without.grad is None and not without.grads
    np.testing.assert_array_equal(without.value, full.value)
    assert without.aux.keys() == full.aux.keys()
    for key in full.aux:
        np.testing.assert_array_equal(without.aux[key], full.aux[key])


def test_no_lse_unless_asked():
    x, labels = softmax_problem("sparse", SIZES["97x1000"], np.float32)
    assert not losses.sparse_softmax_cross_entropy(x, labels, kernel="fused").aux


@pytest.mark.parametrize("reduction", ["mean", "sum_over_batch_size", "sum"])
@pytest.mark.parametrize("empty", ["nan", "zero"])
def test_every_row_ignored(empty, reduction):
    x = np.random.default_rng(3).normal(size=SIZES["97x1000"]).astype(np.float32)
    labels = np.full(x.shape[0], IGNORE)
    r = losses.sparse_softmax_cross_entropy(x, labels, kernel="fused", ignore_index=IGNORE,
                                            reduction=reduction, empty=empty)
    expected = 0.0 if reduction == "sum" or empty == "zero" else np.nan
    np.testing.assert_array_equal(r.value, np.float32(expected))
    np.testing.assert_array_equal(r.grad, np.zeros_like(x))
    reference = losses.sparse_softmax_cross_entropy(x, labels, kernel="reference",
                                                    ignore_index=IGNORE, reduction=reduction,
                                                    empty=empty)
    np.testing.assert_array_equal(r.value, reference.value)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sparse", "dense"])
def test_class_axis_1_of_n_c_d_logits(name, dtype):
    rng = np.random.default_rng(4)
    n, c, d = 31, 50, 43  # 66 650 entries: two threads
    x, target = softmax_problem(name, (n, d, c), dtype)
    x = np.ascontiguousarray(np.moveaxis(x, -1, 1))  # (N, C, d), as PyTorch lays it out
    moved = target if name == "sparse" else np.ascontiguousarray(np.moveaxis(target, -1, 1))
    options = {"class_weight": class_weights(c, rng), "label_smoothing": 0.1, "z_loss": 1e-3,
               "return_lse": True, "reduction": "none", "sample_weight": rng.uniform(size=n)}
    fused, reference = both(name, x, moved, axis=1, **options)
    assert fused.grad.shape == x.shape and fused.value.shape == (n, d)
    assert_agree(fused, reference, dtype)
    # The kernel sees the same rows as in a class-last copy, so the numbers are the same bits.
    last = LOSSES[name](np.moveaxis(x, 1, -1).copy(), target, kernel="fused", **options)
    np.testing.assert_array_equal(fused.value, last.value)
    np.testing.assert_array_equal(fused.grad, np.moveaxis(last.grad, -1, 1))


# ---------------------------------------------------------------------------------------------
# determinism


def call_for_determinism(name: str, size: tuple):
    rng = np.random.default_rng(5)
    x, target = softmax_problem("dense" if name == "sigmoid" else name, size, np.float32)
    sw = rng.uniform(size=x.shape[0])
    if name == "sigmoid":
        return losses.sigmoid_binary_cross_entropy(x, target, kernel="fused", sample_weight=sw,
                                                   pos_weight=2.0, label_smoothing=0.1)
    return LOSSES[name](x, target, kernel="fused", sample_weight=sw, label_smoothing=0.1,
                        class_weight=class_weights(size[1], rng), z_loss=1e-3, return_lse=True)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("name", ["sparse", "dense", "sigmoid"])
def test_one_and_two_threads_give_the_same_bits(name, size):
    kernels.set_num_threads(1)
    one = call_for_determinism(name, size)
    kernels.set_num_threads(2)
    two = call_for_determinism(name, size)
    assert_identical(one, two)


# ---------------------------------------------------------------------------------------------
# extreme rows

EXTREME_CLASSES = 37  # two lane groups and a tail: extreme entries sit in both parts


def extreme_rows():
    """float32 logits whose first rows are extreme (the rest ordinary) and labels; each extreme row
    puts its entries in the vectorised part (class 3) and the scalar tail (class 35)."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(12, EXTREME_CLASSES)).astype(np.float32)
    y = rng.integers(0, 3, size=12)  # labels away from the classes made extreme below
    x[0, y[0]] = np.inf                    # +inf on the label: inf − inf
    x[1] = -np.inf                         # every class −inf
    x[2, 35] = np.nan                      # one NaN entry
    x[3, [3, 35]], x[3, y[3]] = 1e9, -1e9  # ±1e9: ℓ = 2e9 exactly
    x[4, [3, 35]], x[4, y[4]] = 1e30, -1e30
    x[5, [3, 35]] = -np.inf                # −inf off the label: finite, gradient 0 there
    x[6, [3, 35]], x[6, y[6]] = -1e30, 1e30
    return x, y


def pattern(a: np.ndarray) -> np.ndarray:
    """0 where finite, 2 for NaN, ±3 for ±inf."""
    return np.where(np.isnan(a), 2, np.where(np.isinf(a), 3 * np.sign(a), 0))


@pytest.mark.parametrize("options", [{}, {"class_weight": "w"}, {"label_smoothing": 0.1}],
                         ids=["plain", "class_weight", "smoothing"])
@pytest.mark.parametrize("name", ["sparse", "dense"])
def test_extreme_rows_match_the_reference_path(name, options):
    x, y = extreme_rows()
    target = y if name == "sparse" else np.eye(EXTREME_CLASSES)[y]
    if "class_weight" in options:
        options = {"class_weight": np.linspace(0.5, 2.0, EXTREME_CLASSES)}
    fused, reference = both(name, x, target, reduction="none", return_lse=True, **options)
    for key, a in (("value", fused.value), ("lse", fused.aux["lse"])):
        b = reference.value if key == "value" else reference.aux["lse"]
        np.testing.assert_array_equal(pattern(a), pattern(b), err_msg=key)
        finite = np.isfinite(b)
        tol.assert_close(a[finite], b[finite], np.float32, err_msg=key)
    # A row whose reference gradient has a NaN is NaN throughout on the fused path (the reference
    # path's dense rows keep finite entries beside it); every other row matches entry by entry.
    poisoned = np.isnan(reference.grad).any(axis=-1)
    assert np.isnan(fused.grad[poisoned]).all()
    kept, expected = fused.grad[~poisoned], reference.grad[~poisoned]
    np.testing.assert_array_equal(pattern(kept), pattern(expected))
    tol.assert_close(kept, expected, np.float32)
    # The rows the brief names, pinned on their own.
    assert np.isnan(fused.value[[0, 1, 2]]).all() and np.isnan(fused.grad[[1, 2]]).all()
    assert np.isfinite(fused.value[7:]).all() and np.isfinite(fused.grad[7:]).all()
    if "label_smoothing" not in options:  # smoothing puts mass on the −inf classes: ℓ = +inf
        assert np.isfinite(fused.value[5]) and (fused.grad[5, [3, 35]] == 0).all()
    if not options:
        np.testing.assert_array_equal(fused.value[[3, 4]], np.float32([2e9, 2e30]))


@pytest.mark.parametrize("name", ["sparse", "dense"])
@pytest.mark.parametrize("row, weights", [([0.0, np.inf, 1.0], None),
                                          ([0.0, np.inf, 1.0], [1.0, 1.0, 1.0]),
                                          ([-np.inf] * 3, [0.0, 1.0, 1.0])],
                         ids=["plus_inf_off_label", "weighted", "zero_weight_all_minus_inf"])
def test_an_infinite_lse_row_matches_the_reference_path(name, row, weights):
    x = np.array([row, [0.5, 0.1, 0.2]], np.float32)
    target = np.array([0, 2]) if name == "sparse" else np.eye(3)[[0, 2]]
    fused, reference = both(name, x, target, reduction="none", class_weight=weights)
    np.testing.assert_array_equal(pattern(fused.value), pattern(reference.value))
    np.testing.assert_array_equal(fused.value[0], reference.value[0])


# ---------------------------------------------------------------------------------------------
# the in-place gradient


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("softcap", [None, 5.0], ids=["plain", "softcap"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("path", ["fused", "reference"])
@pytest.mark.parametrize("name", ["sparse", "dense", "sigmoid"])
def test_inplace_writes_the_gradient_into_the_logits(name, path, reduction, softcap, dtype):
    if name == "sigmoid" and softcap:
        pytest.skip("sigmoid_binary_cross_entropy has no softcap")
    x, target = softmax_problem("dense" if name == "sigmoid" else name, SIZES["97x1000"], dtype)
    options = {"kernel": path, "reduction": reduction,
               "sample_weight": np.linspace(0.5, 1.5, x.shape[0]),
               **({} if name == "sigmoid" else {"softcap": softcap})}
    expected = LOSSES[name](x, target, **options)
    buffer = x.copy()
    r = LOSSES[name](buffer, target, inplace=True, **options)
    assert r.grad is buffer  # the caller's array itself (docs/design-notes.md)
    np.testing.assert_array_equal(buffer, expected.grad)
    np.testing.assert_array_equal(r.value, expected.value)


def read_only(x):
    x.flags.writeable = False
    return x


BAD_BUFFERS = {
    "list": (lambda x: x.tolist(), "list"),
    "read_only": (read_only, "read-only"),
    "non_contiguous": (lambda x: x[:, ::2], "non-contiguous"),
    "float16": (lambda x: x.astype(np.float16), "float16"),
}


@pytest.mark.parametrize("bad", BAD_BUFFERS, ids=BAD_BUFFERS.keys())
@pytest.mark.parametrize("path", ["fused", "reference"])
@pytest.mark.parametrize("name", ["sparse", "dense", "sigmoid"])
def test_inplace_refuses_a_buffer_it_cannot_write(name, path, bad):
    make, described = BAD_BUFFERS[bad]
    x, target = softmax_problem("dense" if name == "sigmoid" else name, (6, 8), np.float32)
    before = x.copy()
    given = make(x)
    if bad == "non_contiguous":  # half the classes
        target = target % (x.shape[1] // 2) if name == "sparse" else target[:, ::2]
    with pytest.raises(OptionError, match=f"inplace=True.*{described}"):
        LOSSES[name](given, target, kernel=path, inplace=True)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("path", ["fused", "reference"])
def test_inplace_refuses_a_class_axis_that_is_not_last(path):
    x, t = softmax_problem("dense", (6, 5, 8), np.float32)  # (N, d, C)
    x, t = np.moveaxis(x, -1, 1).copy(), np.moveaxis(t, -1, 1).copy()  # (N, C, d), C-contiguous
    before = x.copy()
    with pytest.raises(OptionError, match="inplace=True"):
        losses.softmax_cross_entropy(x, t, axis=1, kernel=path, inplace=True)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("softcap", [None, 5.0], ids=["plain", "softcap"])
@pytest.mark.parametrize("path", ["fused", "reference"])
@pytest.mark.parametrize("name", ["sparse", "dense", "sigmoid"])
def test_inplace_without_a_gradient_leaves_the_logits_alone(name, path, softcap):
    if name == "sigmoid" and softcap:
        pytest.skip("sigmoid_binary_cross_entropy has no softcap")
    x, target = softmax_problem("dense" if name == "sigmoid" else name, SIZES["97x1000"],
                                np.float32)
    before = x.copy()
    extra = {} if name == "sigmoid" else {"softcap": softcap}
    r = LOSSES[name](x, target, kernel=path, inplace=True, grad=False, **extra)
    assert r.grad is None
    np.testing.assert_array_equal(x, before)


# ---------------------------------------------------------------------------------------------
# P7 (BENCHMARKS.md): float32 fused against float64, the goal's own numbers


def float64_sparse_ce(x: np.ndarray, labels: np.ndarray, block=64):
    """Mean sparse CE and its gradient in float64 by the plain formula, block by block."""
    n = x.shape[0]
    grad = np.empty(x.shape, np.float64)
    total = 0.0
    for start in range(0, n, block):
        z = x[start:start + block].astype(np.float64)
        rows, y = np.arange(z.shape[0]), labels[start:start + block]
        m = z.max(axis=1, keepdims=True)
        lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
        total += float(np.sum(lse[:, 0] - z[rows, y]))
        g = np.exp(z - lse)
        g[rows, y] -= 1
        grad[start:start + block] = g / n
    return total / n, grad


def test_p7_float32_fused_is_within_1e6_of_float64():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((256, 32768), dtype=np.float32)
    labels = rng.integers(0, x.shape[1], size=x.shape[0])
    r = losses.sparse_softmax_cross_entropy(x, labels, kernel="fused")
    exact, g = float64_sparse_ce(x, labels)
    assert abs(float(r) - exact) <= 1e-6 * abs(exact)
    assert np.max(np.abs(r.grad - g)) <= 1e-6 * np.max(np.abs(g))


# ---------------------------------------------------------------------------------------------
# sigmoid binary cross-entropy

BCE_SHAPE = (1001, 37)  # 37 037 entries: two threads, odd rows, a tail after two lane groups
BCE_OPTIONS = {"plain": {}, "pos_weight": {"pos_weight": 2.5},
               "pos_weight_per_column": {"pos_weight": "columns"},
               "smoothing": {"label_smoothing": 0.1},
               "per_column_smoothing": {"pos_weight": "columns", "label_smoothing": 0.1}}


def bce_problem(dtype, rng):
    """Logits with extreme entries (±1e4, ±40, ±0) against targets 0, 1 and soft ones."""
    x = rng.normal(scale=4.0, size=BCE_SHAPE)
    t = rng.uniform(size=BCE_SHAPE)
    t[::3] = np.round(t[::3])
    extremes = np.array([1e4, -1e4, 40.0, -40.0, 0.0, -0.0])
    for row, target in enumerate((0.0, 1.0, 0.3)):
        x[row, 30:36], t[row, 30:36] = extremes, target
    return x.astype(dtype), t.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighting", ["none", "per_entry", "per_row"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", BCE_OPTIONS.values(), ids=BCE_OPTIONS.keys())
def test_sigmoid_bce_fused_matches_reference(options, reduction, weighting, dtype):
    rng = np.random.default_rng(8)
    x, t = bce_problem(dtype, rng)
    options = {k: rng.uniform(0.5, 3.0, BCE_SHAPE[1]) if v == "columns" else v
               for k, v in options.items()}
    sw = {"none": None, "per_entry": rng.uniform(0.0, 2.0, BCE_SHAPE),
          "per_row": rng.uniform(0.0, 2.0, BCE_SHAPE[0])}[weighting]
    fused, reference = both("sigmoid", x, t, reduction=reduction, sample_weight=sw, **options)
    assert np.isfinite(fused.value).all() and np.isfinite(fused.grad).all()
    assert_agree(fused, reference, dtype)


# ---------------------------------------------------------------------------------------------
# choosing a path; threads


def big(dtype=np.float32) -> np.ndarray:
    """Logits of exactly the size from which "auto" takes the fused kernel."""
    return np.zeros((64, kernels._FUSED_FROM // 64), dtype)


def test_auto_chooses_fused_from_the_threshold_for_contiguous_float32_and_float64():
    assert kernels.fused_chosen("auto", big()) and kernels.fused_chosen("auto", big(np.float64))
    assert not kernels.fused_chosen("auto", big()[:, 1:].copy())  # 64 entries short
    assert not kernels.fused_chosen("auto", big(), softcap=5.0)
    wide = np.zeros((64, 2 * kernels._FUSED_FROM // 64), np.float32)
    assert not kernels.fused_chosen("auto", wide[:, ::2])  # as many entries, not contiguous


@pytest.mark.parametrize("cols, path", [(kernels._FUSED_FROM // 64, "fused"),
                                        (kernels._FUSED_FROM // 64 - 1, "reference")],
                         ids=["at_threshold", "below"])
def test_auto_gives_the_chosen_paths_bits(cols, path):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(64, cols)).astype(np.float32)
    labels = rng.integers(0, cols, size=64)
    auto = losses.sparse_softmax_cross_entropy(x, labels, return_lse=True)
    assert_identical(auto, losses.sparse_softmax_cross_entropy(x, labels, kernel=path,
                                                               return_lse=True))


def test_use_changes_what_auto_means_for_a_block_and_restores_it():
    tiny = np.zeros((2, 3), np.float32)
    with kernels.use("reference"):
        assert not kernels.fused_chosen("auto", big())
        assert kernels.fused_chosen("fused", tiny)  # an explicit kernel= still wins
        with kernels.use("fused"):
            assert kernels.fused_chosen("auto", tiny)
        assert not kernels.fused_chosen("auto", big())
    assert kernels.fused_chosen("auto", big()) and not kernels.fused_chosen("auto", tiny)
    with pytest.raises(RuntimeError), kernels.use("fused"):
        raise RuntimeError("leaves the block")
    assert not kernels.fused_chosen("auto", tiny)


def test_use_and_kernel_refuse_unknown_paths():
    with pytest.raises(OptionError, match="path='gpu'"), kernels.use("gpu"):
        pass
    with pytest.raises(OptionError, match="kernel='gpu'.*'auto', 'fused', 'reference'"):
        losses.sparse_softmax_cross_entropy([[1.0, 2.0]], [0], kernel="gpu")


@pytest.mark.parametrize("setting, tiny_fused, big_fused",
                         [("reference", False, False), ("fused", True, True),
                          ("auto", False, True)])
def test_lossgrad_kernel_sets_what_auto_means(monkeypatch, setting, tiny_fused, big_fused):
    # LOSSGRAD_KERNEL is read once, at import, into the module's state: set it there.
    monkeypatch.setitem(kernels._state, "default", setting)
    assert kernels.fused_chosen("auto", np.zeros((2, 3), np.float32)) is tiny_fused
    assert kernels.fused_chosen("auto", big()) is big_fused


def test_an_unknown_lossgrad_kernel_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setitem(kernels._state, "default", "gpu")
    with pytest.raises(OptionError, match="LOSSGRAD_KERNEL='gpu'"):
        losses.sparse_softmax_cross_entropy([[1.0, 2.0]], [0])


@pytest.mark.parametrize("threads", [0, -1, 1.5, "2", True])
def test_set_num_threads_refuses_anything_but_a_positive_int(threads):
    with pytest.raises(OptionError, match="threads must be a positive int"):
        kernels.set_num_threads(threads)
    assert kernels.get_num_threads() == 2


def test_set_num_threads_takes_numpy_integers():
    kernels.set_num_threads(np.int64(1))
    assert kernels.get_num_threads() == 1 and type(kernels.get_num_threads()) is int


@pytest.mark.parametrize("value", ["0", "abc", "-2"])
def test_a_bad_lossgrad_num_threads_is_refused_naming_the_variable(monkeypatch, value):
    kernels.set_num_threads(None)
    monkeypatch.setenv("LOSSGRAD_NUM_THREADS", value)
    with pytest.raises(OptionError, match="LOSSGRAD_NUM_THREADS"):
        kernels.get_num_threads()


def test_set_num_threads_none_returns_to_the_environment(monkeypatch):
    kernels.set_num_threads(3)
    assert kernels.get_num_threads() == 3
    monkeypatch.setenv("LOSSGRAD_NUM_THREADS", "5")
    kernels.set_num_threads(None)
    assert kernels.get_num_threads() == 5
    monkeypatch.delenv("LOSSGRAD_NUM_THREADS")
    assert kernels.get_num_threads() == len(os.sched_getaffinity(0))
