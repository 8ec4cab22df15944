"""Mini-batches: coverage, sizes, order, seeding, a new permutation per epoch, errors; and the
batch counts and sequential order of PyTorch's DataLoader (live)."""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad.data import Loader, batches
from lossgrad.errors import OptionError, ShapeError

X = np.arange(22, dtype=np.float32).reshape(11, 2)
Y = np.arange(11, dtype=np.int64) * 10


def labels(batch_iter):
    return [y.tolist() for _, y in batch_iter]


@pytest.mark.parametrize("shuffle", [False, True])
def test_each_sample_once_with_its_label(shuffle):
    seen = []
    for xb, yb in batches(X, Y, 4, shuffle=shuffle, seed=1):
        np.testing.assert_array_equal(xb[:, 0] * 5, yb)  # rows stay paired with their labels
        seen += yb.tolist()
    assert sorted(seen) == Y.tolist()
    assert (seen == Y.tolist()) is not shuffle


@pytest.mark.parametrize("drop_last,sizes", [(False, [4, 4, 3]), (True, [4, 4])])
def test_batch_sizes(drop_last, sizes):
    got = [len(y) for _, y in batches(X, Y, 4, seed=0, drop_last=drop_last)]
    assert got == sizes
    assert len(Loader(X, Y, 4, drop_last=drop_last)) == len(sizes)


def test_unshuffled_batches_are_views_in_order():
    (xb, yb), *_ = batches(X, Y, 4, shuffle=False)
    assert np.shares_memory(xb, X) and yb.tolist() == [0, 10, 20, 30]


def test_seed_and_generator_reproduce_the_order():
    assert labels(batches(X, Y, 3, seed=5)) == labels(batches(X, Y, 3, seed=5))
    assert labels(batches(X, Y, 3, seed=5)) != labels(batches(X, Y, 3, seed=6))
    gen = np.random.default_rng(5)
    assert labels(batches(X, Y, 3, seed=gen)) == labels(batches(X, Y, 3, seed=5))
    assert labels(batches(X, Y, 3, seed=gen)) != labels(batches(X, Y, 3, seed=5))  # advanced


def test_loader_draws_a_new_permutation_each_epoch_reproducibly():
    first, again = Loader(X, Y, 4, seed=2), Loader(X, Y, 4, seed=2)
    epochs = [labels(first) for _ in range(3)]
    assert epochs == [labels(again) for _ in range(3)]
    assert epochs[0] != epochs[1] != epochs[2]
    assert all(sorted(v for batch in e for v in batch) == Y.tolist() for e in epochs)


def test_empty_data_gives_no_batches():
    assert list(batches(np.zeros((0, 2)), np.zeros(0), 3)) == []
    assert len(Loader(np.zeros((0, 2)), np.zeros(0), 3)) == 0


@pytest.mark.parametrize("y", [Y[:-1], np.int64(3)])
def test_mismatched_sample_counts(y):
    with pytest.raises(ShapeError, match="same number of samples"):
        batches(X, y, 4)


@pytest.mark.parametrize("size", [0, -1, 2.0, True, None])
def test_batch_size_must_be_a_positive_integer(size):
    with pytest.raises(OptionError, match="batch_size"):
        batches(X, Y, size)
    with pytest.raises(OptionError, match="batch_size"):
        Loader(X, Y, size)


@pytest.mark.live
@pytest.mark.parametrize("drop_last", [False, True])
def test_counts_and_sequential_order_match_pytorch_dataloader(drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, TensorDataset

    reference = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)), batch_size=4,
                           shuffle=False, drop_last=drop_last)
    ours = Loader(X, Y, 4, shuffle=False, drop_last=drop_last)
    assert len(ours) == len(reference)
    assert labels(ours) == [y.tolist() for _, y in reference]
