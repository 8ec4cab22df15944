"""core: the @loss decorator on toy bodies (several inputs, broadcast inputs, row and per-sample
losses, extra reductions), and mean_then_reduce (a reduction="none" result averaged over axes, then
reduced with weights)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from lossgrad import Tensor, losses
from lossgrad.errors import DomainError, OptionError, ShapeError
from lossgrad.losses.core import COMMON_ARGUMENTS, LossResult, Parts, loss, mean_then_reduce
from tests import tolerances as tol
from tests.gradcheck import central_differences

# ---------------------------------------------------------------------------------------------
# toy bodies: small losses whose gradients are easy to state, one per shape of the contract


def _leading(y, x):
    """y with trailing size-1 axes so it lines up with x's leading axes."""
    y = np.asarray(y, dtype=x.dtype)
    return y.reshape(y.shape + (1,) * (x.ndim - y.ndim))


@loss(kind="elementwise")
def scaled_square(x, y, ctx):
    """ℓ = x²·y with y of x's shape or of a leading part of it (size 1 where shared)."""
    y = _leading(y, x)
    return Parts(x * x * y, {"x": 2 * x * y, "y": x * x + 0 * y} if ctx.want_grad else None)


scaled_square_batchmean = loss(kind="elementwise", reductions=("batchmean",))(scaled_square.body)


@loss(kind="rows")
def weighted_row_squares(x, w, s, ctx):
    """ℓ = s·Σ_c w_c x_c² per row: w has the prediction's shape, s one entry per row."""
    s = np.asarray(s)[..., None]
    return Parts(np.sum(s * w * x * x, axis=-1),
                 {"x": 2 * s * w * x, "w": s * x * x, "s": np.sum(w * x * x, axis=-1)})


@loss(kind="per_sample", reductions=("batchmean",))
def squared_distance(anchor, other, ctx):
    """ℓₙ = Σ (aₙ − oₙ)² over every axis but the first."""
    d = anchor - np.asarray(other)
    axes = tuple(range(1, d.ndim))
    return Parts(np.sum(d * d, axis=axes), {"anchor": 2 * d, "other": -2 * d})


@loss(kind="elementwise")
def product(x, y, ctx):
    """ℓ = x·y: each gradient is the other input itself."""
    return Parts(x * y, {"x": y, "y": x})


@loss(kind="elementwise")
def square_of_sum(x, y, ctx):
    """ℓ = (x + y)²: one gradient array serves both inputs."""
    g = 2 * (x + y)
    return Parts((x + y) ** 2, {"x": g, "y": g})


@loss(kind="elementwise")
def trailing_product(x, y, ctx):
    """ℓ = x·y broadcast NumPy's way (y lines up with x's trailing axes): not what the decorator
    sums down, so a (D,) y against (N, D) must be refused."""
    return Parts(x * y, {"x": y * np.ones_like(x), "y": x})


@loss(kind="elementwise")
def batch_product(x, y, ctx):
    """ℓ_i = x_i·Σ_j y_j: every value depends on the whole of y, so the body is coupled and
    returns its VJP, factor ↦ {x: f·Σy, y: Σ f·x everywhere}."""
    y = np.asarray(y, dtype=x.dtype)
    total = np.sum(y)

    def vjp(factor):
        return {"x": factor * total, "y": np.full(y.shape, np.sum(factor * x))}

    return Parts(x * total, vjp if ctx.want_grad else None)


RNG_TOY = np.random.default_rng(7)
X = RNG_TOY.normal(size=(4, 3))
REDUCTIONS = ("none", "sum", "mean", "sum_over_batch_size")


def numeric_grads(fn, inputs: dict, wrt, **kw) -> dict:
    """∂ Σ value / ∂ input for each name in ``wrt``, by central differences."""
    def total(name):
        return lambda a: float(np.sum(fn(**{**inputs, name: a}, grad=False, **kw).value))

    return {name: central_differences(total(name), inputs[name]) for name in wrt}


def assert_grads_match(result, numeric):
    assert list(result.grads)[: len(numeric)] == list(numeric)
    for name, expected in numeric.items():
        np.testing.assert_allclose(result.grads[name], expected, rtol=tol.CENTRAL[0],
                                   atol=tol.CENTRAL[1], err_msg=name)


