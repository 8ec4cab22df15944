"""The ``tf.*`` names the seed documents use, so ``import lossgrad.compat.tf as tf`` runs their loss
calls unchanged: ``tf.nn.softmax``, the four ``tf.nn.*_cross_entropy_with_logits``, ``tf.losses.*``
and ``tf.keras.losses.*`` (= :mod:`lossgrad.compat.keras`), ``tf.one_hot``, ``tf.reduce_mean``,
``tf.reduce_sum``, ``tf.math.log``, ``tf.constant``, ``tf.zeros``, ``tf.random.normal``.

For now the ops return NumPy arrays, and the loss functions return per-example values exactly as
TensorFlow does, as a LossResult whose ``grad`` is the gradient with respect to the logits or
``y_pred``; ``tf.reduce_mean`` / ``tf.reduce_sum`` of such a result reduce the gradient with the
value. ``tf.GradientTape`` and graph Tensors (gradients with respect to weights further up, as in
seed 000) come with lossgrad's autodiff engine. Python data become float32 / int32 arrays, as
``tf.convert_to_tensor`` makes them; NumPy arrays keep their dtype.

Seed 001 (``rel1``, and the double softmax ``rel2``, which lossgrad warns about):
    >>> import warnings
    >>> import lossgrad.compat.tf as tf
    >>> labels = [[0, 0, 1], [0, 1, 0]]
    >>> logits = [[2, 0.5, 6], [0.1, 0, 3]]
    >>> logits_scaled = tf.nn.softmax(logits)
    >>> print(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits).numpy())
    [0.02215516 3.0996735 ]
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     rel2 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits_scaled)
    >>> print(rel2.numpy(), caught[0].category.__name__)
    [0.56551915 1.4743223 ] ProbabilitiesAsLogitsWarning
    >>> print(-tf.reduce_sum(tf.constant(labels, "float32") * tf.math.log(logits_scaled), 1))
    [0.02215519 3.0996735 ]
"""

from __future__ import annotations

import numpy as np

from .. import losses as _losses
from .. import numerics
from ..errors import OptionError
from ..losses.core import LossResult, mean_then_reduce
from . import keras as _keras
from ._common import as_tensor, namespace

# ---------------------------------------------------------------------------------------------
# tensors and ops (NumPy arrays for now)


def constant(value, dtype=None):
    """``tf.constant(value, dtype=None)``: Python floats → float32, ints → int32."""
    return as_tensor(value, dtype)


def zeros(shape, dtype="float32"):
    """``tf.zeros(shape, dtype=tf.float32)``."""
    return np.zeros(shape, dtype=np.dtype(dtype))


def one_hot(indices, depth, dtype="float32"):
    """``tf.one_hot(indices, depth, dtype=tf.float32)``: one-hot rows on a new last axis. TF gives
    an all-zero row for an index outside [0, depth); lossgrad raises LabelRangeError instead."""
    return numerics.one_hot(as_tensor(indices), depth, dtype=np.dtype(dtype))


def reduce_mean(input_tensor, axis=None, keepdims=False):
    """``tf.reduce_mean(input_tensor, axis=None, keepdims=False)``. Of a loss's LossResult: the
    mean of its values over ``axis`` with the gradient to match (``keepdims`` is not taken)."""
    if isinstance(input_tensor, LossResult):
        _refuse_keepdims(keepdims)
        return mean_then_reduce(input_tensor, axis, name="tf.reduce_mean")
    return np.mean(as_tensor(input_tensor), axis=axis, keepdims=keepdims)


def reduce_sum(input_tensor, axis=None, keepdims=False):
    """``tf.reduce_sum(input_tensor, axis=None, keepdims=False)``. Of a loss's LossResult: the sum
    of all its values with the gradient to match (``axis`` None and no ``keepdims`` only)."""
    if isinstance(input_tensor, LossResult):
        _refuse_keepdims(keepdims)
        if axis is not None:
            raise OptionError("tf.reduce_sum of a LossResult sums every value: pass axis=None")
        return mean_then_reduce(input_tensor, (), reduction="sum", name="tf.reduce_sum")
    return np.sum(as_tensor(input_tensor), axis=axis, keepdims=keepdims)


