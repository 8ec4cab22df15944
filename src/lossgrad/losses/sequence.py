"""Connectionist temporal classification (CTC; Graves, Fernández, Gomez & Schmidhuber, 2006).

CTC scores a label sequence y = (y_1, …, y_L) against T frames of class scores without an
alignment. A *path* π ∈ {0, …, C−1}^T picks one class per frame; it *collapses* to y when merging
runs of equal classes and then dropping the blank gives y. The loss is ℓ = −log p(y | x) with
p(y | x) = Σ_{π collapsing to y} Π_t P_t(π_t), the sum over every such path.

**The recursion.** The extended sequence y' = (b, y_1, b, y_2, …, b, y_L, b) has 2L + 1 states
(b the blank). A path walks through y' one frame at a time: it stays in its state, moves to the
next, or skips the blank between two labels — allowed only when they differ, else the collapse
would merge them. With e_t(s) = log P_t(y'_s):

- forward: α_0(s) = e_0(s) for s ∈ {0, 1}; α_t(s) = e_t(s) + log Σ_{s'} exp α_{t−1}(s') over
  s' ∈ {s, s−1, and s−2 where the skip is allowed};
- backward, without frame t's own emission: β_{T−1}(s) = 0 for s ∈ {2L−1, 2L};
  β_t(s) = log Σ_{s'} exp(β_{t+1}(s') + e_{t+1}(s')) over s' ∈ {s, s+1, s+2 where allowed};
- log p(y | x) = log(exp α_{T−1}(2L) + exp α_{T−1}(2L−1)), the paths ending on the last blank
  or the last label;
- occupancy γ_t(c) = Σ_{s: y'_s = c} exp(α_t(s) + β_t(s) − log p): the posterior probability
  that frame t emits class c. For log-probabilities x, ∂ℓ/∂x_{t,c} = −γ_t(c).

Each sample has its own T (``input_lengths``) and L (``label_lengths``): the recursion runs over
the whole padded batch at once (NumPy over samples and states, a Python loop over frames only),
and each sample is read at its own last frame; frames at or past its T get a zero gradient.

**Infeasible samples.** When no path collapses to y — fewer frames than L plus the number of
equal neighbours in y, which each need a blank between them, or a needed log-probability of
−inf — p(y | x) = 0: the loss is +inf and its gradient 0 (no finite change of the scores makes
the sample feasible), or the loss is 0 with ``zero_infinity=True``, as in PyTorch. With no frame
at all, the empty label sequence has probability 1 (loss 0) and any other is infeasible.

**PyTorch's "mean".** ``torch.nn.functional.ctc_loss(reduction='mean')`` divides each loss by its
label length (at least 1) before the batch mean: here ``divide_by_label_length=True`` with
``reduction="mean"``. Sample weights and every other reduction apply to the divided values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DomainError, DTypeError, LabelRangeError, OptionError, ShapeError
from ..numerics import softmax_rows
from .core import Parts, check_option, first_index, index_str, loss
from .cross_entropy import warn_if_probabilities

_CONVENTIONS = ("exact", "torch")


@loss(kind="per_sample")
def ctc(log_probs, labels, input_lengths, label_lengths, ctx, *, blank=0, zero_infinity=False,
        divide_by_label_length=False, convention="exact"):
    """CTC loss of label sequences under per-frame log-probabilities.

    **Value:** ℓ = −log Σ_π Π_{t<T} exp(x_{t,π_t}) over the paths π of the sample's first
    T = ``input_lengths[n]`` frames that collapse to its labels (merge repeats, drop the blank),
    by the forward recursion of the module docstring; +inf for an infeasible sample (0 with
    ``zero_infinity``). ``divide_by_label_length`` divides ℓ by max(L, 1). x need not be
    normalised: ℓ is that formula for whatever x is given.

    **Gradient:** ∂ℓ/∂x_{t,c} = −γ_t(c), minus the occupancy (the posterior probability that
    frame t emits class c), for t < T; 0 for later frames and for infeasible samples.
    ``convention="torch"`` returns PyTorch's ctc_loss gradient instead, exp(x_{t,c}) − γ_t(c):
    the gradient with respect to logits z whose log_softmax is x. It is not ∂ℓ/∂x, but for
    normalised x it gives the same gradient as −γ once chained through log_softmax (both become
    softmax(z) − γ), so a network ending in log_softmax trains the same either way.

    **Shapes:** log_probs (N, T, C), batch first; labels (N, S) integers: row n's first
    ``label_lengths[n]`` entries are its labels, in [0, C) and never the blank, and the rest is
    padding that is never read; input_lengths and label_lengths (N,) integers with
    0 ≤ input_lengths ≤ T and 0 ≤ label_lengths ≤ S; value (N,).

    **Stability:** α and β are log-sums (np.logaddexp), so long inputs of small probabilities
    never underflow; γ = exp(α + β − log p) ≤ 1. Padding frames and padding labels never enter a
    sum, so their values, NaN included, do not matter.

    **Parity:** ``torch.nn.functional.ctc_loss(log_probs.transpose(0, 1), targets,
    input_lengths, target_lengths, blank, reduction='none', zero_infinity)`` with
    ``convention="torch"``; its reduction='mean' is ``reduction="mean"`` with
    ``divide_by_label_length=True`` (``lossgrad.compat.torch.ctc_loss`` translates the call).
    Without ``zero_infinity`` PyTorch's gradient of an infeasible sample is NaN on its frames,
    lossgrad's 0. PyTorch reads a label outside [0, C) out of bounds and takes the blank inside a
    label; lossgrad raises LabelRangeError for both.

    **Example:**
        >>> x = np.log([[[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.1, 0.4]]])
        >>> r = ctc(x, [[1, 2]], [3], [2], reduction="none")
        >>> print(np.round(r.value, 4))
        [1.194]
        >>> print(np.round(r.grad, 4))
        [[[-0.5545 -0.4455  0.    ]
          [-0.0792 -0.8317 -0.0891]
          [-0.0495  0.     -0.9505]]]
    """
    check_option("convention", convention, _CONVENTIONS)
    lattice = _lattice(log_probs, labels, input_lengths, label_lengths, blank, ctx)
    log_p, occupancy = _forward_backward(log_probs, lattice, ctx.want_grad)
    if occupancy is None:
        grad = None
    elif convention == "torch":
        grad = np.subtract(np.exp(log_probs), occupancy, out=occupancy)
    else:
        grad = np.subtract(0, occupancy, out=occupancy)  # +0.0, never −0.0, where γ = 0
    return _finish(-log_p, grad, lattice, zero_infinity, divide_by_label_length)


@loss(kind="per_sample")
def softmax_ctc(logits, labels, input_lengths, label_lengths, ctx, *, blank=0,
                zero_infinity=False, divide_by_label_length=False):
    """CTC loss of label sequences under per-frame logits (a softmax over the class axis).

    **Value:** ℓ = ctc(log_softmax(z), labels, input_lengths, label_lengths): −log of the total
    probability of the paths of the first T = ``input_lengths[n]`` frames that collapse to the
    labels; +inf for an infeasible sample (0 with ``zero_infinity``). ``divide_by_label_length``
    divides ℓ by max(L, 1).

    **Gradient:** ∂ℓ/∂z_{t,c} = softmax(z_t)_c − γ_t(c), with γ the occupancy (module docstring),
    for t < T; 0 for later frames and for infeasible samples. Each frame's row sums to 0.

    **Shapes:** logits (N, T, C), batch first; labels (N, S) integers: row n's first
    ``label_lengths[n]`` entries are its labels, in [0, C) and never the blank, and the rest is
    padding that is never read; input_lengths and label_lengths (N,) integers with
    0 ≤ input_lengths ≤ T and 0 ≤ label_lengths ≤ S; value (N,).

    **Stability:** log_softmax as (z − m) − log Σ e^{z−m} with m the frame's maximum, then the
    log-space recursion of :func:`ctc`: logits of ±1e9 give finite losses and gradients. Logits
    that look like probabilities warn (a double softmax).

    **Parity:** ``optax.ctc_loss(logits, logit_paddings, labels, label_paddings, blank_id)`` with
    paddings 1.0 past the lengths, for feasible samples (optax's log ε = −1e5 stands for log 0,
    so it gives an infeasible sample a large finite loss and gradient). ``keras.losses.CTC`` /
    ``keras.losses.ctc``: blank 0, labels padded with 0, every input length T
    (``lossgrad.compat.keras``). ``tf.nn.ctc_loss(labels, logits, label_length, logit_length,
    logits_time_major=False, blank_index)``. PyTorch's ``ctc_loss(log_softmax(z))`` chained
    through log_softmax.

    **Example:**
        >>> z = [[[2.0, 0.5, -1.0], [0.0, 1.5, 0.2], [1.0, -0.5, 0.8]]]
        >>> r = softmax_ctc(z, [[1, 2]], [3], [2], reduction="none")
        >>> print(np.round(r.value, 4))
        [1.2156]
        >>> print(np.round(r.grad, 4))
        [[[ 0.0754 -0.1145  0.0391]
          [ 0.1138 -0.2001  0.0863]
          [ 0.437   0.1093 -0.5463]]]
    """
    warn_if_probabilities(logits, ctx, instead="ctc on their logarithms")
    lattice = _lattice(logits, labels, input_lengths, label_lengths, blank, ctx)
    rows = softmax_rows(logits)
    log_probs = (logits - rows.m) - rows.log_sum
    log_p, occupancy = _forward_backward(log_probs, lattice, ctx.want_grad)
    grad = None if occupancy is None else np.subtract(rows.p, occupancy, out=rows.p)
    return _finish(-log_p, grad, lattice, zero_infinity, divide_by_label_length)


# ---------------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True)
class _Lattice:
    """Each sample's extended sequence and lengths: the states the recursion walks through.

    states: (N, 2S + 1) the class of each state of the extended sequence y' (padding: blank).
    skip: (N, 2S + 1) True where state s may be entered from s − 2 (two different labels).
    frames: (N,) input lengths T; labels: (N,) label lengths L.
    """

    states: np.ndarray
    skip: np.ndarray
    frames: np.ndarray
    labels: np.ndarray


def _lattice(prediction, labels, input_lengths, label_lengths, blank, ctx) -> _Lattice:
    """The checked inputs as the recursion's lattice (lengths are checked before labels: an
    error then names the first thing to fix)."""
    if prediction.ndim != 3:
        raise ShapeError(
            f"{ctx.name}: the prediction must be (N, T, C), batch first, got shape "
            f"{prediction.shape}; for PyTorch's time-major (T, N, C) use "
            "lossgrad.compat.torch.ctc_loss or np.swapaxes(x, 0, 1)")
    n, t_max, num_classes = prediction.shape
    if num_classes == 0:
        raise ShapeError(f"{ctx.name}: the prediction of shape {prediction.shape} has no classes; "
                         "CTC needs at least the blank")
    _check_blank(blank, num_classes, ctx)
    frames = _lengths(input_lengths, "input_lengths", n, ctx)
    _check_at_most(frames, t_max, "input_lengths", "the number of frames T", ctx)
    counts = _lengths(label_lengths, "label_lengths", n, ctx)
    labels = _padded_labels(labels, n, ctx)
    _check_at_most(counts, labels.shape[1], "label_lengths", "the labels' padded length S", ctx)
    inside = np.arange(labels.shape[1]) < counts[:, None]
    _check_labels(labels, inside, num_classes, blank, ctx)
    states = np.full((n, 2 * labels.shape[1] + 1), blank, dtype=np.int64)
    states[:, 1::2] = np.where(inside, labels, blank)
    skip = np.zeros(states.shape, dtype=bool)
    # Blank states equal their neighbours two back, so only two different labels can be skipped.
    skip[:, 2:] = states[:, 2:] != states[:, :-2]
    return _Lattice(states, skip, frames, counts)


def _check_blank(blank, num_classes: int, ctx) -> None:
    whole = isinstance(blank, (int, np.integer)) and not isinstance(blank, (bool, np.bool_))
    if not whole or not 0 <= blank < num_classes:
        raise OptionError(f"{ctx.name}: blank={blank!r} must be a class index in "
                          f"[0, {num_classes}) of the prediction's last axis")


def _lengths(lengths, name: str, n: int, ctx) -> np.ndarray:
    """One non-negative integer length per sample, as int64."""
    lengths = np.asarray(lengths)
    if lengths.dtype.kind not in "iu" and lengths.size:
        raise DTypeError(f"{ctx.name}: {name} must be integers, got dtype {lengths.dtype}; "
                         f"convert with np.asarray({name}, dtype=np.int64)")
    if lengths.shape != (n,):
        raise ShapeError(f"{ctx.name}: {name} of shape {lengths.shape} must hold one length per "
                         f"sample, shape ({n},)")
    if np.any(lengths < 0):
        at = first_index(lengths < 0)
        raise DomainError(f"{ctx.name}: {name}[{index_str(at)}] = {lengths[at]} is negative; a "
                          "length counts frames or labels, ≥ 0")
    return lengths.astype(np.int64)


def _check_at_most(lengths: np.ndarray, limit: int, name: str, what: str, ctx) -> None:
    if np.any(lengths > limit):
        at = first_index(lengths > limit)
        raise ShapeError(f"{ctx.name}: {name}[{index_str(at)}] = {lengths[at]} exceeds {what}, "
                         f"{limit}; fix the length or pad the array to it")


def _padded_labels(labels, n: int, ctx) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu" and labels.size:
        raise DTypeError(f"{ctx.name}: labels must be integer class labels, got dtype "
                         f"{labels.dtype}; convert with np.asarray(labels, dtype=np.int64)")
    if labels.ndim != 2 or len(labels) != n:
        raise ShapeError(f"{ctx.name}: labels of shape {labels.shape} must be one padded row per "
                         f"sample, shape ({n}, S); for PyTorch's concatenated 1-D targets use "
                         "lossgrad.compat.torch.ctc_loss")
    return labels.astype(np.int64)


def _check_labels(labels, inside, num_classes: int, blank: int, ctx) -> None:
    """Labels within each sample's length are classes other than the blank; padding is free."""
    outside = inside & ((labels < 0) | (labels >= num_classes))
    if outside.any():
        at = first_index(outside)
        raise LabelRangeError(f"{ctx.name}: labels[{index_str(at)}] = {labels[at]} is outside "
                              f"[0, {num_classes}); lossgrad never clamps labels — fix the label "
                              "or the number of classes")
    blanks = inside & (labels == blank)
    if blanks.any():
        at = first_index(blanks)
        raise LabelRangeError(f"{ctx.name}: labels[{index_str(at)}] = {blank} is the blank "
                              f"(blank={blank}); a label sequence holds only the other classes — "
                              f"remove it, or shorten label_lengths[{at[0]}] if it is padding")


