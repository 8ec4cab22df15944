"""Write the parity golden files from the real frameworks: ``python tools/make_golden.py``.

For every spec of tests/parity/specs.py, in each of its dtypes, this draws the spec's seeded inputs,
runs each framework call (PyTorch autograd, tf.GradientTape around tf.nn and Keras, jax.grad around
optax) and stores the inputs, the value and the gradient with respect to each input of the spec's
``wrt`` (the prediction's under ``…|grad``, another input's under ``…|grad:<name>``), with the
framework versions, under tests/parity/golden/ (see tests/parity/golden.py). Reference numbers
come only from here; tools/README.md says when to rerun it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `tests` is a package at the repository root, not installed

from tests.parity import frameworks, golden
from tests.parity.specs import SPECS


def main() -> int:
    start = time.perf_counter()
    versions = frameworks.versions()
    inputs, results = {}, {}
    for spec in SPECS:
        for dtype in spec.dtypes:
            arrays = spec.make_inputs(dtype)
            inputs[spec.id, dtype] = arrays
            for call in spec.calls:
                results[spec.id, dtype, call.name] = frameworks.run(call, arrays, dtype,
                                                                    spec.wrt)
    golden.write(SPECS, inputs, results, versions)
    size = sum(p.stat().st_size for p in golden.FOLDER.iterdir())
    print(f"{len(results)} results of {len(SPECS)} specs from "
          + ", ".join(f"{k} {v}" for k, v in versions.items())
          + f" → {golden.FOLDER.relative_to(ROOT)}/ ({size / 1024:.0f} KiB) "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
