"""Learning-rate schedules with ``torch.optim.lr_scheduler``'s semantics and numbers.

A schedule sets ``group["lr"]`` of each of its optimizer's param groups. Creating it records each
group's starting rate as ``group["initial_lr"]`` (once; a second schedule on the same optimizer
reuses it), keeps those as ``base_lrs`` and applies epoch 0. Call ``step()`` after
``optimizer.step()``, once per epoch or once per batch, whichever the schedule counts in;
``get_last_lr()`` gives the rates it set last.

The rates are computed as PyTorch computes them — recursively from the current rate where PyTorch
does (``CosineAnnealingLR``, ``LinearLR``, ``StepLR``) — so they equal PyTorch's bit for bit, and
a rate changed by hand between steps carries on the way it does in PyTorch.

Differences from PyTorch: options are checked (``OptionError``); there is no ``last_epoch``
argument and no ``step(epoch)`` (resume with ``load_state_dict``); no warning is given when
``step()`` comes before ``optimizer.step()``. ``state_dict()`` is JSON-able: the schedule's name,
``last_epoch``, ``base_lrs``, ``last_lr`` and its options. The rate itself lives in the
optimizer's param groups: resume both from their state dicts.
"""

from __future__ import annotations

import math
from bisect import bisect_right

from ..errors import DTypeError, OptionError
from . import _checks
from .optimizers import Optimizer


