"""The ``lossgrad`` command line (also ``python -m lossgrad``).

Commands:
    losses [NAME]   the catalogue, built from the registry; with NAME, that loss's documentation
    demo            the seed documents reproduced with lossgrad, next to the numbers they print
    check NAME      the loss's closed-form gradient against central differences (--all: every
                    registered loss)
    train           train a model into a run folder (default: LeNet-5 on the bundled digits)
    evaluate RUN    a saved run's model on its test split

Every :class:`~lossgrad.errors.LossgradError` ends the command with a one-line message and the exit
code of its class (:data:`EXIT_CODES`); a traceback is printed only with ``--debug``.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import __version__, losses
from .errors import (
    CorruptFileError,
    DomainError,
    DTypeError,
    LabelRangeError,
    LossgradError,
    OptionError,
    ShapeError,
    UnsafeFileError,
)
from .losses.core import COMMON_ARGUMENTS, REDUCTIONS
from .numerics import log_softmax, one_hot, softmax, softmax_jacobian
from .train import recipe

# ---------------------------------------------------------------------------------------------
# exit codes

CHECK_FAILED = 1
USAGE = 2  # argparse's own code for a bad command line
INTERNAL = 70  # EX_SOFTWARE: an exception lossgrad did not raise on purpose is a bug
INTERRUPTED = 130  # the shell's convention for Ctrl-C
BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader has gone

#: Each error class its own code. A subclass listed here wins over its base (the MRO is searched).
EXIT_CODES: dict[type[LossgradError], int] = {
    LossgradError: 3,
    OptionError: 4,
    ShapeError: 5,
    DTypeError: 6,
    LabelRangeError: 7,
    DomainError: 8,
    CorruptFileError: 9,
    UnsafeFileError: 10,
}


#: Errors of the operating system, with sysexits.h's codes: a missing input file (a data set,
#: a checkpoint) is EX_NOINPUT, any other failure to read or write (a full disk, no permission)
#: EX_IOERR.
OS_EXIT_CODES: dict[type[OSError], int] = {
    FileNotFoundError: 66,
    OSError: 74,
}
OS_MEANINGS = {FileNotFoundError: "a file or folder to read does not exist (a data set, a run)",
               OSError: "the system refused to read or write a file (permissions, a full disk, …)"}


def exit_code(error: BaseException) -> int:
    """The exit code of an exception: its nearest class in EXIT_CODES or OS_EXIT_CODES, else
    INTERNAL."""
    codes = {**EXIT_CODES, **OS_EXIT_CODES}
    for cls in type(error).__mro__:
        if cls in codes:
            return codes[cls]
    return INTERRUPTED if isinstance(error, KeyboardInterrupt) else INTERNAL


def exit_code_table() -> list[tuple[int, str, str]]:
    """(code, name, meaning) for every exit code, in code order: for the epilog and the README."""
    rows = [(0, "success", "the command did what it was asked"),
            (CHECK_FAILED, "check FAIL",
             "`lossgrad check`: the closed form and the central differences disagree"),
            (USAGE, "usage error", "the command line is wrong (argparse)")]
    rows += [(code, cls.__name__, _first_line(cls.__doc__)) for cls, code in EXIT_CODES.items()]
    rows += [(code, cls.__name__, OS_MEANINGS[cls]) for cls, code in OS_EXIT_CODES.items()]
    rows += [(INTERNAL, "internal error", "an exception lossgrad did not raise on purpose (a bug)"),
             (INTERRUPTED, "interrupted", "Ctrl-C"),
             (BROKEN_PIPE, "broken pipe",
              "the reader of the output stopped early (as `head` does)")]
    return sorted(rows)


def _first_line(text: str | None) -> str:
    return inspect.cleandoc(text or "").partition("\n")[0]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# ---------------------------------------------------------------------------------------------
# what the registry says about a loss


@dataclass(frozen=True)
class Domain:
    """What a loss's first argument holds (named by the parameter) and how to make a valid one."""

    label: str
    make: Callable[[np.random.Generator, tuple, bool], np.ndarray]  # (rng, shape, rows) → array


