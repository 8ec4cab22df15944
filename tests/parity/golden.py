"""The golden files: what the real frameworks computed for every parity spec (NumPy only).

``golden/golden.npz`` (written without pickle) holds, per spec and dtype, the inputs and each call's
value and gradients under the keys ``<spec id>|<dtype>|input|<name>``,
``<spec id>|<dtype>|<call name>|value``, ``…|grad`` (with respect to the prediction) and
``…|grad:<input name>`` (with respect to each other input of the spec's ``wrt``).
``golden/index.json`` records the framework versions and, per spec, the loss, its options and its
calls, so a spec edited after the files were written is caught; the gradient keys record ``wrt``.
tools/make_golden.py is the only writer.
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


def _entry(spec_id: str, dtype: str, call: str) -> str:
    return f"{spec_id}|{dtype}|{call}"


def result_key(spec_id: str, dtype: str, call: str, what: str) -> str:
    return f"{_entry(spec_id, dtype, call)}|{what}"


def grad_key(spec_id: str, dtype: str, call: str, name: str) -> str:
    """The prediction's gradient keeps the plain ``…|grad`` key; another input's is ``…|grad:name``."""
    return result_key(spec_id, dtype, call, "grad" if name == "prediction" else f"grad:{name}")


def _grad_name(what: str) -> str | None:
    """The input a ``what`` field is the gradient of, or None for a value or an input."""
    if what == "grad":
        return "prediction"
    return what[len("grad:"):] if what.startswith("grad:") else None


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
        self._grads: dict[str, set[str]] = {}  # "<spec id>|<dtype>|<call>" → input names
        for key in self.arrays:
            entry, what = key.rsplit("|", 1)
            if (name := _grad_name(what)) is not None:
                self._grads.setdefault(entry, set()).add(name)

    def inputs(self, spec_id: str, dtype: str) -> dict[str, np.ndarray]:
        prefix = input_key(spec_id, dtype, "")
        return {k[len(prefix):]: a for k, a in self.arrays.items() if k.startswith(prefix)}

    def result(self, spec_id: str, dtype: str, call: str, wrt=("prediction",)):
        """(value, {name: grad} for each name of ``wrt``) the framework gave; KeyError when an
        entry is missing."""
        value = self.arrays[result_key(spec_id, dtype, call, "value")]
        return value, {name: self.arrays[grad_key(spec_id, dtype, call, name)] for name in wrt}

    def gradients_stored(self, spec_id: str, dtype: str, call: str) -> set[str]:
        """The inputs whose gradients the files hold for this call."""
        return self._grads.get(_entry(spec_id, dtype, call), set())


def write(specs, inputs: Mapping, results: Mapping, versions: Mapping, folder: Path = FOLDER):
    """Write both files. inputs: (spec id, dtype) → arrays; results: (id, dtype, call) →
    (value, {input name: grad})."""
    arrays = {input_key(i, d, n): a for (i, d), named in inputs.items() for n, a in named.items()}
    for (spec_id, dtype, call), (value, grads) in results.items():
        arrays[result_key(spec_id, dtype, call, "value")] = value
        for name, grad in grads.items():
            arrays[grad_key(spec_id, dtype, call, name)] = grad
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