# ---------------------------------------------------------------------------------------------
# the forward–backward recursion


def _forward_backward(log_probs, lattice: _Lattice, want_grad: bool):
    """log p(y | x) per sample and, when asked, the occupancy γ (N, T, C)."""
    emit = np.take_along_axis(log_probs, lattice.states[:, None, :], axis=2)
    alpha = _forward(emit, lattice.skip)
    log_p = _log_likelihood(alpha, lattice)
    if not want_grad:
        return log_p, None
    beta = _backward(emit, lattice)
    per_state = np.exp(alpha + beta - log_p[:, None, None])
    to_class = lattice.states[:, :, None] == np.arange(log_probs.shape[2])
    return log_p, np.matmul(per_state, to_class.astype(log_probs.dtype))


def _logaddexp3(a, b, c):
    return np.logaddexp(np.logaddexp(a, b), c)


def _forward(emit: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """α (N, T, 2S + 1), run to the last padded frame (each sample is read at its own)."""
    alpha = np.full_like(emit, -np.inf)
    if emit.shape[1] == 0:
        return alpha
    alpha[:, 0, :2] = emit[:, 0, :2]
    from_one, from_two = np.full_like(alpha[:, 0], -np.inf), np.full_like(alpha[:, 0], -np.inf)
    for t in range(1, emit.shape[1]):
        before = alpha[:, t - 1]
        from_one[:, 1:] = before[:, :-1]
        from_two[:, 2:] = np.where(skip[:, 2:], before[:, :-2], -np.inf)
        np.add(_logaddexp3(before, from_one, from_two), emit[:, t], out=alpha[:, t])
    return alpha


def _log_likelihood(alpha: np.ndarray, lattice: _Lattice) -> np.ndarray:
    """log p(y | x): α at each sample's last frame, in the last blank or the last label."""
    rows = np.arange(len(lattice.frames))
    if alpha.shape[1]:
        final = alpha[rows, np.maximum(lattice.frames - 1, 0)]
    else:
        final = np.full((len(rows), alpha.shape[2]), -np.inf, dtype=alpha.dtype)
    end = 2 * lattice.labels
    on_label = np.where(lattice.labels > 0, final[rows, np.maximum(end - 1, 0)], -np.inf)
    log_p = np.logaddexp(final[rows, end], on_label)
    # With no frame the only path is the empty one, which collapses to the empty sequence.
    return np.where(lattice.frames == 0, np.where(lattice.labels == 0, 0.0, -np.inf), log_p)


def _backward(emit: np.ndarray, lattice: _Lattice) -> np.ndarray:
    """β (N, T, 2S + 1) without each frame's own emission; −inf at and past each sample's T."""
    beta = np.full_like(emit, -np.inf)
    n, t_max, width = emit.shape
    start = np.full((n, width), -np.inf, dtype=emit.dtype)
    rows, end = np.arange(n), 2 * lattice.labels
    start[rows, end] = 0
    labelled = lattice.labels > 0
    start[rows[labelled], end[labelled] - 1] = 0
    last = lattice.frames - 1
    to_one, to_two = np.full_like(start, -np.inf), np.full_like(start, -np.inf)
    for t in range(t_max - 1, -1, -1):
        if t < t_max - 1:
            later = beta[:, t + 1] + emit[:, t + 1]
            to_one[:, :-1] = later[:, 1:]
            to_two[:, :-2] = np.where(lattice.skip[:, 2:], later[:, 2:], -np.inf)
            beta[:, t] = np.where((t < last)[:, None], _logaddexp3(later, to_one, to_two),
                                  -np.inf)
        ends_here = last == t
        beta[ends_here, t] = start[ends_here]
    return beta


def _finish(value, grad, lattice: _Lattice, zero_infinity: bool, divide: bool) -> Parts:
    """Zero the gradient past each sample's frames and of infeasible samples; apply the options."""
    impossible = value == np.inf
    if grad is not None:
        counted = np.arange(grad.shape[1]) < lattice.frames[:, None]
        grad = np.where((counted & ~impossible[:, None])[..., None], grad, 0)
    if zero_infinity:
        value = np.where(impossible, 0, value)
    if divide:
        per_label = np.maximum(lattice.labels, 1).astype(value.dtype)
        value = value / per_label
        if grad is not None:
            grad /= per_label[:, None, None]
    return Parts(value, grad)
