"""Softmax cross-entropy, forward and backward: integer labels, mean over rows, float32.

Contenders: lossgrad's fused kernel (new gradient, and in place into the logits), lossgrad's
reference path, PyTorch eager, JAX ``jit(value_and_grad)`` of optax's loss, and plain NumPy. Every
call returns the mean loss and the gradient with respect to the logits. The logits are standard
normal; the labels uniform.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .. import THREADS
from ..harness import Contender, peak_memories, random_labels, random_normal, time_alternating

TITLE = "Softmax cross-entropy, forward + backward (integer labels, mean, float32)"
SIZES = {
    "quick": {"N": 256, "V": 4096, "sweep_V": [1024, 2048, 4096], "memory_N": [256]},
    "full": {"N": 4096, "V": 32768, "sweep_V": [4096, 8192, 16384, 32768],
             "memory_N": [1024, 2048, 4096]},
}
RUNS = {"quick": 7, "full": 7}
#: Rows per block of the float64 reference: the float64 copy of a block stays small.
_REFERENCE_ROWS = 256


def inputs(size: dict) -> dict:
    """Logits (N, V) float32 and labels (N,) int64."""
    return {"logits": random_normal((size["N"], size["V"])),
            "labels": random_labels(size["N"], size["V"])}


def _lossgrad_ce(inp: dict, logits: np.ndarray, **options):
    from lossgrad.losses import sparse_softmax_cross_entropy

    def run():
        result = sparse_softmax_cross_entropy(logits, inp["labels"], **options)
        return result.value, result.grad

    return run


def fused(inp: dict) -> Contender:
    return Contender('lossgrad kernel="fused"', _lossgrad_ce(inp, inp["logits"], kernel="fused"))


def fused_inplace(inp: dict) -> Contender:
    """The gradient overwrites the logits, so this contender owns a copy, re-filled (untimed)
    before each call; the shared logits stay intact for the others."""
    own = inp["logits"].copy()
    return Contender('lossgrad kernel="fused", inplace=True',
                     _lossgrad_ce(inp, own, kernel="fused", inplace=True),
                     reset=lambda: np.copyto(own, inp["logits"]))


def reference(inp: dict) -> Contender:
    return Contender('lossgrad kernel="reference"',
                     _lossgrad_ce(inp, inp["logits"], kernel="reference"))


def torch_eager(inp: dict) -> Contender:
    """F.cross_entropy and backward on a leaf that shares the NumPy logits' memory."""
    import torch

    torch.set_num_threads(THREADS)
    x = torch.from_numpy(inp["logits"]).requires_grad_()
    y = torch.from_numpy(inp["labels"])

    def reset():
        x.grad = None

    def run():
        loss = torch.nn.functional.cross_entropy(x, y)
        loss.backward()
        return loss.detach(), x.grad

    return Contender(f"PyTorch {torch.__version__} eager", run, reset=reset)


def jax_jit(inp: dict) -> Contender:
    """optax's integer-label cross-entropy, mean, under jit(value_and_grad), compiled ahead of
    time in ``prepare`` so the compile is reported with the warm-up."""
    import jax
    import optax

    x = jax.device_put(inp["logits"])  # no copy on CPU for an aligned array
    y = jax.device_put(inp["labels"].astype(np.int32))  # JAX's default integer width
    step = jax.jit(jax.value_and_grad(
        lambda z, labels: optax.softmax_cross_entropy_with_integer_labels(z, labels).mean()))
    compiled = {}

    def prepare():
        compiled["step"] = step.lower(x, y).compile()

    def run():
        value, grad = compiled["step"](x, y)
        return value, grad.block_until_ready()

    return Contender(f"JAX {jax.__version__} jit (optax)", run, prepare=prepare)


def numpy_plain(inp: dict) -> Contender:
    """What a NumPy user writes: max, exp, sum, log; softmax minus one-hot, over N."""
    z, labels = inp["logits"], inp["labels"]
    rows = np.arange(z.shape[0])

    def run():
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s[:, 0]) + m[:, 0] - z[rows, labels])
        grad = e / s
        grad[rows, labels] -= 1
        grad /= z.shape[0]
        return loss, grad

    return Contender("NumPy (plain)", run)


CONTENDERS = {"fused": fused, "fused_inplace": fused_inplace, "reference": reference,
              "torch": torch_eager, "jax": jax_jit, "numpy": numpy_plain}
#: The contenders P1–P4 and P7 judge.
LOSSGRAD_FUSED = ("fused", "fused_inplace")


def errors(logits: np.ndarray, labels: np.ndarray, loss, grad) -> dict:
    """P7: the loss's relative error and the gradient's largest error over max|g|, against a
    float64 computation of the same logits (plain NumPy, block by block)."""
    loss, grad = float(np.asarray(loss)), np.asarray(grad)
    n = logits.shape[0]
    total, worst, scale = 0.0, 0.0, 0.0
    for start in range(0, n, _REFERENCE_ROWS):
        block = slice(start, start + _REFERENCE_ROWS)
        z = logits[block].astype(np.float64)
        y = labels[block]
        rows = np.arange(z.shape[0])
        m = z.max(axis=1, keepdims=True)
        lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
        total += float(np.sum(lse[:, 0] - z[rows, y]))
        g = np.exp(z - lse)
        g[rows, y] -= 1
        g /= n
        worst = max(worst, float(np.max(np.abs(grad[block] - g))))
        scale = max(scale, float(np.max(np.abs(g))))
    exact = total / n
    return {"loss_rel_err": abs(loss - exact) / abs(exact), "grad_err_over_max": worst / scale}


def _check(inp: dict, checks: dict, key: str, out) -> None:
    checks[key] = errors(inp["logits"], inp["labels"], *out)


def run(size: dict, runs: int, log) -> dict:
    """Time against V at N fixed (the point V = size["V"] is the main table, checked for P7),
    then the extra peak memory against N at V fixed, each call in a fresh process."""
    n, v_main = size["N"], size["V"]
    curve = {"N": n, "V": list(size["sweep_V"]), "median_s": {k: [] for k in CONTENDERS}}
    main, checks = {}, {}
    for v in size["sweep_V"]:
        log(f"ce: N={n} V={v}")
        inp = inputs({"N": n, "V": v})
        on_last = partial(_check, inp, checks) if v == v_main else None
        timings = time_alternating({k: make(inp) for k, make in CONTENDERS.items()}, runs,
                                   on_last=on_last, log=log)
        for key, t in timings.items():
            curve["median_s"][key].append(t["seconds"]["median"] if "seconds" in t else None)
        if v == v_main:
            main = timings
        del inp, on_last
    for t in main.values():
        if "seconds" in t:
            t["bandwidth_GBps"] = 2 * n * v_main * 4 / t["seconds"]["median"] / 1e9
    keys = [key for key, t in main.items() if "seconds" in t]
    found = iter(peak_memories([("ce", key, {"N": m, "V": v_main})
                                for key in keys for m in size["memory_N"]], log))
    measured = {key: [next(found) for _ in size["memory_N"]] for key in keys}
    memory = {"V": v_main, "N": list(size["memory_N"]),
              "extra_bytes": {k: [r.get("extra_bytes") for r in rs] for k, rs in measured.items()},
              "peak_reset": all(r.get("peak_reset", False) for rs in measured.values() for r in rs)}
    return {"size": {"N": n, "V": v_main}, "array_bytes": n * v_main * 4, "timings": main,
            "correctness": checks, "time_vs_V": curve, "memory_vs_N": memory}
