"""Case rows and the brute-force reference for the CTC losses (losses/sequence.py).

The reference does not recurse: it lists every path of C classes over the sample's T frames
(C^T of them, so T and C stay tiny), keeps those that collapse to the labels — merge runs of equal
classes, then drop the blank — and sums their probabilities. It is complex-safe (a sum of
exponentials of sums), so the complex step differentiates it.

The input makers draw random label and input lengths, labels with repeated neighbours (which need
a blank between them), and padding past each length. Sample 0 always has the longest label
sequence, because the generic label test writes a bad class into labels[0, 1].
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from tests.losses.cases import Case, _log_softmax

NUM_CLASSES, FRAMES, MAX_LABELS = 4, 5, 3


def collapse(path, blank: int) -> tuple:
    """The label sequence a path stands for: runs of equal classes merged, then blanks dropped."""
    merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
    return tuple(c for c in merged if c != blank)


@functools.cache
def alignments(frames: int, labels: tuple, blank: int, num_classes: int) -> np.ndarray:
    """Every path over ``frames`` frames that collapses to ``labels``: a (paths, frames) array."""
    keep = [path for path in itertools.product(range(num_classes), repeat=frames)
            if collapse(path, blank) == labels]
    return np.array(keep, dtype=np.int64).reshape(len(keep), frames)


def ref_ctc(log_probs, labels, input_lengths, label_lengths, blank=0, zero_infinity=False,
            divide_by_label_length=False):
    """−log Σ_paths Π_t exp(x[t, path_t]) for each sample, by listing the paths."""
    values = []
    for x, row, frames, count in zip(log_probs, labels, input_lengths, label_lengths):
        paths = alignments(int(frames), tuple(int(c) for c in row[:count]), blank, x.shape[-1])
        if len(paths):
            value = -np.log(np.sum(np.exp(np.sum(x[np.arange(frames), paths], axis=1))))
        else:
            value = 0.0 if zero_infinity else np.inf
        values.append(value / max(int(count), 1) if divide_by_label_length else value)
    return np.array(values)


def ref_softmax_ctc(logits, *rest, **options):
    return ref_ctc(_log_softmax(logits), *rest, **options)


# ---------------------------------------------------------------------------------------------
# input makers


def frames_needed(labels: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The fewest frames that can carry each label sequence: one per label, plus a blank between
    each pair of equal neighbours."""
    inside = np.arange(labels.shape[1])[1:] < counts[:, None]
    repeats = np.sum(inside & (labels[:, 1:] == labels[:, :-1]), axis=1)
    return counts + repeats


def sequences(*, logits=False, classes=(1, 2, 3), pad=0, infeasible=False):
    """A prediction (n, FRAMES, NUM_CLASSES), labels (n, MAX_LABELS) drawn from ``classes`` and
    padded with ``pad``, input lengths and label lengths.

    logits: scores in N(0, 2²); else their log_softmax (log-probabilities).
    infeasible: every other sample (1, 3, …) gets one frame fewer than its labels need.
    """

    def make(rng, n):
        scores = rng.normal(scale=2.0, size=(n, FRAMES, NUM_CLASSES))
        labels = rng.choice(classes, size=(n, MAX_LABELS))
        counts = rng.integers(1 if infeasible else 0, MAX_LABELS + 1, size=n)
        counts[:1] = MAX_LABELS
        need = frames_needed(labels, counts)
        input_lengths = rng.integers(need, FRAMES + 1)
        if infeasible:
            input_lengths[1::2] = need[1::2] - 1
        labels = np.where(np.arange(MAX_LABELS) < counts[:, None], labels, pad)
        return (scores if logits else _log_softmax(scores)), labels, input_lengths, counts

    return make


#: Labels without classes 0 and 2, so the same inputs are valid with the blank at 0 or at 2.
_BLANK_0_OR_2 = {"classes": (1, 3)}

CASES: list[Case] = [
    Case("ctc", sequences(), ref_ctc, domain="log_probabilities", labels=True,
         options=({}, {"divide_by_label_length": True})),
    Case("ctc", sequences(**_BLANK_0_OR_2, pad=-1), ref_ctc, domain="log_probabilities",
         labels=True, tag="blank2", options=({"blank": 2},)),
    # Infeasible samples are +inf without zero_infinity, which central differences cannot take;
    # test_sequence.py checks that case.
    Case("ctc", sequences(infeasible=True), ref_ctc, domain="log_probabilities", labels=True,
         tag="infeasible", options=({"zero_infinity": True},
                                    {"zero_infinity": True, "divide_by_label_length": True})),
    Case("softmax_ctc", sequences(logits=True, pad=7), ref_softmax_ctc, labels=True,
         options=({}, {"divide_by_label_length": True})),
    Case("softmax_ctc", sequences(logits=True, **_BLANK_0_OR_2), ref_softmax_ctc, labels=True,
         tag="blank2", options=({"blank": 2}, {})),
]
