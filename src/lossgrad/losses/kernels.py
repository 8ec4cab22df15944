"""Fused fast paths: one pass per row for the softmax cross-entropies and sigmoid BCE.

The compiled module ``lossgrad.losses._fused`` (``_fused.c``, built by ``pip install``) computes a
row's maximum, Σ exp, loss and gradient while the row is in cache and writes the gradient once —
already multiplied by the reduction's factor, optionally into the logits' own buffer
(``inplace=True``). This module decides when to use it, prepares its arguments, and hands the
decorator a :class:`Parts` whose ``fill`` runs it.

Choosing a path: each of these losses takes ``kernel="auto" | "fused" | "reference"``. "auto" uses
the fused kernel for float32/float64 logits of at least 65 536 entries with the class axis
contiguous and no softcap, when the compiled module is there; "fused" forces it (copying or
capping around the kernel where needed); "reference" is the NumPy formulas of the loss's family.
:func:`use` changes what "auto" means for a block of code, and the environment variable
``LOSSGRAD_KERNEL`` sets it for a process. Both paths give the same numbers within rounding (the
contract tests run on both).

>>> import numpy as np, lossgrad
>>> x = np.array([[2.0, 0.5, 6.0], [0.1, 0.0, 3.0]])
>>> a = lossgrad.losses.sparse_softmax_cross_entropy(x, [2, 1], kernel="fused")
>>> b = lossgrad.losses.sparse_softmax_cross_entropy(x, [2, 1], kernel="reference")
>>> bool(np.allclose(a.grad, b.grad, rtol=1e-14, atol=0)), round(float(a), 4)
(True, 1.5609)
"""

from __future__ import annotations

import contextlib
import os
from numbers import Integral

import numpy as np

from ..errors import OptionError
from .core import Parts, check_option

try:
    from . import _fused
except ImportError:  # a source tree that was never built: the reference path serves everything
    _fused = None

PATHS = ("auto", "fused", "reference")
#: "auto" takes the fused kernel from this many logits up. Below, both paths cost microseconds and
#: the reference path keeps the frameworks' order of float32 operations (max, exp, sum, log), so a
#: small example prints the digits TensorFlow or PyTorch print (the fused kernel's exp is as
#: accurate but rounds differently in the last place).
_FUSED_FROM = 1 << 16
#: Below this many entries one thread does the work: starting a second costs more than it saves.
_THREADED_FROM = 1 << 15

_state = {"default": os.environ.get("LOSSGRAD_KERNEL", "auto"), "threads": None}


def available() -> bool:
    """True when the compiled kernels are importable (``pip install`` builds them)."""
    return _fused is not None


def get_num_threads() -> int:
    """Threads the kernels use: ``set_num_threads``, else ``LOSSGRAD_NUM_THREADS``, else the
    CPUs this process may run on."""
    if _state["threads"] is not None:
        return _state["threads"]
    env = os.environ.get("LOSSGRAD_NUM_THREADS")
    if not env:
        return len(os.sched_getaffinity(0))
    if not env.isdigit() or int(env) < 1:
        raise OptionError(f"LOSSGRAD_NUM_THREADS must be a positive integer, got {env!r}")
    return int(env)


