"""The loss contract, checked for every row of the case table (TESTING.md §2–§4)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import lossgrad
from lossgrad import losses
from lossgrad.errors import (
    DomainError,
    DTypeError,
    LabelRangeError,
    LossgradError,
    OptionError,
    ShapeError,
)
from tests import tolerances as tol
from tests.gradcheck import central_differences
from tests.losses.cases import CASES, option_id

PAIRS = [(case, opts) for case in CASES for opts in case.options]
PAIR_IDS = [f"{case.id}-{option_id(opts)}" for case, opts in PAIRS]
CASE_IDS = [case.id for case in CASES]
REDUCTIONS = ("none", "sum", "mean", "sum_over_batch_size")
BATCH = 5


def make(case, opts, n=BATCH, seed=0):
    """The case's inputs for a batch of n; with ignore_index, every third entry is ignored."""
    rng = np.random.default_rng(seed)
    pred, target = case.inputs(rng, n)
    if "ignore_index" in opts:
        target = target.copy()
        target.reshape(-1)[::3] = opts["ignore_index"]
    return pred, target


def run(case, pred, target, opts, **kw):
    return losses.get(case.name)(pred, target, **opts, **kw)


def entry_count(case, pred):
    """Number of loss entries (the value's size under reduction="none")."""
    return pred.size // pred.shape[-1] if losses.get(case.name).rows else pred.size


# ---------------------------------------------------------------------------------------------
# registry


def test_every_loss_has_a_case():
    assert set(losses.NAMES) == {case.name for case in CASES}


def test_names_resolve_to_themselves():
    for name in losses.NAMES:
        assert losses.get(name).__name__ == name


@pytest.mark.parametrize("name", losses.NAMES)
def test_docstring_has_every_section(name):
    doc = losses.get(name).__doc__
    sections = ["**Value:**", "**Gradient:**", "**Shapes:**", "**Stability:**", "**Parity:**",
                "**Example"]
    positions = [doc.find(s) for s in sections]
    assert all(p >= 0 for p in positions), f"{name} lacks {sections[positions.index(-1)]}"
    assert positions == sorted(positions), f"{name}: sections out of order"
    assert ">>> " in doc