def _probabilities(rng, shape, rows):
    # Away from 0 and 1, where the Keras/PyTorch conventions clip and the gradient has a kink.
    return softmax(rng.normal(size=shape)) if rows else rng.uniform(0.05, 0.95, size=shape)


#: first-parameter name → domain. A loss whose first parameter is not here is shown with that
#: name and is not covered by ``lossgrad check``.
DOMAINS = {
    "logits": Domain("logits", lambda rng, shape, rows: rng.normal(scale=2.0, size=shape)),
    "probs": Domain("probabilities", _probabilities),
    "log_probs": Domain("log-probabilities", lambda rng, shape, rows: log_softmax(
        rng.normal(size=shape))),
    "prediction": Domain("real", lambda rng, shape, rows: rng.normal(size=shape)),
    "rates": Domain("rates > 0", lambda rng, shape, rows: rng.uniform(0.1, 3.0, size=shape)),
    # First inputs that are real numbers under another name (several-input losses, embeddings).
    **{name: Domain("real", lambda rng, shape, rows: rng.normal(size=shape))
       for name in ("log_rates", "mean", "x1", "anchor", "embeddings")},
}


def _class_labels(rng, shape):
    return rng.integers(0, shape[-1], size=shape[:-1])


#: (second-parameter name, row loss?) → the kinds of target ``lossgrad check`` can make, tried in
#: order until the loss accepts one: a name like "targets" does not say whether a loss wants
#: distributions or ±1, but the loss's own validation does.
TARGETS: dict[tuple[str, bool], tuple[tuple[str, Callable], ...]] = {
    ("labels", True): (("class labels", _class_labels),),
    ("targets", True): (
        ("distributions", lambda rng, shape: softmax(rng.normal(size=shape))),
        ("one-hot rows", lambda rng, shape: one_hot(_class_labels(rng, shape), shape[-1],
                                                    dtype=np.float64)),
    ),
    ("targets", False): (
        ("values in [0, 1]", lambda rng, shape: rng.uniform(0.0, 1.0, size=shape)),
        ("±1", lambda rng, shape: rng.choice([-1.0, 1.0], size=shape)),
    ),
}


def parameters(fn) -> tuple[str, str]:
    """The names of a loss's prediction and target parameters."""
    first, second = list(inspect.signature(fn).parameters)[:2]
    return first, second


def aliases(name: str) -> tuple[str, ...]:
    """The framework spellings the registry resolves to ``name``."""
    return losses._INDEX[name][1]  # the registry keeps them private; this is its only reader


def catalogue() -> list[tuple[str, str, str, str, str]]:
    """(name, input domain, target, aliases, summary) for every loss in the registry."""
    rows = []
    for name in losses.NAMES:
        fn = losses.get(name)
        first, second = parameters(fn)
        domain = DOMAINS[first].label if first in DOMAINS else first
        rows.append((name, domain, second, ", ".join(aliases(name)), _first_line(fn.__doc__)))
    return rows


# ---------------------------------------------------------------------------------------------
# lossgrad losses

HEADER = ("name", "input", "target", "aliases", "summary")


def show_catalogue(stream) -> None:
    """A rich table on a terminal; tab-separated lines (one per loss) for pipes and files."""
    rows = catalogue()
    if stream.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"lossgrad {__version__}: {len(rows)} losses")
        for column in HEADER:
            table.add_column(column, no_wrap=column == "name")  # names stay whole, to copy
        for row in rows:
            table.add_row(*row)
        Console(file=stream).print(table)
    else:
        for row in [HEADER, *rows]:
            print("\t".join(row), file=stream)


def run_losses(args) -> int:
    if args.name is None:
        show_catalogue(sys.stdout)
        return 0
    fn = losses.get(args.name)
    also = ", ".join(aliases(fn.__name__)) or "none"
    print(f"{fn.__name__}  (aliases: {also})\n")
    # The decorator appends the shared text to each body's docstring; each part is dedented alone.
    print(inspect.cleandoc(getattr(fn, "body", fn).__doc__ or ""))
    print()
    print(inspect.cleandoc(COMMON_ARGUMENTS))
    return 0


# ---------------------------------------------------------------------------------------------
# lossgrad check