def _refuse_keepdims(keepdims) -> None:
    if keepdims:
        raise OptionError("keepdims=True is not taken for a LossResult: its value is reduced")


def log(x):
    """``tf.math.log(x)`` (TensorFlow 1's ``tf.log``, which seed 001 calls)."""
    return np.log(as_tensor(x))


def softmax(logits, axis=None):
    """``tf.nn.softmax(logits, axis=None)``: the softmax along ``axis`` (the last when None)."""
    return numerics.softmax(as_tensor(logits), axis=-1 if axis is None else axis)


# ---------------------------------------------------------------------------------------------
# tf.nn losses: per-example values (reduction "none"), gradients with respect to the logits


def softmax_cross_entropy_with_logits(labels, logits, axis=-1):
    """``tf.nn.softmax_cross_entropy_with_logits(labels, logits, axis=-1)``: −Σ y·log softmax(x)
    along ``axis``, per example."""
    return _losses.softmax_cross_entropy(as_tensor(logits), as_tensor(labels), axis=axis,
                                         reduction="none")


def sparse_softmax_cross_entropy_with_logits(labels, logits):
    """``tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)``: lse(x) − x_y per
    example, classes on the last axis."""
    return _losses.sparse_softmax_cross_entropy(as_tensor(logits), as_tensor(labels),
                                                reduction="none")


def sigmoid_cross_entropy_with_logits(labels, logits):
    """``tf.nn.sigmoid_cross_entropy_with_logits(labels, logits)``: elementwise binary CE."""
    return _losses.sigmoid_binary_cross_entropy(as_tensor(logits), as_tensor(labels),
                                                reduction="none")


def weighted_cross_entropy_with_logits(labels, logits, pos_weight):
    """``tf.nn.weighted_cross_entropy_with_logits(labels, logits, pos_weight)``: elementwise binary
    CE with the positive term weighted by ``pos_weight`` (a scalar or one per last-axis entry)."""
    return _losses.sigmoid_binary_cross_entropy(as_tensor(logits), as_tensor(labels),
                                                pos_weight=as_tensor(pos_weight),
                                                reduction="none")


# ---------------------------------------------------------------------------------------------
# namespaces

#: ``tf.nn``.
nn = namespace(softmax, softmax_cross_entropy_with_logits, sparse_softmax_cross_entropy_with_logits,
               sigmoid_cross_entropy_with_logits, weighted_cross_entropy_with_logits)
#: ``tf.losses``: Keras's loss functions and classes, as in TensorFlow 2 (``tf.losses.MSE`` too).
losses = namespace(**{name: getattr(_keras, name) for name in _keras.__all__})
#: ``tf.keras``: ``tf.keras.losses.X`` is :mod:`lossgrad.compat.keras`'s X.
keras = namespace(losses=_keras)
#: ``tf.math``.
math = namespace(log, softmax)


class _Random:
    """``tf.random``: ``normal`` draws from one generator that ``set_seed`` resets. The numbers
    are NumPy's (``default_rng``), not TensorFlow's: a seed reproduces lossgrad's draws only."""

    def __init__(self):
        self._rng = np.random.default_rng()

    def set_seed(self, seed):
        """``tf.random.set_seed(seed)``."""
        self._rng = np.random.default_rng(seed)

    def normal(self, shape, mean=0.0, stddev=1.0, dtype="float32", seed=None):
        """``tf.random.normal(shape, mean=0.0, stddev=1.0, dtype=tf.float32, seed=None)``; an
        op-level ``seed`` draws from its own generator."""
        rng = self._rng if seed is None else np.random.default_rng(seed)
        return rng.normal(mean, stddev, size=shape).astype(np.dtype(dtype))


#: ``tf.random``.
random = _Random()

__all__ = ["nn", "losses", "keras", "math", "random", "constant", "zeros", "one_hot",
           "reduce_mean", "reduce_sum"]
