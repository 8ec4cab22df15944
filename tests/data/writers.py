"""Small synthetic data files for the data tests, written from the format descriptions.

IDX (http://yann.lecun.com/exdb/mnist/): bytes 00 00, a type code, the number of dimensions, the
sizes as big-endian uint32, then the values big-endian. CIFAR binary
(https://www.cs.toronto.edu/~kriz/cifar.html): per record the label byte(s), then the red, green and
blue 32×32 planes row by row.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

IDX_CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D,
             "float64": 0x0E}
MNIST_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.asarray(array)
    header = bytes([0, 0, IDX_CODES[array.dtype.name], array.ndim])
    dims = struct.pack(f">{array.ndim}I", *array.shape)
    return header + dims + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, data: bytes, *, gz: bool = False) -> Path:
    path = Path(str(path) + ".gz") if gz else Path(path)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def mnist_arrays(rng, n_train=12, n_test=5, size=28):
    """(x_train, y_train), (x_test, y_test) of random uint8 images and labels 0…9."""
    def part(n):
        return (rng.integers(0, 256, size=(n, size, size), dtype=np.uint8),
                rng.integers(0, 10, size=n, dtype=np.uint8))
    return part(n_train), part(n_test)


def write_mnist(folder: Path, arrays, *, gz=(False, False, False, False)) -> list[Path]:
    """The four MNIST files of ``arrays`` in ``folder``; ``gz`` per file."""
    (x_train, y_train), (x_test, y_test) = arrays
    folder.mkdir(parents=True, exist_ok=True)
    return [write(folder / name, idx_bytes(a), gz=z)
            for name, a, z in zip(MNIST_NAMES, (x_train, y_train, x_test, y_test), gz)]


def cifar_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """Records of (N, 32, 32, 3) uint8 images with (N, k) label bytes."""
    out = bytearray()
    for image, label in zip(images, labels):
        out += bytes(label.tolist())
        for channel in range(3):
            out += image[:, :, channel].tobytes()
    return bytes(out)


def cifar_arrays(rng, n: int, label_high: tuple[int, ...]):
    """Random images (n, 32, 32, 3) and labels (n, k), column j below label_high[j]."""
    images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    labels = np.stack([rng.integers(0, high, size=n) for high in label_high], axis=1)
    return images, labels.astype(np.uint8)
