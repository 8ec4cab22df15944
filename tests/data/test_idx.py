"""IDX reading (raw and gzip), the MNIST / Fashion-MNIST folder loaders, and every file fault.

Files are written by tests/data/writers.py from the format description, not by lossgrad.
"""

from __future__ import annotations

import gzip
import re
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lossgrad.data import load_fashion_mnist, load_mnist, read_idx
from lossgrad.errors import CorruptFileError
from tests.data.writers import MNIST_NAMES, idx_bytes, mnist_arrays, write, write_mnist

RNG = np.random.default_rng(4)
VALID = idx_bytes(RNG.integers(0, 256, size=(3, 4, 5), dtype=np.uint8))  # header 16 + data 60


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("gz", [False, True])
def test_round_trip_of_every_type_code(tmp_path, dtype, gz):
    array = (RNG.normal(size=(2, 3, 4)) * 100).astype(dtype)
    got = read_idx(write(tmp_path / "a.idx", idx_bytes(array), gz=gz))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, array)


def test_gzip_is_recognised_by_its_bytes_not_its_name(tmp_path):
    path = tmp_path / "plain-name"
    path.write_bytes(gzip.compress(VALID))
    np.testing.assert_array_equal(read_idx(path), read_idx(write(tmp_path / "b", VALID)))


def test_an_empty_dimension_is_a_valid_empty_array(tmp_path):
    got = read_idx(write(tmp_path / "e", idx_bytes(np.zeros((0, 28, 28), np.uint8))))
    assert got.shape == (0, 28, 28)


# ---------------------------------------------------------------------------------------------
# faults (TESTING.md §7): one row per fault, each for a raw and a gzip-compressed file


def with_header(magic: bytes, dims=(3, 4, 5)) -> bytes:
    return magic + struct.pack(f">{len(dims)}I", *dims) + VALID[16:]


FAULTS = {
    "wrong magic": (with_header(b"\x01\x00\x08\x03"), r"magic number to start with bytes 00 00"),
    "unknown type code": (with_header(b"\x00\x00\x0a\x03"), r"unknown IDX type code 0x0A"),
    "zero dimensions": (b"\x00\x00\x08\x00" + VALID[16:], r"impossible dimensions \(\)"),
    "dimensions beyond memory": (with_header(b"\x00\x00\x0e\x03", (2**32 - 1,) * 3),
                                 r"impossible dimensions"),
    "trailing bytes": (VALID + b"\x00", r"\b76\b.*\b77\b"),
    "declared size larger than the file": (with_header(b"\x00\x00\x08\x02", (2**31, 2**31)),
                                           rf"\b{2**62 + 12}\b.*\b72\b"),
}
GZ_MESSAGES = {
    "trailing bytes": r"declares 76 bytes \(decompressed\), the file holds 77",
    "declared size larger than the file":
        rf"expected {2**62 + 12} bytes \(decompressed\), found 72",
}


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("fault", FAULTS)
def test_fault_raises_corrupt_file_error(tmp_path, fault, gz):
    data, message = FAULTS[fault]
    if gz:
        message = GZ_MESSAGES.get(fault, message)
    path = write(tmp_path / "bad", data, gz=gz)
    with pytest.raises(CorruptFileError, match=message) as err:
        read_idx(path)
    assert str(path) in str(err.value) and "download it again" in str(err.value)


CUTS = sorted({0, 1, 3, 4, 9, 15, 16, 17, len(VALID) - 1, *RNG.integers(17, len(VALID), size=4)})


@pytest.mark.parametrize("cut", CUTS)
def test_truncated_file_names_expected_and_actual_size(tmp_path, cut):
    expected = 4 if cut < 4 else 16 if cut < 16 else len(VALID)
    with pytest.raises(CorruptFileError) as err:
        read_idx(write(tmp_path / "cut", VALID[:cut]))
    assert re.search(rf"\b{expected}\b.*\b{cut}\b", str(err.value)), str(err.value)


def test_truncated_content_inside_gzip_names_both_sizes(tmp_path):
    path = write(tmp_path / "cut", VALID[:40], gz=True)
    with pytest.raises(CorruptFileError, match=r"expected 76 bytes \(decompressed\), found 40"):
        read_idx(path)


