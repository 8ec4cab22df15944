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


def names(case) -> tuple[str, ...]:
    """The loss's input names, in order (the prediction's first)."""
    return losses.get(case.name).inputs


def target_at(case) -> int | None:
    """Where the target is: the first input after the prediction that is not differentiable."""
    return next((i for i, n in enumerate(names(case)) if i and n not in case.wrt), None)


def differentiable(case) -> list[int]:
    """Positions of the inputs with a gradient: the prediction, then those named in ``wrt``."""
    return [0, *(names(case).index(n) for n in case.wrt)]


def gradients(case, result) -> list[np.ndarray]:
    """The result's gradients in the order of :func:`differentiable` (``.grad`` first)."""
    return [result.grad, *(result.grads[n] for n in case.wrt)]


def make(case, opts, n=BATCH, seed=0) -> tuple:
    """The case's inputs for a batch of n; with ignore_index every third target entry is ignored."""
    rng = np.random.default_rng(seed)
    inputs = list(case.inputs(rng, n))
    if "ignore_index" in opts:
        at = target_at(case)
        inputs[at] = inputs[at].copy()
        inputs[at].reshape(-1)[::3] = opts["ignore_index"]
    return tuple(inputs)


def replaced(inputs: tuple, at: int, x) -> tuple:
    return (*inputs[:at], x, *inputs[at + 1:])


def run(case, inputs, opts, **kw):
    return losses.get(case.name)(*inputs, **opts, **kw)


def assert_all_close(actual, expected, dtype, err_msg=""):
    """Every pair of gradients (or values) agrees at the table's tolerance for ``dtype``."""
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        tol.assert_close(got, want, dtype, err_msg=err_msg)


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
    inputs = make(case, opts)
    result = run(case, inputs, opts, reduction="none")
    tol.assert_close(result.value, case.reference(*inputs, **opts), np.float64)


