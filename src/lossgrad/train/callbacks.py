"""Callbacks: code :func:`~lossgrad.train.fit` runs at the start, after every epoch and at the end.

A callback sees the :class:`~lossgrad.train.loop.Run` (model, optimizer, scheduler, history,
epochs done, ``stop``) and each epoch's logs. Callbacks run in ascending ``order`` (then in the
order given): :class:`ModelCheckpoint` has a high order so that the state it saves includes what
the other callbacks did with the same epoch. A callback with state to resume (EarlyStopping's
patience count, the best value so far) returns it from ``state_dict()``, and a resumed run gives
it back through ``load_state_dict``.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..errors import OptionError
from .state import save_run

MODES = ("auto", "min", "max")


class Callback:
    """Base class; every hook does nothing. ``state_dict()`` None means nothing to resume."""

    order = 0

    def on_train_begin(self, run) -> None:
        """Before the first epoch (after a resumed run's state is loaded)."""

    def on_epoch_end(self, run, logs: dict[str, float]) -> None:
        """After each epoch: ``logs`` is what the history recorded; set ``run.stop`` to stop."""

    def on_train_end(self, run) -> None:
        """After the last epoch, also when a callback stopped the run."""

    def state_dict(self) -> dict | None:
        """``{"tensors": {name: array}, "meta": JSON-able dict}``, or None when stateless."""
        return None

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict`."""


class Monitor:
    """The best value of one logged quantity so far, and whether a new value improves on it.

    mode: "min", "max", or "auto" (max for names containing "acc", min otherwise: Keras's rule).
    A value improves when it beats the best by more than ``min_delta``; NaN never improves.
    """

    def __init__(self, monitor: str, mode: str = "auto", min_delta: float = 0.0):
        if mode not in MODES:
            raise OptionError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) \
                or not min_delta >= 0:
            raise OptionError(f"min_delta must be a number ≥ 0, got {min_delta!r}")
        self.monitor = monitor
        self.maximize = "acc" in monitor if mode == "auto" else mode == "max"
        self.min_delta = float(min_delta)
        self.best: float | None = None

    def check(self, run, owner: str) -> None:
        """OptionError before training if the run will not log the monitored name."""
        if self.monitor not in run.keys:
            raise OptionError(f"{owner}: monitor {self.monitor!r} is not logged by this run, which "
                              f"logs {', '.join(run.keys)}; pick one of those (val_… names need "
                              "validation data)")

    def improved(self, logs: dict[str, float]) -> bool:
        """Whether logs[monitor] beats the best; if so it becomes the best."""
        value = logs[self.monitor]
        if math.isnan(value):
            return False
        best = self.best if self.best is not None else (-math.inf if self.maximize else math.inf)
        better = value > best + self.min_delta if self.maximize else value < best - self.min_delta
        if better:
            self.best = value
        return better


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs in a row (Keras's rule).

    restore_best_weights: at the end of training, put back the weights of the best epoch.

    >>> stop = EarlyStopping("val_loss", patience=2)
    >>> stop.patience, stop.monitor.maximize
    (2, False)
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False):
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) \
                or patience < 0:
            raise OptionError(f"EarlyStopping: patience must be an int ≥ 0, got {patience!r}")
        self.monitor = Monitor(monitor, mode, min_delta)
        self.patience = int(patience)
        self.restore_best_weights = bool(restore_best_weights)
        self.wait = 0
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None

    def on_train_begin(self, run) -> None:
        self.monitor.check(run, "EarlyStopping")

    def on_epoch_end(self, run, logs) -> None:
        if self.monitor.improved(logs):
            self.wait, self.best_epoch = 0, run.epoch
            if self.restore_best_weights:
                self.best_weights = run.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = run.epoch
            run.stop = True

    def on_train_end(self, run) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            run.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict:
        return {"tensors": dict(self.best_weights or {}),
                "meta": {"best": self.monitor.best, "wait": self.wait,
                         "best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch}}

    def load_state_dict(self, state: dict) -> None:
        meta = state["meta"]
        self.monitor.best, self.wait = meta["best"], meta["wait"]
        self.best_epoch, self.stopped_epoch = meta["best_epoch"], meta["stopped_epoch"]
        self.best_weights = dict(state["tensors"]) or None


class ModelCheckpoint(Callback):
    """Save the whole training state after each epoch, or only when ``monitor`` improves.

    path: a run folder (``checkpoint.safetensors`` + ``checkpoint.json`` inside) or a
    ``.safetensors`` file (see :func:`lossgrad.checkpoint.resolve`). The checkpoint holds the
    weights under their own names (a PyTorch model of the same structure loads them), the
    optimizer's state under ``optimizer/…``, the scheduler's, the epoch, the history, the random
    generators' states and the callbacks' states, so ``fit(..., resume=path)`` continues the run
    exactly. ``meta``: more JSON values to store in the sidecar (the run's configuration, say).
    """

    order = 100  # last: what it saves includes the other callbacks' view of the epoch

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss",
                 save_best_only: bool = False, mode: str = "auto", min_delta: float = 0.0,
                 meta: dict | None = None):
        self.path = path
        self.monitor = Monitor(monitor, mode, min_delta)
        self.save_best_only = bool(save_best_only)
        self.meta = dict(meta or {})
        self.saved_epoch: int | None = None

    def on_train_begin(self, run) -> None:
        if self.save_best_only:
            self.monitor.check(run, "ModelCheckpoint")

    def on_epoch_end(self, run, logs) -> None:
        if self.save_best_only and not self.monitor.improved(logs):
            return
        self.saved_epoch = run.epoch
        save_run(self.path, run, self.meta)

    def state_dict(self) -> dict:
        return {"tensors": {}, "meta": {"best": self.monitor.best, "saved_epoch": self.saved_epoch}}

    def load_state_dict(self, state: dict) -> None:
        self.monitor.best, self.saved_epoch = state["meta"]["best"], state["meta"]["saved_epoch"]
