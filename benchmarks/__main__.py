"""python -m benchmarks: run the groups side by side and write the report.

    python -m benchmarks                      # every group at the goals' sizes → docs/
    python -m benchmarks --quick              # small sizes, under a minute → a scratch folder
    python -m benchmarks --only ce,lenet      # some groups (full sizes) → a scratch folder
    python -m benchmarks --report-only        # rewrite docs/benchmarks.md from its results.json

Run it from the repository root. Only a full run of every group writes docs/benchmarks.md,
docs/benchmarks/*.png and docs/benchmarks/results.json, so a smoke check never replaces the
report; ``--out DIR`` writes DIR/benchmarks.md and DIR/benchmarks/ instead.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import pin_threads

pin_threads()  # before the imports below start NumPy's thread pool

from . import groups, harness, report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = "results.json"


def _groups(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in groups.NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"--only takes a comma-separated list of {', '.join(groups.NAMES)}; got {text!r}")
    return names


def parse(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke check)")
    parser.add_argument("--only", type=_groups, default=list(groups.NAMES), metavar="GROUPS",
                        help=f"comma-separated groups among {','.join(groups.NAMES)}")
    parser.add_argument("--runs", type=int, help="timed runs per contender (default: per group)")
    parser.add_argument("--out", type=Path, help="folder for benchmarks.md and benchmarks/")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the report from the results.json already in the folder")
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    return args


def output_folder(args: argparse.Namespace) -> Path:
    """docs/ for a full run of every group (and --report-only); a scratch folder otherwise."""
    if args.out is not None:
        return args.out
    if args.report_only or (not args.quick and args.only == list(groups.NAMES)):
        return ROOT / "docs"
    return Path(tempfile.gettempdir()) / "lossgrad-benchmarks"


def run_group(name: str, mode: str, runs: int | None) -> dict:
    """One group in its own process; its progress goes straight to this terminal."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.json"
        cmd = [sys.executable, "-m", "benchmarks.child", "group", name, "--mode", mode,
               "--json", str(path)] + ([] if runs is None else ["--runs", str(runs)])
        started = time.perf_counter()
        code = subprocess.run(cmd, cwd=ROOT).returncode
        duration = time.perf_counter() - started
        if code != 0 or not path.exists():
            return {"title": groups.load(name).TITLE, "duration_s": duration,
                    "error": f"the group's process exited with status {code} (see its output)"}
        return {**json.loads(path.read_text()), "duration_s": duration}


def measure(args: argparse.Namespace, argv: list[str]) -> dict:
    """Every selected group, with the machine's facts and the goals judged."""
    mode = "quick" if args.quick else "full"
    results = {
        "command": " ".join(["python -m benchmarks", *argv]),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": harness.machine(),
        "versions": harness.versions(),
        "blas": harness.blas(),
        "revision": harness.revision(ROOT),
        "groups": {},
    }
    for name in args.only:
        print(f"== {name} ({mode})", file=sys.stderr, flush=True)
        results["groups"][name] = run_group(name, mode, args.runs)
    results["goals"] = report.goals(results)
    return results


def write(results: dict, folder: Path) -> list[Path]:
    """The report, its figures and the raw results; the paths written."""
    figures = folder / report.FIGURE_DIR
    figures.mkdir(parents=True, exist_ok=True)
    raw = figures / RESULTS
    raw.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    page = folder / "benchmarks.md"
    page.write_text(report.markdown(results))
    return [page, raw, *report.figures(results, figures)]


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(argv)
    folder = output_folder(args)
    if args.report_only:
        results = json.loads((folder / report.FIGURE_DIR / RESULTS).read_text())
        results["goals"] = report.goals(results)
    else:
        results = measure(args, argv)
    for path in write(results, folder):
        print(f"wrote {path}", file=sys.stderr)
    for goal in results["goals"]:
        print(f"{goal['id']}: {goal['value']} — {report.verdict(goal['met'])}", file=sys.stderr)


if __name__ == "__main__":
    main()
