"""lossgrad.compat.torch: PyTorch's signatures, defaults, (input, target) order, (N, C, d1, …) layout
and 'mean' semantics, each mapped onto lossgrad's losses (the parity suite checks the numbers
against PyTorch itself: tests/parity/specs_compat.py)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from lossgrad import losses
from lossgrad.compat import torch
from lossgrad.errors import OptionError, ShapeError

RNG = np.random.default_rng(2)
X = RNG.normal(size=(4, 3))
Y = np.array([0, 2, -100, 1])
W = np.array([1.0, 2.0, 0.5])
P = RNG.uniform(0.05, 0.95, size=(4, 3))
T = RNG.integers(0, 2, size=(4, 3)).astype(float)
SIGNS = 2 * T - 1


def assert_same(a, b):
    np.testing.assert_allclose(a.value, b.value, rtol=1e-12)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-15)


def test_cross_entropy_mean_is_normalised_by_the_weights_of_valid_targets():
    r = torch.CrossEntropyLoss(weight=W)(X, Y)
    per = losses.sparse_softmax_cross_entropy(X, Y, ignore_index=-100, class_weight=W,
                                              reduction="none").value
    valid = Y != -100
    np.testing.assert_allclose(r.value, per.sum() / W[Y[valid]].sum())


def test_all_ignored_is_nan():
    r = torch.CrossEntropyLoss()(X, np.full(4, -100))
    assert np.isnan(r.value) and not r.grad.any()


def test_probability_targets_divide_by_the_batch():
    soft = RNG.dirichlet(np.ones(3), size=4)
    r = torch.functional.cross_entropy(X, soft, W, label_smoothing=0.1)
    assert_same(r, losses.softmax_cross_entropy(X, soft, class_weight=W, label_smoothing=0.1,
                                         convention="torch"))
    per = losses.softmax_cross_entropy(X, soft, class_weight=W, label_smoothing=0.1,
                                       reduction="none").value
    np.testing.assert_allclose(r.value, per.mean())


def test_class_axis_is_1_and_0_for_an_unbatched_input():
    x = RNG.normal(size=(2, 3, 4))
    y = RNG.integers(0, 3, size=(2, 4))
    r = torch.CrossEntropyLoss(reduction="none")(x, y)
    assert r.value.shape == (2, 4) and r.grad.shape == x.shape
    assert_same(r, losses.sparse_softmax_cross_entropy(x, y, axis=1, reduction="none"))
    single = torch.CrossEntropyLoss()(X[0], np.int64(2))
    batch_of_one = losses.sparse_softmax_cross_entropy(X[:1], [2])
    np.testing.assert_allclose(single.value, batch_of_one.value)
    np.testing.assert_allclose(single.grad, batch_of_one.grad[0])


def test_nll_loss():
    logp = X - np.log(np.exp(X).sum(axis=1, keepdims=True))
    assert_same(torch.NLLLoss(W)(logp, Y), losses.nll(logp, Y, class_weight=W, ignore_index=-100))


def test_bce_weight_broadcasts_and_mean_divides_by_the_element_count():
    r = torch.BCELoss(weight=W)(P, T)
    per = losses.binary_cross_entropy(P, T, convention="torch", reduction="none").value
    np.testing.assert_allclose(r.value, np.sum(W * per) / P.size)
    with_logits = torch.BCEWithLogitsLoss(W, pos_weight=np.array([1.0, 3.0, 2.0]))(X, T)
    per = losses.sigmoid_binary_cross_entropy(X, T, pos_weight=[1.0, 3.0, 2.0],
                                              reduction="none").value
    np.testing.assert_allclose(with_logits.value, np.sum(W * per) / X.size)


def test_bce_clamps_the_log_at_minus_100():
    assert torch.BCELoss()(np.array([0.0]), np.array([1.0])).item() == 100.0


@pytest.mark.parametrize("module,function,loss,target,options", [
    (torch.MultiMarginLoss(2, 0.5, W), torch.functional.multi_margin_loss, losses.multi_margin,
     Y.clip(0), {"p": 2, "margin": 0.5, "class_weight": W}),
    (torch.MultiLabelSoftMarginLoss(W), torch.functional.multilabel_soft_margin_loss,
     losses.multilabel_soft_margin, T, {"class_weight": W}),
    (torch.SoftMarginLoss(), torch.functional.soft_margin_loss, losses.soft_margin, SIGNS, {}),
    (torch.HingeEmbeddingLoss(0.5), torch.functional.hinge_embedding_loss,
     losses.hinge_embedding, SIGNS, {"margin": 0.5}),
    (torch.MSELoss(), torch.functional.mse_loss, losses.squared_error, P, {}),
    (torch.L1Loss(), torch.functional.l1_loss, losses.absolute_error, P, {}),
    (torch.HuberLoss("mean", 0.5), torch.functional.huber_loss, losses.huber, P, {"delta": 0.5}),
    (torch.SmoothL1Loss(beta=0.5), torch.functional.smooth_l1_loss, losses.smooth_l1, P,
     {"beta": 0.5}),
])
def test_margin_and_regression_modules(module, function, loss, target, options):
    expected = loss(X, target, reduction="sum_over_batch_size", **options)
    assert_same(module(X, target), expected)
    assert_same(module.forward(X, target), expected)
    function_options = {k: v for k, v in module.options.items() if k != "reduction"}
    assert_same(function(X, target, **function_options), expected)


def test_multilabel_margin():
    labels = np.array([[2, 0, -1], [1, -1, -1], [-1, -1, -1], [0, 1, 2]])
    assert_same(torch.MultiLabelMarginLoss(reduction="sum")(X, labels),
         losses.multilabel_margin(X, labels, reduction="sum"))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_reductions(reduction):
    ours = {"mean": "sum_over_batch_size", "sum": "sum", "none": "none"}[reduction]
    assert_same(torch.MSELoss(reduction=reduction)(X, P), losses.squared_error(X, P, reduction=ours))


def test_bad_reduction_and_positional_arguments_after_weight_raise():
    with pytest.raises(OptionError, match="'none'"):
        torch.MSELoss(reduction="batchmean")(X, P)
    with pytest.raises(TypeError):
        torch.CrossEntropyLoss(W, -100)


def test_functional_names_are_pytorch_s():
    assert set(vars(torch.functional)) == {
        "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
        "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss",
        "soft_margin_loss", "hinge_embedding_loss", "mse_loss", "l1_loss", "huber_loss",
        "smooth_l1_loss", "kl_div", "poisson_nll_loss", "gaussian_nll_loss",
        "cosine_embedding_loss", "ctc_loss", "margin_ranking_loss", "triplet_margin_loss"}
    assert inspect.signature(torch.CrossEntropyLoss).parameters["ignore_index"].default == -100


def test_python_lists_are_float32_as_torch_tensors_are():
    r = torch.MSELoss()([[0.5, 1.0]], [[0.0, 1.0]])
    assert r.value.dtype == np.float32 and r.item() == 0.125
    assert repr(torch.MSELoss()) == "MSELoss(reduction='mean')"


def test_kl_div_reductions_batchmean_and_both_gradients():
    logq, t = np.log(P / P.sum(1, keepdims=True)), T / np.maximum(T.sum(1, keepdims=True), 1)
    per = losses.kl_divergence(logq, t, reduction="none")
    batch = torch.KLDivLoss(reduction="batchmean")(logq, t)
    np.testing.assert_allclose(batch.value, per.value.sum() / len(logq))
    np.testing.assert_allclose(batch.grads["targets"], per.grads["targets"] / len(logq))
    np.testing.assert_allclose(torch.functional.kl_div(logq, t).value, per.value.mean())
    logs = torch.KLDivLoss(reduction="sum", log_target=True)(logq, logq)
    assert logs.value == 0
    with pytest.raises(TypeError):
        torch.KLDivLoss("batchmean")


def test_poisson_nll_loss_takes_log_rates_unless_told_rates():
    counts = np.array([[0.0, 1.0, 3.0]])
    log_rates = np.array([[0.5, -1.0, 1.0]])
    assert_same(torch.PoissonNLLLoss()(log_rates, counts),
                losses.log_poisson(log_rates, counts, reduction="sum_over_batch_size"))
    rates = np.exp(log_rates)
    assert_same(torch.PoissonNLLLoss(False, True, eps=1e-3, reduction="sum")(rates, counts),
                losses.poisson(rates, counts, eps=1e-3, full=True, reduction="sum"))
    assert inspect.signature(torch.PoissonNLLLoss).parameters["eps"].default == 1e-8


def test_gaussian_nll_and_cosine_embedding_modules_take_a_third_input():
    var = RNG.uniform(0.5, 2.0, size=4)
    module = torch.GaussianNLLLoss(full=True)
    expected = losses.gaussian_nll(X, P, var, full=True, eps=1e-6,
                                   reduction="sum_over_batch_size")
    assert_same(module(X, P, var), expected)
    assert_same(module.forward(X, P, var), expected)
    assert_same(torch.functional.gaussian_nll_loss(X, P, var, True), expected)
    assert repr(module) == "GaussianNLLLoss(full=True, eps=1e-06, reduction='mean')"
    y = np.array([1, -1, -1, 1])
    embedding = torch.CosineEmbeddingLoss(0.2, reduction="none")(X, P, y)
    assert_same(embedding, losses.cosine_embedding(X, P, y, margin=0.2, reduction="none"))
    single = torch.functional.cosine_embedding_loss(X[0], P[0], np.int64(1), 0.2)
    np.testing.assert_allclose(single.value, embedding.value[0])
    np.testing.assert_allclose(single.grad, embedding.grad[0])


def _ctc_batch():
    """Time-major log-probabilities (T, N, C), padded targets, lengths (one target empty)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 3, 4))
    log_probs = x - np.log(np.exp(x).sum(axis=-1, keepdims=True))
    return log_probs, np.array([[1, 2, 2], [3, 0, 0], [0, 0, 0]]), np.array([6, 4, 5]), \
        np.array([3, 1, 0])


