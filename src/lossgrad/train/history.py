"""History: what each epoch of a training run logged, as Keras's ``History`` keeps it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import CorruptFileError, OptionError


@dataclass
class History:
    """Per-epoch values of a run: ``history[key]`` is a list with one number per epoch.

    Keys, in this order: ``loss`` and each metric (``accuracy``, ``top_5_accuracy``, …) averaged
    over the epoch's training batches as they were seen (weighted by batch size, as Keras and
    PyTorch report them); the same with a ``val_`` prefix, computed on the validation data after
    the epoch; ``lr``, the learning rate of the epoch's first step (the first param group's); and
    ``time``, the epoch's wall-clock seconds. ``epoch`` lists the epoch numbers, counted from 1.

    Everything but ``time`` is reproducible: the same seed gives the same numbers, bit for bit.

    >>> h = History()
    >>> h.append(1, {"loss": 0.5, "accuracy": 0.75})
    >>> h["loss"], h.epoch, h.rows()
    ([0.5], [1], [{'epoch': 1, 'loss': 0.5, 'accuracy': 0.75}])
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    epoch: list[int] = field(default_factory=list)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __iter__(self):
        """The logged names, as a dict iterates its keys."""
        return iter(self.history)

    def __len__(self) -> int:
        """The number of epochs."""
        return len(self.epoch)

    def keys(self) -> list[str]:
        """The logged names, in logging order."""
        return list(self.history)

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        """Record one epoch's values (the same names every epoch)."""
        if self.epoch and list(logs) != self.keys():
            raise OptionError(f"epoch {epoch} logs {list(logs)}, earlier epochs logged "
                              f"{self.keys()}; log the same names every epoch")
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def rows(self) -> list[dict]:
        """One dict per epoch, ``{"epoch": n, key: value, …}``, for CSV and JSON files (a
        non-finite value, as a diverged loss gives, is None: JSON has no NaN)."""
        return [{"epoch": n, **{key: _finite(values[i]) for key, values in self.history.items()}}
                for i, n in enumerate(self.epoch)]

    def to_json(self) -> dict:
        """A JSON-able copy (non-finite values become None). Lists, not a dict by key: the key
        order survives writers that sort keys (the checkpoint sidecar does)."""
        return {"epoch": list(self.epoch), "keys": self.keys(),
                "values": [[_finite(v) for v in values] for values in self.history.values()]}

    @classmethod
    def from_json(cls, document: dict) -> History:
        """The History :meth:`to_json` described (None read back as NaN)."""
        try:
            epochs = [int(n) for n in document["epoch"]]
            values = [[math.nan if v is None else float(v) for v in column]
                      for column in document["values"]]
            history = dict(zip((str(key) for key in document["keys"]), values, strict=True))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise CorruptFileError(f"expected a training history {{'epoch': [...], 'keys': [...], "
                                   f"'values': [...]}}, got one that fails with {error!r}; save "
                                   "the run again") from None
        if any(len(column) != len(epochs) for column in history.values()):
            raise CorruptFileError(f"the history's lists do not all have {len(epochs)} entries, "
                                   "one per epoch; save the run again")
        return cls(history, epochs)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
