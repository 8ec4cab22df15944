"""Preprocessing: images as the loaders give them → NCHW float32 model input.

Statistics for standardisation are computed on the training set once and applied unchanged to the
test set; every function that standardises takes ``stats=None`` (compute them from these images)
or the :class:`Stats` returned for the training set.

Example (LeNet-5 on the bundled digits):
    >>> from lossgrad.data import load_digits
    >>> (x_train, _), (x_test, _) = load_digits()
    >>> inputs, stats = lenet_inputs(x_train)
    >>> test_inputs, _ = lenet_inputs(x_test, stats=stats)
    >>> inputs.shape, test_inputs.dtype
    ((1437, 1, 32, 32), dtype('float32'))
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage

from ..errors import DomainError, DTypeError, ShapeError


class Stats(NamedTuple):
    """Per-channel mean and standard deviation (each of shape (C,), float64) of a training set."""

    mean: np.ndarray
    std: np.ndarray


def lenet_inputs(images, *, size: int = 28, pad: int = 2, order: int = 3,
                 stats: Stats | None = None) -> tuple[np.ndarray, Stats]:
    """Grey images (N, H, W) → standardised (N, 1, size + 2·pad, size + 2·pad) float32, and stats.

    The images are resized to size × size by a spline of ``order`` (3: cubic, smooth), padded with
    ``pad`` zeros on each side (LeNet-5's 32 × 32 input around a 28 × 28 digit), and standardised
    with ``stats``, or with the mean and standard deviation of these images when ``stats`` is None.
    """
    padded = add_padding(resize(images, size, order=order), pad)
    return standardize(channels_first(padded), stats)


def scale_uint8(images) -> np.ndarray:
    """uint8 images (N, H, W) or (N, H, W, C) → (N, C, H, W) float32 in [0, 1] (divided by 255).

    Standardise afterwards with :func:`standardize` if wanted.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise DTypeError(
            f"scale_uint8: images must be uint8 (0…255) as the loaders return them, got "
            f"{images.dtype}; for other ranges use standardize directly"
        )
    return channels_first(images).astype(np.float32) / np.float32(255)


def channels_first(images) -> np.ndarray:
    """(N, H, W) → (N, 1, H, W); channels-last (N, H, W, C) → (N, C, H, W)."""
    images = np.asarray(images)
    if images.ndim == 3:
        return images[:, None]
    if images.ndim == 4:
        return np.moveaxis(images, -1, 1)
    raise ShapeError(
        f"images must have shape (N, H, W) or (N, H, W, C), got shape {images.shape}; add the "
        "batch axis with images[None] for a single image"
    )


def resize(images, size: int, *, order: int = 3) -> np.ndarray:
    """(N, H, W) → (N, size, size) float64 by spline interpolation of ``order`` (scipy's zoom)."""
    images = _real_images(images, "resize", ndim=3)
    # One image at a time: zooming the stack would also run the spline across the batch axis.
    factors = (size / images.shape[1], size / images.shape[2])
    out = np.empty((len(images), size, size))
    for i, image in enumerate(images):
        out[i] = ndimage.zoom(image, factors, order=order)
    return out


def add_padding(images, pad: int) -> np.ndarray:
    """Zeros around the last two (height, width) axes, ``pad`` on each side."""
    images = np.asarray(images)
    return np.pad(images, [(0, 0)] * (images.ndim - 2) + [(pad, pad)] * 2)


def standardize(images, stats: Stats | None = None) -> tuple[np.ndarray, Stats]:
    """(x − mean) / std per channel of (N, C, H, W) images, as float32, and the stats used.

    With ``stats=None`` the mean and standard deviation of each channel over these images are
    computed (in float64) and returned, to be passed unchanged for the test set.
    """
    images = _real_images(images, "standardize", ndim=4)
    if stats is None:
        stats = fit_stats(images)
    mean, std = (np.asarray(s, dtype=np.float64) for s in stats)
    if mean.shape != (images.shape[1],) or std.shape != mean.shape:
        raise ShapeError(
            f"standardize: stats of shapes {mean.shape} and {std.shape} do not match the "
            f"{images.shape[1]} channel(s) of images {images.shape}; pass the stats of a training "
            "set with the same channels"
        )
    out = images.astype(np.float32)
    out -= mean.astype(np.float32)[:, None, None]
    out /= std.astype(np.float32)[:, None, None]
    return out, Stats(mean, std)


def fit_stats(images) -> Stats:
    """The per-channel mean and standard deviation of (N, C, H, W) images, in float64."""
    images = _real_images(images, "fit_stats", ndim=4)
    if images.shape[0] == 0:
        raise ShapeError("fit_stats: no images to compute statistics from (N = 0); pass the "
                         "training set")
    mean = images.mean(axis=(0, 2, 3), dtype=np.float64)
    std = images.std(axis=(0, 2, 3), dtype=np.float64)
    if not np.all(std > 0):
        channel = int(np.flatnonzero(~(std > 0))[0])
        raise DomainError(
            f"fit_stats: channel {channel} has standard deviation {std[channel]} (constant or "
            "non-finite images); standardising would divide by it — check the images"
        )
    return Stats(mean, std)


_LAYOUTS = {
    3: ("(N, H, W)", "pass grey images without a channel axis"),
    4: ("(N, C, H, W)", "convert the loaders' layouts with channels_first"),
}


def _real_images(images, caller: str, *, ndim: int) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype.kind not in "fiu":
        raise DTypeError(f"{caller}: images must be real numbers, got dtype {images.dtype}; "
                         "convert with images.astype(np.float32)")
    if images.ndim != ndim:
        layout, fix = _LAYOUTS[ndim]
        raise ShapeError(f"{caller}: images must have shape {layout}, got shape {images.shape}; "
                         f"{fix}")
    return images
