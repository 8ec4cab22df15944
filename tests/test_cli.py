"""The command line (TESTING.md §7): commands, exit codes, one-line errors, and what the README says
about them. main() runs in-process (capsys); one subprocess run checks ``python -m lossgrad``."""

from __future__ import annotations

import dataclasses
import doctest
import functools
import inspect
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lossgrad import checkpoint, cli, errors, losses
from lossgrad.train import recipe
from tests.data import writers

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def raising(error: BaseException):
    def run(args):
        raise error

    return run


def subcommands() -> list[str]:
    return list(cli.build_parser()._subparsers._group_actions[0].choices)


# ---------------------------------------------------------------------------------------------
# the parser


def test_python_m_lossgrad_is_the_cli():
    done = subprocess.run([sys.executable, "-m", "lossgrad", "--help"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: lossgrad")
    for command in COMMANDS:
        assert command in done.stdout
    assert "exit codes:" in done.stdout


COMMANDS = ["check", "demo", "evaluate", "losses", "train"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    assert command in subcommands()
    assert cli.main([command, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: lossgrad {command}")


def test_the_commands_tested_are_all_the_commands():
    assert sorted(subcommands()) == COMMANDS


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["check"], ["check", "x", "--seed", "one"],
                                  ["check", "x", "--reduction", "avg"], ["check", "x", "--all"],
                                  ["losses", "a", "b"], ["train", "--epochs", "0"],
                                  ["train", "--model", "resnet"], ["train", "--out", "a",
                                                                   "--resume", "b"],
                                  ["evaluate"]],
                         ids=repr)
def test_usage_errors_exit_2(argv, capsys):
    assert cli.main(argv) == cli.USAGE == 2
    assert "usage: lossgrad" in capsys.readouterr().err


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"lossgrad {cli.__version__}"


# ---------------------------------------------------------------------------------------------
# errors → exit codes


def test_every_error_class_has_its_own_code():
    defined = {obj for obj in vars(errors).values()
               if isinstance(obj, type) and issubclass(obj, errors.LossgradError)}
    assert set(cli.EXIT_CODES) == defined
    codes = [code for code, _, _ in cli.exit_code_table()]
    assert len(codes) == len(set(codes)) and 0 not in cli.EXIT_CODES.values()


@pytest.mark.parametrize("cls", list(cli.EXIT_CODES), ids=lambda cls: cls.__name__)
def test_each_error_exits_with_its_code_and_one_line(cls, monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_demo", raising(cls("bad input\n  on two lines")))
    assert cli.main(["demo"]) == cli.EXIT_CODES[cls]
    captured = capsys.readouterr()
    assert captured.err == f"lossgrad: {cls.__name__}: bad input on two lines\n"
    assert captured.out == ""


@pytest.mark.parametrize("error, code", [
    (FileNotFoundError(2, "No such file or directory", "runs/x/checkpoint.json"), 66),
    (PermissionError(13, "Permission denied", "runs/x"), 74),
    (OSError(28, "No space left on device"), 74),
], ids=lambda v: type(v).__name__ if isinstance(v, OSError) else str(v))
def test_os_errors_have_their_own_codes(error, code, monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_demo", raising(error))
    assert cli.main(["demo"]) == code == cli.exit_code(error)
    err = capsys.readouterr().err
    assert err == f"lossgrad: {type(error).__name__}: {error}\n"


def test_an_unexpected_exception_is_an_internal_error(monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_demo", raising(RuntimeError("boom")))
    assert cli.main(["demo"]) == cli.INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: boom" in err and "--debug" in err


@pytest.mark.parametrize("argv", [["--debug", "demo"], ["demo", "--debug"]])
def test_debug_prints_the_traceback_then_the_same_line(argv, monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_demo", raising(errors.ShapeError("shapes differ")))
    assert cli.main(argv) == cli.EXIT_CODES[errors.ShapeError]
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert err.endswith("lossgrad: ShapeError: shapes differ\n")


def test_no_traceback_without_debug(capsys):
    assert cli.main(["losses", "no_such_loss"]) == cli.EXIT_CODES[errors.OptionError]
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and "no_such_loss" in err


def test_a_closed_pipe_ends_quietly():
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first byte, as after `| head -0`
    done = subprocess.run([sys.executable, "-m", "lossgrad", "losses"], stdout=write_end,
                          stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    os.close(write_end)
    assert (done.returncode, done.stderr) == (cli.BROKEN_PIPE, "")


def test_help_epilog_lists_every_exit_code(capsys):
    cli.main(["--help"])
    out = capsys.readouterr().out
    for code, name, _ in cli.exit_code_table():
        assert re.search(rf"^\s+{code}\s+{re.escape(name)}:", out, re.MULTILINE), name


# ---------------------------------------------------------------------------------------------
# lossgrad losses


def table_lines(capsys) -> list[list[str]]:
    assert cli.main(["losses"]) == 0
    return [line.split("\t") for line in capsys.readouterr().out.splitlines()]


def test_catalogue_has_one_row_per_registered_loss(capsys):
    header, *rows = table_lines(capsys)
    assert header == list(cli.HEADER)
    assert [row[0] for row in rows] == list(losses.NAMES)
    for name, domain, target, aliases, summary in rows:
        fn = losses.get(name)
        assert summary == fn.__doc__.strip().splitlines()[0]
        assert all(losses.get(alias) is fn for alias in aliases.split(", ") if alias)
        assert target == list(inspect.signature(fn).parameters)[1]
        # a new first-parameter name needs its domain in cli.DOMAINS (check makes inputs from it)
        assert domain in {d.label for d in cli.DOMAINS.values()}, name


def test_catalogue_is_built_from_the_registry(monkeypatch, capsys):
    def made_up(prediction, targets):
        """A loss that exists only in this test."""

    monkeypatch.setitem(losses._INDEX, "made_up", (made_up, ("MadeUpLoss",)))
    monkeypatch.setattr(losses, "NAMES", (*losses.NAMES, "made_up"))
    assert table_lines(capsys)[-1] == ["made_up", "real", "targets", "MadeUpLoss",
                                       "A loss that exists only in this test."]


def test_catalogue_on_a_terminal_is_a_rich_table():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    cli.show_catalogue(out)
    text = out.getvalue()
    assert "━" in text or "─" in text  # a box, not tab-separated text
    for name in losses.NAMES:
        assert name in text


def test_one_loss_by_alias_shows_its_sections(capsys):
    assert cli.main(["losses", "CrossEntropyLoss"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sparse_softmax_cross_entropy  (aliases: CrossEntropyLoss")
    positions = [out.index(s) for s in ("**Value:**", "**Gradient:**", "**Parity:**",
                                        "Common arguments")]
    assert positions == sorted(positions)


# ---------------------------------------------------------------------------------------------
# lossgrad check


def test_check_all_lists_every_registered_loss_and_none_fails(capsys):
    assert cli.main(["check", "--all"]) == 0
    *lines, summary = capsys.readouterr().out.splitlines()
    verdicts = {line[13:].split()[0]: line[:11].strip() for line in lines}
    assert list(verdicts) == list(losses.NAMES)
    counts = {v: list(verdicts.values()).count(v) for v in ("PASS", "FAIL", "not covered")}
    assert counts["PASS"] + counts["not covered"] == len(losses.NAMES)
    assert summary == ", ".join(f"{n} {verdict}" for verdict, n in counts.items())


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "sparse_softmax_cross_entropy"])
def test_check_covers_the_cross_entropies(name, capsys):
    assert cli.main(["check", name]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{name}: logits (4, 5) float64") and "PASS" in out


@pytest.mark.parametrize("reduction", ["none", "sum", "sum_over_batch_size"])
def test_check_other_reductions_and_seeds(reduction, capsys):
    argv = ["check", "CrossEntropyLoss", "--reduction", reduction, "--seed", "7"]
    assert cli.main(argv) == 0
    assert f'reduction="{reduction}", seed 7' in capsys.readouterr().out


def skewed_registry(monkeypatch):
    """losses.get returns each loss with its gradient off by one part in ten thousand."""
    real = losses.get

    def skewed(name):
        fn = real(name)

        @functools.wraps(fn)  # keeps the signature and .rows the input makers read
        def wrong(*args, **kwargs):
            result = fn(*args, **kwargs)
            grad = None if result.grad is None else result.grad * 1.0001
            return dataclasses.replace(result, grad=grad)

        return wrong

    monkeypatch.setattr(losses, "get", skewed)


def test_check_fails_on_a_slightly_wrong_gradient(monkeypatch, capsys):
    skewed_registry(monkeypatch)
    assert cli.main(["check", "softmax_cross_entropy"]) == cli.CHECK_FAILED
    assert "FAIL" in capsys.readouterr().out


def test_check_all_fails_if_any_loss_fails(monkeypatch, capsys):
    skewed_registry(monkeypatch)
    assert cli.main(["check", "--all"]) == cli.CHECK_FAILED
    assert capsys.readouterr().out.splitlines()[-1].startswith("0 PASS")


def test_check_refuses_parameters_it_does_not_know(monkeypatch, capsys):
    def ranked(scores_a, ordering):
        """Parameter names none of check's makers know."""

    monkeypatch.setattr(losses, "get", lambda name: ranked)
    assert cli.main(["check", "ranked"]) == cli.EXIT_CODES[errors.OptionError]
    assert "does not know how to make inputs for ranked(scores_a, ordering)" in \
        capsys.readouterr().err


def test_check_refuses_a_loss_of_more_than_two_inputs(monkeypatch, capsys):
    def triplet(anchor, positive, negative, margin=1.0):
        """Three inputs: check makes two."""

    monkeypatch.setattr(losses, "get", lambda name: triplet)
    assert cli.main(["check", "triplet"]) == cli.EXIT_CODES[errors.OptionError]
    assert "triplet takes 3 inputs (anchor, positive, negative); check makes two" in \
        capsys.readouterr().err


def test_check_refuses_a_loss_that_accepts_none_of_its_targets(monkeypatch, capsys):
    def picky(prediction, targets, **options):
        """Refuses everything."""
        raise errors.DomainError("not these")

    monkeypatch.setattr(losses, "get", lambda name: picky)
    assert cli.main(["check", "picky"]) == cli.EXIT_CODES[errors.OptionError]
    assert capsys.readouterr().err == (
        "lossgrad: NotCovered: picky accepts none of the targets check makes "
        "(values in [0, 1]: DomainError; ±1: DomainError)\n")


def test_central_differences_of_a_known_function():
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    jacobian = cli.central_differences(lambda v: np.sin(v).sum(axis=0), x)
    assert jacobian.shape == (2, 2, 2)
    expected = np.zeros((2, 2, 2))
    for j in range(2):
        expected[j, :, j] = np.cos(x[:, j])
    np.testing.assert_allclose(jacobian, expected, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# lossgrad demo


def demo_output(capsys) -> str:
    assert cli.main(["demo"]) == 0
    return capsys.readouterr().out


def test_demo_shows_every_seed_and_the_double_softmax_note(capsys):
    out = demo_output(capsys)
    for title, document, _ in cli.SEEDS:
        assert f"{title}  ({document})" in out
    assert "note: ProbabilitiesAsLogitsWarning:" in out


# ---------------------------------------------------------------------------------------------
# the README says what the code does


def readme_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    first = readme_blocks("bash")[0].splitlines()
    assert README.index("```bash") < README.index("\n## ")
    assert first == ["python -m pip install -e . && python -m lossgrad train",
                     "python -m pip install -e '.[test]' && python -m pytest"]
    # verbatim, with `|| exit` because set -e ignores a failure left of `&&`
    assert f"{first[1]} || exit" in (ROOT / ".ci" / "run").read_text().splitlines()


@pytest.mark.parametrize("at", range(2))
def test_readme_examples_run_as_shown(at):
    examples = [block for block in readme_blocks("python") if ">>>" in block]
    assert len(examples) == 2  # the loss example and the fused-kernel one
    test = doctest.DocTestParser().get_doctest(examples[at], {}, "README.md", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_readme_demo_excerpt_is_what_the_demo_prints(capsys):
    (excerpt,) = [block for block in readme_blocks("text") if "lossgrad demo" in block]
    output = demo_output(capsys).splitlines()
    position = 0
    for line in excerpt.splitlines()[1:]:  # after the command line
        if line.strip() == "...":
            continue
        assert line in output[position:], f"README demo line not printed (in order): {line!r}"
        position = output.index(line, position) + 1


def test_readme_training_numbers_come_from_the_report():
    report = (ROOT / "docs" / "training.md").read_text().splitlines()
    section = README.split("\n## Training\n")[1].split("\n## ")[0]
    copied = [line for line in section.splitlines()
              if line.startswith(("|", "Mean test accuracy", "PyTorch "))]
    assert len(copied) >= 3 and all(line in report for line in copied), copied
    assert f"batches of 32, {recipe.DEFAULT_EPOCHS} epochs" in section
    assert any(f", {recipe.DEFAULT_EPOCHS} epochs." in line for line in report)


def test_readme_exit_code_table_is_the_clis():
    section = README.split("\n## Exit codes\n")[1].split("\n## ")[0]
    rows = re.findall(r"^\| (\d+) \| (.+?) \| (.+?) \|$", section, re.MULTILINE)
    assert [(int(code), name, meaning) for code, name, meaning in rows] == cli.exit_code_table()


# ---------------------------------------------------------------------------------------------
# lossgrad train / lossgrad evaluate (tiny runs: --limit 40, one or two epochs)

QUICK = ["--limit", "40", "--quiet"]


def train_lines(capsys, *argv) -> list[str]:
    assert cli.main(["train", *argv]) == 0, capsys.readouterr().err
    return capsys.readouterr().out.splitlines()


def test_train_writes_the_run_folder_and_evaluate_reloads_it(tmp_path, capsys):
    out = tmp_path / "run"
    lines = train_lines(capsys, "--epochs", "2", *QUICK, "--out", str(out))
    assert lines[0].startswith("test accuracy ") and "(40 held-out samples of digits)" in lines[0]
    assert lines[1] == f"run folder: {out}"
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoint.json", "checkpoint.safetensors", "config.json", "curves.png", "metrics.csv",
        "metrics.json"]
    config = json.loads((out / "config.json").read_text())
    assert config == {**dataclasses.asdict(recipe.Config()), "epochs": 2, "limit": 40,
                      "lr": 0.01, "momentum": 0.9, "label_smoothing": recipe.LABEL_SMOOTHING}
    metrics = json.loads((out / "metrics.json").read_text())
    accuracy = f"{metrics[-1]['val_accuracy']:.4f}"  # the test split is the validation data
    assert lines[0].startswith(f"test accuracy {accuracy} ")

    for path in (out, out / "checkpoint.safetensors", out / "checkpoint.json"):
        assert cli.main(["evaluate", str(path)]) == 0
        shown = capsys.readouterr().out
        assert shown.startswith(lines[0].partition("  (")[0]) and "epoch 2)" in shown


def test_train_without_out_makes_a_dated_folder_under_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    lines = train_lines(capsys, "--epochs", "1", *QUICK)
    (folder,) = (tmp_path / "runs").iterdir()
    assert re.fullmatch(r"\d{8}-\d{6}", folder.name)
    assert lines[1] == f"run folder: {Path('runs') / folder.name}"


def test_train_progress_is_one_line_per_epoch_through_a_pipe(tmp_path, capsys):
    lines = train_lines(capsys, "--epochs", "2", "--limit", "40", "--out", str(tmp_path / "r"))
    assert [line.split("  ")[0] for line in lines[:2]] == ["epoch 1/2", "epoch 2/2"]
    assert lines[2].startswith("test accuracy")


def test_resume_continues_a_run_exactly(tmp_path, capsys):
    straight, split = tmp_path / "straight", tmp_path / "split"
    train_lines(capsys, "--epochs", "2", *QUICK, "--out", str(straight))
    train_lines(capsys, "--epochs", "1", *QUICK, "--out", str(split))
    lines = train_lines(capsys, "--resume", str(split), "--epochs", "2", "--quiet")
    assert lines[1] == f"run folder: {split}"

    def metrics(folder):
        rows = json.loads((folder / "metrics.json").read_text())
        return [{k: v for k, v in row.items() if k != "time"} for row in rows]

    assert metrics(split) == metrics(straight) and len(metrics(split)) == 2
    assert json.loads((split / "config.json").read_text())["epochs"] == 2


@pytest.mark.parametrize("loss", ["CategoricalCrossentropy", "nll", "multi_margin",
                                  "squared_error", "BCEWithLogitsLoss", "hinge"])
def test_train_takes_any_loss_that_fits_a_classifier(loss, tmp_path, capsys):
    lines = train_lines(capsys, "--model", "mlp", "--optimizer", "adam", "--loss", loss,
                        "--epochs", "1", *QUICK, "--out", str(tmp_path / "r"))
    assert lines[0].startswith("test accuracy")
    assert json.loads((tmp_path / "r" / "config.json").read_text())["loss"] == \
        losses.get(loss).__name__


def refused(capsys, argv, cls) -> str:
    assert cli.main(argv) == cli.exit_code(cls("")), capsys.readouterr()
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    return captured.err


@pytest.mark.parametrize("argv, message", [
    (["--loss", "no_such_loss"], "unknown loss 'no_such_loss'"),
    (["--loss", "multilabel_margin"], "does not fit a classifier"),
    (["--optimizer", "adam", "--momentum", "0.5"], "adam takes no momentum"),
    (["--data-path", "somewhere"], "digits is bundled with scikit-learn and takes no path"),
])
def test_train_refuses_options_that_do_not_fit(argv, message, tmp_path, capsys):
    err = refused(capsys, ["train", *argv, *QUICK, "--out", str(tmp_path / "r")],
                  errors.OptionError)
    assert message in err


@pytest.mark.parametrize("model", ["lenet5", "mlp"])
@pytest.mark.parametrize("data", ["fashion-mnist", "cifar10"])
def test_train_and_evaluate_a_data_set_from_its_files(data, model, tmp_path, capsys):
    rng = np.random.default_rng(0)
    folder = tmp_path / data
    if data == "cifar10":
        folder.mkdir()
        for name in (*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin"):
            (folder / name).write_bytes(writers.cifar_bytes(*writers.cifar_arrays(rng, 4, (10,))))
    else:
        writers.write_mnist(folder, writers.mnist_arrays(rng, n_train=20, n_test=8),
                            gz=(True, True, False, False))
    lines = train_lines(capsys, "--data", data, "--data-path", str(folder), "--model", model,
                        "--epochs", "1", "--quiet", "--out", str(tmp_path / "run"))
    test_size = 4 if data == "cifar10" else 8
    assert f"({test_size} held-out samples of {data})" in lines[0]
    assert cli.main(["evaluate", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().out.startswith(lines[0].partition("  (")[0])
    moved = folder.rename(tmp_path / "moved")
    refused(capsys, ["evaluate", str(tmp_path / "run")], FileNotFoundError)
    assert cli.main(["evaluate", str(tmp_path / "run"), "--data-path", str(moved)]) == 0
    assert capsys.readouterr().out.startswith(lines[0].partition("  (")[0])


def test_train_refuses_a_folder_with_files(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    err = refused(capsys, ["train", *QUICK, "--out", str(tmp_path)], errors.OptionError)
    assert "new or empty folder" in err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_resume_refuses_new_options(tmp_path, capsys):
    err = refused(capsys, ["train", "--resume", str(tmp_path), "--model", "mlp"],
                  errors.OptionError)
    assert "only --epochs and --data-path may change, got --model" in err


def test_missing_files_exit_66(tmp_path, capsys):
    err = refused(capsys, ["evaluate", str(tmp_path / "nothing")], FileNotFoundError)
    assert "checkpoint file not found" in err
    err = refused(capsys, ["train", "--data", "mnist", "--data-path", str(tmp_path), *QUICK,
                           "--out", str(tmp_path / "r")], FileNotFoundError)
    assert "train-images-idx3-ubyte" in err
    err = refused(capsys, ["train", "--resume", str(tmp_path / "none")], FileNotFoundError)
    assert "config.json" in err


def test_evaluate_refuses_a_checkpoint_without_its_recipe(tmp_path, capsys):
    checkpoint.save(tmp_path, {"w": np.zeros(2, np.float32)})
    err = refused(capsys, ["evaluate", str(tmp_path)], errors.OptionError)
    assert "does not say how its model was trained" in err


def test_evaluate_refuses_a_damaged_checkpoint(tmp_path, capsys):
    train_lines(capsys, "--epochs", "1", *QUICK, "--out", str(tmp_path))
    weights = tmp_path / "checkpoint.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    err = refused(capsys, ["evaluate", str(tmp_path)], errors.CorruptFileError)
    assert "sha256" in err
