"""A training run's whole state as one checkpoint, and back: what makes a resumed run exact.

Tensors (safetensors): the model's weights under their own names (``conv1.weight``: a PyTorch
model of the same structure loads them), the optimizer's buffers under ``optimizer/…`` and each
stateful callback's tensors under ``callbacks/<i>/…``. The sidecar's ``meta["training"]`` holds
the rest, as JSON: the epochs done, whether a callback stopped the run, the history, the
optimizer's options and step counts, the scheduler's state, the states of the random generators
(the batches' shuffling and any generator a layer owns, such as Dropout's, as NumPy's
``bit_generator.state``) and the callbacks' JSON state. Other keys of ``meta`` are the caller's
(the command line stores the run's configuration there).
"""

from __future__ import annotations

import os

import numpy as np

from .. import checkpoint
from ..errors import CorruptFileError, OptionError
from ..nn import Module
from .history import History

OPTIMIZER = "optimizer/"
CALLBACKS = "callbacks/"


def save_run(path: str | os.PathLike, run, meta: dict | None = None) -> checkpoint.CheckpointFiles:
    """Write ``run``'s state (and the caller's ``meta``) as a checkpoint at ``path``, atomically."""
    tensors = dict(run.model.state_dict())
    optimizer = run.optimizer.state_dict()
    tensors.update({OPTIMIZER + name: a for name, a in optimizer["tensors"].items()})
    callbacks = []
    for i, (callback, state) in enumerate(_stateful(run.callbacks)):
        tensors.update({f"{CALLBACKS}{i}/{name}": a for name, a in state["tensors"].items()})
        callbacks.append({"type": type(callback).__name__, "meta": state["meta"]})
    training = {
        "epoch": run.epoch, "stopped": run.stop, "history": run.history.to_json(),
        "optimizer": optimizer["meta"],
        "scheduler": None if run.scheduler is None else run.scheduler.state_dict(),
        "rng": {"batches": _rng_state(getattr(run.batches, "rng", None)),
                "model": {name: g.bit_generator.state for name, g in generators(run.model)}},
        "callbacks": callbacks,
    }
    return checkpoint.save(path, tensors, {**(meta or {}), "training": training})


def load_run(path: str | os.PathLike, run) -> None:
    """Put the state saved at ``path`` into ``run`` (its model, optimizer, scheduler, batches,
    callbacks, history and epoch count). The run must be built the same way as the saved one."""
    tensors, meta = checkpoint.load(path)
    training = meta.get("training")
    if not isinstance(training, dict):
        raise OptionError(f"{path}: this checkpoint holds weights only, not a training run's "
                          "state; resume from a checkpoint that fit's ModelCheckpoint wrote, or "
                          "load the weights with model.load_state_dict")
    try:
        _load(run, tensors, training)
    except (KeyError, TypeError) as error:
        raise CorruptFileError(f"{path}: the training state lacks or mistypes {error}; save the "
                               "run again") from None


def weights(tensors: dict) -> dict:
    """The model's weights among a run checkpoint's tensors (the names without a prefix)."""
    return {name: a for name, a in tensors.items() if not name.startswith((OPTIMIZER, CALLBACKS))}


def _load(run, tensors: dict, training: dict) -> None:
    own = weights(tensors)
    checkpoint.check_state(run.model.state_dict(), own)  # before anything changes
    stateful = _stateful(run.callbacks)
    saved = training["callbacks"]
    if [type(c).__name__ for c, _ in stateful] != [c["type"] for c in saved]:
        raise OptionError(f"the run was saved with the stateful callbacks "
                          f"{[c['type'] for c in saved]}, this one has "
                          f"{[type(c).__name__ for c, _ in stateful]}; resume with the same "
                          "callbacks")
    if (run.scheduler is None) != (training["scheduler"] is None):
        has = "no scheduler" if training["scheduler"] is None else "a scheduler"
        raise OptionError(f"the run was saved with {has}; resume with the same scheduler")
    run.optimizer.load_state_dict({"meta": training["optimizer"], "tensors": _part(tensors,
                                                                                   OPTIMIZER)})
    run.model.load_state_dict(own)
    if run.scheduler is not None:
        run.scheduler.load_state_dict(training["scheduler"])
    _set_rng(getattr(run.batches, "rng", None), training["rng"]["batches"], "the batches")
    rngs = dict(generators(run.model))
    if sorted(rngs) != sorted(training["rng"]["model"]):
        raise OptionError(f"the model's random generators are {sorted(rngs)}, the saved run's "
                          f"{sorted(training['rng']['model'])}; resume with the same model")
    for name, state in training["rng"]["model"].items():
        _set_rng(rngs[name], state, f"the model's {name}")
    for i, ((callback, _), state) in enumerate(zip(stateful, saved)):
        callback.load_state_dict({"meta": state["meta"],
                                  "tensors": _part(tensors, f"{CALLBACKS}{i}/")})
    history = History.from_json(training["history"])
    if len(history) and history.keys() != run.keys:
        raise OptionError(f"the run was saved logging {history.keys()}, this one logs "
                          f"{run.keys}; resume with the same metrics and validation data")
    run.history = history
    run.epoch, run.stop = int(training["epoch"]), bool(training["stopped"])


def generators(module, prefix: str = ""):
    """(dotted name, Generator) of every NumPy Generator a module or its sub-modules hold."""
    for name, value in vars(module).items():
        if isinstance(value, np.random.Generator):
            yield prefix + name, value
        elif isinstance(value, Module):
            yield from generators(value, f"{prefix}{name}.")


def _stateful(callbacks) -> list:
    return [(c, s) for c in callbacks for s in [c.state_dict()] if s is not None]


def _part(tensors: dict, prefix: str) -> dict:
    return {name[len(prefix):]: a for name, a in tensors.items() if name.startswith(prefix)}


def _rng_state(generator) -> dict | None:
    return None if generator is None else generator.bit_generator.state


def _set_rng(generator, state, what: str) -> None:
    if (generator is None) != (state is None):
        raise OptionError(f"{what}: the saved run {'had no' if state is None else 'had a'} random "
                          "generator and this one differs; resume with the same kind of data")
    if generator is None:
        return
    try:
        generator.bit_generator.state = state
    except (TypeError, ValueError) as error:
        raise CorruptFileError(f"{what}: the saved generator state does not fit a "
                               f"{type(generator.bit_generator).__name__} ({error}); resume with "
                               "the same kind of generator") from None
