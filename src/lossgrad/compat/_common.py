"""Translation helpers shared by the front ends: reduction vocabularies, array conversion, labels,
namespaces and the loss-object base class. Nothing here computes a loss.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..losses.core import check_option

#: Keras's reduction names → lossgrad's. Keras's "mean" is its "sum_over_batch_size" (Σwℓ / size,
#: keras/src/losses/loss.py ``reduce_values``); its "mean_with_sample_weight" (Σwℓ / Σw) is
#: lossgrad's "mean"; None and "none" keep the values.
KERAS_REDUCTIONS = {"sum_over_batch_size": "sum_over_batch_size", "mean": "sum_over_batch_size",
                    "sum": "sum", "mean_with_sample_weight": "mean", None: "none", "none": "none"}

#: PyTorch's reduction names → lossgrad's, for a loss whose 'mean' divides by the element count
#: (every PyTorch loss but the class-weighted or ignoring CrossEntropyLoss / NLLLoss, see
#: TORCH_NORMALISED).
TORCH_REDUCTIONS = {"mean": "sum_over_batch_size", "sum": "sum", "none": "none"}
#: CrossEntropyLoss / NLLLoss: 'mean' = Σ w_y ℓ / Σ w_y over non-ignored entries, lossgrad's "mean".
TORCH_NORMALISED = {"mean": "mean", "sum": "sum", "none": "none"}


def translate_reduction(theirs, table: dict) -> str:
    """lossgrad's reduction for a framework's reduction name; OptionError lists the valid ones."""
    check_option("reduction", theirs, tuple(table))
    return table[theirs]


def as_tensor(value, dtype=None) -> np.ndarray:
    """An array as TensorFlow and Keras convert Python data (``tf.convert_to_tensor``).

    Python floats become float32 and Python ints int32, where NumPy would choose 64 bits; NumPy
    arrays keep their dtype; ``dtype`` casts.
    """
    if dtype is not None:
        return np.asarray(value, dtype=np.dtype(dtype))
    if isinstance(value, np.ndarray) or np.isscalar(value) and isinstance(value, np.generic):
        return np.asarray(value)
    array = np.asarray(value)
    return array.astype({"f": np.float32, "i": np.int32}.get(array.dtype.kind, array.dtype))


def as_labels(y_true) -> np.ndarray:
    """Class labels as Keras reads them: a float array of whole numbers becomes integers (Keras
    casts y_true to its float dtype, then back to int); anything else is left to the loss to check.
    """
    y_true = np.asarray(y_true)
    if y_true.dtype.kind == "f" and np.all(np.isfinite(y_true) & (y_true == np.round(y_true))):
        return y_true.astype(np.int64)
    return y_true


def class_axis(prediction) -> int:
    """PyTorch's class axis: 1 for (N, C, d1, …), 0 for an unbatched (C,) input."""
    return 0 if np.ndim(prediction) <= 1 else 1


def namespace(*functions, **named) -> SimpleNamespace:
    """A ``tf.nn``-like attribute namespace of functions under their own names (plus ``named``)."""
    return SimpleNamespace(**{f.__name__: f for f in functions}, **named)


class LossObject:
    """A configured loss: the framework's constructor arguments, applied on every call.

    Subclasses set ``function`` (the translated call) and store their options in ``self.options``;
    ``__repr__`` shows them as the framework's constructor would be written.
    """

    function = None

    def __init__(self, **options):
        self.options = options

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={_short(v)}" for k, v in self.options.items())
        return f"{type(self).__name__}({shown})"


def _short(value) -> str:
    return f"array{np.shape(value)}" if isinstance(value, np.ndarray) else repr(value)

