"""Parity specs of the CTC losses (losses/sequence.py) against PyTorch, optax, Keras and
TensorFlow.

- ``ctc`` against ``torch.nn.functional.ctc_loss`` with ``convention="torch"`` (PyTorch's
  gradient, exp(x) − γ), the prediction batch first on lossgrad's side and transposed to PyTorch's
  (T, N, C) inside the call: every reduction ('mean' is ``divide_by_label_length=True`` with
  "mean"), the blank last, repeated labels, unnormalised log-probabilities, log-probabilities of
  logits of ±1e4, and infeasible samples with ``zero_infinity`` (without it PyTorch's gradient is
  NaN there: tests/losses/test_sequence.py pins that difference).
- ``softmax_ctc`` against ``optax.ctc_loss`` (paddings made from the lengths inside the call),
  ``keras.losses.CTC`` / ``keras.losses.ctc`` (blank 0, labels padded with 0, every input length
  T) and ``tf.nn.ctc_loss`` (batch-major logits, ``blank_index``), on feasible samples: optax and
  TensorFlow give infeasible ones a large finite loss. Keras and TensorFlow compute in float32
  only (Keras casts float64 to float32), so those specs run in float32.

Random inputs keep T ≤ 16: the float32 recursion of either side drifts by about 1e-7 per frame,
and the framework tolerance is 1e-5; a long input runs in float64.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tests.parity.inputs import _log_softmax
from tests.parity.spec import (
    KERAS_REDUCTIONS,
    Call,
    keras_sweep,
    only,
    ref,
    show_kwargs,
    spec,
    tf_nn,
)

CTC, SOFTMAX_CTC = "ctc", "softmax_ctc"
FLOAT32 = ("float32",)


# ---------------------------------------------------------------------------------------------
# input makers


def sequences(shape=(5, 12, 6), max_labels=4, *, prediction="log_probabilities", blank=0,
              classes=None, scale=None, infeasible=False, keras=False, sample_weight=False,
              time_major=False, concatenated=False):
    """A prediction (N, T, C), padded labels (N, S), input and label lengths.

    prediction: "log_probabilities" (log_softmax of N(0, 2²) logits, or of logits from
        {−s, 0, s} with ``scale``), "unnormalised" (N(0, 1) numbers) or "logits".
    blank: the blank class (labels never hold it; they pad with it).
    classes: the label alphabet (all classes but the blank by default); few classes give many
        repeated neighbours.
    infeasible: samples 1, 3, … get fewer frames than labels; the others get at least two
        frames per label, enough for any labels (a blank between each pair).
    keras: Keras's convention: every input length T, labels padded with 0 (the blank).
    sample_weight: add one weight per sample.
    time_major / concatenated: PyTorch's (T, N, C) prediction / 1-D targets (every sample's
        labels in turn), for the compat front ends.
    """

    def make(rng, dtype):
        n, t_max, num_classes = shape
        alphabet = [c for c in range(num_classes) if c != blank] if classes is None else classes
        labels = rng.choice(alphabet, size=(n, max_labels))
        counts = rng.integers(1 if infeasible else 0, max_labels + 1, size=n)
        frames = np.full(n, t_max) if keras else rng.integers(2 * counts, t_max + 1)
        if infeasible:
            frames[1::2] = counts[1::2] - 1
        labels = np.where(np.arange(max_labels) < counts[:, None], labels, blank)
        x = _prediction(rng, prediction, shape, scale)
        out = {"prediction": np.swapaxes(x, 0, 1) if time_major else x,
               "target": labels[labels != blank] if concatenated else labels,
               "input_lengths": frames, "label_lengths": counts}
        if sample_weight:
            out["sample_weight"] = rng.uniform(0.1, 2.0, size=n)
        return out

    return make


def _prediction(rng, kind, shape, scale):
    logits = rng.normal(scale=2.0, size=shape) if scale is None else \
        rng.choice([-scale, 0.0, scale], size=shape)
    draws = {"log_probabilities": lambda: _log_softmax(logits), "logits": lambda: logits,
             "unnormalised": lambda: rng.normal(size=shape)}
    return draws[kind]()


# ---------------------------------------------------------------------------------------------
# framework calls


def torch_ctc(**kwargs) -> Call:
    """``F.ctc_loss(prediction.transpose(0, 1), target, input_lengths, label_lengths, **kwargs)``:
    PyTorch's (T, N, C) layout, its gradient mapped back to the batch-first prediction."""

    def fn(fw, a):
        return fw.F.ctc_loss(a.prediction.transpose(0, 1), a.target, a.input_lengths,
                             a.label_lengths, **kwargs)

    return Call("torch", "torch.nn.functional.ctc_loss", fn,
                "torch.nn.functional.ctc_loss(log_probs.transpose(0, 1), targets, input_lengths, "
                f"target_lengths, {show_kwargs(kwargs)})")


