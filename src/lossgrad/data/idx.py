"""IDX files (MNIST, Fashion-MNIST) and the loaders of the MNIST-style folders.

An IDX file is a header, two zero bytes, a type code and the number of dimensions n, followed by n
big-endian uint32 sizes and the values (big-endian, C order). It may be gzip-compressed; the reader
recognises gzip by its first two bytes, whatever the file's name.

Every size in the header is checked against the file before the data is read, and compressed data
is read in bounded chunks, so a damaged or hostile header gives CorruptFileError (naming the
expected and the actual size), never a MemoryError or a hang.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError
from .files import Split, check_labels, find_files

#: IDX type code → element type (big-endian where it matters).
TYPE_CODES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: The four files of an MNIST-style folder, each raw or with ``.gz``: train images, train labels,
#: test images, test labels.
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
MNIST_HOME = "http://yann.lecun.com/exdb/mnist/"
FASHION_MNIST_HOME = "https://github.com/zalandoresearch/fashion-mnist"

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
_FIX = "the file is damaged or incomplete — download it again"


def read_idx(path) -> np.ndarray:
    """The array stored in an IDX file (raw or gzip-compressed), in native byte order.

    Raises CorruptFileError for a wrong magic number, an unknown type code, zero dimensions, a file
    shorter or longer than its header declares, or a damaged gzip stream.

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.idx"
        >>> _ = f.write_bytes(bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6)))
        >>> read_idx(f)
        array([[0, 1, 2],
               [3, 4, 5]], dtype=uint8)
    """
    path = Path(path)
    with open(path, "rb") as raw:
        if raw.read(2) != _GZIP_MAGIC:
            raw.seek(0)
            return _parse(raw, path, file_size=os.fstat(raw.fileno()).st_size)
        raw.seek(0)
        try:
            with gzip.GzipFile(fileobj=raw) as unzipped:
                return _parse(unzipped, path, file_size=None)
        except (gzip.BadGzipFile, zlib.error) as err:
            raise CorruptFileError(f"{path}: damaged gzip stream ({err}); {_FIX}") from err


def _parse(stream, path: Path, file_size: int | None) -> np.ndarray:
    """Header, then data; ``file_size`` is None for a compressed stream (its length is unknown)."""
    magic = _read(stream, 4, path, offset=0, what="magic number")
    if magic[:2] != b"\0\0":
        raise CorruptFileError(
            f"{path}: not an IDX file: expected the magic number to start with bytes 00 00, got "
            f"0x{magic.hex().upper()}; {_FIX}"
        )
    code, ndim = magic[2], magic[3]
    if code not in TYPE_CODES:
        valid = ", ".join(f"0x{c:02X} ({t.name})" for c, t in TYPE_CODES.items())
        raise CorruptFileError(
            f"{path}: unknown IDX type code 0x{code:02X} in magic number 0x{magic.hex().upper()}; "
            f"valid codes are {valid}; {_FIX}"
        )
    dims = struct.unpack(f">{ndim}I", _read(stream, 4 * ndim, path, offset=4, what="dimensions"))
    dtype = TYPE_CODES[code]
    header = 4 + 4 * ndim
    data = math.prod(dims) * dtype.itemsize
    _check_dims(path, dims, dtype, data)
    if file_size is not None and file_size != header + data:
        raise CorruptFileError(
            f"{path}: the header declares {dtype.name} data of shape {dims}, so the file should "
            f"have {header + data} bytes; it has {file_size}; {_FIX}"
        )
    values = np.frombuffer(_read(stream, data, path, offset=header, what="data"), dtype=dtype)
    if file_size is None:
        _check_end(stream, path, header + data)
    return values.reshape(dims).astype(dtype.newbyteorder("="))


def _check_dims(path: Path, dims: tuple, dtype: np.dtype, data: int) -> None:
    if not dims or data > sys.maxsize:
        raise CorruptFileError(
            f"{path}: impossible dimensions {dims} for {dtype.name} data: expected at least one "
            f"dimension and at most {sys.maxsize} bytes of data; {_FIX}"
        )


def _read(stream, size: int, path: Path, *, offset: int, what: str) -> bytes:
    """Exactly ``size`` bytes, in chunks, so a false header never allocates more than is there."""
    chunks, got = [], 0
    try:
        while got < size:
            chunk = stream.read1(min(_CHUNK, size - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except EOFError:  # gzip: the compressed stream ends before its end marker
        pass
    if got < size:
        raise CorruptFileError(
            f"{path}: the file ends inside the {what}: expected {offset + size} bytes"
            f"{_decompressed(stream)}, found {offset + got}; {_FIX}"
        )
    return b"".join(chunks)


def _check_end(stream, path: Path, expected: int) -> None:
    """A compressed stream must end where the header says; count what follows without keeping it."""
    extra = 0
    try:
        while chunk := stream.read1(_CHUNK):
            extra += len(chunk)
    except EOFError:
        raise CorruptFileError(
            f"{path}: the gzip stream is truncated after its {expected} declared bytes "
            f"(its end marker is missing); {_FIX}"
        ) from None
    if extra:
        raise CorruptFileError(
            f"{path}: trailing bytes: the header declares {expected} bytes (decompressed), the "
            f"file holds {expected + extra}; {_FIX}"
        )


def _decompressed(stream) -> str:
    return " (decompressed)" if isinstance(stream, gzip.GzipFile) else ""


def load_mnist(path) -> Split:
    """MNIST from a folder holding its four IDX files (raw or ``.gz``), as Keras's ``load_data``.

    Returns ``(x_train, y_train), (x_test, y_test)``: images uint8 (N, 28, 28) as stored; labels
    int64 (N,) — Keras gives uint8; int64 is what lossgrad's sparse losses and ``one_hot`` index
    with. The folder must hold train-images-idx3-ubyte, train-labels-idx1-ubyte,
    t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each optionally ending in ``.gz``.
    """
    return _load_folder(path, "MNIST", MNIST_HOME)


def load_fashion_mnist(path) -> Split:
    """Fashion-MNIST from a folder, as :func:`load_mnist` (same file names, same result)."""
    return _load_folder(path, "Fashion-MNIST", FASHION_MNIST_HOME)


def _load_folder(path, dataset: str, source: str) -> Split:
    files = find_files(path, MNIST_FILES, dataset=dataset, source=source, suffixes=("", ".gz"))
    train_images, train_labels, test_images, test_labels = files
    x_train = _images(train_images)
    x_test = _images(test_images)
    return ((x_train, _labels(train_labels, len(x_train), train_images)),
            (x_test, _labels(test_labels, len(x_test), test_images)))


def _images(path: Path) -> np.ndarray:
    images = read_idx(path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise CorruptFileError(
            f"{path}: expected uint8 images of 3 dimensions (magic number 0x00000803), got "
            f"{images.dtype} data of shape {images.shape}; check that the file names are not "
            "swapped"
        )
    return images


def _labels(path: Path, count: int, images: Path) -> np.ndarray:
    labels = read_idx(path)
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise CorruptFileError(
            f"{path}: expected uint8 labels of 1 dimension (magic number 0x00000801), got "
            f"{labels.dtype} data of shape {labels.shape}; check that the file names are not "
            "swapped"
        )
    if len(labels) != count:
        raise CorruptFileError(
            f"{path}: expected {count} labels (one per image of {images.name}), got {len(labels)}; "
            "the two files do not belong together — download them again"
        )
    return check_labels(labels, 10, path=path)
