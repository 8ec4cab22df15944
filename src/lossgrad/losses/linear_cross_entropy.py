"""Linear layer + softmax cross-entropy without the logits: a large vocabulary in bounded memory.

The logits of N hidden states against V output rows are an N×V array — 2 GiB for N = 8192,
V = 65 536 in float32 — that a language model's loss only needs one row at a time. This loss takes
the rows in chunks: a chunk's logits (matmul), its loss and gradient (the fused kernel, in place),
then the chunk's share of every gradient (two more matmuls, the weight gradient accumulated by
BLAS with β = 1, so no V×H temporary either), and the buffer is reused for the next chunk.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from scipy.linalg import blas

from ..errors import OptionError, ShapeError
from . import kernels
from .core import Parts, as_floats, check_range, loss, sparse_weights
from .cross_entropy import _check_logit_options, _sparse_labels

#: The chunk's logits buffer may take this much unless ``memory_budget`` says otherwise.
DEFAULT_BUDGET = 128 * 2**20


@loss(kind="per_sample")
def linear_softmax_cross_entropy(hidden, weight, labels, bias=None, ctx=None, *,
                                 label_smoothing=0.0, class_weight=None, ignore_index=None,
                                 z_loss=0.0, softcap=None, memory_budget=None, chunk_size=None,
                                 return_lse=False):
    """Softmax cross-entropy of ``hidden @ weight.T + bias`` against integer labels, chunk by chunk.

    **Value:** ℓ_i = sparse_softmax_cross_entropy(z_i, y_i) with z_i = W h_i + b (optionally
    softcapped: z ← s·tanh(z/s)), with the same label smoothing, class weights, ignore_index and
    z-loss as :func:`~lossgrad.losses.sparse_softmax_cross_entropy`.

    **Gradient:** with G = ∂ℓ/∂z (N×V, never held whole): ∂/∂hidden = G W, ∂/∂weight = Gᵀ H,
    ∂/∂bias = Σ_i G_i — each accumulated chunk by chunk, already multiplied by the reduction's
    factor. ``result.grads`` holds "hidden", "weight" and (when given) "bias".

    **Shapes:** hidden (N, H); weight (V, H), PyTorch's ``nn.Linear(H, V).weight``; labels (N,)
    integers in [0, V) or ``ignore_index``; bias (V,) or None; value (N,). Chunks of
    ``chunk_size`` rows, or as many as fit ``memory_budget`` bytes of logits (128 MiB by
    default; twice the logits with a softcap). Without the compiled kernels (no C compiler at
    install) the chunks go through the NumPy reference path, which takes a few chunk-sized
    temporaries beyond the budget.

    **Stability:** each chunk's rows go through the fused kernel (max-shifted log-sum-exp, float64
    sums); the weight gradient is summed by BLAS in the compute dtype, one chunk at a time.

    **Parity:** the materialised computation — ``F.cross_entropy(F.linear(hidden, weight, bias),
    labels)`` in PyTorch, Liger-Kernel's ``LigerFusedLinearCrossEntropyLoss`` and Apple's
    cut-cross-entropy on GPUs (whose softcap and z-loss options these are).

    **Example:**
        >>> rng = np.random.default_rng(0)
        >>> h, w = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
        >>> r = linear_softmax_cross_entropy(h, w, [0, 4, 1, 1], chunk_size=3)
        >>> from lossgrad.losses import sparse_softmax_cross_entropy
        >>> full = sparse_softmax_cross_entropy(h @ w.T, [0, 4, 1, 1])
        >>> print(round(float(r), 4), bool(np.allclose(r.grads["weight"], full.grad.T @ h)))
        2.5449 True
    """
    _check_logit_options("exact", label_smoothing, z_loss)
    weight, bias = _parameters(hidden, weight, bias, ctx)
    vocab = weight.shape[0]
    # The logits' shape, for the label checks, without their memory.
    logits = np.broadcast_to(np.zeros((), hidden.dtype), (hidden.shape[0], vocab))
    labels = _sparse_labels(labels, logits, ctx, ignore_index,
                            instead="sparse_softmax_cross_entropy on the logits")
    safe, norm, valid, w = sparse_weights(labels, num_classes=vocab, class_weight=class_weight,
                                          ignore_index=ignore_index, loss=ctx.name,
                                          dtype=hidden.dtype)
    rows = kernels.RowProblem(vocab, hidden.dtype, class_weight=w,
                              label_smoothing=label_smoothing, z_loss=z_loss, softcap=softcap)
    chunk = _chunk_rows(chunk_size, memory_budget, vocab, hidden.dtype, softcap)
    problem = _Problem(hidden, weight, bias, rows, rows.labels(safe, valid), chunk)
    aux = {"lse": problem.lse} if return_lse else {}
    return Parts(problem.value, None, norm=norm, valid=valid, aux=aux, fill=problem.fill,
                 coupled=True)


def _parameters(hidden, weight, bias, ctx):
    """weight (V, H) and bias (V,) or None, checked against hidden (N, H), in its dtype."""
    if hidden.ndim != 2:
        raise ShapeError(f"{ctx.name}: hidden must be (N, H), got shape {hidden.shape}; reshape "
                         "leading axes into one, e.g. hidden.reshape(-1, H)")
    weight = as_floats(weight, "weight").astype(hidden.dtype, copy=False)
    if weight.ndim != 2 or weight.shape[1] != hidden.shape[1] or weight.shape[0] == 0:
        raise ShapeError(f"{ctx.name}: weight must be (V, H) = (classes, {hidden.shape[1]}) for "
                         f"hidden of shape {hidden.shape} (nn.Linear(H, V).weight), got shape "
                         f"{weight.shape}")
    if bias is not None:
        bias = as_floats(bias, "bias").astype(hidden.dtype, copy=False)
        if bias.shape != weight.shape[:1]:
            raise ShapeError(f"{ctx.name}: bias must have one entry per class, shape "
                             f"{weight.shape[:1]}, got shape {bias.shape}")
    return weight, bias


def _chunk_rows(chunk_size, memory_budget, vocab: int, dtype, softcap) -> int:
    """Rows per chunk: ``chunk_size``, or as many as ``memory_budget`` bytes of logits hold."""
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, Integral) or chunk_size < 1:
            raise OptionError(f"chunk_size must be a positive integer (rows), got {chunk_size!r}")
        return int(chunk_size)
    budget = DEFAULT_BUDGET if memory_budget is None else memory_budget
    check_range("memory_budget", budget, low=0, low_open=True)
    row_bytes = vocab * np.dtype(dtype).itemsize * (1 if softcap is None else 2)
    return max(1, int(budget // row_bytes))


class _Problem:
    """One call's arrays and the chunked pass over them (``fill`` is the body's single pass)."""

    def __init__(self, hidden, weight, bias, rows, labels, chunk):
        self.hidden, self.weight, self.bias, self.rows = hidden, weight, bias, rows
        self.labels, self.chunk = labels, min(chunk, max(1, hidden.shape[0]))
        self.value = np.empty(hidden.shape[0], hidden.dtype)
        self.lse = np.empty(hidden.shape[0], hidden.dtype)

    def fill(self, factor) -> dict | None:
        h, w, b = self.hidden, self.weight, self.bias
        grads = None if factor is None else {
            "hidden": np.empty_like(h), "weight": np.zeros_like(w),
            **({} if b is None else {"bias": np.zeros_like(b)})}
        buffer = np.empty((self.chunk, w.shape[0]), h.dtype)
        for start in range(0, h.shape[0], self.chunk):
            rows = slice(start, min(start + self.chunk, h.shape[0]))
            logits = buffer[: rows.stop - start]
            np.matmul(h[rows], w.T, out=logits)
            if b is not None:
                logits += b
            grad = None if grads is None else logits  # the kernel turns the logits into G
            self.rows.run(logits, grad, self.value[rows], self.lse[rows],
                          None if factor is None else factor[rows], labels=self.labels[rows])
            if grads is not None:
                _accumulate(grads, logits, h[rows], w, rows)
        return grads


def _accumulate(grads: dict, g: np.ndarray, h: np.ndarray, w: np.ndarray, rows: slice) -> None:
    """A chunk's share: ∂hidden = G W for its rows, ∂weight += Gᵀ H and ∂bias += Σ G in place."""
    np.matmul(g, w, out=grads["hidden"][rows])
    # (∂weight)ᵀ is Fortran-ordered H×V: gemm adds Hᵀ·G (H×n times n×V) into it with β = 1, the
    # transposes being views, so neither a V×H product nor a copy of G is made.
    gemm = blas.get_blas_funcs("gemm", dtype=g.dtype)
    gemm(1.0, h.T, g.T, beta=1.0, c=grads["weight"].T, trans_b=True, overwrite_c=True)
    if "bias" in grads:
        grads["bias"] += g.sum(axis=0)
