"""CIFAR-10/100 binary files: record layout, Keras's result shape, folders, label modes, faults."""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad.data import load_cifar10, load_cifar100, read_cifar
from lossgrad.errors import CorruptFileError, OptionError
from tests.data.writers import cifar_arrays, cifar_bytes

RNG = np.random.default_rng(10)
BATCHES = [f"data_batch_{i}.bin" for i in range(1, 6)]


def write_cifar10(folder, sizes=(3, 2, 4, 1, 2, 3)):
    """data_batch_1…5.bin and test_batch.bin of ``sizes`` records; (images, labels) of each."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for name, n in zip(BATCHES + ["test_batch.bin"], sizes):
        images, labels = cifar_arrays(RNG, n, (10,))
        (folder / name).write_bytes(cifar_bytes(images, labels))
        parts.append((images, labels[:, 0]))
    return parts


def write_cifar100(folder, n_train=5, n_test=3):
    folder.mkdir(parents=True, exist_ok=True)
    parts = {}
    for name, n in (("train.bin", n_train), ("test.bin", n_test)):
        images, labels = cifar_arrays(RNG, n, (20, 100))
        (folder / name).write_bytes(cifar_bytes(images, labels))
        parts[name] = images, labels
    return parts


def test_record_layout_red_green_blue_planes(tmp_path):
    images, labels = cifar_arrays(RNG, 2, (10,))
    raw = cifar_bytes(images, labels)
    (tmp_path / "b.bin").write_bytes(raw)
    x, y = read_cifar(tmp_path / "b.bin", label_bytes=1)
    # record 1, pixel (row 2, column 5), at offset 2·32 + 5 = 69 of each plane; the record is the
    # label byte, then the R plane, the G plane, the B plane
    start = 3073 + 1
    assert [x[1, 2, 5, c] for c in range(3)] == [raw[start + c * 1024 + 69] for c in range(3)]
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert x.flags.c_contiguous


@pytest.mark.parametrize("inner", [True, False])
def test_cifar10_in_keras_shape_from_the_extracted_folder_or_its_parent(tmp_path, inner):
    folder = tmp_path / "cifar-10-batches-bin" if inner else tmp_path
    parts = write_cifar10(folder)
    (x_train, y_train), (x_test, y_test) = load_cifar10(tmp_path)
    np.testing.assert_array_equal(x_train, np.concatenate([p[0] for p in parts[:5]]))
    np.testing.assert_array_equal(y_train, np.concatenate([p[1] for p in parts[:5]]))
    np.testing.assert_array_equal(x_test, parts[5][0])
    np.testing.assert_array_equal(y_test, parts[5][1])
    assert x_train.shape == (12, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (12,) and y_train.dtype == np.int64


@pytest.mark.parametrize("mode,column", [("fine", 1), ("coarse", 0)])
def test_cifar100_label_modes(tmp_path, mode, column):
    parts = write_cifar100(tmp_path / "cifar-100-binary")
    (x_train, y_train), (x_test, y_test) = load_cifar100(tmp_path, label_mode=mode)
    np.testing.assert_array_equal(x_train, parts["train.bin"][0])
    np.testing.assert_array_equal(y_train, parts["train.bin"][1][:, column])
    np.testing.assert_array_equal(y_test, parts["test.bin"][1][:, column])
    assert x_test.shape == (3, 32, 32, 3) and y_test.dtype == np.int64


def test_unknown_label_mode(tmp_path):
    with pytest.raises(OptionError, match="'fine', 'coarse'"):
        load_cifar100(tmp_path, label_mode="superclass")


@pytest.mark.parametrize("size", [0, 1, 3072, 3074, 2 * 3073 - 1, 2 * 3073 + 5])
def test_size_not_a_multiple_of_the_record(tmp_path, size):
    path = tmp_path / "b.bin"
    path.write_bytes(bytes(size))
    with pytest.raises(CorruptFileError, match=rf"multiple of 3073 bytes.*got {size} bytes"):
        read_cifar(path, label_bytes=1)


def test_cifar100_record_size(tmp_path):
    path = tmp_path / "train.bin"
    path.write_bytes(bytes(3073 * 2))  # two CIFAR-10 records are not CIFAR-100 records
    with pytest.raises(CorruptFileError, match=r"multiple of 3074 bytes.*got 6146 bytes"):
        read_cifar(path, label_bytes=2)


def test_cifar10_label_out_of_range(tmp_path):
    write_cifar10(tmp_path)
    raw = bytearray((tmp_path / "data_batch_3.bin").read_bytes())
    raw[3073] = 10  # the label byte of record 1
    (tmp_path / "data_batch_3.bin").write_bytes(bytes(raw))
    message = r"data_batch_3.bin: label 10 of record 1 .*\[0, 10\)"
    with pytest.raises(CorruptFileError, match=message):
        load_cifar10(tmp_path)


@pytest.mark.parametrize("offset,value,message", [(0, 20, r"coarse label 20 .*\[0, 20\)"),
                                                  (1, 100, r"fine label 100 .*\[0, 100\)")])
def test_cifar100_labels_out_of_range_in_either_mode(tmp_path, offset, value, message):
    write_cifar100(tmp_path)
    raw = bytearray((tmp_path / "test.bin").read_bytes())
    raw[3074 * 2 + offset] = value
    (tmp_path / "test.bin").write_bytes(bytes(raw))
    for mode in ("fine", "coarse"):
        with pytest.raises(CorruptFileError, match=message):
            load_cifar100(tmp_path, label_mode=mode)


def test_missing_files_are_named_with_the_tarball(tmp_path):
    write_cifar10(tmp_path)
    (tmp_path / "data_batch_2.bin").unlink()
    (tmp_path / "test_batch.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"data_batch_2.bin, test_batch.bin not found in .*"
                                                r"cifar-10-binary.tar.gz"):
        load_cifar10(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"train.bin, test.bin not found .*cifar-100"):
        load_cifar100(tmp_path)