def test_ctc_loss_takes_time_major_input_and_returns_pytorchs_gradient_in_it():
    log_probs, targets, frames, counts = _ctc_batch()
    r = torch.CTCLoss(reduction="none")(log_probs, targets, frames, counts)
    batch_first = losses.ctc(np.swapaxes(log_probs, 0, 1), targets, frames, counts,
                             reduction="none", convention="torch")
    np.testing.assert_array_equal(r.value, batch_first.value)
    np.testing.assert_array_equal(r.grad, np.swapaxes(batch_first.grad, 0, 1))
    assert r.grads["log_probs"] is r.grad
    mean = torch.functional.ctc_loss(log_probs, targets, frames, counts)
    np.testing.assert_allclose(mean.value, np.mean(r.value / [3, 1, 1]))  # lengths ≥ 1
    assert repr(torch.CTCLoss()) == "CTCLoss(blank=0, reduction='mean', zero_infinity=False)"


def test_ctc_loss_reads_concatenated_and_unbatched_targets():
    log_probs, targets, frames, counts = _ctc_batch()
    padded = torch.functional.ctc_loss(log_probs, targets, frames, counts, reduction="sum")
    concatenated = torch.functional.ctc_loss(log_probs, [1, 2, 2, 3], frames, counts,
                                             reduction="sum")
    assert_same(concatenated, padded)
    with pytest.raises(ShapeError, match="1-D targets hold 3 labels.*add up to 4"):
        torch.functional.ctc_loss(log_probs, [1, 2, 2], frames, counts)
    single = torch.CTCLoss(reduction="none")(log_probs[:, 0], [1, 2, 2], 6, 3)
    assert single.value.shape == () and single.grad.shape == (6, 4)
    batch = torch.CTCLoss(reduction="none")(log_probs, targets, frames, counts)
    np.testing.assert_array_equal(single.value, batch.value[0])
    np.testing.assert_array_equal(single.grad, batch.grad[:, 0])


def test_margin_ranking_and_triplet_losses():
    x2 = RNG.normal(size=(4, 3))
    r = torch.MarginRankingLoss(margin=0.5)(X, x2, SIGNS)
    expected = losses.margin_ranking(X, x2, SIGNS, margin=0.5, reduction="sum_over_batch_size")
    assert_same(r, expected)
    np.testing.assert_array_equal(r.grads["x2"], expected.grads["x2"])
    n = RNG.normal(size=(4, 3))
    t = torch.TripletMarginLoss(p=1, swap=True)(X, x2, n)
    assert_same(t, losses.triplet_margin(X, x2, n, p=1, swap=True,
                                         reduction="sum_over_batch_size"))
    assert set(t.grads) == {"anchor", "positive", "negative"}
    unbatched = torch.functional.triplet_margin_loss(X[0], x2[0], n[0], reduction="none")
    assert unbatched.value.shape == () and unbatched.grad.shape == (3,)
    with pytest.raises(OptionError, match="margin must be greater than 0"):
        torch.TripletMarginLoss(margin=0.0)(X, x2, n)
    assert repr(torch.TripletMarginLoss()) == ("TripletMarginLoss(margin=1.0, p=2.0, eps=1e-06, "
                                              "swap=False, reduction='mean')")