def optax_ctc(blank_id: int = 0) -> Call:
    """``optax.ctc_loss(logits, logit_paddings, labels, label_paddings, blank_id)``, paddings 1.0
    from each sample's lengths on."""

    def fn(fw, a):
        def paddings(size, lengths):
            return (fw.jnp.arange(size)[None, :] >= lengths[:, None]).astype(a.prediction.dtype)

        return fw.optax.ctc_loss(a.prediction, paddings(a.prediction.shape[1], a.input_lengths),
                                 a.target, paddings(a.target.shape[1], a.label_lengths),
                                 blank_id=blank_id)

    return Call("optax", "optax.ctc_loss", fn,
                "optax.ctc_loss(logits, logit_paddings, labels, label_paddings, "
                f"blank_id={blank_id})")


def tf_ctc(blank_index) -> Call:
    return tf_nn("ctc_loss", label_length=ref("label_lengths"), logit_length=ref("input_lengths"),
                 logits_time_major=False, blank_index=blank_index)


# ---------------------------------------------------------------------------------------------
# specs

#: PyTorch's reduction → (lossgrad's reduction, divide_by_label_length).
TORCH = {"none": ("none", False), "sum": ("sum", False), "mean": ("mean", True)}


def _torch(name, inputs, reductions=tuple(TORCH), dtypes=None, **kwargs):
    """One spec per PyTorch reduction of ``F.ctc_loss(**kwargs)``."""
    out = []
    for theirs in reductions:
        ours, divide = TORCH[theirs]
        s = spec(CTC, "torch", f"{name}-{theirs}", inputs,
                 [torch_ctc(**kwargs, reduction=theirs)], convention="torch", reduction=ours,
                 divide_by_label_length=divide, **kwargs)
        out.append(s if dtypes is None else replace(s, dtypes=dtypes))
    return out


def _torch_specs():
    return [
        *_torch("random", sequences()),
        *_torch("blank_last", sequences(blank=5), ("mean",), blank=5),
        *_torch("repeats", sequences(classes=(1, 2)), ("sum", "none")),
        *_torch("unnormalised", sequences(prediction="unnormalised"), ("none",)),
        # In float32 the occupancy exp(α + β − log p) of such inputs cancels log-probabilities
        # of ~1e5 and keeps ~1e-2 of its digits, in PyTorch as in lossgrad.
        *_torch("logits1e4", sequences(scale=1e4), ("mean", "none"), dtypes=("float64",)),
        *_torch("infeasible", sequences(infeasible=True), ("none", "mean"), zero_infinity=True),
        *_torch("long", sequences((3, 80, 5), 10), ("mean",), dtypes=("float64",)),
    ]


def _optax_specs():
    none = {"reduction": "none"}
    return [
        spec(SOFTMAX_CTC, "optax", "random", sequences(prediction="logits"), [optax_ctc()],
             **none),
        spec(SOFTMAX_CTC, "optax", "blank2_repeats", sequences(
            prediction="logits", blank=2, classes=(1, 3)), [optax_ctc(2)], blank=2, **none),
    ]


def _keras_specs():
    keras = sequences(prediction="logits", keras=True)
    weighted = sequences(prediction="logits", keras=True, sample_weight=True)
    specs = [
        *keras_sweep(SOFTMAX_CTC, "random", keras, only(KERAS_REDUCTIONS, "sum_over_batch_size",
                                                        "sum", None), "CTC", function="ctc"),
        *keras_sweep(SOFTMAX_CTC, "sample_weight", weighted, only(
            KERAS_REDUCTIONS, "sum_over_batch_size", "mean_with_sample_weight"), "CTC"),
    ]
    return [replace(s, dtypes=FLOAT32) for s in specs]


def _tf_specs():
    logits = sequences(prediction="logits")
    return [replace(s, dtypes=FLOAT32) for s in (
        spec(SOFTMAX_CTC, "tf", "random", logits, [tf_ctc(0)], reduction="none"),
        spec(SOFTMAX_CTC, "tf", "blank_minus_1", sequences(prediction="logits", blank=5),
             [tf_ctc(-1)], reduction="none", blank=5),
    )]


SPECS = [*_torch_specs(), *_optax_specs(), *_keras_specs(), *_tf_specs()]
