"""Gradient checks: backward against float64 central differences, and the same for the gradient.

Both checks project the outputs on a seeded random cotangent u: backward gives Jᵀu for every
checked input at once, and central differences of ⟨u, f(x)⟩ give the same vector one entry at a
time. A wrong Jacobian J′ ≠ J passes only if (J′ − J)ᵀu = 0, which a continuous random u avoids
with probability 1, so one projection checks the whole Jacobian at the cost of 2n forward passes
and a single backward pass.
"""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError, LossgradError
from .tensor import Tensor, grad


class GradcheckError(LossgradError, AssertionError):
    """Backward and central differences disagree (an AssertionError, so test runners show it as a
    failed check)."""


def gradcheck(fn, inputs, eps: float = 1e-6, rtol: float = 1e-7, atol: float = 1e-7,
              seed: int = 0) -> bool:
    """Check backward against central differences; True, or GradcheckError naming the input,
    the first entry that differs and both values there.

    fn: Tensors ↦ a Tensor (any shape) or a sequence of Tensors.
    inputs: the Tensors to call ``fn`` with; those with requires_grad=True are checked and must
        be float64 (central differences in float32 have no digits to compare).
    eps: the step h of (f(x + h) − f(x − h)) / 2h: truncation error ~h², round-off ~1e-16/h.

    >>> x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    >>> gradcheck(lambda t: (t * t).exp(), [x])
    True
    """
    inputs = list(inputs)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    for k, t in enumerate(checked):
        if t.dtype != np.float64:
            raise DTypeError(f"gradcheck: input {k} is {t.dtype}; central differences need "
                             "float64 inputs — make them with dtype=np.float64")
    outputs = _outputs(fn(*inputs))
    rng = np.random.default_rng(seed)
    us = [rng.standard_normal(o.shape) for o in outputs]
    analytic = _backward(outputs, us, checked)

    def projected() -> float:
        return float(np.sum([np.sum(u * o.data) for u, o in zip(us, _outputs(fn(*inputs)))]))

    for k, (t, a) in enumerate(zip(checked, analytic)):
        numeric = _central_differences(projected, t.data, eps)
        _compare(a, numeric, rtol, atol, f"input {k} of shape {t.shape}")
    return True


def gradgradcheck(fn, inputs, eps: float = 1e-6, rtol: float = 1e-7, atol: float = 1e-7,
                  seed: int = 0) -> bool:
    """Check the derivative of the gradient: :func:`gradcheck` of x ↦ ∂⟨u, fn(x)⟩/∂x, the first
    derivative computed by ``grad(create_graph=True)`` (u seeded and random).

    >>> x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    >>> gradgradcheck(lambda t: (t * t * t).sum(), [x])
    True
    """
    inputs = list(inputs)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    rng = np.random.default_rng(seed)
    us = None

    def first_derivative(*args):
        nonlocal us
        outputs = _outputs(fn(*args))
        us = us or [rng.standard_normal(o.shape) for o in outputs]
        found = grad(outputs, checked, [Tensor(u) for u in us], create_graph=True,
                     allow_unused=True)
        return [Tensor(np.zeros_like(t.data)) if g is None else g for t, g in zip(checked, found)]

    return gradcheck(first_derivative, inputs, eps=eps, rtol=rtol, atol=atol, seed=seed + 1)


def _outputs(result) -> list[Tensor]:
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _backward(outputs, us, checked) -> list[np.ndarray]:
    """Jᵀu for each checked input (zeros where the outputs do not depend on it)."""
    live = [(o, Tensor(u)) for o, u in zip(outputs, us) if o.requires_grad]
    found = grad([o for o, _ in live], checked, [u for _, u in live], allow_unused=True) \
        if live else [None] * len(checked)
    return [np.zeros_like(t.data) if g is None else g.data for t, g in zip(checked, found)]


def _central_differences(f, x: np.ndarray, eps: float) -> np.ndarray:
    """∂f/∂x entry by entry, x perturbed in place and restored bit for bit."""
    out = np.empty_like(x)
    for i in np.ndindex(x.shape):
        kept = x[i]
        x[i] = kept + eps
        up = f()
        x[i] = kept - eps
        down = f()
        x[i] = kept
        out[i] = (up - down) / (2 * eps)
    return out


def _compare(analytic, numeric, rtol, atol, what: str) -> None:
    close = np.isclose(analytic, numeric, rtol=rtol, atol=atol)
    if close.all():
        return
    where = tuple(int(i) for i in np.argwhere(~close)[0])
    error = np.max(np.abs(analytic - numeric))
    raise GradcheckError(
        f"gradcheck: {what}: backward and central differences differ at index {where}: backward "
        f"{analytic[where]!r}, central differences {numeric[where]!r} (largest difference "
        f"{error:.3g}; rtol={rtol}, atol={atol}); the VJP of an op on this path is wrong, or the "
        "function has a kink within eps of the input"
    )
