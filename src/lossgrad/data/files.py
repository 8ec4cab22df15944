"""What the file loaders share: the result type, finding a data set's files, checking labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import CorruptFileError

#: ``(x_train, y_train), (x_test, y_test)``, the shape of Keras's ``load_data`` result.
Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def find_files(folder, names, *, dataset: str, source: str, suffixes=("",)) -> list[Path]:
    """The path of each of ``names`` in ``folder``, trying ``suffixes`` in order.

    Raises FileNotFoundError naming every missing file, the folder, and where to get the files.
    """
    folder = Path(folder)
    found, missing = [], []
    for name in names:
        candidates = [folder / (name + suffix) for suffix in suffixes]
        hit = next((c for c in candidates if c.is_file()), None)
        found.append(hit)
        if hit is None:
            missing.append(name + "".join(f"[{s}]" for s in suffixes if s))
    if missing:
        raise FileNotFoundError(
            f"{dataset}: {', '.join(missing)} not found in {folder}; get the files from {source} "
            "and place them in that folder"
        )
    return found


def check_labels(labels: np.ndarray, num_classes: int, *, path, what: str = "label") -> np.ndarray:
    """Unsigned labels from a file as int64; CorruptFileError at the first one ≥ num_classes."""
    bad = np.flatnonzero(labels >= num_classes)
    if bad.size:
        i = int(bad[0])
        raise CorruptFileError(
            f"{path}: {what} {int(labels[i])} of record {i} is outside [0, {num_classes}); the "
            "file is damaged or not of this data set — download it again"
        )
    return labels.astype(np.int64)