# ---------------------------------------------------------------------------------------------
# several inputs


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_two_input_gradients_match_central_differences(reduction, weighted):
    inputs = {"x": X, "y": RNG_TOY.uniform(0.5, 2.0, size=X.shape)}
    kw = {"reduction": reduction,
          "sample_weight": np.array([0.5, 1.0, 2.0, 0.25]) if weighted else None}
    result = scaled_square(X, inputs["y"], **kw)
    assert result.grad is result.grads["x"]
    assert_grads_match(result, numeric_grads(scaled_square, inputs, ("x", "y"), **kw))


def test_inputs_are_taken_positionally_or_by_name():
    y = np.full(X.shape, 2.0)
    by_position = scaled_square(X, y, reduction="sum")
    for call in (lambda: scaled_square(X, y=y, reduction="sum"),
                 lambda: scaled_square(y=y, x=X, reduction="sum")):
        result = call()
        np.testing.assert_array_equal(result.value, by_position.value)
        np.testing.assert_array_equal(result.grads["y"], by_position.grads["y"])
    assert scaled_square.inputs == ("x", "y")
    assert list(inspect.signature(scaled_square).parameters)[:3] == ["x", "y", "reduction"]
    with pytest.raises(TypeError, match="scaled_square.*inputs are x, y"):
        scaled_square(X)
    with pytest.raises(TypeError, match="multiple values"):
        scaled_square(X, y, y=y)


@pytest.mark.parametrize("shape", [(4, 1), (4,), (1, 3), ()], ids=str)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_a_broadcast_input_gets_its_gradient_summed_down_to_its_shape(shape, reduction):
    y = RNG_TOY.uniform(0.5, 2.0, size=shape)
    w = RNG_TOY.uniform(0.5, 2.0, size=X.shape)
    result = scaled_square(X, y, reduction=reduction, sample_weight=w)
    assert result.grads["y"].shape == shape
    assert_grads_match(result, numeric_grads(scaled_square, {"x": X, "y": y}, ("x", "y"),
                                             reduction=reduction, sample_weight=w))


def test_an_input_that_does_not_line_up_with_the_leading_axes_is_refused():
    with pytest.raises(ShapeError, match=r"trailing_product: y of shape \(3,\).*\(4, 3\).*leading"):
        trailing_product(X, np.ones(3))


def test_a_gradient_returned_for_two_inputs_or_being_an_input_is_scaled_once_and_never_in_place():
    y = RNG_TOY.normal(size=X.shape)
    x_before, y_before = X.copy(), y.copy()
    for fn in (product, square_of_sum):
        result = fn(X, y, reduction="mean", sample_weight=np.arange(1.0, 5.0))
        assert_grads_match(result, numeric_grads(fn, {"x": X, "y": y}, ("x", "y"), reduction="mean",
                                                 sample_weight=np.arange(1.0, 5.0)))
    np.testing.assert_array_equal(X, x_before)
    np.testing.assert_array_equal(y, y_before)


@pytest.mark.parametrize("dtypes", [(np.float32, np.float16), (np.float16, np.float64),
                                    (np.float64, np.float32)], ids=str)
def test_each_gradient_has_its_own_inputs_dtype(dtypes):
    x, y = X.astype(dtypes[0]), np.full((4, 1), 1.5, dtype=dtypes[1])
    result = scaled_square(x, y, reduction="sum")
    assert result.value.dtype == result.grad.dtype == dtypes[0]
    assert result.grads["y"].dtype == dtypes[1] and result.grads["y"].shape == (4, 1)
    exact = scaled_square(x.astype(np.float64), y.astype(np.float64), reduction="sum")
    tol.assert_close(result.grads["y"], exact.grads["y"], np.float16 if np.float16 in dtypes
                     else np.float32)


def test_a_list_input_gives_a_float64_gradient_and_an_integer_one_the_predictions_dtype():
    x = X.astype(np.float32)
    assert scaled_square(x, [[2.0]] * 4).grads["y"].dtype == np.float64
    assert scaled_square(x, np.full((4, 1), 2)).grads["y"].dtype == np.float32


def test_check_finite_names_the_extra_input_and_the_index():
    y = np.ones(X.shape)
    y[2, 1] = np.inf
    with pytest.raises(DomainError, match=r"scaled_square: y\[2, 1\] = inf"):
        scaled_square(X, y, check_finite=True)
    assert np.isinf(scaled_square(X, y, reduction="none").value[2, 1])
    with pytest.raises(DomainError, match=r"y\[0\] = nan"):
        scaled_square(X, [np.nan, 1.0, 1.0, 1.0], check_finite=True)