def set_num_threads(threads: int | None) -> None:
    """Set the kernels' thread count (None: back to the default of :func:`get_num_threads`)."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, Integral)
                                or threads < 1):
        raise OptionError(
            f"set_num_threads: threads must be a positive int or None, got {threads!r}")
    _state["threads"] = None if threads is None else int(threads)


@contextlib.contextmanager
def use(path: str):
    """Within the block, ``kernel="auto"`` means ``path`` ("fused" or "reference").

    >>> import lossgrad
    >>> with lossgrad.kernels.use("reference"):
    ...     r = lossgrad.losses.sparse_softmax_cross_entropy([[1.0, 2.0]], [0])
    >>> round(float(r), 4)
    1.3133
    """
    check_option("path", path, PATHS)
    before, _state["default"] = _state["default"], path
    try:
        yield
    finally:
        _state["default"] = before


def fused_chosen(kernel: str, logits: np.ndarray, *, softcap=None) -> bool:
    """Whether this call runs the fused kernel."""
    check_option("kernel", kernel, PATHS)
    if kernel == "auto":
        kernel = _state["default"]
        check_option("LOSSGRAD_KERNEL", kernel, PATHS)
    if kernel == "fused" and _fused is None:
        raise OptionError('kernel="fused": the compiled kernels are not built in this install; '
                          'reinstall lossgrad with a C compiler (pip install -e .) or use '
                          'kernel="reference"')
    if kernel != "auto":
        return kernel == "fused"
    return (_fused is not None and logits.dtype in (np.float32, np.float64)
            and softcap is None and logits.flags.c_contiguous and logits.size >= _FUSED_FROM)


def inplace_target(logits: np.ndarray, ctx, inplace: bool) -> np.ndarray | None:
    """The caller's buffer to write the gradient into, or None when ``inplace`` is False."""
    if not inplace:
        return None
    given = ctx.given
    if not (isinstance(given, np.ndarray) and given.dtype in (np.float32, np.float64)
            and logits.flags.c_contiguous and logits.flags.writeable
            and np.may_share_memory(logits, given)):
        raise OptionError(
            f"{ctx.name}: inplace=True writes the gradient into the logits, which needs them as a "
            "writable float32 or float64 NumPy array, C-contiguous with the class axis last; got "
            f"{_describe(given, logits)}. Pass such an array, or inplace=False"
        )
    return given if given.shape == logits.shape else logits  # result.grad is then the caller's


def _describe(x, logits) -> str:
    if not isinstance(x, np.ndarray):
        return type(x).__name__
    if x.flags.c_contiguous and not logits.flags.c_contiguous:
        return f"an array of shape {x.shape} whose class axis is not its last"
    layout = "C-contiguous" if x.flags.c_contiguous else "non-contiguous"
    access = "writable" if x.flags.writeable else "read-only"
    return f"a {access} {layout} {x.dtype} array"


def _threads(size: int) -> int:
    return get_num_threads() if size >= _THREADED_FROM else 1


def _contiguous(x, dtype):
    return None if x is None else np.ascontiguousarray(x, dtype=dtype)


def _row_factor(factor, rows: int, dtype):
    """The reduction's factor as one contiguous entry per row (None: the gradient of the sum)."""
    if factor is None:
        return None
    return np.ascontiguousarray(np.reshape(factor, rows), dtype=dtype)


def _cap(logits, softcap, out):
    """Write s·tanh(x/s) into ``out`` (which may be ``logits``) and return its derivative
    1 − tanh², NumPy's SIMD tanh doing the work: one array beyond ``out``."""
    np.divide(logits, softcap, out=out)
    np.tanh(out, out=out)
    dz = np.multiply(out, out)
    np.subtract(1, dz, out=dz)
    out *= softcap
    return dz


def softmax_parts(logits, ctx, *, labels=None, targets=None, class_weight=None, row_scale=None,
                  label_smoothing=0.0, z_loss=0.0, softcap=None, valid=None, norm=None,
                  out=None, return_lse=False) -> Parts:
    """The fused softmax cross-entropy of each row, as a body's Parts.

    logits (…, C) class-last in the compute dtype; exactly one of ``labels`` (…) integers with
    ignored entries marked False in ``valid`` (any class in their place), or ``targets`` (…, C).
    class_weight: (C,) weights inside the sum (PyTorch's); row_scale: (…) a multiplier of each
    row's cross-entropy (Keras's class weight of the row). out: the caller's logits buffer for an
    in-place gradient, or None.
    """
    dtype = logits.dtype
    shape = logits.shape[:-1]
    value = np.empty(shape, dtype)
    lse = np.empty(shape, dtype)
    rows = RowProblem(logits.shape[-1], dtype, class_weight=class_weight,
                      label_smoothing=label_smoothing, z_loss=z_loss, softcap=softcap)
    labels = None if labels is None else rows.labels(labels, valid)
    targets = _contiguous(targets, dtype)
    row_scale = _contiguous(row_scale, dtype)

    def fill(factor):
        grad = None
        if factor is not None:
            grad = out if out is not None else np.empty(logits.shape, dtype)
        rows.run(logits, grad, value.reshape(-1), lse.reshape(-1), factor, labels=labels,
                 targets=targets, row_scale=row_scale)
        return grad

    aux = {"lse": lse} if return_lse else {}
    return Parts(value, None, norm=norm, valid=valid, aux=aux, fill=fill)