class LRScheduler:
    """Base class: ``step``, ``get_last_lr``, the state dict; a subclass gives the rates.

    A subclass declares ``OPTIONS`` (option name → check) and ``next_lrs()`` (the rates at
    ``last_epoch``, from the current ones), and ``closed_form()`` (the rates at ``last_epoch``
    from ``base_lrs``, used when a :class:`SequentialLR` starts it).
    """

    OPTIONS: dict = {}

    def __init__(self, optimizer: Optimizer, **options):
        if not isinstance(optimizer, Optimizer):
            raise DTypeError(f"optimizer must be a lossgrad optimizer, got "
                             f"{type(optimizer).__name__}; pass e.g. lossgrad.optim.SGD(...)")
        self._set_options(options)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def _set_options(self, options: dict) -> None:
        for name, check in self.OPTIONS.items():
            setattr(self, name, check(name, options[name]))

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def _apply(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = list(lrs)

    def step(self) -> None:
        """Advance one epoch (or batch) and set the new rates."""
        self.last_epoch += 1
        self._apply(self.next_lrs())

    def restart(self) -> None:
        """Jump to epoch 0 in closed form (what SequentialLR does at a milestone)."""
        self.last_epoch = 0
        self._apply(self.closed_form())

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set, one per param group."""
        return list(self._last_lr)

    def next_lrs(self) -> list[float]:
        """The rates at ``last_epoch``, from the current ones."""
        raise NotImplementedError

    def closed_form(self) -> list[float]:
        """The rates at ``last_epoch``, from ``base_lrs``."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        """A JSON-able dict: the schedule's name, position, base and last rates, options."""
        return {"scheduler": type(self).__name__, "last_epoch": self.last_epoch,
                "base_lrs": list(self.base_lrs), "last_lr": list(self._last_lr),
                **{name: getattr(self, name) for name in self.OPTIONS}}

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict` (of the same kind of schedule)."""
        _check_kind(self, state, {"last_epoch", "base_lrs", "last_lr", *self.OPTIONS})
        self._set_options(state)
        # −1: a schedule of a SequentialLR whose turn has not come
        self.last_epoch = _checks.count("last_epoch", state["last_epoch"], low=-1)
        self.base_lrs = _rates("base_lrs", state["base_lrs"], self.optimizer)
        self._last_lr = _rates("last_lr", state["last_lr"], self.optimizer)


def _check_kind(scheduler, state, keys: set) -> None:
    name = type(scheduler).__name__
    if not isinstance(state, dict) or state.get("scheduler") != name:
        got = state.get("scheduler") if isinstance(state, dict) else type(state).__name__
        raise OptionError(f"the state is of {got!r}, not {name}; load the state a {name} saved")
    missing = sorted(keys - set(state))
    if missing:
        raise OptionError(f"the {name} state lacks {', '.join(missing)}; "
                          "load what state_dict() returned")


def _rates(name: str, values, optimizer: Optimizer) -> list[float]:
    if not isinstance(values, list) or len(values) != len(optimizer.param_groups):
        raise OptionError(f"{name} must list one rate per param group "
                          f"({len(optimizer.param_groups)}), got {values!r}")
    return [_checks.nonnegative(f"{name}[{i}]", v) for i, v in enumerate(values)]


class StepLR(LRScheduler):
    """Multiply the rate by γ every ``step_size`` epochs: lr = base·γ^⌊epoch / step_size⌋.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from lossgrad.optim import SGD
    >>> opt = SGD([SimpleNamespace(data=np.zeros(2), grad=None)], lr=0.1)
    >>> schedule = StepLR(opt, step_size=2, gamma=0.5)
    >>> for _ in range(4):
    ...     schedule.step()
    ...     print(round(schedule.get_last_lr()[0], 4))
    0.1
    0.05
    0.05
    0.025
    """

    OPTIONS = {"step_size": _checks.count, "gamma": _checks.nonnegative}

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer, step_size=step_size, gamma=gamma)

    def next_lrs(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def closed_form(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the rate linearly from ``start_factor``·base to ``end_factor``·base over
    ``total_iters`` epochs, then hold it (a linear warm-up when start_factor < end_factor).

    Factors in (0, 1] and [0, 1] as PyTorch requires. Epoch e < total_iters has
    lr = base·(s + (f − s)·e / total_iters), computed recursively as PyTorch does.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from lossgrad.optim import SGD
    >>> opt = SGD([SimpleNamespace(data=np.zeros(2), grad=None)], lr=0.1)
    >>> schedule = LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> print(round(schedule.get_last_lr()[0], 4))
    0.025
    >>> for _ in range(4):
    ...     schedule.step()
    ...     print(round(schedule.get_last_lr()[0], 4))
    0.05
    0.075
    0.1
    0.1
    """

    OPTIONS = {"start_factor": _checks.positive_unit, "end_factor": _checks.unit,
               "total_iters": _checks.count}

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5):
        super().__init__(optimizer, start_factor=start_factor, end_factor=end_factor,
                         total_iters=total_iters)

    def next_lrs(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._lrs()]
        if self.last_epoch > self.total_iters:
            return self._lrs()
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (self.total_iters * self.start_factor
                                + (self.last_epoch - 1) * change)
        return [lr * ratio for lr in self._lrs()]

    def closed_form(self) -> list[float]:
        done = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (self.start_factor + (self.end_factor - self.start_factor) * done)
                for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the base rate to ``eta_min`` over ``T_max`` epochs (no restarts).

    lr = η_min + (base − η_min)(1 + cos(π·epoch / T_max)) / 2, computed as PyTorch does:
    recursively, lr ← η_min + (lr − η_min)·(1 + cos(πe/T)) / (1 + cos(π(e − 1)/T)), which also
    carries a rate changed between steps. Past T_max the rate rises again (the cosine's period
    is 2·T_max), as in PyTorch.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from lossgrad.optim import SGD
    >>> opt = SGD([SimpleNamespace(data=np.zeros(2), grad=None)], lr=0.1)
    >>> schedule = CosineAnnealingLR(opt, T_max=4)
    >>> for _ in range(4):
    ...     schedule.step()
    ...     print(round(schedule.get_last_lr()[0], 4))
    0.0854
    0.05
    0.0146
    0.0
    """

    OPTIONS = {"T_max": _checks.count, "eta_min": _checks.nonnegative}

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer, T_max=T_max, eta_min=eta_min)

    def next_lrs(self) -> list[float]:
        e, period, low = self.last_epoch, self.T_max, self.eta_min
        if e == 0:
            return self._lrs()
        if (e - 1 - period) % (2 * period) == 0:
            # the trough: the ratio below would divide by 1 + cos(π) = 0
            return [lr + (base - low) * (1 - math.cos(math.pi / period)) / 2
                    for lr, base in zip(self._lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * e / period)) / (1 + math.cos(math.pi * (e - 1) / period))
        return [ratio * (lr - low) + low for lr in self._lrs()]

    def closed_form(self) -> list[float]:
        low = self.eta_min
        return [low + (base - low) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]


class SequentialLR:
    """Run schedules one after another: ``schedulers[k]`` from ``milestones[k − 1]`` on.

    The schedules must be built on ``optimizer`` just before (each applied its epoch 0 when
    built; SequentialLR undoes that and restarts the first). At each milestone the next
    schedule starts from its epoch 0 in closed form, as in PyTorch.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from lossgrad.optim import SGD
    >>> opt = SGD([SimpleNamespace(data=np.zeros(2), grad=None)], lr=0.1)
    >>> warm = LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> decay = StepLR(opt, step_size=1, gamma=0.5)
    >>> schedule = SequentialLR(opt, [warm, decay], milestones=[2])
    >>> print([round(schedule.get_last_lr()[0], 4)] + [
    ...     (schedule.step(), round(schedule.get_last_lr()[0], 4))[1] for _ in range(4)])
    [0.05, 0.075, 0.1, 0.05, 0.025]
    """

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int]):
        _check_sequence(optimizer, schedulers, milestones)
        self.optimizer = optimizer
        self.schedulers = list(schedulers)
        self.milestones = [int(m) for m in milestones]
        self.last_epoch = 0
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self.schedulers:
            scheduler.last_epoch -= 1
        self.schedulers[0].step()
        self._last_lr = self.schedulers[0].get_last_lr()

    def step(self) -> None:
        """Advance one epoch (or batch) in the schedule whose turn it is."""
        self.last_epoch += 1
        k = bisect_right(self.milestones, self.last_epoch)
        if k > 0 and self.milestones[k - 1] == self.last_epoch:
            self.schedulers[k].restart()
        else:
            self.schedulers[k].step()
        self._last_lr = self.schedulers[k].get_last_lr()

    def get_last_lr(self) -> list[float]:
        """The rates the last step set, one per param group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """A JSON-able dict: position, milestones, last rates and each schedule's state."""
        return {"scheduler": "SequentialLR", "last_epoch": self.last_epoch,
                "milestones": list(self.milestones), "last_lr": list(self._last_lr),
                "schedulers": [s.state_dict() for s in self.schedulers]}

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict` (same schedules, same milestones)."""
        _check_kind(self, state, {"last_epoch", "milestones", "last_lr", "schedulers"})
        if state["milestones"] != self.milestones or not isinstance(state["schedulers"], list) \
                or len(state["schedulers"]) != len(self.schedulers):
            raise OptionError(f"the state has milestones {state['milestones']!r} and "
                              f"{len(state['schedulers'])} schedules; this SequentialLR has "
                              f"{self.milestones} and {len(self.schedulers)}: build the same "
                              "sequence before loading")
        for scheduler, sub in zip(self.schedulers, state["schedulers"]):
            scheduler.load_state_dict(sub)
        self.last_epoch = _checks.count("last_epoch", state["last_epoch"], low=0)
        self._last_lr = _rates("last_lr", state["last_lr"], self.optimizer)


def _check_sequence(optimizer, schedulers, milestones) -> None:
    if not isinstance(schedulers, (list, tuple)) or not schedulers:
        raise OptionError(f"schedulers must be a non-empty list of schedules, got {schedulers!r}")
    for k, scheduler in enumerate(schedulers):
        if not isinstance(scheduler, LRScheduler):
            raise OptionError(f"schedulers[{k}] must be a StepLR, LinearLR or CosineAnnealingLR "
                              f"(not nested sequences), got {type(scheduler).__name__}")
        if scheduler.optimizer is not optimizer:
            raise OptionError(f"schedulers[{k}] drives another optimizer; build every schedule "
                              "on the optimizer given to SequentialLR")
    milestones = [_checks.count(f"milestones[{k}]", m) for k, m in enumerate(milestones)]
    if len(milestones) != len(schedulers) - 1 or milestones != sorted(set(milestones)):
        raise OptionError(f"milestones must be {len(schedulers) - 1} increasing epochs (one fewer "
                          f"than the schedules), got {milestones}")


def warmup_cosine(optimizer: Optimizer, warmup_steps: int, total_steps: int, *,
                  start_factor: float = 1.0 / 3, eta_min: float = 0.0) -> SequentialLR:
    """A linear warm-up over ``warmup_steps``, then cosine annealing to ``eta_min`` by ``total_steps``.

    The same as ``SequentialLR(optimizer, [LinearLR(optimizer, start_factor, 1.0, warmup_steps),
    CosineAnnealingLR(optimizer, total_steps − warmup_steps, eta_min)], [warmup_steps])``, so it
    gives PyTorch's numbers for that sequence.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from lossgrad.optim import SGD
    >>> opt = SGD([SimpleNamespace(data=np.zeros(2), grad=None)], lr=0.1)
    >>> schedule = warmup_cosine(opt, warmup_steps=2, total_steps=4, start_factor=0.5)
    >>> print([round(schedule.get_last_lr()[0], 4)] + [
    ...     (schedule.step(), round(schedule.get_last_lr()[0], 4))[1] for _ in range(4)])
    [0.05, 0.075, 0.1, 0.05, 0.0]
    """
    warmup_steps = _checks.count("warmup_steps", warmup_steps)
    if _checks.count("total_steps", total_steps) <= warmup_steps:
        raise OptionError(f"total_steps must be > warmup_steps ({warmup_steps}), got {total_steps}")
    warmup = LinearLR(optimizer, start_factor, 1.0, warmup_steps)
    cosine = CosineAnnealingLR(optimizer, total_steps - warmup_steps, eta_min)
    return SequentialLR(optimizer, [warmup, cosine], [warmup_steps])
