"""Which tool for the fused kernel: the same one-pass algorithm written three ways, side by side.

Each contender computes the sparse softmax cross-entropy (mean) and writes its gradient into a
buffer it owns, row block by row block while the block is in cache, on the same thread count:
- lossgrad's C kernel (``kernel="fused", inplace=True``): its own vectorised exp, pthreads;
- blocked NumPy on threads: NumPy's SIMD ufuncs (max, subtract, exp, sum, scale) on blocks of
  rows that fit in L2, the blocks shared out to Python threads (NumPy releases the GIL);
- Numba (when installed: ``pip install numba``): the same loops as the C kernel with
  ``math.exp``, ``parallel=True`` / ``prange`` over rows, ``fastmath`` (compile time excluded).
All three reset their buffer from the same logits (untimed) before each call.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import THREADS
from ..harness import Contender, random_labels, random_normal, time_alternating

TITLE = "Which tool for the fused kernel (sparse softmax CE, mean, float32, in place)"
SIZES = {"quick": {"N": 256, "V": 4096}, "full": {"N": 4096, "V": 32768}}
RUNS = {"quick": 7, "full": 7}
#: Rows per block of the blocked-NumPy contender: 4 rows of 32 768 floats = 512 KiB, in L2.
_BLOCK_BYTES = 512 * 1024


def inputs(size: dict) -> dict:
    return {"logits": random_normal((size["N"], size["V"])),
            "labels": random_labels(size["N"], size["V"])}


def _owned(inp: dict):
    """A copy of the logits for a contender that overwrites them, and its (untimed) reset."""
    own = inp["logits"].copy()
    return own, lambda: np.copyto(own, inp["logits"])


def c_kernel(inp: dict) -> Contender:
    from lossgrad.losses import kernels, sparse_softmax_cross_entropy

    kernels.set_num_threads(THREADS)
    own, reset = _owned(inp)

    def run():
        r = sparse_softmax_cross_entropy(own, inp["labels"], kernel="fused", inplace=True)
        return r.value, r.grad

    return Contender("C kernel (lossgrad)", run, reset=reset)


def blocked_numpy(inp: dict) -> Contender:
    own, reset = _owned(inp)
    labels = inp["labels"]
    n, v = own.shape
    rows = max(1, _BLOCK_BYTES // (v * own.itemsize))
    loss = np.empty(n, np.float64)
    pool = ThreadPoolExecutor(THREADS)
    bounds = np.linspace(0, n, THREADS + 1).astype(int)

    def part(start: int, stop: int) -> None:
        for a in range(start, stop, rows):
            b = min(a + rows, stop)
            z, y = own[a:b], labels[a:b]
            at = np.arange(b - a)
            m = z.max(axis=1, keepdims=True)
            np.subtract(z, m, out=z)
            picked = z[at, y]
            np.exp(z, out=z)
            s = z.sum(axis=1, keepdims=True, dtype=np.float64)
            loss[a:b] = np.log(s[:, 0]) - picked
            z *= (1 / (s * n)).astype(z.dtype)
            z[at, y] -= np.float32(1 / n)

    def run():
        list(pool.map(part, bounds[:-1], bounds[1:]))
        return loss.mean(), own

    return Contender(f"blocked NumPy, {THREADS} threads", run, reset=reset)


def numba_kernel(inp: dict) -> Contender:
    import numba

    numba.set_num_threads(THREADS)
    own, reset = _owned(inp)
    labels = inp["labels"]
    kernel = _numba_rows(numba)
    loss = np.empty(own.shape[0], np.float64)

    def prepare():
        probe = own[:2].copy()
        kernel(probe, labels[:2], loss[:2], 2)  # compile outside the timed runs

    def run():
        kernel(own, labels, loss, own.shape[0])
        return loss.mean(), own

    return Contender(f"Numba {numba.__version__} (math.exp)", run, prepare=prepare, reset=reset)


def _numba_rows(numba):
    import math

    @numba.njit(parallel=True, fastmath=True, cache=False)
    def rows(z, labels, loss, n):
        for i in numba.prange(z.shape[0]):
            row = z[i]
            m = row[0]
            for c in range(row.shape[0]):
                m = max(m, row[c])
            picked = row[labels[i]] - m
            s = 0.0
            for c in range(row.shape[0]):
                e = math.exp(row[c] - m)
                row[c] = e
                s += e
            loss[i] = math.log(s) - picked
            scale = 1.0 / (s * n)
            for c in range(row.shape[0]):
                row[c] *= scale
            row[labels[i]] -= 1.0 / n

    return rows


def _available(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


CONTENDERS = {"c": c_kernel, "numpy_blocked": blocked_numpy, "numba": numba_kernel}


def run(size: dict, runs: int, log) -> dict:
    inp = inputs(size)
    contenders = {k: make(inp) for k, make in CONTENDERS.items()
                  if k != "numba" or _available("numba")}
    log(f"tools: N={size['N']} V={size['V']}" + ("" if "numba" in contenders
                                                  else " (numba not installed: skipped)"))
    timings = time_alternating(contenders, runs, log=log)
    n, v = size["N"], size["V"]
    for t in timings.values():
        if "seconds" in t:
            t["bandwidth_GBps"] = 2 * n * v * 4 / t["seconds"]["median"] / 1e9
    return {"size": {"N": n, "V": v}, "timings": timings,
            "numba": "numba" in contenders}
