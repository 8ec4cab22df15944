"""The golden files: what the real frameworks computed for every parity spec (NumPy only).

``golden/golden.npz`` (written without pickle) holds, per spec and dtype, the inputs and each call's
value and gradient under the keys ``<spec id>|<dtype>|input|<name>`` and
``<spec id>|<dtype>|<call name>|value`` / ``…|grad``. ``golden/index.json`` records the framework
versions and, per spec, the loss, its options and its calls, so a spec edited after the files were
written is caught. tools/make_golden.py is the only writer.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

FOLDER = Path(__file__).parent / "golden"
ARRAYS = FOLDER / "golden.npz"
INDEX = FOLDER / "index.json"
REGENERATE = "rerun `python tools/make_golden.py` from the repository root"


def input_key(spec_id: str, dtype: str, name: str) -> str:
    return f"{spec_id}|{dtype}|input|{name}"


def result_key(spec_id: str, dtype: str, call: str, what: str) -> str:
    return f"{spec_id}|{dtype}|{call}|{what}"


def describe(spec) -> dict:
    """What the index records of a spec; the golden tests compare it with the spec as it is now."""
    return {"loss": spec.loss, "options": dict(spec.options), "dtypes": list(spec.dtypes),
            "calls": [c.description for c in spec.calls]}


class Golden:
    """The golden files, read once."""

    def __init__(self, folder: Path = FOLDER):
        self.index = json.loads((folder / INDEX.name).read_text())
        with np.load(folder / ARRAYS.name, allow_pickle=False) as npz:
            self.arrays = {key: npz[key] for key in npz.files}

    def inputs(self, spec_id: str, dtype: str) -> dict[str, np.ndarray]:
        prefix = input_key(spec_id, dtype, "")
        return {k[len(prefix):]: a for k, a in self.arrays.items() if k.startswith(prefix)}

    def result(self, spec_id: str, dtype: str, call: str):
        """(value, grad) the framework gave; KeyError when the entry is missing."""
        return tuple(self.arrays[result_key(spec_id, dtype, call, w)] for w in ("value", "grad"))


def write(specs, inputs: Mapping, results: Mapping, versions: Mapping, folder: Path = FOLDER):
    """Write both files. inputs: (spec id, dtype) → arrays; results: (id, dtype, call) → (v, g)."""
    arrays = {input_key(i, d, n): a for (i, d), named in inputs.items() for n, a in named.items()}
    for (spec_id, dtype, call), pair in results.items():
        for what, a in zip(("value", "grad"), pair):
            arrays[result_key(spec_id, dtype, call, what)] = a
    index = {"generator": "python tools/make_golden.py", "versions": dict(versions),
             "specs": {s.id: describe(s) for s in specs}}
    folder.mkdir(parents=True, exist_ok=True)
    _write_npz(folder / ARRAYS.name, arrays)
    (folder / INDEX.name).write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")


def _write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    # np.savez stamps each member with the current time; fixed timestamps keep the bytes the same
    # when the numbers are, so a rerun with unchanged frameworks leaves no diff.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(arrays[key]), allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0)),
                        buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
