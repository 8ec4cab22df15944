"""CIFAR-10 and CIFAR-100 in their binary version, as extracted from the official tarballs.

A CIFAR-10 record is 1 label byte and 3072 pixel bytes; a CIFAR-100 record is a coarse label
byte, a fine label byte and 3072 pixel bytes. The pixels are the red, green and blue 32×32 planes,
each row by row. The loaders return them channels-last, (N, 32, 32, 3) uint8, as Keras's
``load_data`` does; :func:`lossgrad.data.scale_uint8` moves the channels first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import CorruptFileError
from ..losses.core import check_option
from .files import Split, check_labels, find_files

PIXELS = (3, 32, 32)
CIFAR_HOME = "https://www.cs.toronto.edu/~kriz/cifar.html"
#: Folder names inside cifar-10-binary.tar.gz and cifar-100-binary.tar.gz.
CIFAR10_FOLDER = "cifar-10-batches-bin"
CIFAR100_FOLDER = "cifar-100-binary"
CIFAR10_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST = "test_batch.bin"
LABEL_MODES = ("fine", "coarse")


def read_cifar(path, label_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """The records of one binary CIFAR file: images (N, 32, 32, 3) uint8, labels (N, label_bytes).

    ``label_bytes`` is 1 for CIFAR-10 and 2 (coarse, fine) for CIFAR-100. A file that is empty or
    whose size is not a multiple of the record size raises CorruptFileError.
    """
    path = Path(path)
    record = np.dtype([("labels", "u1", (label_bytes,)), ("pixels", "u1", PIXELS)])
    size = path.stat().st_size
    if size == 0 or size % record.itemsize:
        raise CorruptFileError(
            f"{path}: expected a positive multiple of {record.itemsize} bytes (records of "
            f"{label_bytes} label byte(s) and {record.itemsize - label_bytes} pixel bytes), got "
            f"{size} bytes ({size // record.itemsize} whole records and {size % record.itemsize} "
            "bytes over); the file is damaged or incomplete — download it again"
        )
    records = np.fromfile(path, dtype=record)
    images = np.ascontiguousarray(records["pixels"].transpose(0, 2, 3, 1))
    return images, records["labels"]


def load_cifar10(path) -> Split:
    """CIFAR-10 from the folder extracted from cifar-10-binary.tar.gz, as Keras's ``load_data``.

    ``path`` is the cifar-10-batches-bin folder or the folder holding it. Returns
    ``(x_train, y_train), (x_test, y_test)``: images (N, 32, 32, 3) uint8; labels int64 of shape
    (N,) — Keras gives uint8 of shape (N, 1), which lossgrad's sparse losses refuse as a target
    that does not match (N,).
    """
    folder = _folder(path, CIFAR10_FOLDER)
    *train, test = find_files(folder, CIFAR10_TRAIN + (CIFAR10_TEST,), dataset="CIFAR-10",
                              source=f"cifar-10-binary.tar.gz at {CIFAR_HOME}")
    parts = [_cifar10_file(f) for f in train]
    x_train = np.concatenate([x for x, _ in parts])
    y_train = np.concatenate([y for _, y in parts])
    return (x_train, y_train), _cifar10_file(test)


def load_cifar100(path, label_mode: str = "fine") -> Split:
    """CIFAR-100 from the folder extracted from cifar-100-binary.tar.gz, as Keras's ``load_data``.

    ``path`` is the cifar-100-binary folder or the folder holding it. ``label_mode`` is "fine"
    (100 classes) or "coarse" (20 superclasses), as in Keras. The result is shaped as
    :func:`load_cifar10`'s.
    """
    check_option("label_mode", label_mode, LABEL_MODES)
    folder = _folder(path, CIFAR100_FOLDER)
    files = find_files(folder, ("train.bin", "test.bin"), dataset="CIFAR-100",
                       source=f"cifar-100-binary.tar.gz at {CIFAR_HOME}")
    split = []
    for f in files:
        images, labels = read_cifar(f, label_bytes=2)
        coarse = check_labels(labels[:, 0], 20, path=f, what="coarse label")
        fine = check_labels(labels[:, 1], 100, path=f, what="fine label")
        split.append((images, fine if label_mode == "fine" else coarse))
    return split[0], split[1]


def _cifar10_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_cifar(path, label_bytes=1)
    return images, check_labels(labels[:, 0], 10, path=path)


def _folder(path, inner: str) -> Path:
    """The folder of the .bin files: ``path`` itself, or its ``inner`` folder when it has one."""
    path = Path(path)
    return path / inner if (path / inner).is_dir() else path