# ---------------------------------------------------------------------------------------------
# row losses: inputs of the prediction's shape move with the class axis


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_row_loss_moves_every_input_of_the_predictions_shape(axis):
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(2, 3, 4)), rng.uniform(0.5, 2.0, size=(2, 3, 4))
    rows = np.delete((2, 3, 4), axis % 3)
    s = rng.uniform(0.5, 2.0, size=tuple(rows))
    result = weighted_row_squares(x, w, s, axis=axis, reduction="mean")
    assert [g.shape for g in result.grads.values()] == [x.shape, w.shape, s.shape]
    assert_grads_match(result, numeric_grads(weighted_row_squares, {"x": x, "w": w, "s": s},
                                             ("x", "w", "s"), axis=axis, reduction="mean"))
    last = weighted_row_squares(np.moveaxis(x, axis, -1), np.moveaxis(w, axis, -1), s,
                                reduction="mean")
    np.testing.assert_allclose(result.value, last.value, rtol=1e-15)
    np.testing.assert_allclose(result.grads["w"], np.moveaxis(last.grads["w"], -1, axis),
                               rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# per-sample losses


A = RNG_TOY.normal(size=(4, 2, 3))
O = RNG_TOY.normal(size=(4, 2, 3))
PER_SAMPLE = np.sum((A - O) ** 2, axis=(1, 2))
SW = np.array([0.5, 1.0, 2.0, 0.0])


@pytest.mark.parametrize("reduction,divisor", [("sum", 1.0), ("mean", SW.sum()),
                                               ("sum_over_batch_size", 4.0), ("batchmean", 4.0)])
def test_per_sample_values_and_gradients_scale_per_sample(reduction, divisor):
    result = squared_distance(A, O, reduction=reduction, sample_weight=SW)
    np.testing.assert_allclose(result.value, np.sum(SW * PER_SAMPLE) / divisor, rtol=1e-14)
    expected = 2 * (A - O) * SW[:, None, None] / divisor
    np.testing.assert_allclose(result.grads["anchor"], expected, rtol=1e-14)
    np.testing.assert_allclose(result.grads["other"], -expected, rtol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS + ("batchmean",))
@pytest.mark.parametrize("weighted", [False, True])
def test_per_sample_gradients_match_central_differences(reduction, weighted):
    kw = {"reduction": reduction, "sample_weight": SW if weighted else None}
    result = squared_distance(A, O, **kw)
    assert result.value.shape == ((4,) if reduction == "none" else ())
    assert_grads_match(result, numeric_grads(squared_distance, {"anchor": A, "other": O},
                                             ("anchor", "other"), **kw))


def test_per_sample_losses_take_no_axis_and_need_a_sample_axis():
    assert "axis" not in inspect.signature(squared_distance).parameters
    with pytest.raises(OptionError, match="one value per sample and takes no axis"):
        squared_distance(A, O, axis=1)
    with pytest.raises(ShapeError, match="anchor needs a first"):
        squared_distance(np.float64(1.0), 2.0)


# ---------------------------------------------------------------------------------------------
# coupled bodies: the decorator calls the body's VJP with the reduction's weights


Y = RNG_TOY.normal(size=X.shape)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_a_coupled_body_gets_the_reduction_weights_instead_of_a_product(reduction, weighted):
    kw = {"reduction": reduction, "sample_weight": np.arange(1.0, 5.0) if weighted else None}
    result = batch_product(X, Y, **kw)
    assert_grads_match(result, numeric_grads(batch_product, {"x": X, "y": Y}, ("x", "y"), **kw))


def test_the_vjp_of_a_coupled_result_takes_any_cotangent():
    w = RNG_TOY.uniform(0.5, 2.0, size=X.shape)
    u = RNG_TOY.uniform(0.1, 3.0, size=X.shape)  # positive: compared with u·w as weights
    none = batch_product(X, Y, reduction="none", sample_weight=w)
    expected = batch_product(X, Y, reduction="sum", sample_weight=u * w).grads
    for name, g in none.vjp(u).items():
        np.testing.assert_allclose(g, expected[name], rtol=1e-14, err_msg=name)
    mean = batch_product(X, Y, reduction="mean")
    for name, g in mean.vjp(2.5).items():
        np.testing.assert_allclose(g, 2.5 * mean.grads[name], rtol=1e-14, err_msg=name)
    with pytest.raises(ShapeError, match=r"cotangent of shape \(3,\).*\(4, 3\)"):
        none.vjp(np.ones(3))
    assert scaled_square(X, Y).vjp is None, "an independent loss's VJP is the cotangent × grads"
    assert batch_product(X, Y, grad=False).grads == {}


def test_a_coupled_loss_on_tensors_weighs_its_unreduced_values_through_its_own_vjp():
    """Each value of a coupled loss depends on the whole batch, so the engine cannot scale
    per-value gradients by the cotangent: the loss's own VJP must be used, whatever weights the
    unreduced values get downstream (here u, uneven)."""
    u = RNG_TOY.uniform(0.1, 3.0, size=X.shape)
    x = Tensor(X, requires_grad=True)
    (batch_product(x, Y, reduction="none") * u).sum().backward()
    np.testing.assert_allclose(
        x.grad, batch_product(X, Y, reduction="sum", sample_weight=u).grad, rtol=1e-14)
    x.grad = None
    batch_product(x, Y, reduction="sum", sample_weight=np.arange(1.0, 5.0)).backward()
    np.testing.assert_allclose(
        x.grad, batch_product(X, Y, reduction="sum", sample_weight=np.arange(1.0, 5.0)).grad,
        rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# extra reductions


def test_batchmean_divides_by_the_batch_size_not_the_number_of_entries():
    y = np.full(X.shape, 0.5)
    total = scaled_square_batchmean(X, y, reduction="sum")
    batch = scaled_square_batchmean(X, y, reduction="batchmean")
    np.testing.assert_allclose(batch.value, total.value / len(X), rtol=1e-15)
    np.testing.assert_allclose(batch.grads["y"], total.grads["y"] / len(X), rtol=1e-15)
    np.testing.assert_allclose(
        scaled_square_batchmean(X, y, reduction="sum_over_batch_size").value,
        total.value / X.size, rtol=1e-15)


@pytest.mark.parametrize("empty,expected", [("nan", np.nan), ("zero", 0.0)])
def test_batchmean_of_an_empty_batch_follows_the_empty_policy(empty, expected):
    result = squared_distance(A[:0], O[:0], reduction="batchmean", empty=empty)
    np.testing.assert_equal(result.value, expected)
    assert result.grads["other"].shape == (0, 2, 3)


def test_only_losses_that_declare_batchmean_take_it_and_say_so():
    with pytest.raises(OptionError, match="'batchmean'") as refused:
        scaled_square_batchmean(X, X, reduction="avg")
    assert "'sum_over_batch_size'" in str(refused.value)
    with pytest.raises(OptionError) as refused:
        scaled_square(X, X, reduction="batchmean")
    assert "batchmean" not in str(refused.value).split("choose")[1]
    assert scaled_square_batchmean.reductions[-1] == "batchmean"
    assert "batchmean" in scaled_square_batchmean.__doc__
    assert "batchmean" not in scaled_square.__doc__
    assert "batchmean" not in COMMON_ARGUMENTS
    assert all("batchmean" not in losses.get(name).__doc__ for name in losses.NAMES
               if "batchmean" not in losses.get(name).reductions)


def test_the_decorator_refuses_unknown_kinds_and_reductions():
    with pytest.raises(OptionError, match="kind='row'.*'per_sample'"):
        loss(kind="row")
    with pytest.raises(OptionError, match="reductions='batch_mean'.*'batchmean'"):
        loss(kind="elementwise", reductions=("batch_mean",))


# ---------------------------------------------------------------------------------------------
# mean_then_reduce

RNG = np.random.default_rng(0)
PROBS = RNG.uniform(0.05, 0.95, size=(4, 3))
TARGETS = RNG.uniform(0, 1, size=(4, 3))
LOGITS = RNG.normal(size=(4, 3))
WEIGHTS = np.array([0.5, 1.0, 2.0, 0.0])


def bce_none():
    return losses.binary_cross_entropy(PROBS, TARGETS, reduction="none")


def test_per_sample_means_and_their_gradient():
    r = mean_then_reduce(bce_none())
    np.testing.assert_allclose(r.value, bce_none().value.mean(axis=-1))
    np.testing.assert_allclose(r.grad, bce_none().grad / 3)


@pytest.mark.parametrize("reduction,divisor", [("sum", 1.0), ("sum_over_batch_size", 4.0),
                                               ("mean", WEIGHTS.sum())])
def test_weighted_reductions_of_the_means(reduction, divisor):
    r = mean_then_reduce(bce_none(), reduction=reduction, sample_weight=WEIGHTS)
    means = bce_none().value.mean(axis=-1)
    np.testing.assert_allclose(r.value, np.sum(WEIGHTS * means) / divisor)
    np.testing.assert_allclose(r.grad, bce_none().grad * WEIGHTS[:, None] / 3 / divisor)


def test_gradient_matches_central_differences():
    def total(p):
        return float(mean_then_reduce(losses.binary_cross_entropy(p, TARGETS, reduction="none"),
                                      reduction="mean", sample_weight=WEIGHTS).value)

    numeric = np.zeros_like(PROBS)
    for i in np.ndindex(PROBS.shape):
        step = np.zeros_like(PROBS)
        step[i] = 1e-6
        numeric[i] = (total(PROBS + step) - total(PROBS - step)) / 2e-6
    r = mean_then_reduce(bce_none(), reduction="mean", sample_weight=WEIGHTS)
    np.testing.assert_allclose(r.grad, numeric, rtol=1e-7, atol=1e-7)


def test_axis_none_is_the_mean_of_everything_and_empty_axes_average_nothing():
    whole = mean_then_reduce(bce_none(), None)
    assert whole.value.shape == ()
    np.testing.assert_allclose(whole.value, losses.binary_cross_entropy(PROBS, TARGETS).value)
    np.testing.assert_allclose(whole.grad, losses.binary_cross_entropy(PROBS, TARGETS).grad)
    summed = mean_then_reduce(bce_none(), (), reduction="sum")
    np.testing.assert_allclose(summed.value, bce_none().value.sum())


def test_a_leading_axis():
    r = mean_then_reduce(bce_none(), 0)
    np.testing.assert_allclose(r.value, bce_none().value.mean(axis=0))
    np.testing.assert_allclose(r.grad, bce_none().grad / 4)


def test_a_row_loss_gradient_keeps_its_class_axis():
    labels = np.array([0, 2, 1, 1])
    r = mean_then_reduce(losses.sparse_softmax_cross_entropy(LOGITS, labels, reduction="none"),
                         None)
    mean = losses.sparse_softmax_cross_entropy(LOGITS, labels)
    np.testing.assert_allclose(r.value, mean.value)
    np.testing.assert_allclose(r.grad, mean.grad)
    assert r.grads["logits"] is r.grad


@pytest.mark.parametrize("empty,expected", [("zero", 0.0), ("nan", np.nan)])
def test_zero_weights_follow_the_empty_policy(empty, expected):
    r = mean_then_reduce(bce_none(), reduction="mean", sample_weight=np.zeros(4), empty=empty)
    np.testing.assert_equal(r.value, expected)
    assert not r.grad.any()


def test_without_a_gradient():
    r = mean_then_reduce(losses.binary_cross_entropy(PROBS, TARGETS, reduction="none", grad=False))
    assert r.grad is None and r.value.shape == (4,)


def test_float32_stays_float32():
    r = losses.binary_cross_entropy(PROBS.astype(np.float32), TARGETS, reduction="none")
    out = mean_then_reduce(r, reduction="sum_over_batch_size", sample_weight=WEIGHTS)
    assert out.value.dtype == out.grad.dtype == np.float32


def test_bad_arguments_raise():
    with pytest.raises(OptionError, match="axis=2"):
        mean_then_reduce(bce_none(), 2)
    with pytest.raises(OptionError, match="repeats"):
        mean_then_reduce(bce_none(), (1, -1))
    with pytest.raises(OptionError, match="reduction"):
        mean_then_reduce(bce_none(), reduction="batch")
    with pytest.raises(ShapeError, match="sample_weight"):
        mean_then_reduce(bce_none(), sample_weight=np.ones(3))
    misaligned = LossResult(np.ones((2, 3)), np.ones((2, 4, 3)))  # class axis 1, not last
    with pytest.raises(ShapeError, match="class axis last"):
        mean_then_reduce(misaligned)
    # A gradient already summed down to a shared input cannot be re-weighted entry by entry.
    with pytest.raises(ShapeError, match=r"\(4, 1\)"):
        mean_then_reduce(scaled_square(X, np.ones((4, 1)), reduction="none"))