class RowProblem:
    """The options of a softmax cross-entropy, ready for the kernel; :meth:`run` does a block of
    rows (all of a loss's rows, or one chunk of a linear + cross-entropy)."""

    def __init__(self, classes: int, dtype, *, class_weight=None, label_smoothing=0.0,
                 z_loss=0.0, softcap=None):
        self.dtype = np.dtype(dtype)
        self.weights = _contiguous(class_weight, dtype)
        self.wsum = float(classes if self.weights is None
                          else np.sum(self.weights, dtype=np.float64))
        self.alpha, self.zeta, self.softcap = float(label_smoothing), float(z_loss), softcap

    @staticmethod
    def labels(labels, valid) -> np.ndarray:
        """int64 labels with −1 where ``valid`` is False: the kernel's mark of an ignored row."""
        labels = np.asarray(labels, dtype=np.int64)
        return np.ascontiguousarray(labels if valid is None else np.where(valid, labels, -1))

    def run(self, logits, grad, value, lse, factor, *, labels=None, targets=None, row_scale=None):
        """Fill value and lse (one per row) and, unless ``grad`` is None, write into ``grad`` the
        gradient times ``factor`` (one per row). ``grad`` may be ``logits`` (in place)."""
        if _fused is None:  # not built: linear_softmax_cross_entropy still runs, on NumPy
            self._reference(logits, grad, value, lse, factor, labels)
            return
        dz = None
        if self.softcap is not None:  # the capped logits go where the gradient will be written
            z = grad if grad is not None else np.empty(logits.shape, self.dtype)
            dz = _cap(logits, self.softcap, out=z)
            logits = z
        _fused.softmax_rows(np.ascontiguousarray(logits), targets, _flat(labels), grad,
                            self.weights, _flat(row_scale),
                            _row_factor(factor, value.size, self.dtype), value, lse, self.alpha,
                            self.zeta, self.wsum, self.dtype == np.float64, _threads(logits.size))
        if dz is not None and grad is not None:
            grad *= dz


    def _reference(self, logits, grad, value, lse, factor, labels):
        """What :meth:`run` computes, by the reference path (labels only)."""
        from .cross_entropy import sparse_softmax_cross_entropy  # it imports this module

        r = sparse_softmax_cross_entropy(
            logits, labels, class_weight=self.weights, ignore_index=-1, label_smoothing=self.alpha,
            z_loss=self.zeta, softcap=self.softcap, reduction="none", grad=grad is not None,
            kernel="reference", return_lse=True, validate=False)
        value[...], lse[...] = r.value, r.aux["lse"]
        if grad is not None:
            np.multiply(r.grad, factor.reshape(-1, 1), out=grad)


def _flat(x):
    return None if x is None else x.reshape(-1)


def sigmoid_bce_parts(logits, targets, *, pos_weight=None, label_smoothing=0.0,
                      out=None) -> Parts:
    """The fused sigmoid binary cross-entropy, entry by entry, as a body's Parts.

    logits and targets of one shape in the compute dtype; pos_weight () or (C,) for logits (…, C);
    out: the caller's logits buffer for an in-place gradient (each entry is read before its
    gradient is written), or None.
    """
    dtype = logits.dtype
    columns = logits.shape[-1] if logits.ndim else 1
    x = np.ascontiguousarray(logits)
    y = np.ascontiguousarray(targets, dtype=dtype)
    pw = None if pos_weight is None else np.ascontiguousarray(
        np.broadcast_to(np.asarray(pos_weight, dtype), (columns,)))
    value = np.empty(logits.shape, dtype)

    def fill(factor):
        grad = None
        if factor is not None:
            grad = out if out is not None else np.empty(logits.shape, dtype)
        scalar, f = _entry_factor(factor, dtype)
        _fused.sigmoid_bce(x, y, pw, f, grad, value, scalar, float(label_smoothing), columns,
                           dtype == np.float64, _threads(x.size))
        return grad

    return Parts(value, None, fill=fill)


def _entry_factor(factor, dtype):
    """(whether it is one number, the factor as the kernel reads it): a broadcast scalar — no
    sample weights — is passed as its one entry instead of an array of the value's size."""
    if factor is None:
        return False, None
    if factor.size and not any(factor.strides):
        return True, np.asarray(factor.reshape(-1)[:1], dtype)
    return False, np.ascontiguousarray(factor, dtype)
