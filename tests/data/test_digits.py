"""The bundled digits: Keras's result shape, the data as scikit-learn gives it, a stratified and
reproducible split."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import datasets

from lossgrad.data import load_digits
from lossgrad.errors import OptionError

SKLEARN = datasets.load_digits()


def pairs(images, labels):
    """The (image, label) samples as a sorted list, to compare splits as multisets."""
    return sorted(zip((im.tobytes() for im in images), labels.tolist()))


def test_keras_result_shape_and_types():
    (x_train, y_train), (x_test, y_test) = load_digits()
    assert x_train.shape == (len(y_train), 8, 8) and x_test.shape == (len(y_test), 8, 8)
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert x_train.dtype == SKLEARN.images.dtype


def test_the_split_is_a_partition_of_scikit_learns_samples():
    (x_train, y_train), (x_test, y_test) = load_digits()
    got = pairs(np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]))
    assert got == pairs(SKLEARN.images, SKLEARN.target)


@pytest.mark.parametrize("test_size", [0.2, 0.35])
def test_every_class_keeps_its_proportion(test_size):
    (_, y_train), (_, y_test) = load_digits(test_size=test_size)
    assert len(y_test) == math.ceil(test_size * len(SKLEARN.target))
    counts = np.bincount(SKLEARN.target)
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - test_size * counts) <= 1)
    np.testing.assert_array_equal(np.bincount(y_train) + np.bincount(y_test), counts)


def test_a_seed_reproduces_the_split_and_another_seed_changes_it():
    first, second, other = load_digits(seed=3), load_digits(seed=3), load_digits(seed=4)
    np.testing.assert_array_equal(first[1][0], second[1][0])
    np.testing.assert_array_equal(first[0][1], second[0][1])
    assert not np.array_equal(first[1][0], other[1][0])


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.1, float("nan")])
def test_test_size_must_be_a_fraction(test_size):
    with pytest.raises(OptionError, match="test_size"):
        load_digits(test_size=test_size)