def cast(inputs: tuple, dtype) -> tuple:
    """Every floating input in ``dtype``; labels unchanged."""
    return tuple(x.astype(dtype) if x.dtype.kind == "f" else x for x in inputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_lower_precision_matches_reference(case, opts, dtype):
    low = cast(make(case, opts), dtype)
    result = run(case, low, opts, reduction="none")
    assert result.value.dtype == dtype
    assert [g.dtype for g in gradients(case, result)] == [dtype] * len(differentiable(case))
    exact = cast(low, np.float64)
    tol.assert_close(result.value, case.reference(*exact, **opts), dtype)
    # The float64 gradients are themselves checked against central differences and the complex step.
    assert_all_close(gradients(case, result),
                     gradients(case, run(case, exact, opts, reduction="none")), dtype)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_reductions_agree(case, opts):
    inputs = make(case, opts)
    none = run(case, inputs, opts, reduction="none")
    total = run(case, inputs, opts, reduction="sum")
    batch = run(case, inputs, opts, reduction="sum_over_batch_size")
    tol.assert_close(total.value, none.value.sum(), np.float64)
    assert_all_close(gradients(case, total), gradients(case, none), np.float64)
    counted = none.value.size
    if "ignore_index" in opts:
        counted = np.count_nonzero(inputs[target_at(case)] != opts["ignore_index"])
    per_entry = [g / counted for g in gradients(case, total)]
    tol.assert_close(batch.value, total.value / counted, np.float64)
    assert_all_close(gradients(case, batch), per_entry, np.float64)
    if "class_weight" not in opts:
        divisor = counted if case.mean_weights is None else np.sum(case.mean_weights(*inputs,
                                                                                     **opts))
        mean = run(case, inputs, opts, reduction="mean")
        tol.assert_close(mean.value, total.value / divisor, np.float64)
        assert_all_close(gradients(case, mean), [g / divisor for g in gradients(case, total)],
                         np.float64)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_sample_weights(case, opts):
    inputs = make(case, opts)
    none = run(case, inputs, opts, reduction="none")
    rng = np.random.default_rng(1)
    w = rng.uniform(0.1, 2.0, size=none.value.shape)
    weighted = run(case, inputs, opts, reduction="none", sample_weight=w)
    tol.assert_close(weighted.value, w * none.value, np.float64)
    # Under "none" the gradient is that of Σ wℓ, the same as under "sum".
    assert_all_close(gradients(case, weighted),
                     gradients(case, run(case, inputs, opts, reduction="sum", sample_weight=w)),
                     np.float64)
    ones = run(case, inputs, opts, reduction="sum", sample_weight=np.ones(none.value.shape))
    tol.assert_close(ones.value, none.value.sum(), np.float64)
    assert_all_close(gradients(case, ones),
                     gradients(case, run(case, inputs, opts, reduction="sum")), np.float64)
    if none.value.ndim == 0:
        return  # one value for the whole batch: no per-sample weights to broadcast
    per_sample = w.reshape(len(w), -1)[:, 0]
    prefix = run(case, inputs, opts, reduction="sum", sample_weight=per_sample)
    full = per_sample.reshape((-1,) + (1,) * (none.value.ndim - 1)) * np.ones(none.value.shape)
    tol.assert_close(prefix.value, np.sum(full * none.value), np.float64)
    assert_all_close(gradients(case, prefix),
                     gradients(case, run(case, inputs, opts, reduction="sum", sample_weight=full)),
                     np.float64)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_grad_false_gives_the_same_value(case, opts):
    inputs = make(case, opts)
    with_grad = run(case, inputs, opts, reduction="none")
    without = run(case, inputs, opts, reduction="none", grad=False)
    assert without.grad is None and not without.grads
    np.testing.assert_array_equal(without.value, with_grad.value)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_the_gradients_are_those_the_case_declares(case):
    result = run(case, make(case, {}), {}, reduction="none")
    assert set(result.grads) == {names(case)[i] for i in differentiable(case)}
    assert next(iter(result.grads)) == names(case)[0]
    assert result.grad is result.grads[names(case)[0]]


# ---------------------------------------------------------------------------------------------
# gradients


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_gradient_matches_central_differences(case, opts, reduction, weighted):
    inputs = make(case, opts, n=3)
    kw = {"reduction": reduction}
    if weighted:
        shape = run(case, inputs, opts, reduction="none").value.shape
        kw["sample_weight"] = np.random.default_rng(2).uniform(0.1, 2.0, size=shape)
    result = run(case, inputs, opts, **kw)
    for at, closed in zip(differentiable(case), gradients(case, result)):
        def total(x, at=at):
            return float(np.sum(run(case, replaced(inputs, at, x), opts, grad=False, **kw).value))

        np.testing.assert_allclose(closed, central_differences(total, inputs[at]),
                                   rtol=tol.CENTRAL[0], atol=tol.CENTRAL[1],
                                   err_msg=names(case)[at])


@pytest.mark.parametrize("case,opts", [p for p in PAIRS if p[0].analytic],
                         ids=[i for p, i in zip(PAIRS, PAIR_IDS) if p[0].analytic])
def test_gradient_matches_complex_step(case, opts):
    inputs = make(case, opts, n=3)
    result = run(case, inputs, opts, reduction="sum")
    h = tol.COMPLEX_STEP
    for at, closed in zip(differentiable(case), gradients(case, result)):
        numeric = np.zeros_like(inputs[at])
        for i in np.ndindex(numeric.shape):
            z = inputs[at].astype(complex)
            z[i] += 1j * h
            numeric[i] = np.sum(case.reference(*replaced(inputs, at, z), **opts)).imag / h
        np.testing.assert_allclose(closed, numeric, rtol=tol.COMPLEX[0], atol=tol.COMPLEX[1],
                                   err_msg=names(case)[at])


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_gradient_directional_on_a_large_batch(case, opts):
    """Σₖ ⟨vₖ, Jₖᵀu⟩ = ⟨u, Jv⟩ over the differentiable inputs k, with u as per-entry weights and
    Jv by a central difference along every vₖ at once."""
    inputs = make(case, opts, n=64, seed=3)
    rng = np.random.default_rng(4)
    shape = run(case, inputs, opts, reduction="none", grad=False).value.shape
    u = rng.uniform(0.1, 1.0, size=shape)
    at = differentiable(case)
    vs = [rng.normal(size=inputs[i].shape) for i in at]
    vjp = gradients(case, run(case, inputs, opts, reduction="sum", sample_weight=u))
    step = 1e-6

    def f(sign):
        moved = list(inputs)
        for i, v in zip(at, vs):
            moved[i] = inputs[i] + sign * step * v
        return np.sum(u * run(case, moved, opts, reduction="none", grad=False).value)

    jvp = (f(1) - f(-1)) / (2 * step)
    np.testing.assert_allclose(sum(np.sum(v * g) for v, g in zip(vs, vjp)), jvp,
                               rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# inputs: dtypes, layouts, read-only, non-finite, empty


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_inputs_are_never_written_and_may_be_read_only(case, opts):
    inputs = make(case, opts)
    expected = run(case, inputs, opts, reduction="none")
    frozen = tuple(np.array(x) for x in inputs)
    for x in frozen:
        x.flags.writeable = False
    result = run(case, frozen, opts, reduction="none")
    for x, original in zip(frozen, inputs):
        np.testing.assert_array_equal(x, original)
    np.testing.assert_array_equal(result.value, expected.value)


def batch_views(inputs) -> dict:
    """Non-contiguous views of every input: kind → (views, the batch rows they hold)."""
    return {
        "fortran": (tuple(np.asfortranarray(x) for x in inputs), slice(None)),
        "reversed": (tuple(x[::-1] for x in inputs), slice(None, None, -1)),
        "strided": (tuple(x[::2] for x in inputs), slice(None, None, 2)),
    }


def outputs(case, result, rows=...) -> list[np.ndarray]:
    """The value and every gradient of a reduction="none" result, at the batch ``rows``."""
    return [result.value[rows], *(g[rows] for g in gradients(case, result))]


def assert_same_to_the_last_bits(actual, expected, err_msg):
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0, err_msg=err_msg)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_views_equal_copies(case, opts):
    """TESTING.md's promise, for every loss: a view gives what a contiguous copy of it gives."""
    for kind, (view, _) in batch_views(make(case, opts, n=8)).items():
        copies = tuple(np.array(x, order="C") for x in view)
        assert_same_to_the_last_bits(outputs(case, run(case, view, opts, reduction="none")),
                                     outputs(case, run(case, copies, opts, reduction="none")),
                                     kind)


@pytest.mark.parametrize("case,opts", [p for p in PAIRS if not p[0].coupled],
                         ids=[i for p, i in zip(PAIRS, PAIR_IDS) if not p[0].coupled])
def test_a_slice_of_the_batch_gives_the_slice_of_the_values(case, opts):
    """Each value depends only on its own sample (DESIGN.md §3); not so for coupled losses."""
    inputs = make(case, opts, n=8)
    full = run(case, inputs, opts, reduction="none")
    for kind, (view, rows) in batch_views(inputs).items():
        assert_same_to_the_last_bits(outputs(case, run(case, view, opts, reduction="none")),
                                     outputs(case, full, rows), kind)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_permuting_the_batch_permutes_the_values(case, opts):
    """What holds for every loss, coupled or not: the same samples in another order give the same
    values and gradients in that order (one value for the whole batch stays the same)."""
    inputs = make(case, opts, n=6)
    order = np.random.default_rng(6).permutation(6)
    full = run(case, inputs, opts, reduction="none")
    result = run(case, tuple(x[order] for x in inputs), opts, reduction="none")
    expected = full.value[order] if full.value.ndim else full.value
    tol.assert_close(result.value, expected, np.float64)
    assert_all_close(gradients(case, result), [g[order] for g in gradients(case, full)],
                     np.float64)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_nan_stays_in_its_row(case, opts):
    """A NaN in row 0 of any floating input leaves the other rows' values and gradients finite
    (a coupled loss spreads it over the batch instead, but never hides it: some value is NaN);
    check_finite=True names that input and the index."""
    clean = make(case, opts)
    for at, name in enumerate(names(case)):
        if clean[at].dtype.kind != "f":
            continue
        bad = clean[at].copy()
        bad.reshape(len(bad), -1)[0, 0] = np.nan
        inputs = replaced(clean, at, bad)
        result = run(case, inputs, opts, reduction="none")
        if case.coupled:
            assert np.isnan(result.value).any(), name
        else:
            assert np.all(np.isfinite(result.value[1:])), name
            assert all(np.all(np.isfinite(g[1:])) for g in gradients(case, result)), name
        with pytest.raises(DomainError, match=rf"{name}\[0"):
            run(case, inputs, opts, check_finite=True)


@pytest.mark.parametrize("case,opts", PAIRS, ids=PAIR_IDS)
def test_empty_batch(case, opts):
    inputs = tuple(x[:0] for x in make(case, opts))
    none = run(case, inputs, opts, reduction="none")
    shapes = [inputs[i].shape for i in differentiable(case)]
    assert [g.shape for g in gradients(case, none)] == shapes
    if none.value.ndim == 0:
        return  # one value for the whole batch: an empty batch is an empty mask (family tests)
    assert none.value.shape[0] == 0
    assert run(case, inputs, opts, reduction="sum").value == 0
    assert np.isnan(run(case, inputs, opts, reduction="mean").value)
    zero = run(case, inputs, opts, reduction="mean", empty="zero")
    assert zero.value == 0 and zero.grad.shape == inputs[0].shape


def later_inputs(case, inputs):
    """(position, name) of every input after the prediction."""
    return list(enumerate(names(case)))[1:len(inputs)]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_mismatched_shapes_raise(case):
    """A batch of another size is refused for every input; an extra trailing axis for the target
    and every input of the prediction's shape (another input, such as a variance, may take a
    shape that broadcasts: (N,) or (N, 1) against (N, D))."""
    inputs = make(case, {})
    for at, name in later_inputs(case, inputs):
        with pytest.raises(ShapeError):
            run(case, replaced(inputs, at, inputs[at][:-1]), {})
        if at == target_at(case) or inputs[at].shape == inputs[0].shape:
            with pytest.raises(ShapeError):
                run(case, replaced(inputs, at, inputs[at][..., None]), {})


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_integer_complex_and_object_predictions_raise(case):
    pred, *rest = make(case, {})
    for bad in (pred.astype(np.int64), pred.astype(complex), pred.astype(object)):
        with pytest.raises(DTypeError):
            run(case, (bad, *rest), {})


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bad_options_and_weights_raise(case):
    inputs = make(case, {})
    with pytest.raises(OptionError) as refused:
        run(case, inputs, {}, reduction="avg")
    valid = losses.get(case.name).reductions
    assert set(valid) >= set(REDUCTIONS)
    assert all(repr(r) in str(refused.value) for r in valid), "the message lists every reduction"
    shape = run(case, inputs, {}, reduction="none").value.shape
    with pytest.raises(ShapeError):
        run(case, inputs, {}, sample_weight=np.ones((shape[0] + 1,) if shape else (2,)))
    with pytest.raises(DomainError):
        run(case, inputs, {}, sample_weight=-np.ones(shape))
    with pytest.raises(DomainError):
        run(case, inputs, {}, sample_weight=np.full(shape, np.nan))


@pytest.mark.parametrize("scale", [1e4, 1e9])
@pytest.mark.parametrize("case", [c for c in CASES if c.domain == "logits"],
                         ids=[c.id for c in CASES if c.domain == "logits"])
def test_extreme_logits_stay_finite(case, scale):
    pred, *rest = make(case, {})
    result = run(case, (pred * scale, *rest), {}, reduction="none")
    assert np.all(np.isfinite(result.value))
    assert all(np.all(np.isfinite(g)) for g in gradients(case, result))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_random_mismatches_raise_lossgrad_errors(case):
    """Any mismatched shape of any input is a LossgradError, never a silent result."""
    inputs = make(case, {})
    rng = np.random.default_rng(5)
    for at, name in later_inputs(case, inputs):
        for _ in range(20):
            shape = tuple(rng.integers(0, 4, size=rng.integers(1, 4)))
            if shape == inputs[at].shape:
                continue
            with pytest.raises(LossgradError):
                run(case, replaced(inputs, at, np.zeros(shape, dtype=inputs[at].dtype)), {})


def test_loss_result_behaves_like_a_number():
    r = losses.sparse_softmax_cross_entropy(np.array([[0.5, 1.5]]), np.array([1]))
    assert isinstance(r, lossgrad.LossResult)
    assert float(r) == pytest.approx(np.log1p(np.exp(-1.0)))
    assert r.item() == float(r) and r.numpy() is r.value
    with pytest.raises(ShapeError):
        float(losses.sparse_softmax_cross_entropy(np.zeros((2, 2)), [0, 1], reduction="none"))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_error_messages_name_what_was_expected_and_got(case):
    inputs = make(case, {})
    for at, name in later_inputs(case, inputs):
        bad = inputs[at][:-1]
        with pytest.raises(ShapeError, match=rf"{case.name}.*{re.escape(str(bad.shape))}"):
            run(case, replaced(inputs, at, bad), {})
    nan = inputs[0].copy()
    nan[(1,) * nan.ndim] = np.nan
    with pytest.raises(DomainError, match=r"\[1, 1.*finite.*check_finite=False"):
        run(case, replaced(inputs, 0, nan), {}, check_finite=True)
    shape = run(case, inputs, {}, reduction="none").value.shape
    weights = np.ones(shape)
    weights[(0,) * len(shape)] = -1.0
    index = r"\[0.*" if shape else ""  # one value for the batch: a scalar weight, no index
    with pytest.raises(DomainError, match=rf"sample_weight{index} = -1.*≥ 0"):
        run(case, inputs, {}, sample_weight=weights)
    if losses.get(case.name).kind != "rows":
        with pytest.raises(OptionError, match="axis"):
            run(case, inputs, {}, axis=0)


@pytest.mark.parametrize("case", [c for c in CASES if c.labels], ids=[c.id for c in CASES if c.labels])
def test_out_of_range_labels_are_named_never_clamped(case):
    inputs = make(case, {})
    pred, at = inputs[0], target_at(case)
    bad = inputs[at].copy()
    bad.reshape(-1)[1] = pred.shape[-1]
    position = ", ".join(map(str, np.unravel_index(1, bad.shape)))
    with pytest.raises(LabelRangeError, match=rf"\[{position}\] = {pred.shape[-1]}"):
        run(case, replaced(inputs, at, bad), {})


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