# ---------------------------------------------------------------------------------------------
# values


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_value_matches_reference(case, opts):
    pred, target = make(case, opts)
    result = run(case, pred, target, opts, reduction="none")
    tol.assert_close(result.value, case.reference(pred, target, **opts), np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_lower_precision_matches_reference(case, opts, dtype):
    pred, target = make(case, opts)
    pred = pred.astype(dtype)
    target = target.astype(dtype) if target.dtype.kind == "f" else target
    result = run(case, pred, target, opts, reduction="none")
    assert result.value.dtype == dtype and result.grad.dtype == dtype
    pred64 = pred.astype(np.float64)
    target64 = np.asarray(target, np.float64) if target.dtype.kind == "f" else target
    tol.assert_close(result.value, case.reference(pred64, target64, **opts), dtype)
    # The float64 gradient is itself checked against central differences and the complex step.
    grad64 = run(case, pred64, target64, opts, reduction="none").grad
    tol.assert_close(result.grad, grad64, dtype)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_reductions_agree(case, opts):
    pred, target = make(case, opts)
    none = run(case, pred, target, opts, reduction="none")
    total = run(case, pred, target, opts, reduction="sum")
    batch = run(case, pred, target, opts, reduction="sum_over_batch_size")
    tol.assert_close(total.value, none.value.sum(), np.float64)
    tol.assert_close(total.grad, none.grad, np.float64)
    counted = entry_count(case, pred)
    if "ignore_index" in opts:
        counted = np.count_nonzero(target != opts["ignore_index"])
    tol.assert_close(batch.value, total.value / counted, np.float64)
    tol.assert_close(batch.grad, total.grad / counted, np.float64)
    if "class_weight" not in opts:
        mean = run(case, pred, target, opts, reduction="mean")
        tol.assert_close(mean.value, total.value / counted, np.float64)
        tol.assert_close(mean.grad, total.grad / counted, np.float64)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_sample_weights(case, opts):
    pred, target = make(case, opts)
    none = run(case, pred, target, opts, reduction="none")
    rng = np.random.default_rng(1)
    w = rng.uniform(0.1, 2.0, size=none.value.shape)
    weighted = run(case, pred, target, opts, reduction="none", sample_weight=w)
    tol.assert_close(weighted.value, w * none.value, np.float64)
    ones = run(case, pred, target, opts, reduction="sum", sample_weight=np.ones(none.value.shape))
    tol.assert_close(ones.value, none.value.sum(), np.float64)
    per_sample = w.reshape(len(w), -1)[:, 0]
    prefix = run(case, pred, target, opts, reduction="sum", sample_weight=per_sample)
    full = per_sample.reshape((-1,) + (1,) * (none.value.ndim - 1)) * np.ones(none.value.shape)
    tol.assert_close(prefix.value, np.sum(full * none.value), np.float64)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_grad_false_gives_the_same_value(case, opts):
    pred, target = make(case, opts)
    with_grad = run(case, pred, target, opts, reduction="none")
    without = run(case, pred, target, opts, reduction="none", grad=False)
    assert without.grad is None
    np.testing.assert_array_equal(without.value, with_grad.value)


# ---------------------------------------------------------------------------------------------
# gradients


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_gradient_matches_central_differences(case, opts, reduction, weighted):
    pred, target = make(case, opts, n=3)
    kw = {"reduction": reduction}
    if weighted:
        shape = run(case, pred, target, opts, reduction="none").value.shape
        kw["sample_weight"] = np.random.default_rng(2).uniform(0.1, 2.0, size=shape)
    result = run(case, pred, target, opts, **kw)
    numeric = central_differences(
        lambda p: float(np.sum(run(case, p, target, opts, grad=False, **kw).value)), pred)
    np.testing.assert_allclose(result.grad, numeric, rtol=tol.CENTRAL[0], atol=tol.CENTRAL[1])


@pytest.mark.parametrize("case,opts", [p for p in PAIRS if p[0].analytic],
                         ids=[i for p, i in zip(PAIRS, PAIR_IDS) if p[0].analytic])
def test_gradient_matches_complex_step(case, opts):
    pred, target = make(case, opts, n=3)
    result = run(case, pred, target, opts, reduction="sum")
    h = tol.COMPLEX_STEP
    numeric = np.zeros_like(pred)
    for i in np.ndindex(pred.shape):
        z = pred.astype(complex)
        z[i] += 1j * h
        numeric[i] = np.sum(case.reference(z, target, **opts)).imag / h
    np.testing.assert_allclose(result.grad, numeric, rtol=tol.COMPLEX[0], atol=tol.COMPLEX[1])


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_gradient_directional_on_a_large_batch(case, opts):
    """⟨v, Jᵀu⟩ = ⟨u, Jv⟩ with u as per-entry weights and Jv by a central difference."""
    pred, target = make(case, opts, n=64, seed=3)
    rng = np.random.default_rng(4)
    shape = run(case, pred, target, opts, reduction="none", grad=False).value.shape
    u = rng.uniform(0.1, 1.0, size=shape)
    v = rng.normal(size=pred.shape)
    vjp = run(case, pred, target, opts, reduction="sum", sample_weight=u).grad
    step = 1e-6

    def f(p):
        return np.sum(u * run(case, p, target, opts, reduction="none", grad=False).value)

    jvp = (f(pred + step * v) - f(pred - step * v)) / (2 * step)
    np.testing.assert_allclose(np.sum(v * vjp), jvp, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# inputs: dtypes, layouts, read-only, non-finite, empty


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_inputs_are_never_written_and_may_be_read_only(case, opts):
    pred, target = make(case, opts)
    expected = run(case, pred, target, opts, reduction="none")
    pred_ro, target_ro = pred.copy(), np.array(target)
    pred_ro.flags.writeable = False
    target_ro.flags.writeable = False
    result = run(case, pred_ro, target_ro, opts, reduction="none")
    np.testing.assert_array_equal(pred_ro, pred)
    np.testing.assert_array_equal(target_ro, target)
    np.testing.assert_array_equal(result.value, expected.value)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_views_equal_copies(case, opts):
    pred, target = make(case, opts, n=8)
    views = {
        "fortran": (np.asfortranarray(pred), np.asfortranarray(target), slice(None)),
        "reversed": (pred[::-1], target[::-1], slice(None, None, -1)),
        "strided": (pred[::2], target[::2], slice(None, None, 2)),
    }
    full = run(case, pred, target, opts, reduction="none")
    for kind, (p, t, rows) in views.items():
        result = run(case, p, t, opts, reduction="none")
        np.testing.assert_allclose(result.value, full.value[rows], rtol=1e-14, atol=0,
                                   err_msg=kind)
        np.testing.assert_allclose(result.grad, full.grad[rows], rtol=1e-14, atol=0,
                                   err_msg=kind)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_nan_stays_in_its_row(case, opts):
    pred, target = make(case, opts)
    pred[0].reshape(-1)[0] = np.nan
    result = run(case, pred, target, opts, reduction="none")
    assert np.all(np.isfinite(result.value[1:]))
    assert np.all(np.isfinite(result.grad[1:]))
    with pytest.raises(DomainError, match=r"\[0"):
        run(case, pred, target, opts, check_finite=True)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_empty_batch(case, opts):
    pred, target = make(case, opts)
    pred, target = pred[:0], target[:0]
    none = run(case, pred, target, opts, reduction="none")
    assert none.value.shape[0] == 0 and none.grad.shape == pred.shape
    assert run(case, pred, target, opts, reduction="sum").value == 0
    assert np.isnan(run(case, pred, target, opts, reduction="mean").value)
    zero = run(case, pred, target, opts, reduction="mean", empty="zero")
    assert zero.value == 0 and zero.grad.shape == pred.shape


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_mismatched_shapes_raise(case):
    pred, target = make(case, {})
    with pytest.raises(ShapeError):
        run(case, pred, target[:-1], {})
    with pytest.raises(ShapeError):
        run(case, pred, target[..., None], {})


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_integer_complex_and_object_predictions_raise(case):
    pred, target = make(case, {})
    for bad in (pred.astype(np.int64), pred.astype(complex), pred.astype(object)):
        with pytest.raises(DTypeError):
            run(case, bad, target, {})


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bad_options_and_weights_raise(case):
    pred, target = make(case, {})
    with pytest.raises(OptionError, match="sum_over_batch_size"):
        run(case, pred, target, {}, reduction="avg")
    shape = run(case, pred, target, {}, reduction="none").value.shape
    with pytest.raises(ShapeError):
        run(case, pred, target, {}, sample_weight=np.ones(shape[0] + 1))
    with pytest.raises(DomainError):
        run(case, pred, target, {}, sample_weight=-np.ones(shape))
    with pytest.raises(DomainError):
        run(case, pred, target, {}, sample_weight=np.full(shape, np.nan))


@pytest.mark.parametrize("scale", [1e4, 1e9])
@pytest.mark.parametrize("case", [c for c in CASES if c.domain == "logits"],
                         ids=[c.id for c in CASES if c.domain == "logits"])
def test_extreme_logits_stay_finite(case, scale):
    pred, target = make(case, {})
    result = run(case, pred * scale, target, {}, reduction="none")
    assert np.all(np.isfinite(result.value)) and np.all(np.isfinite(result.grad))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_random_mismatches_raise_lossgrad_errors(case):
    """Any mismatched shape or dtype is a LossgradError, never a silent result."""
    pred, target = make(case, {})
    rng = np.random.default_rng(5)
    for _ in range(20):
        shape = tuple(rng.integers(0, 4, size=rng.integers(1, 4)))
        if shape == target.shape:
            continue
        bad_target = np.zeros(shape, dtype=target.dtype)
        with pytest.raises(LossgradError):
            run(case, pred, bad_target, {})


def test_loss_result_behaves_like_a_number():
    r = losses.sparse_softmax_cross_entropy(np.array([[0.5, 1.5]]), np.array([1]))
    assert isinstance(r, lossgrad.LossResult)
    assert float(r) == pytest.approx(np.log1p(np.exp(-1.0)))
    assert r.item() == float(r) and r.numpy() is r.value
    with pytest.raises(ShapeError):
        float(losses.sparse_softmax_cross_entropy(np.zeros((2, 2)), [0, 1], reduction="none"))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_error_messages_name_what_was_expected_and_got(case):
    pred, target = make(case, {})
    bad = target[:-1]
    with pytest.raises(ShapeError, match=rf"{case.name}.*{re.escape(str(bad.shape))}"):
        run(case, pred, bad, {})
    nan = pred.copy()
    nan[(1,) * nan.ndim] = np.nan
    with pytest.raises(DomainError, match=r"\[1, 1.*finite.*check_finite=False"):
        run(case, nan, target, {}, check_finite=True)
    shape = run(case, pred, target, {}, reduction="none").value.shape
    weights = np.ones(shape)
    weights[(0,) * len(shape)] = -1.0
    with pytest.raises(DomainError, match=r"sample_weight\[0.*-1.*≥ 0"):
        run(case, pred, target, {}, sample_weight=weights)
    if not losses.get(case.name).rows:
        with pytest.raises(OptionError, match="axis"):
            run(case, pred, target, {}, axis=0)


@pytest.mark.parametrize("case", [c for c in CASES if c.labels], ids=[c.id for c in CASES if c.labels])
def test_out_of_range_labels_are_named_never_clamped(case):
    pred, target = make(case, {})
    bad = target.copy()
    bad.reshape(-1)[1] = pred.shape[-1]
    position = ", ".join(map(str, np.unravel_index(1, bad.shape)))
    with pytest.raises(LabelRangeError, match=rf"\[{position}\] = {pred.shape[-1]}"):
        run(case, pred, bad, {})


@pytest.mark.parametrize("bad", [np.inf, True, np.nan])
def test_options_must_be_finite_numbers(bad):
    x = np.array([[0.5, 1.5]])
    with pytest.raises(OptionError, match="label_smoothing"):
        losses.sparse_softmax_cross_entropy(x, [1], label_smoothing=bad)


def test_an_empty_class_axis_and_boolean_lists_are_refused():
    with pytest.raises(ShapeError, match="no classes"):
        losses.softmax_cross_entropy(np.zeros((2, 0)), np.zeros((2, 0)))
    with pytest.raises(DTypeError):
        losses.squared_error([True, False], [1.0, 0.0])
    with pytest.raises(ShapeError, match=r"shape \(3,\), got shape \(\)"):
        losses.sparse_softmax_cross_entropy(np.zeros((2, 3)) + [0, 1, 2], [0, 1], class_weight=2.0)
