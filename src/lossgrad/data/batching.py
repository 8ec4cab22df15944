"""Mini-batches of (x, y) arrays, as ``torch.utils.data.DataLoader`` gives them for tensors.

Shuffling draws a permutation from a NumPy Generator, so a seed reproduces the whole sequence of
epochs; a :class:`Loader` keeps one Generator and so draws a new permutation for every epoch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator

import numpy as np

from ..errors import OptionError, ShapeError

Batch = tuple[np.ndarray, np.ndarray]


def batches(x, y, batch_size: int, *, shuffle: bool = True, seed=None,
            drop_last: bool = False) -> Iterator[Batch]:
    """One pass over (x, y) in mini-batches of ``batch_size`` samples (first axis).

    ``seed`` is an int, None (fresh entropy) or a NumPy Generator, which is used and advanced. The
    last batch is smaller when ``batch_size`` does not divide N, unless ``drop_last`` drops it.
    Without shuffling the batches are views of x and y; with it, copies.

    Example:
        >>> [y.tolist() for _, y in batches(np.zeros((5, 2)), np.arange(5), 2, shuffle=False)]
        [[0, 1], [2, 3], [4]]
    """
    x, y = _check(x, y, batch_size)
    order = np.random.default_rng(seed).permutation(len(x)) if shuffle else None
    return _iterate(x, y, batch_size, order, drop_last)


def _iterate(x, y, batch_size, order, drop_last) -> Iterator[Batch]:
    stop = len(x) - len(x) % batch_size if drop_last else len(x)
    for start in range(0, stop, batch_size):
        end = start + batch_size
        part = slice(start, end) if order is None else order[start:end]
        yield x[part], y[part]


class Loader:
    """Mini-batches of (x, y) for any number of epochs: ``len`` batches, one epoch per ``iter``.

    Each epoch draws a new permutation from one Generator made from ``seed`` once, so two Loaders
    with the same int seed give the same sequence of epochs (PyTorch's DataLoader with a seeded
    generator). The options are those of :func:`batches`.

    Example:
        >>> loader = Loader(np.zeros((5, 2)), np.arange(5), 2, seed=0)
        >>> len(loader), sorted(int(v) for _, y in loader for v in y)
        (3, [0, 1, 2, 3, 4])
    """

    def __init__(self, x, y, batch_size: int, *, shuffle: bool = True, seed=None,
                 drop_last: bool = False):
        self.x, self.y = _check(x, y, batch_size)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.x)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        return batches(self.x, self.y, self.batch_size, shuffle=self.shuffle, seed=self.rng,
                       drop_last=self.drop_last)


def _check(x, y, batch_size) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ShapeError(
            f"x of shape {x.shape} and y of shape {y.shape} must have the same number of samples "
            "along their first axis; pass one label (or target row) per sample"
        )
    integral = isinstance(batch_size, numbers.Integral) and not isinstance(batch_size, bool)
    if not integral or batch_size < 1:
        raise OptionError(f"batch_size must be a positive integer, got {batch_size!r}")
    return x, y
