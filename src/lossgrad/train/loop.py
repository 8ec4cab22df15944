"""fit() and evaluate(): the training loop, Keras's ``Model.fit`` / ``evaluate`` for lossgrad models.

One training step is PyTorch's: forward, the loss's value (its backward is the loss's closed-form
gradient), ``zero_grad``, ``backward``, optional gradient clipping, ``optimizer.step()``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import losses
from ..autodiff import Tensor, loss_on_tensors, no_grad
from ..data import Loader
from ..errors import DTypeError, OptionError, ShapeError
from ..optim import clip_grad_norm_
from . import metrics as metrics_module
from .callbacks import Callback
from .history import History
from .progress import display
from .state import load_run

#: Keras's default batch size, for (x, y) arrays.
BATCH_SIZE = 32
SCHEDULER_STEPS = ("epoch", "batch")
RESERVED = ("loss", "lr", "time")


class Objective:
    """The loss as fit calls it: (model outputs as a Tensor, targets) → a scalar Tensor.

    ``loss`` is a registry name (any alias), a lossgrad loss function — computed with
    ``reduction="mean"``, its backward the loss's closed-form gradient — or any callable of
    (outputs, targets) returning a one-value Tensor built from engine ops.
    """

    def __init__(self, loss):
        fn = losses.get(loss) if isinstance(loss, str) else loss
        if not callable(fn):
            raise DTypeError(f"loss must be a loss name or a function, got {type(loss).__name__}; "
                             "pass e.g. 'sparse_softmax_cross_entropy'")
        self.fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self.registered = hasattr(fn, "body")  # made by lossgrad.losses.core.loss
        self.takes_logits = self.registered and fn.inputs[0] == "logits"

    def __call__(self, outputs: Tensor, targets) -> Tensor:
        if self.registered:
            value = loss_on_tensors(self.fn, (outputs, targets), {"reduction": "mean"})
        else:
            value = self.fn(outputs, targets)
        if not isinstance(value, Tensor) or value.size != 1:
            got = f"shape {value.shape}" if isinstance(value, Tensor) else type(value).__name__
            raise ShapeError(f"loss {self.name}: expected one value as a Tensor, got {got}; reduce "
                             "the loss to its mean and build it from engine ops")
        return value


@dataclass
class Run:
    """What a training run is made of, as callbacks see it.

    ``epoch`` counts the epochs done; ``keys`` lists the names each epoch logs; setting ``stop``
    ends the run after the current epoch. ``batches`` is the training data's batch source.
    """

    model: object
    optimizer: object
    scheduler: object
    batches: Iterable
    callbacks: list
    keys: list[str]
    history: History = field(default_factory=History)
    epoch: int = 0
    stop: bool = False


def fit(model, loss, optimizer, train, validation=None, *, epochs: int = 1,
        batch_size: int | None = None, shuffle: bool = True, seed=None,
        metrics: Sequence = ("accuracy",), callbacks: Sequence[Callback] = (), scheduler=None,
        scheduler_step: str = "epoch", clip_grad_norm: float | None = None, verbose: int = 1,
        resume: str | os.PathLike | None = None) -> History:
    """Train ``model`` on ``train`` for ``epochs`` epochs; return the :class:`History`.

    loss: a registry name, a lossgrad loss function or a callable (see :class:`Objective`).
    optimizer: a lossgrad.optim optimizer over the model's parameters.
    train, validation: (x, y) pairs of arrays (batched here, ``batch_size`` 32 by default,
        shuffled each epoch by a Generator seeded with ``seed``), or batch sources — a
        :class:`lossgrad.data.Loader` or any re-iterable of (x, y) batches — used as they are
        (``batch_size`` must then be None). Validation runs after each epoch, in eval mode.
    metrics: names or :class:`~lossgrad.train.metrics.Metric` objects, logged beside ``loss``.
    callbacks: :class:`~lossgrad.train.callbacks.Callback` objects (early stopping,
        checkpoints, a run folder).
    scheduler: a learning-rate schedule over ``optimizer``, stepped after every epoch, or after
        every batch with ``scheduler_step="batch"``.
    clip_grad_norm: clip the gradients' total 2-norm to this before each step.
    verbose: 0 silent, 1 a progress bar on a terminal (one line per epoch otherwise), 2 a line
        per epoch.
    resume: a checkpoint that :class:`~lossgrad.train.callbacks.ModelCheckpoint` wrote for a run
        built the same way: training continues from it as if never interrupted, up to
        ``epochs`` epochs in all, and the history returned covers the whole run.

    The same seed (with the same model initialisation) gives the same history and weights, bit
    for bit, and 2 epochs, then 2 resumed, equal 4 epochs.
    """
    epochs = _count("epochs", epochs)
    objective = Objective(loss)
    metric_list = _metrics(metrics, objective)
    batches = _batches(train, batch_size, shuffle, seed, "train")
    val_batches = None if validation is None else _batches(validation, batch_size, False, None,
                                                           "validation")
    if scheduler_step not in SCHEDULER_STEPS:
        raise OptionError(f"scheduler_step must be one of {', '.join(SCHEDULER_STEPS)}, got "
                          f"{scheduler_step!r}")
    names = ["loss", *(m.name for m in metric_list)]
    keys = [*names, *(f"val_{n}" for n in names if val_batches is not None), "lr", "time"]
    run = Run(model, optimizer, scheduler, batches, sorted(callbacks, key=lambda c: c.order),
              keys)
    if resume is not None:
        load_run(resume, run)
    step = _Step(model, optimizer, scheduler if scheduler_step == "batch" else None,
                 clip_grad_norm)
    for callback in run.callbacks:
        callback.on_train_begin(run)
    with display(verbose) as show:
        while run.epoch < epochs and not run.stop:
            show.start_epoch(run.epoch + 1, epochs, _length(batches))
            logs = _train_epoch(run, objective, metric_list, step, val_batches, show.batch_done,
                                scheduler if scheduler_step == "epoch" else None)
            run.epoch += 1
            run.history.append(run.epoch, logs)
            for callback in run.callbacks:
                callback.on_epoch_end(run, logs)
            show.end_epoch(run.epoch, epochs, logs)
    for callback in run.callbacks:
        callback.on_train_end(run)
    return run.history


@dataclass
class _Step:
    """One optimisation step from a batch's loss value, PyTorch's order: zero the gradients,
    backward, clip, step the optimizer (and a per-batch schedule)."""

    model: object
    optimizer: object
    scheduler: object
    clip_grad_norm: float | None

    def __call__(self, value: Tensor) -> None:
        self.model.zero_grad()
        value.backward()
        if self.clip_grad_norm is not None:
            clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()


def _train_epoch(run: Run, objective, metric_list, step: _Step, val_batches, batch_done,
                 scheduler) -> dict[str, float]:
    """One epoch of training, then validation and the per-epoch schedule: the epoch's logs."""
    started, lr = time.perf_counter(), run.optimizer.param_groups[0]["lr"]
    run.model.train()
    logs = _epoch(run.model, objective, metric_list, run.batches, step, batch_done)
    if val_batches is not None:
        validation = evaluate(run.model, objective, val_batches, metrics=metric_list)
        logs.update({f"val_{key}": value for key, value in validation.items()})
    if scheduler is not None:
        scheduler.step()
    logs.update(lr=lr, time=time.perf_counter() - started)
    return logs