#: Central differences in float64: truncation ~ step², round-off ~ 1e-16/step, so the two agree to
#: ~1e-9 of the loss's scale; 1e-7 keeps a margin and still catches a gradient off by 1e-5.
CENTRAL_STEP = 1e-6
CENTRAL_TOL = 1e-7


def central_differences(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                        step: float = CENTRAL_STEP) -> np.ndarray:
    """∂f/∂x by (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h for every entry i; shape f(x).shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = step
        e = e.reshape(x.shape)
        columns.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * step))
    return np.moveaxis(np.array(columns), 0, -1).reshape(columns[0].shape + x.shape)


class NotCovered(OptionError):
    """``lossgrad check`` cannot make inputs this loss accepts (its exit code is OptionError's)."""


@dataclass(frozen=True)
class GradCheck:
    name: str
    inputs: str  # what was checked, in words
    abs_error: float  # max |closed form − central differences|
    scale: float  # max |central differences|

    @property
    def rel_error(self) -> float:
        return self.abs_error / self.scale if self.scale else 0.0

    @property
    def passed(self) -> bool:
        return self.abs_error <= CENTRAL_TOL * max(1.0, self.scale)

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"


def make_inputs(fn, rng: np.random.Generator, shape=(4, 5)):
    """A float64 prediction of the loss's domain, the first kind of target it accepts, its name.

    NotCovered when the parameter names are not ones check knows, or the loss refuses every kind.
    """
    first, second = parameters(fn)
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [n for n, p in inspect.signature(fn).parameters.items()
                if p.kind in positional and p.default is inspect.Parameter.empty]
    if len(required) > 2:
        raise NotCovered(f"{fn.__name__} takes {len(required)} inputs ({', '.join(required)}); "
                         "check makes two — its gradients are tested by the case table")
    rows = bool(getattr(fn, "rows", False))
    kinds = TARGETS.get((second, rows), ())
    if first not in DOMAINS or not kinds:
        raise NotCovered(
            f"check does not know how to make inputs for {fn.__name__}({first}, {second}); it "
            f"knows first parameters {', '.join(DOMAINS)} and second parameters "
            f"{', '.join(sorted({name for name, _ in TARGETS}))}"
        )
    prediction = DOMAINS[first].make(rng, shape, rows)
    refusals = []
    for kind, make in kinds:
        target = make(rng, shape)
        try:
            fn(prediction, target, grad=False)
        except LossgradError as refusal:
            refusals.append(f"{kind}: {type(refusal).__name__}")
        else:
            return prediction, target, kind
    raise NotCovered(f"{fn.__name__} accepts none of the targets check makes "
                      f"({'; '.join(refusals)})")


def check_gradient(name: str, *, seed: int = 0, reduction: str = "mean") -> GradCheck:
    """The closed-form gradient of ``name`` against central differences on seeded inputs."""
    fn = losses.get(name)
    prediction, target, kind = make_inputs(fn, np.random.default_rng(seed))
    closed = fn(prediction, target, reduction=reduction).grad

    def total(p):
        # A perturbed probability leaves its row's simplex by ±step: this checks the formula, so the
        # domain checks are off for the perturbed points only.
        return np.sum(fn(p, target, reduction=reduction, grad=False, validate=False).value)

    numeric = central_differences(total, prediction)
    first, second = parameters(fn)
    return GradCheck(
        name=fn.__name__,
        inputs=(f"{first} {prediction.shape} float64, {second}: {kind}, "
                f'reduction="{reduction}", seed {seed}'),
        abs_error=float(np.max(np.abs(closed - numeric))),
        scale=float(np.max(np.abs(numeric))),
    )


def run_check(args) -> int:
    if args.all:
        return check_all(seed=args.seed, reduction=args.reduction)
    result = check_gradient(args.name, seed=args.seed, reduction=args.reduction)
    print(f"{result.name}: {result.inputs}")
    print(f"  closed form vs central differences (step {CENTRAL_STEP:g}): "
          f"max abs error {result.abs_error:.3g}, max rel error {result.rel_error:.3g}")
    print(f"  {result.verdict} (tolerance {CENTRAL_TOL:g} × max(1, max |∂|))")
    return 0 if result.passed else CHECK_FAILED


def check_all(*, seed: int, reduction: str) -> int:
    """One line per registered loss: PASS, FAIL, or why check cannot cover it."""
    counts = {"PASS": 0, "FAIL": 0, "not covered": 0}
    width = max(map(len, losses.NAMES))
    for name in losses.NAMES:
        try:
            result = check_gradient(name, seed=seed, reduction=reduction)
        except NotCovered as refusal:
            verdict, detail = "not covered", _one_line(refusal)
        else:
            verdict = result.verdict
            detail = f"max abs error {result.abs_error:.3g}  ({result.inputs})"
        counts[verdict] += 1
        print(f"{verdict:<11}  {name:<{width}}  {detail}")
    print(", ".join(f"{n} {verdict}" for verdict, n in counts.items()))
    return CHECK_FAILED if counts["FAIL"] else 0


# ---------------------------------------------------------------------------------------------
# lossgrad demo: the seed documents (shared/seeds/README.md lists what each must reproduce)


@dataclass(frozen=True)
class Shown:
    """One number the demo prints: lossgrad's value, and the seed's as printed, if it prints one."""

    key: str  # its name in tests/golden/seeds.json
    label: str
    value: np.ndarray
    seed: str | None = None
    notes: tuple[str, ...] = ()


SEED_001_LABELS = [[0, 0, 1], [0, 1, 0]]
SEED_001_LOGITS = [[2, 0.5, 6], [0.1, 0, 3]]
SEED_002_LOGITS = [2.0, 1.0, 0.1]  # seed 000's softmax example
SEED_003_LABELS = [1, 2]
SEED_003_PROBS = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]


