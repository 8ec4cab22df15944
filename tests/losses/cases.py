"""THE CASE TABLE: one or more rows per loss; the generic contract tests (test_contract.py) run on each.

A row gives the inputs (float64, class axis last), a reference that computes the unreduced value by
the plain formula (written independently of the implementation, complex-safe where ``analytic``),
and the option sets to sweep. Adding a loss = adding its function, its index line and a row here; a
registry-completeness test fails for a loss without a row.

Inputs stay away from kinks (hinge margins, |e| = δ, …) so finite differences are valid there; the
subgradient chosen at a kink is pinned in the family's own test file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from lossgrad.losses import kernels


@dataclass(frozen=True)
class Case:
    """One row of the table.

    name: the loss's name in ``lossgrad.losses.NAMES``.
    inputs: (rng, n) → every positional input of the loss, in its order, for a batch of n: the
        prediction first, then the target or the other inputs; float64 (labels: integers). Each
        input's first axis is the batch axis (the generic tests slice every input along it).
    reference: (*inputs, **options) → unreduced values, by the plain formula.
    options: option sets every generic test sweeps (each a dict of keyword arguments).
    analytic: the reference is complex-safe and smooth at the inputs → complex-step check.
    domain: what the prediction is — "logits", "probabilities", "log_probabilities" or "real"
        (extreme-logit tests run for "logits").
    labels: the target (the first input after the prediction that is not in ``wrt``) holds integer
        class labels.
    ignore_index: the option value that marks ignored entries, if the loss takes one.
    tag: tells apart several rows of one loss in test ids.
    wrt: the names (the loss's parameter names) of the differentiable inputs besides the
        prediction; the gradient tests check ``result.grads[name]`` for each as well as ``.grad``.
    coupled: the values depend on the whole batch (pairwise similarities, sums over the batch,
        batch statistics), so a slice of the batch is not the slice of the values and a NaN
        does not stay in its row; the generic tests check what holds instead.
    mean_weights: (*inputs, **options) → each value's weight in the "mean" divisor where it is
        not 1 (ntxent: the anchor's number of positive pairs); None: 1 for each value.
    """

    name: str
    inputs: Callable
    reference: Callable
    options: tuple = ({},)
    analytic: bool = True
    domain: str = "logits"
    labels: bool = False
    ignore_index: int | None = None
    tag: str = field(default="")
    wrt: tuple[str, ...] = ()
    coupled: bool = False
    mean_weights: Callable | None = None

    @property
    def id(self) -> str:
        return self.name + (f"[{self.tag}]" if self.tag else "")


def option_id(options: dict) -> str:
    """A short readable test id for an option set."""
    if not options:
        return "plain"
    parts = []
    for key, value in options.items():
        shown = "array" if isinstance(value, np.ndarray) else value
        parts.append(f"{key}={shown}")
    return ",".join(parts)


# ---------------------------------------------------------------------------------------------
# input makers


def logits_and_labels(num_classes: int, extra=()):
    """Logits (n, *extra, C) and labels (n, *extra)."""

    def make(rng, n):
        x = rng.normal(scale=2.0, size=(n, *extra, num_classes))
        y = rng.integers(0, num_classes, size=(n, *extra))
        return x, y

    return make


def logits_and_distributions(num_classes: int):
    """Logits (n, C) and target distributions (n, C) with no zero entries."""

    def make(rng, n):
        x = rng.normal(scale=2.0, size=(n, num_classes))
        t = rng.dirichlet(np.ones(num_classes), size=n)
        return x, t

    return make


# ---------------------------------------------------------------------------------------------
# references (plain formulas; complex-safe: no max shift, no where on the perturbed input)


def _log_softmax(x):
    return x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))


def _one_hot(labels, num_classes):
    return np.eye(num_classes)[labels]


def ref_softmax_cross_entropy(x, t, label_smoothing=0.0, class_weight=None, z_loss=0.0,
                              softcap=None, convention="exact", kernel=None):
    num_classes = x.shape[-1]
    if softcap is not None:
        x = softcap * np.tanh(x / softcap)
    t = t * (1 - label_smoothing) + label_smoothing / num_classes
    w = np.ones(num_classes) if class_weight is None else np.asarray(class_weight)
    logp = _log_softmax(x)
    if convention == "keras":
        value = -np.sum(t * logp, axis=-1) * w[np.argmax(t, axis=-1)]
    else:
        value = -np.sum(w * t * logp, axis=-1)
    lse = np.log(np.sum(np.exp(x), axis=-1))
    return value + z_loss * lse**2


def ref_sparse_softmax_cross_entropy(x, labels, ignore_index=None, **options):
    valid = np.ones(labels.shape, bool) if ignore_index is None else labels != ignore_index
    safe = np.where(valid, labels, 0)
    value = ref_softmax_cross_entropy(x, _one_hot(safe, x.shape[-1]), **options)
    return value * valid


# ---------------------------------------------------------------------------------------------
# the table

_WEIGHTS4 = np.array([0.5, 2.0, 1.0, 1.5])


def both_paths(*options: dict) -> tuple:
    """The option sets as given (kernel="auto"), then each on the fused and the reference path
    forced: the whole contract runs on both (a loss with a fused kernel takes ``kernel``)."""
    paths = ("fused", "reference") if kernels.available() else ("reference",)
    forced = tuple({**o, "kernel": path} for path in paths for o in options)
    return options + forced


CASES: list[Case] = [
    Case("softmax_cross_entropy", logits_and_distributions(4), ref_softmax_cross_entropy,
         options=both_paths({}, {"label_smoothing": 0.2}, {"class_weight": _WEIGHTS4},
                            {"class_weight": _WEIGHTS4, "convention": "keras"},
                            {"z_loss": 1e-2, "softcap": 3.0},
                            {"class_weight": _WEIGHTS4, "label_smoothing": 0.1, "z_loss": 1e-2})),
    Case("sparse_softmax_cross_entropy", logits_and_labels(4), ref_sparse_softmax_cross_entropy,
         labels=True, ignore_index=-100,
         options=both_paths({}, {"label_smoothing": 0.2}, {"class_weight": _WEIGHTS4},
                            {"class_weight": _WEIGHTS4, "label_smoothing": 0.1},
                            {"class_weight": _WEIGHTS4, "label_smoothing": 0.1,
                             "convention": "keras"},
                            {"ignore_index": -100}, {"z_loss": 1e-2, "softcap": 3.0},
                            {"class_weight": _WEIGHTS4, "ignore_index": -100, "z_loss": 1e-2})),
    Case("sparse_softmax_cross_entropy", logits_and_labels(3, extra=(2,)),
         ref_sparse_softmax_cross_entropy, labels=True, tag="spatial",
         options=both_paths({}, {"label_smoothing": 0.3})),
]

# Each family's rows live in their own module beside this one; one import line each.
from tests.losses.cases_margin import CASES as _margin; CASES += _margin  # noqa: E402
from tests.losses.cases_cross_entropy import CASES as _ce; CASES += _ce  # noqa: E402
from tests.losses.cases_focal import CASES as _focal; CASES += _focal  # noqa: E402
from tests.losses.cases_regression import CASES as _regression; CASES += _regression  # noqa: E402
from tests.losses.cases_sparsemax import CASES as _sparsemax; CASES += _sparsemax  # noqa: E402
from tests.losses.cases_sequence import CASES as _sequence; CASES += _sequence  # noqa: E402
from tests.losses.cases_divergence import CASES as _divergence; CASES += _divergence  # noqa: E402
from tests.losses.cases_ranking import CASES as _ranking; CASES += _ranking  # noqa: E402
from tests.losses.cases_segmentation import CASES as _segmentation; CASES += _segmentation  # noqa: E402
