"""The CTC losses (losses/sequence.py) beyond the generic contract: infeasible samples and
zero_infinity, empty inputs and labels, repeated labels, padding, long inputs, the identities that
tie ctc, softmax_ctc and the "torch" gradient together, PyTorch's mean, bad inputs, speed, and
live checks of the framework differences docs/conventions.md lists.

Expected values come from the brute-force reference of cases_sequence.py (a sum over listed
paths), from a single path written out by hand where only one path exists, or from an identity
with another lossgrad function.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lossgrad import losses
from lossgrad.autodiff import Tensor, log_softmax
from lossgrad.errors import (
    DomainError,
    DTypeError,
    LabelRangeError,
    OptionError,
    ProbabilitiesAsLogitsWarning,
    ShapeError,
)
from tests import tolerances as tol
from tests.losses.cases import CASES  # noqa: F401  (first: the table imports each family's rows)
from tests.losses import cases_sequence as ref

RNG = np.random.default_rng(7)


def log_probabilities(shape, rng=RNG):
    x = rng.normal(scale=2.0, size=shape)
    return x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))


def frames_mask(frames, t_max):
    """(N, T, 1): True on each sample's frames."""
    return (np.arange(t_max) < np.asarray(frames)[:, None])[..., None]


# ---------------------------------------------------------------------------------------------
# infeasible samples, empty inputs and labels, repeats, padding


INFEASIBLE = {
    "labels": np.array([[1, 1, 0], [1, 2, 3], [2, 3, 0]]),
    "input_lengths": np.array([2, 2, 4]),  # [1, 1] needs 3 frames, [1, 2, 3] needs 3
    "label_lengths": np.array([2, 3, 2]),
}


@pytest.mark.parametrize("convention", ["exact", "torch"])
def test_infeasible_samples_are_inf_with_a_zero_gradient(convention):
    x = log_probabilities((3, 4, 4))
    r = losses.ctc(x, **INFEASIBLE, reduction="none", convention=convention)
    expected = ref.ref_ctc(x, *INFEASIBLE.values())
    np.testing.assert_array_equal(r.value[:2], [np.inf, np.inf])
    tol.assert_close(r.value, expected, np.float64)
    assert not r.grad[:2].any()
    assert np.all(np.isfinite(r.grad[2])) and r.grad[2].any()
    zeroed = losses.ctc(x, **INFEASIBLE, reduction="none", convention=convention,
                        zero_infinity=True)
    np.testing.assert_array_equal(zeroed.value, [0.0, 0.0, r.value[2]])
    np.testing.assert_array_equal(zeroed.grad, r.grad)
    mean = losses.ctc(x, **INFEASIBLE, convention=convention, zero_infinity=True)
    tol.assert_close(mean.value, r.value[2] / 3, np.float64)
    tol.assert_close(mean.grad, r.grad / 3, np.float64)


def test_a_needed_class_with_probability_zero_is_infeasible_an_unneeded_one_is_not():
    z = RNG.normal(size=(2, 4, 4))
    z[0, :, 1] = -np.inf  # sample 0 needs class 1 in some frame
    z[1, :, 3] = -np.inf  # sample 1 never emits class 3
    x = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    labels, frames, counts = np.array([[1, 2], [1, 2]]), np.array([4, 4]), np.array([2, 2])
    for loss, scores in ((losses.ctc, x), (losses.softmax_ctc, z)):
        r = loss(scores, labels, frames, counts, reduction="none")
        assert r.value[0] == np.inf and not r.grad[0].any()
        tol.assert_close(r.value[1:], ref.ref_ctc(x[1:], labels[1:], frames[1:], counts[1:]),
                         np.float64)
        assert np.all(np.isfinite(r.grad[1])) and not r.grad[1, :, 3].any()


