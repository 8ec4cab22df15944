"""The optimizer golden files: what PyTorch computed for every case of tests/optim/cases.py.

``golden/optim.npz`` (no pickle) holds, per case and dtype, each recorded array under
``<case id>|<dtype>|<name>``: ``param<i>`` (the weights after 0..k steps, one row per step) and
``lr`` (the rates per step and group) for optimizer and schedule cases; ``grad<i>`` and ``total``
for clipping cases; and ``problem|<dtype>|weights<i>`` / ``…|grad<i>``, the starting weights and
first gradients of the seeded problem, so a changed problem is caught. ``golden/index.json``
records the versions and each case's description. tools/make_optim_golden.py is the only writer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from tests.optim import problem
from tests.parity.golden import _write_npz

FOLDER = Path(__file__).parent / "golden"
ARRAYS = FOLDER / "optim.npz"
INDEX = FOLDER / "index.json"
REGENERATE = "rerun `python tools/make_optim_golden.py` from the repository root"

#: (rtol, atol) against PyTorch. Tighter than tolerances.FRAMEWORK: an optimizer step is a few
#: elementwise roundings done in PyTorch's order, so the two differ only where PyTorch's vector
#: kernels fuse a multiply-add (about an ulp a step); a wrong rule is off by far more.
TOLERANCE = {"float64": (1e-12, 1e-12), "float32": (1e-6, 1e-6)}


def key(case_id: str, dtype: str, name: str) -> str:
    return f"{case_id}|{dtype}|{name}"


def problem_arrays(dtype: str) -> dict[str, np.ndarray]:
    """The starting weights and first gradients: a fingerprint of the seeded problem."""
    weights = problem.initial_weights(dtype)
    return {**{f"weights{i}": w for i, w in enumerate(weights)},
            **{f"grad{i}": problem.gradient(i, w, 0) for i, w in enumerate(weights)}}


class Golden:
    """The golden files, read once."""

    def __init__(self, folder: Path = FOLDER):
        self.index = json.loads((folder / INDEX.name).read_text())
        with np.load(folder / ARRAYS.name, allow_pickle=False) as npz:
            self.arrays = {k: npz[k] for k in npz.files}

    def result(self, case_id: str, dtype: str) -> dict[str, np.ndarray]:
        prefix = key(case_id, dtype, "")
        return {k[len(prefix):]: a for k, a in self.arrays.items() if k.startswith(prefix)}


def write(cases, results: Mapping, versions: Mapping, folder: Path = FOLDER) -> None:
    """Write both files; results: (case id, dtype) → {name: array}."""
    arrays = {key(c, d, n): a for (c, d), named in results.items() for n, a in named.items()}
    index = {"generator": "python tools/make_optim_golden.py", "versions": dict(versions),
             "cases": {case.id: case.describe() for case in cases}}
    folder.mkdir(parents=True, exist_ok=True)
    _write_npz(folder / ARRAYS.name, arrays)
    (folder / INDEX.name).write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")


def assert_same(actual: Mapping, expected: Mapping, dtype: str, context: str) -> None:
    """Same names, same dtypes, equal at TOLERANCE (NaN where the reference has NaN)."""
    assert actual.keys() == expected.keys(), f"{context}: {sorted(actual)} vs {sorted(expected)}"
    rtol, atol = TOLERANCE[dtype]
    for name in expected:
        a, e = np.asarray(actual[name]), np.asarray(expected[name])
        assert a.dtype == e.dtype, f"{context} {name}: dtype {a.dtype}, expected {e.dtype}"
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"{context} {name}")
