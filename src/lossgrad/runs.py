"""The run folder: what a training run leaves on disk, readable without lossgrad.

::

    runs/<YYYYmmdd-HHMMSS>/      (or the folder given)
      config.json                 the run's arguments
      checkpoint.safetensors      weights (+ optimizer state), see lossgrad.train.state
      checkpoint.json             its sidecar: epoch, history, generators' states, config
      metrics.csv, metrics.json   one row per epoch: epoch, loss, accuracy, val_…, lr, time
      curves.png                  loss and each metric per epoch, training and validation

:class:`RunFolder` is the callback that writes config.json, the metrics (after every epoch, so an
interrupted run keeps them) and curves.png (at the end); the checkpoint is
:class:`~lossgrad.train.ModelCheckpoint`'s. Every file is written to a temporary name and moved
into place, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import time
from pathlib import Path

from .train.callbacks import Callback
from .train.history import History

CONFIG = "config.json"
METRICS_CSV = "metrics.csv"
METRICS_JSON = "metrics.json"
CURVES = "curves.png"
#: Each panel of curves.png (loss, then each metric) is PANEL inches at DPI dots per inch.
PANEL = (5, 4)
DPI = 100


def new_folder(root: str | os.PathLike = "runs") -> Path:
    """A new, empty folder ``<root>/<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``, … if it exists)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = Path(root)
    for n in range(1, 1000):
        folder = root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"{root}: 999 run folders named {stamp}…; pass an explicit folder")


def write_atomic(path: Path, data: bytes) -> None:
    """``data`` to ``path`` through a temporary file in the same folder and os.replace."""
    temp = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_json(path: Path, document) -> None:
    """``document`` as indented JSON (no NaN: JSON has none; write None instead)."""
    write_atomic(path, (json.dumps(document, indent=2, allow_nan=False) + "\n").encode())


def write_metrics(folder: Path, history: History) -> None:
    """metrics.csv and metrics.json: one row per epoch (a diverged value is empty / null)."""
    rows = history.rows()
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["epoch", *history.keys()], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(folder / METRICS_CSV, text.getvalue().encode())
    write_json(folder / METRICS_JSON, rows)


def curve_names(history: History) -> list[str]:
    """The panels of curves.png: ``loss``, then each metric (their val_ twins share the panel)."""
    return [key for key in history
            if key not in ("lr", "time") and not key.startswith("val_")]


def plot_curves(path: Path, history: History) -> None:
    """curves.png: one panel per :func:`curve_names` entry, training and validation per epoch."""
    # Agg draws into memory: no display, and pyplot's global state is never touched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = curve_names(history)
    figure = Figure(figsize=(PANEL[0] * len(names), PANEL[1]), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    for axes, name in zip(figure.subplots(1, len(names), squeeze=False)[0], names):
        axes.plot(history.epoch, history[name], marker=".", label="training")
        if f"val_{name}" in history:
            axes.plot(history.epoch, history[f"val_{name}"], marker=".", label="validation")
        axes.set(title=name, xlabel="epoch")
        axes.grid(alpha=0.3)
        axes.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    write_atomic(path, buffer.getvalue())


class RunFolder(Callback):
    """Write a run's config.json (at the start), metrics (every epoch) and curves.png (at the end).

    folder: created if missing. config: the run's arguments (JSON values), or None for none.
    """

    def __init__(self, folder: str | os.PathLike, config: dict | None = None):
        self.folder = Path(folder)
        self.config = config

    def on_train_begin(self, run) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.config is not None:
            write_json(self.folder / CONFIG, self.config)

    def on_epoch_end(self, run, logs) -> None:
        write_metrics(self.folder, run.history)

    def on_train_end(self, run) -> None:
        if len(run.history):
            plot_curves(self.folder / CURVES, run.history)
