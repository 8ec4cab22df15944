"""load(name): the registry's names, default folders in the cache, loader options, and download
only for files with a verified SHA-256 (served by a local HTTP server)."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from lossgrad.data import (
    DATASETS,
    Dataset,
    Remote,
    load,
    load_digits,
    load_mnist,
    registry,
)
from lossgrad.errors import OptionError
from tests.data.writers import MNIST_NAMES, idx_bytes, mnist_arrays, write_mnist

RNG = np.random.default_rng(12)


def test_the_five_names():
    assert set(DATASETS) == {"digits", "mnist", "fashion-mnist", "cifar10", "cifar100"}


def test_unknown_name_lists_the_names():
    names = "digits, mnist, fashion-mnist, cifar10, cifar100"
    with pytest.raises(OptionError, match=f"'svhn'.*{names}"):
        load("svhn")


def test_digits_is_bundled_and_takes_the_loader_options():
    got = load("digits", test_size=0.3, seed=2)
    want = load_digits(test_size=0.3, seed=2)
    for g, w in zip((*got[0], *got[1]), (*want[0], *want[1])):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(OptionError, match="bundled"):
        load("digits", path="somewhere")


def test_a_folder_given_or_the_cache_folder(tmp_path, monkeypatch):
    arrays = mnist_arrays(RNG)
    write_mnist(tmp_path / "given", arrays)
    write_mnist(tmp_path / "cache" / "fashion-mnist", arrays, gz=(True,) * 4)
    monkeypatch.setenv("LOSSGRAD_CACHE", str(tmp_path / "cache"))
    for got in (load("mnist", tmp_path / "given"), load("fashion-mnist")):
        np.testing.assert_array_equal(got[1][0], arrays[1][0])


def test_cifar100_options_reach_the_loader(tmp_path):
    with pytest.raises(OptionError, match="label_mode"):
        load("cifar100", tmp_path, label_mode="both")


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10", "cifar100"])
def test_missing_files_without_a_verified_hash_are_named_even_with_download(tmp_path, name):
    with pytest.raises(FileNotFoundError, match=f"not found in {tmp_path}") as plain:
        load(name, tmp_path)
    with pytest.raises(FileNotFoundError, match="no verified SHA-256") as asked:
        load(name, tmp_path, download=True)
    assert str(plain.value) in str(asked.value)
    assert not any(tmp_path.iterdir())


def test_download_with_verified_hashes(server, tmp_path, monkeypatch):
    root, base, requests = server
    arrays = mnist_arrays(RNG)
    (x_train, y_train), (x_test, y_test) = arrays
    remotes = []
    for name, array in zip(MNIST_NAMES, (x_train, y_train, x_test, y_test)):
        data = gzip.compress(idx_bytes(array))
        (root / f"{name}.gz").write_bytes(data)
        remotes.append(Remote(f"{base}{name}.gz", hashlib.sha256(data).hexdigest()))
    monkeypatch.setitem(registry.DATASETS, "mnist", Dataset(load_mnist, tuple(remotes)))
    monkeypatch.setenv("LOSSGRAD_CACHE", str(tmp_path / "cache"))
    got = load("mnist", download=True)
    np.testing.assert_array_equal(got[0][0], x_train)
    np.testing.assert_array_equal(got[1][1], y_test)
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == sorted(
        f"{n}.gz" for n in MNIST_NAMES)
    load("mnist", download=True)
    assert len(requests) == 4  # present files are read, not fetched again


def test_files_placed_by_hand_need_no_download(tmp_path):
    write_mnist(tmp_path, mnist_arrays(RNG))
    (x_train, _), _ = load("mnist", tmp_path, download=True)
    assert x_train.shape == (12, 28, 28)
