"""Write the optimizer golden files from PyTorch: ``python tools/make_optim_golden.py``.

For every case of tests/optim/cases.py, in float64 and float32, this runs torch.optim (with the
case's schedule) or torch.nn.utils' clipping on the seeded problem of tests/optim/problem.py and
stores what it computed, with the versions, under tests/optim/golden/ (see tests/optim/golden.py).
The same driver runs lossgrad in the tests, so both sides see the same problem.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `tests` is a package at the repository root, not installed

from tests.optim import golden, problem, reference
from tests.optim.cases import CASES, DTYPES


def main() -> int:
    start = time.perf_counter()
    torch = reference.Torch()
    results = {("problem", dtype): golden.problem_arrays(dtype) for dtype in DTYPES}
    for case in CASES:
        for dtype in DTYPES:
            results[case.id, dtype] = problem.run(torch, case, dtype)
    versions = reference.versions()
    golden.write(CASES, results, versions)
    size = sum(p.stat().st_size for p in golden.FOLDER.iterdir())
    print(f"{len(CASES)} cases × {len(DTYPES)} dtypes from torch {versions['torch']} → "
          f"{golden.FOLDER.relative_to(ROOT)}/ ({size / 1024:.0f} KiB) "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
