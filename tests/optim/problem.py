"""The seeded problem every golden case runs, and the driver both frameworks share.

Three parameters (a 3×4 matrix and two vectors) start from seeded normal weights. At step k the
gradient of parameter i is computed in NumPy from its current weights w, in their dtype:

    g = h ⊙ (w − c) + 0.1·sin(w) + 0.01·ξ_k

(h > 0 and c fixed per parameter, ξ_k seeded per step), the gradient of a fixed, slightly
non-quadratic bowl plus noise — so each framework sees the gradients of its own trajectory and a
wrong update changes every later step. Parameter 2 gets no gradient (None) on every third step,
which checks that a parameter without a gradient is skipped and its state does not move.

The driver talks to a framework through a small adapter (:class:`Lossgrad` here,
``tests.optim.reference.Torch`` for PyTorch), so the same code produces the golden numbers and
lossgrad's.
"""

from __future__ import annotations

import numpy as np

import lossgrad.optim

SEED = 20240604
SHAPES = ((3, 4), (4,), (5,))
SKIPPED = 2  # the parameter that has no gradient on steps k ≡ 1 (mod 3)


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng([SEED, *key])


def initial_weights(dtype: str) -> list[np.ndarray]:
    """The starting weights, drawn in float64 and rounded to ``dtype``."""
    return [_rng(0, i).standard_normal(s).astype(dtype) for i, s in enumerate(SHAPES)]


def gradient(i: int, w: np.ndarray, k: int) -> np.ndarray | None:
    """The gradient of parameter ``i`` with weights ``w`` at step ``k`` (None when skipped)."""
    if i == SKIPPED and k % 3 == 1:
        return None
    rng = _rng(1, i)
    h = rng.uniform(0.5, 2.0, w.shape).astype(w.dtype)
    c = rng.standard_normal(w.shape).astype(w.dtype)
    noise = _rng(2, i, k).standard_normal(w.shape).astype(w.dtype)
    return h * (w - c) + w.dtype.type(0.1) * np.sin(w) + w.dtype.type(0.01) * noise


def clip_grads(dtype: str, with_inf: bool) -> list[np.ndarray]:
    """Gradients to clip: seeded, of different scales; optionally one +inf entry."""
    grads = [(_rng(3, i).standard_normal(s) * 10.0 ** (i - 1)).astype(dtype)
             for i, s in enumerate(SHAPES)]
    if with_inf:
        grads[1][2] = np.inf
    return grads


class Param:
    """The duck type the optimizers take: a writeable ``.data`` array and a ``.grad`` (or None)."""

    def __init__(self, data, grad=None):
        self.data = np.array(data)
        self.grad = grad


class Lossgrad:
    """lossgrad as a framework for the driver."""

    @staticmethod
    def parameter(array: np.ndarray) -> Param:
        return Param(array)

    @staticmethod
    def weights(p: Param) -> np.ndarray:
        return p.data.copy()

    @staticmethod
    def set_grad(p: Param, grad: np.ndarray | None) -> None:
        p.grad = None if grad is None else grad.copy()

    @staticmethod
    def grad(p: Param) -> np.ndarray:
        return p.grad.copy()

    @staticmethod
    def optimizer(name: str, groups, options: dict):
        return getattr(lossgrad.optim, name)(groups, **options)

    @staticmethod
    def schedule(name: str):
        return getattr(lossgrad.optim, name)

    @staticmethod
    def clip(name: str, params, options: dict):
        return getattr(lossgrad.optim, name)(params, **options)


def build_schedule(fw, optimizer, spec):
    """A schedule from its spec ``[name, options]``; SequentialLR's options list sub-specs."""
    name, options = spec
    if name == "SequentialLR":
        schedules = [build_schedule(fw, optimizer, sub) for sub in options["schedulers"]]
        return fw.schedule(name)(optimizer, schedules, options["milestones"])
    return fw.schedule(name)(optimizer, **options)


def make_optimizer(fw, case, params):
    """The case's optimizer over ``params``, and its schedule (or None)."""
    groups = ([{"params": [params[i] for i in members], **options}
               for members, options in case.groups] if case.groups else params)
    optimizer = fw.optimizer(case.optimizer, groups, dict(case.options))
    return optimizer, build_schedule(fw, optimizer, case.schedule) if case.schedule else None


def set_gradients(fw, params, k: int) -> None:
    """Give every parameter its step-``k`` gradient at its current weights."""
    for i, p in enumerate(params):
        fw.set_grad(p, gradient(i, fw.weights(p), k))


def run_optimizer(fw, case, dtype: str) -> dict[str, np.ndarray]:
    """The weights of each parameter after 0..steps steps (and the rates, with a schedule)."""
    params = [fw.parameter(w) for w in initial_weights(dtype)]
    optimizer, schedule = make_optimizer(fw, case, params)
    history = [[fw.weights(p)] for p in params]
    rates = [schedule.get_last_lr()] if schedule else []
    for k in range(case.steps):
        set_gradients(fw, params, k)
        optimizer.step()
        if schedule:
            schedule.step()
            rates.append(schedule.get_last_lr())
        for h, p in zip(history, params):
            h.append(fw.weights(p))
    out = {f"param{i}": np.stack(h) for i, h in enumerate(history)}
    if schedule:
        out["lr"] = np.array(rates, dtype=np.float64)
    return out


def run_clip(fw, case, dtype: str) -> dict[str, np.ndarray]:
    """The clipped gradients (and, for clip_grad_norm_, the total norm it returned)."""
    grads = clip_grads(dtype, case.with_inf)
    params = [fw.parameter(w) for w in initial_weights(dtype)] + [fw.parameter(np.zeros(2, dtype))]
    for p, g in zip(params, grads):
        fw.set_grad(p, g)  # the last parameter keeps grad None: skipped
    total = fw.clip(case.function, params, dict(case.options))
    out = {f"grad{i}": fw.grad(p) for i, p in enumerate(params[:len(grads)])}
    if total is not None:
        out["total"] = np.asarray(total)
    return out


def run(fw, case, dtype: str) -> dict[str, np.ndarray]:
    """Whatever the case records, computed by framework ``fw``."""
    return (run_optimizer if hasattr(case, "optimizer") else run_clip)(fw, case, dtype)