def seed_000_inputs() -> dict[str, np.ndarray]:
    """Seed 000's random x, w (tf.random.normal) fixed: default_rng(0), x drawn first; b = 0."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4))
    w = rng.standard_normal((4, 3))
    return {"x": x, "w": w, "b": np.zeros(3), "y": np.array([2, 0])}


def noting(call: Callable):
    """call()'s result and the messages of the warnings it raised, recorded instead of shown."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, tuple(f"{w.category.__name__}: {w.message}" for w in caught)


def seed_001(dtype=np.float64) -> list[Shown]:
    """softmax, softmax CE from logits, the double softmax (rel2) and CE on probabilities (rel3).

    float64 by default: lossgrad takes the seed's Python lists as float64 (TF as float32).
    """
    labels = np.asarray(SEED_001_LABELS, dtype=dtype)
    logits = np.asarray(SEED_001_LOGITS, dtype=dtype)
    scaled = softmax(logits)
    rel2, notes = noting(lambda: losses.softmax_cross_entropy(scaled, labels, reduction="none"))
    return [
        Shown("scaled", "scaled = softmax(logits)", scaled,
              "[[ 0.01791432 0.00399722 0.97808844] [ 0.04980332 0.04506391 0.90513283]]"),
        Shown("scaled2", "scaled2 = softmax(scaled)", softmax(scaled),
              "[[ 0.21747023 0.21446465 0.56806517] [ 0.2300214 0.22893383 0.54104471]]"),
        Shown("rel1", 'rel1 = softmax_cross_entropy(logits, labels, reduction="none")',
              losses.softmax_cross_entropy(logits, labels, reduction="none").value,
              "[ 0.02215516 3.09967351]"),
        Shown("rel2", 'rel2 = softmax_cross_entropy(scaled, labels, reduction="none")',
              rel2.value, "[ 0.56551915 1.47432232]", notes),
        Shown("rel3", 'rel3 = categorical_cross_entropy(scaled, labels, reduction="none")',
              losses.categorical_cross_entropy(scaled, labels, reduction="none").value,
              "[ 0.02215518 3.09967351]"),
    ]


