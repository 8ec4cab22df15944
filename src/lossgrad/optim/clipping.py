"""Gradient clipping with ``torch.nn.utils``' rules: by total norm, or by value.

Both take parameters (objects with ``.grad``, a NumPy array or None; a lone parameter works too),
skip those whose grad is None and change the gradients in place.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..errors import DomainError, OptionError
from . import _checks

#: Added to the total norm before dividing, as PyTorch does, so a zero gradient divides safely.
NORM_EPS = 1e-6


def _grads(params) -> list[np.ndarray]:
    params = [params] if hasattr(params, "grad") else params
    return [p.grad for p in params if p.grad is not None]


def _vector_norm(x: np.ndarray, p: float) -> np.floating:
    """‖x‖_p of the flattened array, in its dtype (0 for an empty one)."""
    if x.size == 0:
        return x.dtype.type(0)
    # |x|^p may overflow to inf, which is the norm's true (unrepresentable) size: no warning
    with np.errstate(over="ignore"):
        return x.dtype.type(np.linalg.norm(x.ravel(), p))


def _total_norm(grads: list[np.ndarray], norm_type: float = 2.0) -> np.floating:
    """‖(‖g₁‖_p, ‖g₂‖_p, …)‖_p: the p-norm of all gradients taken as one vector."""
    if not grads:
        return np.float64(0.0)
    dtype = np.result_type(*grads)
    norms = np.array([_vector_norm(g, norm_type) for g in grads], dtype=dtype)
    return _vector_norm(norms, norm_type)


def clip_grad_norm_(params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> np.floating:
    """Scale the gradients in place so their total ``norm_type``-norm is at most ``max_norm``.

    The total norm N is the norm of all gradients taken as one vector (``norm_type`` > 0, or
    ``math.inf`` or ``"inf"`` for the largest magnitude). Every gradient is multiplied by
    min(max_norm / (N + 1e-6), 1), PyTorch's rule: the 1e-6 keeps a zero gradient finite, and
    leaves the clipped norm just under ``max_norm``. A non-finite N gives what PyTorch gives
    (N = inf: finite entries become 0, infinite ones NaN; N = NaN: every entry NaN), unless
    ``error_if_nonfinite=True``, which raises DomainError and leaves the gradients alone.

    Returns N, before clipping, in the gradients' dtype (float64 0 when no parameter has a
    gradient). Equals ``torch.nn.utils.clip_grad_norm_``.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> p = SimpleNamespace(data=np.zeros(2), grad=np.array([3.0, 4.0]))
    >>> print(round(float(clip_grad_norm_([p], max_norm=1.0)), 4), np.round(p.grad, 4))
    5.0 [0.6 0.8]
    """
    max_norm = _checks.nonnegative("max_norm", max_norm)
    norm_type = _norm_type(norm_type)
    _checks.flag("error_if_nonfinite", error_if_nonfinite)
    grads = _grads(params)
    total = _total_norm(grads, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise DomainError(f"the total {norm_type}-norm of the gradients is {total}, so they cannot "
                          "be clipped; find the NaN/inf gradient, or pass error_if_nonfinite=False")
    scale = min(max_norm / (total + NORM_EPS), 1.0)  # NaN stays NaN, as in torch.clamp
    with np.errstate(invalid="ignore"):  # inf·0 = NaN is the documented outcome
        for g in grads:
            g *= g.dtype.type(scale)
    return total


def _norm_type(norm_type) -> float:
    if norm_type == "inf":  # PyTorch's spelling
        return math.inf
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real) or not norm_type > 0:
        raise OptionError(f"norm_type must be a real > 0, math.inf or 'inf', got {norm_type!r}")
    return float(norm_type)


def clip_grad_value_(params, clip_value: float) -> None:
    """Clamp every gradient entry to [−clip_value, clip_value] in place (NaN stays NaN).

    Equals ``torch.nn.utils.clip_grad_value_``; a negative ``clip_value`` is refused.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> p = SimpleNamespace(data=np.zeros(3), grad=np.array([-2.0, 0.25, 3.0]))
    >>> clip_grad_value_([p], 0.5)
    >>> print(p.grad)
    [-0.5   0.25  0.5 ]
    """
    clip_value = _checks.nonnegative("clip_value", clip_value)
    for g in _grads(params):
        np.clip(g, -clip_value, clip_value, out=g)
