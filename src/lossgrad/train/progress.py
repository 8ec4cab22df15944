"""What fit shows while it trains: a rich progress bar on a terminal, one line per epoch otherwise.

``verbose``: 0 shows nothing; 1 a live bar per epoch (loss and metrics updated every batch) when
the stream is a terminal, else one line per epoch; 2 one line per epoch always (Keras's levels).
"""

from __future__ import annotations

import sys

from ..errors import OptionError

VERBOSE = (0, 1, 2)


def format_logs(logs: dict[str, float]) -> str:
    """``loss 0.1234  accuracy 0.9861  …`` (4 decimals; lr as given, time in seconds)."""
    parts = []
    for key, value in logs.items():
        if key == "time":
            parts.append(f"{value:.1f}s")
        elif key == "lr":
            parts.append(f"lr {value:g}")
        else:
            parts.append(f"{key} {value:.4f}")
    return "  ".join(parts)


def epoch_line(epoch: int, epochs: int, logs: dict[str, float]) -> str:
    """``epoch 3/20  loss 0.1234  …``: what an ended epoch prints."""
    return f"epoch {epoch}/{epochs}  {format_logs(logs)}"


class Silent:
    """Shows nothing (verbose=0); the base of the other displays."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def start_epoch(self, epoch: int, epochs: int, batches: int | None) -> None:
        """A new epoch begins; ``batches`` is its number of batches, if known."""

    def batch_done(self, logs: dict[str, float]) -> None:
        """One more batch; ``logs`` holds the epoch's running means."""

    def end_epoch(self, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        """The epoch's final logs, validation included."""


class Lines(Silent):
    """One line per epoch, written when the epoch ends (for logs and pipes)."""

    def __init__(self, stream):
        self.stream = stream

    def end_epoch(self, epoch, epochs, logs) -> None:
        print(epoch_line(epoch, epochs, logs), file=self.stream, flush=True)


class Bar(Silent):
    """A rich progress bar for the running epoch, its loss and metrics updated every batch; when
    the epoch ends the bar gives way to the epoch's line (as :class:`Lines` prints it)."""

    def __init__(self, stream):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}"), BarColumn(bar_width=20),
            MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[logs]}"),
            console=Console(file=stream, highlight=False))
        self.task = None

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def start_epoch(self, epoch, epochs, batches) -> None:
        self.task = self.progress.add_task("", total=batches, epoch=f"{epoch}/{epochs}", logs="")

    def batch_done(self, logs) -> None:
        self.progress.update(self.task, advance=1, logs=format_logs(logs))

    def end_epoch(self, epoch, epochs, logs) -> None:
        self.progress.remove_task(self.task)
        self.progress.console.print(epoch_line(epoch, epochs, logs), markup=False,
                                    soft_wrap=True)


def display(verbose: int, stream=None) -> Silent:
    """The display for a ``verbose`` level, writing to ``stream`` (default sys.stdout)."""
    if verbose not in VERBOSE or isinstance(verbose, bool):
        raise OptionError(f"verbose must be 0 (silent), 1 (a bar on a terminal, lines otherwise) "
                          f"or 2 (a line per epoch), got {verbose!r}")
    stream = sys.stdout if stream is None else stream
    if verbose == 0:
        return Silent()
    if verbose == 1 and stream.isatty():
        return Bar(stream)
    return Lines(stream)
