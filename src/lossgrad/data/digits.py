"""The bundled default data set: scikit-learn's 8×8 handwritten digits (no download)."""

from __future__ import annotations

import numpy as np

from ..errors import OptionError
from .files import Split


def load_digits(test_size: float = 0.2, seed: int = 0) -> Split:
    """scikit-learn's 1797 handwritten digits, split into train and test sets stratified by class.

    Returns ``(x_train, y_train), (x_test, y_test)`` (Keras's ``load_data`` shape): images (N, 8, 8)
    float64 with the raw pixel values 0…16 as scikit-learn gives them, labels int64 (N,). The test
    set holds the fraction ``test_size`` of every class (rounded as scikit-learn's
    ``train_test_split``); ``seed`` makes the split reproducible.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_digits()
        >>> x_train.shape, x_test.shape, y_test.dtype
        ((1437, 8, 8), (360, 8, 8), dtype('int64'))
    """
    if not 0 < test_size < 1:
        raise OptionError(f"test_size must be a fraction strictly between 0 and 1, got "
                          f"{test_size!r}")
    # Imported here: scikit-learn takes seconds to import, and only this loader needs it.
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    digits = datasets.load_digits()
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        digits.images, labels, test_size=test_size, random_state=seed, stratify=labels
    )
    return (x_train, y_train), (x_test, y_test)