def test_repeated_labels_need_a_blank_between_them():
    """[1, 1] over three frames has exactly one path, 1 0 1; over two frames none."""
    x = log_probabilities((1, 3, 3))
    labels, counts = np.array([[1, 1]]), np.array([2])
    r = losses.ctc(x, labels, [3], counts, reduction="none")
    tol.assert_close(r.value, [-(x[0, 0, 1] + x[0, 1, 0] + x[0, 2, 1])], np.float64)
    one_path = np.zeros((1, 3, 3))
    one_path[0, [0, 1, 2], [1, 0, 1]] = -1.0
    np.testing.assert_allclose(r.grad, one_path, rtol=0, atol=1e-15)
    assert losses.ctc(x, labels, [2], counts, reduction="none").value[0] == np.inf


def test_no_frames_fit_only_the_empty_label_sequence():
    x = log_probabilities((3, 2, 3))
    r = losses.ctc(x, np.array([[0], [1], [1]]), [0, 0, 2], [0, 1, 0], reduction="none")
    np.testing.assert_array_equal(r.value[:2], [0.0, np.inf])
    tol.assert_close(r.value[2], -(x[2, 0, 0] + x[2, 1, 0]), np.float64)  # blanks only
    assert not r.grad[:2].any()
    empty = losses.ctc(np.zeros((2, 0, 3)), np.ones((2, 1), int), [0, 0], [0, 1],
                       reduction="none")
    np.testing.assert_array_equal(empty.value, [0.0, np.inf])
    assert empty.grad.shape == (2, 0, 3)


@pytest.mark.parametrize("loss", [losses.ctc, losses.softmax_ctc], ids=["ctc", "softmax_ctc"])
def test_padding_frames_and_labels_are_never_read(loss):
    x = log_probabilities((3, 6, 4))
    labels = np.array([[1, 2, 0], [3, 3, 0], [2, 0, 0]])
    frames, counts = np.array([6, 4, 3]), np.array([2, 2, 1])
    r = loss(x, labels, frames, counts, reduction="none")
    noisy = np.where(frames_mask(frames, 6), x, np.nan)
    other = np.where(np.arange(3) < counts[:, None], labels, [[-5], [99], [7]])
    s = loss(noisy, other, frames, counts, reduction="none")
    np.testing.assert_array_equal(s.value, r.value)
    np.testing.assert_array_equal(s.grad, r.grad)
    assert not r.grad[~np.broadcast_to(frames_mask(frames, 6), r.grad.shape)].any()