def seed_002(dtype=np.float64) -> list[Shown]:
    """The softmax Jacobian p_i(δ_ij − p_j), and how far central differences are from it."""
    logits = np.asarray(SEED_002_LOGITS, dtype=dtype)
    jacobian = softmax_jacobian(logits)
    error = np.max(np.abs(jacobian - central_differences(softmax, logits)))
    return [
        Shown("jacobian", f"softmax_jacobian({SEED_002_LOGITS})", jacobian),
        Shown("jacobian_error", "max |softmax_jacobian − central differences of softmax|",
              np.asarray(error)),
    ]


def seed_003(dtype=np.float32) -> list[Shown]:
    """Keras's SparseCategoricalCrossentropy on probabilities (ε = 1e-7), and to_categorical."""
    probs = np.asarray(SEED_003_PROBS, dtype=dtype)
    labels = np.asarray(SEED_003_LABELS)
    scce = losses.sparse_categorical_cross_entropy(probs, labels, convention="keras")
    return [
        Shown("scce", 'sparse_categorical_cross_entropy(y_pred, y_true, convention="keras")',
              scce.value, "1.1769392"),
        Shown("one_hot", f"one_hot({SEED_003_LABELS}, num_classes=3)", one_hot(labels, 3),
              "[[0. 1. 0.] [0. 0. 1.]]"),
    ]


