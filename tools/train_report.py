"""Train the default `lossgrad train` recipe for several seeds and write docs/training.md.

    python tools/train_report.py                 # seeds 0–4, the default epochs
    python tools/train_report.py --torch         # and PyTorch on the same weights and batches
    python tools/train_report.py --seeds 0 1 --epochs 10 --out /tmp/report.md

Each seed is one `lossgrad train --seed S --quiet` run, in-process, into a temporary folder. The
report lists per seed the test accuracy at the last epoch, the wall time, and the epoch at which
test accuracy first reached 98 %; then the mean. With --torch, PyTorch's LeNet-5 (the class of the
live test in tests/test_train.py) is trained from the same initial weights on the same batches in
the same order, so its accuracy shows what the recipe gives independently of lossgrad's engine.
The numbers in README.md's Training section come from this file.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from lossgrad import __version__
from lossgrad.data import Loader
from lossgrad.train.recipe import (
    DEFAULT_EPOCHS,
    Config,
    build_model,
    load_split,
    model_inputs,
    train,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `tests` is a package at the repository root, not installed
TARGET = 0.98


def first_at_target(accuracies) -> int | None:
    return next((i + 1 for i, a in enumerate(accuracies) if a >= TARGET), None)


def run_seed(config: Config) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = train(config, folder, verbose=0)
        seconds = time.perf_counter() - started
    return {"seed": config.seed, "accuracy": result.test["accuracy"], "loss": result.test["loss"],
            "seconds": seconds, "first": first_at_target(result.history["val_accuracy"])}


def run_torch(config: Config) -> dict:
    """PyTorch's LeNet-5 from lossgrad's initial weights, on the batches lossgrad's fit draws."""
    import torch

    from tests.torch_models import torch_lenet5

    torch.set_num_threads(1)  # as lossgrad's recipe runs BLAS: the same work per core
    config = config.resolved()
    (x, y), (xt, yt) = load_split(config)
    inputs, stats = model_inputs(config.model, x)
    test_inputs = torch.tensor(model_inputs(config.model, xt, stats)[0])
    model = torch_lenet5(torch)
    model.load_state_dict({name: torch.tensor(a) for name, a in
                           build_model(config, inputs).state_dict().items()})
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    batches = Loader(inputs, y, config.batch_size, seed=config.seed)
    accuracies = []
    started = time.perf_counter()
    for _ in range(config.epochs):
        for xb, yb in batches:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(torch.tensor(xb)), torch.tensor(yb),
                                              label_smoothing=config.label_smoothing).backward()
            optimizer.step()
        with torch.no_grad():
            accuracies.append(float(np.mean(model(test_inputs).argmax(1).numpy() == yt)))
    return {"accuracy": accuracies[-1], "seconds": time.perf_counter() - started,
            "first": first_at_target(accuracies)}


def report(config: Config, rows: list[dict], command: str) -> str:
    mean = statistics.fmean(r["accuracy"] for r in rows)
    config = config.resolved()
    torch = "torch" in rows[0]
    lines = [
        "# Training: the default `lossgrad train` run",
        "",
        (f"Written by `{command}` (lossgrad {__version__}, NumPy {np.__version__}, Python "
         f"{platform.python_version()}, {os.cpu_count()} CPU cores). Do not edit by hand."),
        "",
        (f"LeNet-5 on the bundled digits (1797 8×8 images resized to 28×28 and padded to 32×32; "
         f"stratified 80/20 split by the seed), `{config.loss}` with label smoothing "
         f"{config.label_smoothing:g}, {config.optimizer.upper()} lr "
         f"{config.lr:g} momentum {config.momentum:g}, batch {config.batch_size}, "
         f"{config.epochs} epochs. Test accuracy is measured on the held-out 20 % (360 images)."),
        "",
        ("| seed | test accuracy | test loss | first epoch ≥ 98 % | wall time |"
         + (" PyTorch: test accuracy | first epoch ≥ 98 % | wall time |" if torch else "")),
        "|---:|---:|---:|---:|---:|" + ("---:|---:|---:|" if torch else ""),
    ]
    for r in rows:
        line = (f"| {r['seed']} | {r['accuracy']:.2%} | {r['loss']:.4f} | "
                f"{r['first'] or '—'} | {r['seconds']:.1f} s |")
        if torch:
            t = r["torch"]
            line += f" {t['accuracy']:.2%} | {t['first'] or '—'} | {t['seconds']:.1f} s |"
        lines.append(line)
    seconds = [r["seconds"] for r in rows]
    lines += ["", (f"Mean test accuracy: **{mean:.2%}** over {len(rows)} seeds; wall time per run "
                   f"{min(seconds):.1f} to {max(seconds):.1f} s (the runs share the machine with "
                   "whatever else runs on it: the shortest time is the closest to its speed).")]
    if torch:
        torch_mean = statistics.fmean(r["torch"]["accuracy"] for r in rows)
        lines += ["", (f"PyTorch {_torch_version()} (one thread, as lossgrad's BLAS), trained "
                       f"from the same initial weights on the same batches: mean test accuracy "
                       f"{torch_mean:.2%}. Its wall time is the training loop's alone; "
                       "lossgrad's is the whole `lossgrad train` run (loading and resizing the "
                       "images, a checkpoint per epoch, the curves). The two differ in float32 "
                       "rounding only, which over 20 epochs moves a sample or two across the "
                       "decision boundary.")]
    return "\n".join(lines) + "\n"


def _torch_version() -> str:
    import torch

    return torch.__version__


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "training.md")
    parser.add_argument("--torch", action="store_true",
                        help="also train PyTorch's LeNet-5 on the same weights and batches")
    args = parser.parse_args(argv)
    rows = []
    for seed in args.seeds:
        config = dataclasses.replace(Config(), seed=seed, epochs=args.epochs)
        rows.append(run_seed(config))
        print(f"seed {seed}: test accuracy {rows[-1]['accuracy']:.4f}, "
              f"{rows[-1]['seconds']:.1f} s", flush=True)
        if args.torch:
            rows[-1]["torch"] = run_torch(config)
            print(f"  PyTorch: test accuracy {rows[-1]['torch']['accuracy']:.4f}", flush=True)
    command = "python tools/train_report.py" + (" " + " ".join(argv if argv is not None
                                                                else sys.argv[1:])).rstrip()
    args.out.write_text(report(dataclasses.replace(Config(), epochs=args.epochs), rows, command))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