def test_long_inputs_do_not_underflow():
    """2000 frames whose path probabilities are far below the smallest float: the log-space
    recursion stays finite, an empty label sequence costs exactly −Σ log P(blank), and each
    frame's occupancy still sums to 1."""
    x = log_probabilities((2, 2000, 3), np.random.default_rng(0))
    r = losses.ctc(x, np.array([[1, 2], [1, 2]]), [2000, 2000], [0, 2], reduction="none")
    tol.assert_close(r.value[0], -np.sum(x[0, :, 0]), np.float64)
    assert np.isfinite(r.value[1]) and r.value[1] > 700  # p(y | x) < 1e-300
    np.testing.assert_allclose(-r.grad.sum(axis=-1), 1.0, rtol=0, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# identities


@st.composite
def ctc_inputs(draw):
    """Small random inputs, feasible or not, with the blank anywhere and repeated labels."""
    n, t_max = draw(st.integers(1, 3)), draw(st.integers(0, 4))
    num_classes = draw(st.integers(2, 4))
    blank = draw(st.integers(0, num_classes - 1))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    classes = [c for c in range(num_classes) if c != blank]
    labels = rng.choice(classes, size=(n, 3))
    return (log_probabilities((n, t_max, num_classes), rng), labels,
            rng.integers(0, t_max + 1, size=n), rng.integers(0, 4, size=n), blank)


@given(ctc_inputs())
def test_ctc_equals_the_sum_over_listed_paths(inputs):
    x, labels, frames, counts, blank = inputs
    r = losses.ctc(x, labels, frames, counts, blank=blank, reduction="none")
    tol.assert_close(r.value, ref.ref_ctc(x, labels, frames, counts, blank=blank), np.float64)
    feasible = np.isfinite(r.value)
    occupancy = -r.grad.sum(axis=-1)  # each frame of a feasible sample emits exactly one class
    expected = frames_mask(frames, x.shape[1])[..., 0] & feasible[:, None]
    np.testing.assert_allclose(occupancy, expected.astype(float), rtol=0, atol=1e-12)


@given(ctc_inputs(), st.floats(-20, 20))
def test_softmax_ctc_is_ctc_of_log_softmax_and_shift_invariant(inputs, shift):
    x, labels, frames, counts, blank = inputs
    z = x * 1.7 + shift  # logits whose log_softmax is not x
    logp = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    soft = losses.softmax_ctc(z, labels, frames, counts, blank=blank, reduction="none")
    plain = losses.ctc(logp, labels, frames, counts, blank=blank, reduction="none",
                       convention="torch")
    tol.assert_close(soft.value, plain.value, np.float64)
    tol.assert_close(soft.grad, plain.grad, np.float64)
    unshifted = losses.softmax_ctc(z - shift, labels, frames, counts, blank=blank,
                                   reduction="none")
    np.testing.assert_allclose(unshifted.value, soft.value, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(unshifted.grad, soft.grad, rtol=1e-9, atol=1e-12)


def test_the_torch_gradient_adds_exp_x_on_each_sample_s_frames():
    """For any x, normalised or not: "torch" − "exact" = exp(x) on the frames, 0 past them;
    the values are the same."""
    x = RNG.normal(size=(3, 5, 4))  # not normalised
    labels, frames, counts = np.array([[1, 2], [3, 3], [2, 1]]), np.array([5, 3, 4]), [2, 2, 1]
    exact = losses.ctc(x, labels, frames, counts, reduction="sum")
    torch_like = losses.ctc(x, labels, frames, counts, reduction="sum", convention="torch")
    np.testing.assert_array_equal(torch_like.value, exact.value)
    tol.assert_close(torch_like.grad - exact.grad, np.exp(x) * frames_mask(frames, 5), np.float64)


@pytest.mark.parametrize("convention", ["exact", "torch"])
def test_both_gradients_give_softmax_ctc_s_through_log_softmax(convention):
    """A network ending in log_softmax trains the same with either convention (the engine
    chains the loss's gradient through its log_softmax op)."""
    z = RNG.normal(size=(2, 5, 4))
    labels, frames, counts = np.array([[1, 2, 1], [3, 0, 0]]), np.array([5, 4]), np.array([3, 1])
    logits = Tensor(z, requires_grad=True)
    losses.ctc(log_softmax(logits, axis=-1), labels, frames, counts, reduction="sum",
               convention=convention).backward()
    expected = losses.softmax_ctc(z, labels, frames, counts, reduction="sum").grad
    tol.assert_close(logits.grad, expected, np.float64)


def test_divide_by_label_length_with_mean_is_pytorchs_mean():
    x = log_probabilities((3, 5, 4))
    labels, frames, counts = np.array([[1, 2, 3], [2, 0, 0], [1, 0, 0]]), [5, 5, 4], [3, 0, 1]
    per_sample = losses.ctc(x, labels, frames, counts, reduction="none")
    mean = losses.ctc(x, labels, frames, counts, divide_by_label_length=True)
    tol.assert_close(mean.value, np.mean(per_sample.value / [3, 1, 1]), np.float64)
    tol.assert_close(mean.grad, per_sample.grad / np.array([3, 1, 1])[:, None, None] / 3,
                     np.float64)


def test_framework_names_resolve_by_their_input_domain():
    assert losses.get("CTCLoss") is losses.ctc and losses.get("ctc_loss") is losses.ctc
    assert losses.get("CTC") is losses.softmax_ctc  # keras.losses.CTC takes logits
    assert losses.get("ctc") is losses.ctc


def test_probabilities_given_as_logits_warn():
    p = np.exp(log_probabilities((2, 3, 4)))
    with pytest.warns(ProbabilitiesAsLogitsWarning, match="ctc"):
        losses.softmax_ctc(p, np.array([[1], [2]]), [3, 3], [1, 1])


def test_typical_sizes_take_milliseconds():
    """T = 100, N = 16, C = 30: the recursion loops over frames only (about 10 ms here); the
    bound leaves a wide margin for slow machines and still fails a per-sample Python loop."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 100, 30))
    labels = rng.integers(1, 30, size=(16, 20))
    frames, counts = rng.integers(60, 101, size=16), rng.integers(1, 21, size=16)
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        losses.softmax_ctc(x, labels, frames, counts)
        best = min(best, time.perf_counter() - start)
    assert best < 0.25


# ---------------------------------------------------------------------------------------------
# bad inputs

X = log_probabilities((2, 4, 3))
GOOD = {"labels": np.array([[1, 2], [2, 0]]), "input_lengths": np.array([4, 3]),
        "label_lengths": np.array([2, 1])}

BAD = [
    ("time-major 2-D", {"log_probs": X[0]}, ShapeError, r"ctc: .*\(N, T, C\).*\(4, 3\)"),
    ("no classes", {"log_probs": np.zeros((2, 4, 0))}, ShapeError, "no classes"),
    ("blank out of range", {"blank": 3}, OptionError, r"blank=3 .*\[0, 3\)"),
    ("blank bool", {"blank": True}, OptionError, "blank=True"),
    ("float input lengths", {"input_lengths": np.array([4.0, 3.0])}, DTypeError,
     "input_lengths must be integers.*float64"),
    ("lengths per sample", {"label_lengths": np.array([[2], [1]])}, ShapeError,
     r"label_lengths of shape \(2, 1\).*\(2,\)"),
    ("negative length", {"input_lengths": np.array([4, -1])}, DomainError,
     r"input_lengths\[1\] = -1 is negative"),
    ("input longer than T", {"input_lengths": np.array([5, 3])}, ShapeError,
     r"input_lengths\[0\] = 5 exceeds the number of frames T, 4"),
    ("labels longer than S", {"label_lengths": np.array([2, 3])}, ShapeError,
     r"label_lengths\[1\] = 3 exceeds the labels' padded length S, 2"),
    ("float labels", {"labels": np.array([[1.0, 2.0], [2.0, 0.0]])}, DTypeError,
     "labels must be integer.*float64"),
    ("1-D labels", {"labels": np.array([1, 2, 2])}, ShapeError,
     r"labels of shape \(3,\).*\(2, S\).*concatenated"),
    ("label out of range", {"labels": np.array([[1, 3], [2, 0]])}, LabelRangeError,
     r"labels\[0, 1\] = 3 is outside \[0, 3\)"),
    ("negative label", {"labels": np.array([[1, 2], [-1, 0]])}, LabelRangeError,
     r"labels\[1, 0\] = -1"),
    ("blank inside a label", {"labels": np.array([[1, 0], [2, 0]]), "label_lengths": [2, 1]},
     LabelRangeError, r"labels\[0, 1\] = 0 is the blank \(blank=0\).*label_lengths\[0\]"),
    ("the blank elsewhere", {"blank": 2}, LabelRangeError, r"labels\[0, 1\] = 2 is the blank"),
    ("convention", {"convention": "keras"}, OptionError, "'exact', 'torch'"),
]


@pytest.mark.parametrize("change,error,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_inputs_raise_typed_errors_naming_the_fix(change, error, message):
    arguments = {"log_probs": X, **GOOD, **change}
    with pytest.raises(error, match=message):
        losses.ctc(**arguments)


def test_padding_may_hold_anything_even_out_of_range():
    r = losses.ctc(X, np.array([[1, 2], [2, -7]]), GOOD["input_lengths"], GOOD["label_lengths"])
    tol.assert_close(r.value, losses.ctc(X, **GOOD).value, np.float64)


# ---------------------------------------------------------------------------------------------
# live: the framework differences docs/conventions.md lists


@pytest.mark.live
def test_pytorch_gives_infeasible_samples_a_nan_gradient_lossgrad_zero():
    from tests.parity import frameworks

    fw = frameworks.load()
    x = log_probabilities((3, 4, 4))
    log_probs = fw.torch.tensor(np.swapaxes(x, 0, 1).copy(), requires_grad=True)
    out = fw.F.ctc_loss(log_probs, *(fw.torch.tensor(a) for a in INFEASIBLE.values()),
                        reduction="none")
    out.sum().backward()
    theirs = np.swapaxes(log_probs.grad.numpy(), 0, 1)
    ours = losses.ctc(x, **INFEASIBLE, reduction="none", convention="torch")
    np.testing.assert_array_equal(out.detach().numpy()[:2], ours.value[:2])  # inf, inf
    frames = frames_mask(INFEASIBLE["input_lengths"], 4)[:2, :, 0]
    assert np.all(np.isnan(theirs[:2][frames])) and not ours.grad[:2].any()
    tol.assert_close(ours.grad[2], theirs[2], np.float64, table=tol.FRAMEWORK)


@pytest.mark.live
def test_optax_and_tensorflow_give_infeasible_samples_a_large_finite_loss():
    """optax stands log ε = −1e5 for log 0, and TensorFlow's dense CTC also stays finite: both
    return a finite loss where p(y | x) = 0, lossgrad +inf."""
    from tests.parity import frameworks

    fw = frameworks.load()
    z = RNG.normal(size=(3, 4, 4)).astype(np.float32)
    labels, frames, counts = INFEASIBLE.values()
    paddings = (np.arange(4) >= frames[:, None]).astype(np.float32)
    label_paddings = (np.arange(3) >= counts[:, None]).astype(np.float32)
    optax = np.asarray(fw.optax.ctc_loss(z, paddings, labels, label_paddings))
    tf = fw.tf.nn.ctc_loss(labels=labels, logits=z, label_length=counts, logit_length=frames,
                           logits_time_major=False, blank_index=0).numpy()
    ours = losses.softmax_ctc(z, labels, frames, counts, reduction="none").value
    assert np.all(ours[:2] == np.inf)
    assert np.all(np.isfinite(optax)) and np.all(optax[:2] > 1e4)
    assert np.all(np.isfinite(tf)) and np.all(tf[:2] > 80)
    tol.assert_close(optax[2], ours[2], np.float32, table=tol.FRAMEWORK)
    tol.assert_close(tf[2], ours[2], np.float32, table=tol.FRAMEWORK)


@pytest.mark.live
def test_keras_computes_float64_in_float32():
    """keras.ops.ctc_loss on the TensorFlow backend casts float64 logits to float32: its float64
    result is lossgrad's float32 one, not lossgrad's float64 one."""
    from tests.parity import frameworks

    fw = frameworks.load()
    z = RNG.normal(size=(2, 6, 4))
    y = np.array([[1, 2, 0], [3, 3, 1]])
    theirs = np.asarray(fw.keras.losses.CTC(reduction=None, dtype="float64")(y, z))
    assert theirs.dtype == np.float64
    ours = {dtype: losses.softmax_ctc(z.astype(dtype), y, [6, 6], [2, 3],
                                      reduction="none").value for dtype in (np.float32, np.float64)}
    tol.assert_close(theirs, ours[np.float32], np.float32, table=tol.FRAMEWORK)
    assert np.max(np.abs(theirs - ours[np.float64]) / ours[np.float64]) > 1e-9
