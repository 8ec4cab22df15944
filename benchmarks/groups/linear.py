"""Linear layer + softmax cross-entropy without the logits (P5), against materialising them.

hidden (N, H) and weight (V, H) float32, integer labels, mean. Every contender returns the loss
and the gradients with respect to hidden and weight. The materialised version is what a NumPy
user of lossgrad writes: logits = hidden @ weightᵀ, the fused cross-entropy in place (the
gradient G overwrites the logits), then G @ weight and Gᵀ @ hidden.
"""

from __future__ import annotations

import numpy as np

from .. import THREADS
from ..harness import Contender, peak_memories, random_labels, random_normal, time_alternating

TITLE = "Linear + softmax cross-entropy (hidden N×H, weight V×H, float32)"
# At the full size one call is about 6.6 TFLOP (three N×H×V products), near a minute here: three
# timed runs of the two lossgrad contenders, and PyTorch measured for memory only.
SIZES = {
    "quick": {"N": 256, "H": 128, "V": 4096,
              "timed": ["fused", "materialised", "torch"]},
    "full": {"N": 8192, "H": 2048, "V": 65536,
             "timed": ["fused", "materialised"]},
}
RUNS = {"quick": 7, "full": 3}


def inputs(size: dict) -> dict:
    """hidden ~ N(0, 1), weight ~ N(0, 1/H) (logits of unit scale), labels uniform."""
    weight = random_normal((size["V"], size["H"]), seed=2)
    weight *= 1 / np.sqrt(size["H"])
    return {"hidden": random_normal((size["N"], size["H"])), "weight": weight,
            "labels": random_labels(size["N"], size["V"])}


def fused(inp: dict) -> Contender:
    from lossgrad.losses import linear_softmax_cross_entropy

    def run():
        result = linear_softmax_cross_entropy(inp["hidden"], inp["weight"], inp["labels"])
        return result.value, result.grads["hidden"], result.grads["weight"]

    return Contender("lossgrad linear_softmax_cross_entropy", run)


def materialised(inp: dict) -> Contender:
    from lossgrad.losses import sparse_softmax_cross_entropy

    hidden, weight = inp["hidden"], inp["weight"]

    def run():
        logits = hidden @ weight.T
        result = sparse_softmax_cross_entropy(logits, inp["labels"], kernel="fused", inplace=True)
        grad = result.grad  # the logits' own buffer
        return result.value, grad @ weight, grad.T @ hidden

    return Contender("logits materialised + lossgrad fused CE in place", run)


def torch_eager(inp: dict) -> Contender:
    """F.linear + F.cross_entropy + backward, on leaves sharing the NumPy arrays' memory."""
    import torch

    torch.set_num_threads(THREADS)
    F = torch.nn.functional
    hidden = torch.from_numpy(inp["hidden"]).requires_grad_()
    weight = torch.from_numpy(inp["weight"]).requires_grad_()
    labels = torch.from_numpy(inp["labels"])

    def reset():
        hidden.grad = weight.grad = None

    def run():
        loss = F.cross_entropy(F.linear(hidden, weight), labels)
        loss.backward()
        return loss.detach(), hidden.grad, weight.grad

    return Contender(f"PyTorch {torch.__version__} eager, logits materialised", run, reset=reset)


CONTENDERS = {"fused": fused, "materialised": materialised, "torch": torch_eager}


def _difference(ours, theirs) -> dict:
    """How far two (loss, grad hidden, grad weight) are apart: the loss's relative difference,
    each gradient's largest difference over its largest entry."""
    loss, *grads = (np.asarray(a, dtype=np.float64) for a in ours)
    ref_loss, *ref_grads = (np.asarray(a, dtype=np.float64) for a in theirs)
    found = {"loss_rel_diff": float(abs(loss - ref_loss) / abs(ref_loss))}
    for name, g, r in zip(("hidden", "weight"), grads, ref_grads):
        found[f"grad_{name}_diff_over_max"] = float(np.max(np.abs(g - r)) / np.max(np.abs(r)))
    return found


class _Agreement:
    """Keeps the fused contender's last outputs until the materialised ones arrive, then
    compares the two and drops both."""

    def __init__(self):
        self.kept = None
        self.result = {}

    def __call__(self, key, out) -> None:
        if key == "fused":
            self.kept = out
        elif key == "materialised" and self.kept is not None:
            self.result = _difference(self.kept, out)
            self.kept = None


def run(size: dict, runs: int, log) -> dict:
    """Time the contenders listed in size["timed"], compare fused with materialised, then
    measure every available contender's extra peak memory in a fresh process."""
    shape = {k: size[k] for k in ("N", "H", "V")}
    log(f"linear: {shape}")
    inp = inputs(shape)
    agreement = _Agreement()
    timings = time_alternating({k: CONTENDERS[k](inp) for k in size["timed"]}, runs,
                               on_last=agreement, log=log)
    del inp
    failed = {k for k, t in timings.items() if "error" in t}
    keys = [key for key in CONTENDERS if key not in failed]
    memory = dict(zip(keys, peak_memories([("linear", key, shape) for key in keys], log)))
    n, h, v = shape["N"], shape["H"], shape["V"]
    return {"size": shape, "timings": timings, "agreement": agreement.result, "memory": memory,
            "gradient_bytes": {"hidden": n * h * 4, "weight": v * h * 4},
            "logits_bytes": n * v * 4}