COMPRESSED = gzip.compress(VALID)
GZ_CUTS = sorted({2, 5, 10, 11, len(COMPRESSED) // 2, len(COMPRESSED) - 8, len(COMPRESSED) - 1,
                  *RNG.integers(3, len(COMPRESSED), size=4)})


@pytest.mark.parametrize("cut", GZ_CUTS)
def test_truncated_gzip_stream(tmp_path, cut):
    path = tmp_path / "cut.gz"
    path.write_bytes(COMPRESSED[:cut])
    with pytest.raises(CorruptFileError, match=r"truncated|ends inside|damaged gzip") as err:
        read_idx(path)
    if "ends inside" in str(err.value):
        assert re.search(r"expected \d+ bytes \(decompressed\), found \d+", str(err.value))


def test_gzip_with_a_bad_checksum(tmp_path):
    damaged = bytearray(COMPRESSED)
    damaged[-6] ^= 0xFF  # inside the CRC-32 of the trailer
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(damaged))
    with pytest.raises(CorruptFileError, match="damaged gzip stream"):
        read_idx(path)


HEADERS = st.sampled_from([b"", b"\x00\x00\x08\x01", b"\x00\x00\x0d\x02", b"\x00\x00\x08\x03",
                           b"\x1f\x8b"])


@given(prefix=HEADERS, body=st.binary(max_size=300), gz=st.booleans())
def test_random_bytes_give_an_array_or_corrupt_file_error(tmp_path_factory, prefix, body, gz):
    path = tmp_path_factory.mktemp("random") / "r"
    path.write_bytes(gzip.compress(prefix + body) if gz else prefix + body)
    try:
        got = read_idx(path)
    except CorruptFileError:
        return
    assert isinstance(got, np.ndarray)


# ---------------------------------------------------------------------------------------------
# MNIST-style folders


@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
@pytest.mark.parametrize("gz", [(False,) * 4, (True,) * 4, (True, False, False, True)])
def test_folder_round_trip_in_keras_shape(tmp_path, loader, gz):
    arrays = mnist_arrays(RNG)
    write_mnist(tmp_path, arrays, gz=gz)
    (x_train, y_train), (x_test, y_test) = loader(tmp_path)
    for got, want in zip((x_train, y_train, x_test, y_test), (*arrays[0], *arrays[1])):
        np.testing.assert_array_equal(got, want)
    assert x_train.dtype == np.uint8 and x_train.shape == (12, 28, 28)
    assert y_train.dtype == np.int64 and y_train.shape == (12,)
    assert x_test.shape == (5, 28, 28) and y_test.shape == (5,)


def test_missing_files_are_all_named_with_the_source(tmp_path):
    write_mnist(tmp_path, mnist_arrays(RNG))
    (tmp_path / MNIST_NAMES[1]).unlink()
    (tmp_path / MNIST_NAMES[3]).unlink()
    with pytest.raises(FileNotFoundError) as err:
        load_fashion_mnist(tmp_path)
    message = str(err.value)
    assert f"{MNIST_NAMES[1]}[.gz], {MNIST_NAMES[3]}[.gz] not found in {tmp_path}" in message
    assert "zalandoresearch/fashion-mnist" in message


def test_swapped_files_are_refused(tmp_path):
    paths = write_mnist(tmp_path, mnist_arrays(RNG))
    images, labels = paths[0].read_bytes(), paths[1].read_bytes()
    paths[0].write_bytes(labels)
    paths[1].write_bytes(images)
    with pytest.raises(CorruptFileError, match=r"0x00000803.*uint8 data of shape \(12,\)"):
        load_mnist(tmp_path)


def test_labels_that_do_not_match_the_images_in_number(tmp_path):
    (x_train, y_train), test = mnist_arrays(RNG)
    write_mnist(tmp_path, ((x_train, y_train[:-1]), test))
    with pytest.raises(CorruptFileError, match="expected 12 labels .* got 11"):
        load_mnist(tmp_path)


def test_label_out_of_range(tmp_path):
    train, (x_test, y_test) = mnist_arrays(RNG)
    y_test[3] = 10
    write_mnist(tmp_path, (train, (x_test, y_test)))
    with pytest.raises(CorruptFileError, match=r"label 10 of record 3 is outside \[0, 10\)"):
        load_mnist(tmp_path)