def linear_backward(x: np.ndarray, dlogits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """∂loss/∂w and ∂loss/∂b of logits = x@w + b, given ∂loss/∂logits."""
    return x.T @ dlogits, dlogits.sum(axis=0)


def seed_000(dtype=np.float32) -> list[Shown]:
    """The 4→3 linear classifier x@w + b: MSE on softmax probabilities and CE from logits.

    The gradients chain lossgrad's closed-form loss gradients by hand (the engine comes later):
    for MSE, ∂logits = Jᵀ·∂prob row by row with J the softmax Jacobian (seed 002's lesson).
    float32, as TensorFlow computes it.
    """
    given = seed_000_inputs()
    x, w, b = (given[k].astype(dtype) for k in ("x", "w", "b"))
    logits = x @ w + b
    target = one_hot(given["y"], 3, dtype=dtype)
    # tf.reduce_mean(tf.losses.MSE(one_hot, prob)) is the mean over all 2×3 squared errors.
    mse = losses.squared_error(softmax(logits), target)
    mse_dlogits = np.einsum("nij,ni->nj", softmax_jacobian(logits), mse.grad)
    ce = losses.softmax_cross_entropy(logits, target)
    return [
        *_linear_path("mse", "squared_error(softmax(x@w + b), one_hot(y))  (mean: the MSE)", x,
                      mse.value, mse_dlogits,
                      "0.32345903", "[-0.02408312, 0.04025574, -0.01617263]"),
        *_linear_path("ce", "softmax_cross_entropy(x@w + b, one_hot(y))", x, ce.value, ce.grad,
                      "1.6704179", "[-0.3508622, 0.29952443, 0.05133778]"),
    ]


def _linear_path(key, label, x, value, dlogits, seed_value, seed_db) -> list[Shown]:
    dw, db = linear_backward(x, dlogits)
    return [Shown(f"{key}_loss", label, value, seed_value),
            Shown(f"{key}_dw", "  ∂loss/∂w = xᵀ·∂logits", dw),
            Shown(f"{key}_db", "  ∂loss/∂b = Σ_rows ∂logits", db, seed_db)]


SEEDS = (
    ("seed 001: softmax cross-entropy and the double softmax (float64; the seed shows float32)",
     "001_c03c273e3ae923ed.txt", seed_001),
    ("seed 002: the softmax Jacobian", "002_9cb51b7d38d6d2db.txt", seed_002),
    ("seed 003: Keras's sparse categorical cross-entropy on probabilities",
     "003_2b45fb3ef6f0cab9.txt", seed_003),
    ("seed 000: a linear 4→3 classifier, MSE and cross-entropy gradients (TF 2.21's, float32)",
     "000_ef1bd61dd657d0cb.txt", seed_000),
)


def format_array(value: np.ndarray, indent: int) -> str:
    """Up to 8 decimals (float32 prints its shortest form), continuation lines aligned."""
    return np.array2string(np.asarray(value), precision=8, prefix=" " * indent)


def run_demo(args) -> int:
    for title, document, compute in SEEDS:
        print(f"{title}  ({document})")
        for shown in compute():
            print(f"  {shown.label}")
            print(f"      lossgrad: {format_array(shown.value, 16)}")
            if shown.seed is not None:
                print(f"      seed:     {shown.seed}")
            for note in shown.notes:
                print(f"      note: {_one_line(note)}")
        print()
    return 0


# ---------------------------------------------------------------------------------------------
# lossgrad train / lossgrad evaluate

#: The train options a resumed run may change; the others come from the run's config.json.
RESUMABLE = ("epochs", "data_path")


def run_train(args) -> int:
    given = {name: getattr(args, name) for name in TRAIN_OPTIONS if getattr(args, name) is not None}
    if args.resume is not None:
        fixed = sorted(set(given) - set(RESUMABLE))
        if fixed or args.out is not None:
            raise OptionError(f"--resume continues a run with its own configuration; only "
                              f"--epochs and --data-path may change, got "
                              f"{', '.join('--' + n.replace('_', '-') for n in fixed) or '--out'}")
        folder, config = recipe.saved_config(args.resume, **given)
    else:
        folder = recipe.fresh_folder(args.out)
        config = recipe.Config(**given)
    result = recipe.train(config, folder, verbose=0 if args.quiet else 1,
                          resume=args.resume is not None)
    print(f"test accuracy {result.test['accuracy']:.4f}  test loss {result.test['loss']:.4f}  "
          f"({result.samples} held-out samples of {result.config.data})")
    print(f"run folder: {result.folder}")
    return 0


def run_evaluate(args) -> int:
    result = recipe.evaluate_saved(args.path, data_path=args.data_path)
    print(f"test accuracy {result.test['accuracy']:.4f}  test loss {result.test['loss']:.4f}  "
          f"({result.samples} held-out samples of {result.config.data}, epoch {result.epoch})")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer ≥ 1, got {text}")
    return value


def _add_train_options(sub: argparse.ArgumentParser) -> None:
    default = recipe.Config()
    # Every default is None here: the recipe fills it in, so --resume can tell what was given.
    sub.add_argument("--model", choices=recipe.MODELS, help=f"({default.model})")
    sub.add_argument("--data", choices=list(recipe.CLASSES), help=f"({default.data}: bundled)")
    sub.add_argument("--data-path", metavar="FOLDER",
                     help="the folder of mnist, fashion-mnist or cifar10's files (default: "
                          "lossgrad's cache folder)")
    sub.add_argument("--loss", metavar="NAME",
                     help=f"any registry name or alias that fits a classifier ({default.loss})")
    sub.add_argument("--optimizer", choices=list(recipe.OPTIMIZERS), help=f"({default.optimizer})")
    sub.add_argument("--lr", type=float, help="learning rate (sgd 0.01, adam/adamw 0.001, "
                                              "rmsprop 0.01)")
    sub.add_argument("--momentum", type=float, help="sgd (0.9) and rmsprop (0) only")
    sub.add_argument("--epochs", type=_positive, help=f"({default.epochs})")
    sub.add_argument("--batch-size", type=_positive, help=f"({default.batch_size})")
    sub.add_argument("--seed", type=int, help=f"the split, initial weights and shuffling "
                                              f"({default.seed})")
    sub.add_argument("--limit", type=_positive, metavar="N",
                     help="only the first N samples of each split (quick runs)")
    sub.add_argument("--label-smoothing", type=float, metavar="A",
                     help=f"for losses that take it ({recipe.LABEL_SMOOTHING})")


#: The options of `lossgrad train` that are fields of recipe.Config.
TRAIN_OPTIONS = ("model", "data", "data_path", "loss", "optimizer", "lr", "momentum", "epochs",
                 "batch_size", "seed", "limit", "label_smoothing")


# ---------------------------------------------------------------------------------------------
# the parser and main()


def _epilog() -> str:
    lines = ["exit codes:"]
    lines += [f"  {code:>3}  {name}: {meaning}" for code, name, meaning in exit_code_table()]
    return "\n".join(lines)


def _check_epilog() -> str:
    known = ", ".join(f"({second}, {'row' if rows else 'elementwise'}): "
                      + " or ".join(kind for kind, _ in kinds)
                      for (second, rows), kinds in TARGETS.items())
    return (f"Inputs are 4×5 float64 arrays made from the loss's parameter names: the first names "
            f"the domain ({', '.join(DOMAINS)}), the second the target, made as the first of these "
            f"kinds the loss accepts: {known}. `lossgrad check --all` shows which losses that "
            f"covers.")


def build_parser() -> argparse.ArgumentParser:
    debug = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand's own default must not overwrite `lossgrad --debug <command>`.
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="print the traceback of an error")
    parser = argparse.ArgumentParser(
        prog="lossgrad", parents=[debug], epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Neural-network losses with exact values and closed-form gradients.")
    parser.add_argument("--version", action="version", version=f"lossgrad {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    sub = commands.add_parser("losses", parents=[debug], help="the catalogue of losses",
                              description="The catalogue (a table on a terminal, tab-separated "
                                          "otherwise), or one loss's documentation.")
    sub.add_argument("name", nargs="?", help="a loss name or any framework alias")
    sub.set_defaults(run=run_losses)

    sub = commands.add_parser("demo", parents=[debug], help="the seed documents, reproduced",
                              description="The computations of the seed documents, with "
                                          "lossgrad's numbers next to the ones they print.")
    sub.set_defaults(run=run_demo)

    sub = commands.add_parser("check", parents=[debug], epilog=_check_epilog(),
                              help="gradient check of one loss",
                              description="The loss's closed-form gradient against central "
                                          "differences in float64; exit code 1 on FAIL.")
    which = sub.add_mutually_exclusive_group(required=True)
    which.add_argument("name", nargs="?", help="a loss name or any framework alias")
    which.add_argument("--all", action="store_true",
                       help="check every registered loss; exit code 1 if any FAILs")
    sub.add_argument("--seed", type=int, default=0, help="seed of the random inputs (0)")
    sub.add_argument("--reduction", choices=REDUCTIONS, default="mean", help="(mean)")
    sub.set_defaults(run=run_check)

    sub = commands.add_parser(
        "train", parents=[debug], help="train a model into a run folder",
        description="Train a model and save the run: checkpoint, metrics.csv/json, curves.png, "
                    "config.json. With no options: LeNet-5 on the bundled digits, softmax "
                    "cross-entropy with label smoothing 0.1, SGD lr 0.01 momentum 0.9, batch 32. "
                    "Prints the test accuracy and the run folder.")
    _add_train_options(sub)
    where = sub.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="FOLDER",
                       help="the run folder, new or empty (default: runs/<date-time>)")
    where.add_argument("--resume", metavar="RUN",
                       help="continue the run in this folder, up to --epochs in all")
    sub.add_argument("--quiet", action="store_true", help="no progress, only the result")
    sub.set_defaults(run=run_train)

    sub = commands.add_parser(
        "evaluate", parents=[debug], help="a saved run's model on its test split",
        description="Reload a run folder's checkpoint (or a .safetensors checkpoint that "
                    "`lossgrad train` wrote) and print its loss and accuracy on the test split.")
    sub.add_argument("path", metavar="RUN_OR_CHECKPOINT")
    sub.add_argument("--data-path", metavar="FOLDER", help="where the data set's files are now")
    sub.set_defaults(run=run_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help and --version (0) and usage errors (2)
        return stop.code
    try:
        code = args.run(args)
        sys.stdout.flush()  # a closed pipe (`| head`) surfaces here, not at interpreter exit
        return code
    except BrokenPipeError:
        # The reader is gone: send what is left nowhere, so the exit-time flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    except (Exception, KeyboardInterrupt) as error:  # noqa: BLE001 - any other one is a bug: 70
        return report(error, debug=getattr(args, "debug", False))


def report(error: BaseException, *, debug: bool) -> int:
    """One line on stderr (the traceback first with --debug); return the error's exit code."""
    code = exit_code(error)
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    hint = "" if debug or code != INTERNAL else " (a bug in lossgrad; --debug shows the traceback)"
    print(f"lossgrad: {type(error).__name__}: {_one_line(error)}{hint}", file=sys.stderr)
    return code
