"""One measurement in its own process; the orchestrator (``python -m benchmarks``) starts these.

    python -m benchmarks.child group ce --mode quick --runs 7 --json out.json
    python -m benchmarks.child memory ce fused --size '{"N": 4096, "V": 32768}' --json out.json

"group" runs a group's whole measurement; "memory" measures the extra peak RSS of one contender's
call with the inputs already allocated. Both write their result as JSON to the given path.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import pin_threads

pin_threads()  # before the imports below start NumPy's thread pool

from . import groups  # noqa: E402
from .harness import measure_peak  # noqa: E402


def log(message: str) -> None:
    """Progress goes to stderr, so the orchestrator's terminal shows it as it happens."""
    print(message, file=sys.stderr, flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.child", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    group = sub.add_parser("group")
    group.add_argument("name", choices=groups.NAMES)
    group.add_argument("--mode", choices=("quick", "full"), required=True)
    group.add_argument("--runs", type=int)
    group.add_argument("--json", type=Path, required=True)
    memory = sub.add_parser("memory")
    memory.add_argument("name", choices=groups.NAMES)
    memory.add_argument("contender")
    memory.add_argument("--size", type=json.loads, required=True)
    memory.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    module = groups.load(args.name)
    if args.what == "group":
        runs = args.runs or module.RUNS[args.mode]
        result = {"title": module.TITLE, "mode": args.mode, "runs": runs,
                  **module.run(module.SIZES[args.mode], runs, log)}
    else:
        inputs = module.inputs(args.size)
        result = measure_peak(module.CONTENDERS[args.contender](inputs))
    args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
