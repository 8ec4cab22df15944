"""Preprocessing: resize (spline through the pixels), padding, channel layout, standardisation with
the training set's statistics, the LeNet-5 pipeline and the uint8 scaler."""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad.data import (
    Stats,
    add_padding,
    channels_first,
    fit_stats,
    lenet_inputs,
    load_digits,
    resize,
    scale_uint8,
    standardize,
)
from lossgrad.errors import DomainError, DTypeError, ShapeError

RNG = np.random.default_rng(7)
(X_TRAIN, _), (X_TEST, _) = load_digits()


def read_only(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("order", [1, 3, 5])
def test_resize_passes_through_the_pixels(order):
    # 8 → 29: output pixel 4k sits exactly on input pixel k (corners aligned), where an
    # interpolating spline must return the input value.
    images = RNG.uniform(0, 16, size=(3, 8, 8))
    out = resize(read_only(images), 29, order=order)
    assert out.shape == (3, 29, 29)
    np.testing.assert_allclose(out[:, ::4, ::4], images, atol=1e-12)


def test_resize_keeps_constant_images_and_does_not_mix_images():
    images = np.stack([np.full((8, 8), 5.0), np.zeros((8, 8))])
    out = resize(images, 28)
    np.testing.assert_allclose(out[0], 5.0, atol=1e-12)
    np.testing.assert_array_equal(out[1], 0.0)


def test_add_padding_puts_zeros_on_height_and_width_only():
    images = RNG.uniform(1, 2, size=(2, 3, 4, 5))
    out = add_padding(images, 2)
    assert out.shape == (2, 3, 8, 9)
    np.testing.assert_array_equal(out[:, :, 2:-2, 2:-2], images)
    assert np.count_nonzero(out) == images.size


def test_channels_first_layouts():
    grey, colour = RNG.normal(size=(2, 4, 5)), RNG.normal(size=(2, 4, 5, 3))
    np.testing.assert_array_equal(channels_first(grey)[:, 0], grey)
    np.testing.assert_array_equal(channels_first(colour)[1, 2, 3, 4], colour[1, 3, 4, 2])
    with pytest.raises(ShapeError, match=r"\(N, H, W\) or \(N, H, W, C\)"):
        channels_first(np.zeros((4, 5)))


def test_standardize_uses_per_channel_statistics_of_the_training_set():
    train = RNG.normal(loc=[3, -1, 10], scale=[2, 0.5, 4], size=(50, 6, 6, 3)).transpose(0, 3, 1, 2)
    test = RNG.normal(size=(5, 3, 6, 6))
    out, stats = standardize(read_only(train))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-6)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, atol=1e-6)
    np.testing.assert_allclose(stats.mean, train.mean(axis=(0, 2, 3)))
    test_out, same = standardize(test, stats)
    assert all(np.array_equal(a, b) for a, b in zip(same, stats))
    expected = (test - stats.mean[:, None, None]) / stats.std[:, None, None]
    np.testing.assert_allclose(test_out, expected, rtol=1e-6, atol=1e-6)


def test_standardize_refuses_a_constant_channel_and_mismatched_stats():
    images = RNG.normal(size=(4, 2, 3, 3))
    images[:, 1] = 7.0
    with pytest.raises(DomainError, match="channel 1 has standard deviation 0"):
        fit_stats(images)
    with pytest.raises(ShapeError, match="2 channel"):
        standardize(images, Stats(np.zeros(3), np.ones(3)))
    with pytest.raises(ShapeError, match="N = 0"):
        fit_stats(np.zeros((0, 1, 2, 2)))
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        standardize(np.zeros((4, 3, 3)))


def test_lenet_inputs_of_the_digits():
    train, stats = lenet_inputs(X_TRAIN)
    test, same = lenet_inputs(X_TEST, stats=stats)
    assert train.shape == (len(X_TRAIN), 1, 32, 32) and train.dtype == np.float32
    assert test.shape == (len(X_TEST), 1, 32, 32) and test.dtype == np.float32
    np.testing.assert_allclose([train.mean(), train.std()], [0, 1], atol=1e-5)
    assert all(np.array_equal(a, b) for a, b in zip(same, stats))
    # the 2-pixel border is the zero padding, standardised with the training statistics
    border = np.float32((0 - stats.mean[0]) / stats.std[0])
    np.testing.assert_allclose(test[:, :, :2], border, rtol=1e-6)
    np.testing.assert_allclose(test[:, :, :, -2:], border, rtol=1e-6)
    manual = (add_padding(resize(X_TEST, 28), 2) - stats.mean[0]) / stats.std[0]
    np.testing.assert_allclose(test[:, 0], manual, rtol=1e-5, atol=1e-5)


def test_lenet_inputs_size_and_pad():
    out, _ = lenet_inputs(X_TRAIN[:10], size=16, pad=3)
    assert out.shape == (10, 1, 22, 22)


def test_scale_uint8_grey_and_colour():
    grey = RNG.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    colour = RNG.integers(0, 256, size=(2, 32, 32, 3), dtype=np.uint8)
    out = scale_uint8(read_only(grey))
    assert out.shape == (3, 1, 28, 28) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0], grey / 255.0, rtol=1e-7)
    out = scale_uint8(colour)
    assert out.shape == (2, 3, 32, 32)
    np.testing.assert_allclose(out[1, 2, 5, 7], colour[1, 5, 7, 2] / 255.0, rtol=1e-7)
    assert out.min() >= 0 and out.max() <= 1


def test_scale_uint8_refuses_other_dtypes():
    with pytest.raises(DTypeError, match="uint8"):
        scale_uint8(np.zeros((2, 4, 4), np.float32))
    with pytest.raises(DTypeError, match="real numbers"):
        resize(np.zeros((2, 4, 4), complex), 8)
