"""The command line (TESTING.md §7): commands, exit codes, one-line errors, and what the README says
about them. main() runs in-process (capsys); one subprocess run checks ``python -m lossgrad``."""

from __future__ import annotations

import dataclasses
import doctest
import functools
import inspect
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lossgrad import cli, errors, losses

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
    for command in ("losses", "demo", "check"):
        assert command in done.stdout
    assert "exit codes:" in done.stdout


@pytest.mark.parametrize("command", ["losses", "demo", "check"])
def test_every_command_has_help(command, capsys):
    assert command in subcommands()
    assert cli.main([command, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: lossgrad {command}")


def test_the_commands_tested_are_all_the_commands():
    assert sorted(subcommands()) == ["check", "demo", "losses"]


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["check"], ["check", "x", "--seed", "one"],
                                  ["check", "x", "--reduction", "avg"], ["check", "x", "--all"],
                                  ["losses", "a", "b"]],
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
    def triplet(anchor, positive, negative):
        """Three inputs: none of check's makers."""

    monkeypatch.setattr(losses, "get", lambda name: triplet)
    assert cli.main(["check", "triplet"]) == cli.EXIT_CODES[errors.OptionError]
    assert "does not know how to make inputs for triplet(anchor, positive)" in \
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
    assert first == ["python -m pip install -e . && python -m lossgrad demo",
                     "python -m pip install -e '.[test]' && python -m pytest"]
    # verbatim, with `|| exit` because set -e ignores a failure left of `&&`
    assert f"{first[1]} || exit" in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_example_runs_as_shown():
    (example,) = [block for block in readme_blocks("python") if ">>>" in block]
    test = doctest.DocTestParser().get_doctest(example, {}, "README.md", "README.md", 0)
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


def test_readme_exit_code_table_is_the_clis():
    rows = re.findall(r"^\| (\d+) \| (.+?) \| (.+?) \|$", README, re.MULTILINE)
    assert [(int(code), name, meaning) for code, name, meaning in rows] == cli.exit_code_table()