def evaluate(model, loss, data, *, batch_size: int | None = None,
             metrics: Sequence = ("accuracy",)) -> dict[str, float]:
    """The loss and metrics of ``model`` on ``data``: ``{"loss": …, "accuracy": …}``.

    Runs in eval mode (Dropout off) without recording a graph; the model's mode is restored after.
    ``data`` is an (x, y) pair (batched by ``batch_size``, 32 by default, in order) or a batch
    source. Each value is the mean over all samples.
    """
    objective = loss if isinstance(loss, Objective) else Objective(loss)
    metric_list = _metrics(metrics, objective)
    batches = _batches(data, batch_size, False, None, "data")
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad():
            return _epoch(model, objective, metric_list, batches)
    finally:
        model.train(was_training)


def _epoch(model, objective: Objective, metric_list, batches, step=None, batch_done=None) -> dict:
    """One pass over ``batches``: the sample-weighted means of the loss and metrics."""
    total, sums, count = 0.0, np.zeros(len(metric_list)), 0
    for x, y in batches:
        outputs = model(Tensor(x))
        value = objective(outputs, y)
        if step is not None:
            step(value)
        n = len(outputs.data)
        total += value.item() * n
        sums += [float(np.sum(m(outputs.data, np.asarray(y)))) for m in metric_list]
        count += n
        if batch_done is not None:
            batch_done(_means(total, sums, count, metric_list))
    if count == 0:
        raise ShapeError("the data gave no samples; pass at least one batch")
    return _means(total, sums, count, metric_list)


def _means(total, sums, count, metric_list) -> dict[str, float]:
    return {"loss": total / count, **{m.name: s / count for m, s in zip(metric_list, sums)}}


def _metrics(specs, objective: Objective) -> list:
    """The metrics, with an automatic accuracy threshold at 0 for a loss on logits."""
    if isinstance(specs, str):
        raise OptionError(f"metrics takes a list of names, got the string {specs!r}; write "
                          f"metrics=[{specs!r}]")
    resolved = []
    for spec in specs:
        metric = metrics_module.get(spec)
        if isinstance(metric, metrics_module.Accuracy) and metric.threshold is None \
                and objective.takes_logits:
            metric = metrics_module.Accuracy(threshold=0.0)
        resolved.append(metric)
    names = [m.name for m in resolved]
    clash = sorted({n for n in names if names.count(n) > 1 or n in RESERVED})
    if clash:
        raise OptionError(f"metric names must be unique and none of {', '.join(RESERVED)}; got "
                          f"{', '.join(clash)} twice or reserved")
    return resolved


def _batches(data, batch_size, shuffle: bool, seed, name: str):
    """A batch source for ``data``: a Loader over an (x, y) pair, or the source given."""
    if isinstance(data, tuple) and len(data) == 2:
        size = BATCH_SIZE if batch_size is None else batch_size
        return Loader(data[0], data[1], size, shuffle=shuffle, seed=seed)
    if batch_size is not None:
        raise OptionError(f"{name}: batch_size is for (x, y) arrays; a batch source ("
                          f"{type(data).__name__}) sets its own batch size: leave batch_size None")
    if isinstance(data, Iterable) and not isinstance(data, (str, bytes, np.ndarray)):
        return data
    raise DTypeError(f"{name}: expected an (x, y) tuple of arrays or an iterable of (x, y) "
                     f"batches, got {type(data).__name__}")


def _length(batches) -> int | None:
    try:
        return len(batches)
    except TypeError:
        return None


def _count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise OptionError(f"{name} must be an int ≥ 1, got {value!r}")
    return int(value)

