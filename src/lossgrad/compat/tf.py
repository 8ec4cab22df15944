"""The ``tf.*`` names the seed documents use, so ``import lossgrad.compat.tf as tf`` runs their code
unchanged: ``tf.constant``, ``tf.zeros``, ``tf.ones``, ``tf.random.normal``, ``tf.Variable``,
``tf.GradientTape``, ``tf.gradients``, ``tf.matmul``, ``tf.one_hot``, ``tf.reduce_mean``,
``tf.reduce_sum``, ``tf.math.log``, ``tf.nn.softmax``, the four
``tf.nn.*_cross_entropy_with_logits``, ``tf.nn.ctc_loss``, ``tf.nn.log_poisson_loss``, and
``tf.losses.*`` / ``tf.keras.losses.*`` (:mod:`lossgrad.compat.keras`'s functions and classes).

The ops return lossgrad Tensors (:mod:`lossgrad.autodiff`), so ``tf.GradientTape`` gives gradients
with respect to weights further up, as in seed 000; ``.numpy()`` gives the array. Python data
become float32 / int32 tensors, as ``tf.convert_to_tensor`` makes them; NumPy arrays keep their
dtype. A loss given a Tensor returns a Tensor on the graph whose backward is the loss's
closed-form gradient (:mod:`lossgrad.autodiff.bridge`); given arrays or lists it returns, as
before, the per-example values as a LossResult whose ``grad`` is the gradient with respect to the
logits or ``y_pred``, and ``tf.reduce_mean`` / ``tf.reduce_sum`` of such a result reduce the
gradient with the value.

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
    >>> rel3 = -tf.reduce_sum(tf.constant(labels, "float32") * tf.math.log(logits_scaled), 1)
    >>> print(rel3.numpy())
    [0.02215519 3.0996735 ]
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from .. import autodiff as _ad
from .. import losses as _losses
from .. import numerics
from ..autodiff import GradientTape, Tensor
from ..errors import OptionError
from ..losses.core import LossResult, mean_then_reduce
from . import keras as _keras
from ._common import as_tensor, namespace

# ---------------------------------------------------------------------------------------------
# tensors and ops


def _tensor(value) -> Tensor:
    """A Tensor as it is; anything else converted as ``tf.convert_to_tensor`` converts it."""
    return value if isinstance(value, Tensor) else Tensor(as_tensor(value))


def constant(value, dtype=None) -> Tensor:
    """``tf.constant(value, dtype=None)``: Python floats → float32, ints → int32."""
    return Tensor(as_tensor(value, dtype))


def zeros(shape, dtype="float32") -> Tensor:
    """``tf.zeros(shape, dtype=tf.float32)``."""
    return Tensor(np.zeros(shape, dtype=np.dtype(dtype)))


def ones(shape, dtype="float32") -> Tensor:
    """``tf.ones(shape, dtype=tf.float32)``."""
    return Tensor(np.ones(shape, dtype=np.dtype(dtype)))


class Variable(_ad.Variable):
    """``tf.Variable(initial_value, trainable=True, name=None, dtype=None)``: lossgrad's
    :class:`~lossgrad.autodiff.Variable`, with Python data converted as TensorFlow converts it."""

    __slots__ = ()

    def __init__(self, initial_value, trainable=True, name=None, dtype=None):
        super().__init__(as_tensor(initial_value, dtype), trainable=trainable, name=name)


def gradients(ys, xs, grad_ys=None):
    """``tf.gradients(ys, xs, grad_ys=None)`` (TensorFlow 1's graph-mode call): ∂(Σ ys)/∂x for
    each x in ``xs`` as a list, None for an x that ``ys`` does not depend on."""
    xs = list(xs) if isinstance(xs, (list, tuple)) else [xs]
    return GradientTape().gradient(ys, xs, output_gradients=grad_ys)


def matmul(a, b, transpose_a=False, transpose_b=False) -> Tensor:
    """``tf.matmul(a, b, transpose_a=False, transpose_b=False)``: a @ b over the last two axes."""
    a, b = _tensor(a), _tensor(b)
    return (a.swapaxes(-1, -2) if transpose_a else a) @ (b.swapaxes(-1, -2) if transpose_b else b)


def one_hot(indices, depth, dtype="float32") -> Tensor:
    """``tf.one_hot(indices, depth, dtype=tf.float32)``: one-hot rows on a new last axis. TF gives
    an all-zero row for an index outside [0, depth); lossgrad raises LabelRangeError instead."""
    return Tensor(numerics.one_hot(as_tensor(indices), depth, dtype=np.dtype(dtype)))


def reduce_mean(input_tensor, axis=None, keepdims=False):
    """``tf.reduce_mean(input_tensor, axis=None, keepdims=False)``: a Tensor on the graph. Of a
    loss's LossResult: the mean of its values over ``axis`` with the gradient to match
    (``keepdims`` is not taken)."""
    if isinstance(input_tensor, LossResult):
        _refuse_keepdims(keepdims)
        return mean_then_reduce(input_tensor, axis, name="tf.reduce_mean")
    return _ad.mean(_tensor(input_tensor), axis=axis, keepdims=keepdims)


def reduce_sum(input_tensor, axis=None, keepdims=False):
    """``tf.reduce_sum(input_tensor, axis=None, keepdims=False)``: a Tensor on the graph. Of a
    loss's LossResult: the sum of all its values with the gradient to match (``axis`` None and no
    ``keepdims`` only)."""
    if isinstance(input_tensor, LossResult):
        _refuse_keepdims(keepdims)
        if axis is not None:
            raise OptionError("tf.reduce_sum of a LossResult sums every value: pass axis=None")
        return mean_then_reduce(input_tensor, (), reduction="sum", name="tf.reduce_sum")
    return _ad.sum(_tensor(input_tensor), axis=axis, keepdims=keepdims)


def _refuse_keepdims(keepdims) -> None:
    if keepdims:
        raise OptionError("keepdims=True is not taken for a LossResult: its value is reduced")


def log(x) -> Tensor:
    """``tf.math.log(x)`` (TensorFlow 1's ``tf.log``, which seed 001 calls)."""
    return _ad.log(_tensor(x))


def softmax(logits, axis=None) -> Tensor:
    """``tf.nn.softmax(logits, axis=None)``: the softmax along ``axis`` (the last when None)."""
    return _ad.softmax(_tensor(logits), axis=-1 if axis is None else axis)


# ---------------------------------------------------------------------------------------------
# tf.nn losses: per-example values (reduction "none"), gradients with respect to the logits

#: Tensor logits give a Tensor on the graph (the loss's gradient as its backward).
_on_logits = functools.partial(_ad.tensor_aware, prediction="logits")


@_on_logits
def softmax_cross_entropy_with_logits(labels, logits, axis=-1):
    """``tf.nn.softmax_cross_entropy_with_logits(labels, logits, axis=-1)``: −Σ y·log softmax(x)
    along ``axis``, per example."""
    return _losses.softmax_cross_entropy(as_tensor(logits), as_tensor(labels), axis=axis,
                                         reduction="none")


@_on_logits
def sparse_softmax_cross_entropy_with_logits(labels, logits):
    """``tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)``: lse(x) − x_y per
    example, classes on the last axis."""
    return _losses.sparse_softmax_cross_entropy(as_tensor(logits), as_tensor(labels),
                                                reduction="none")


@_on_logits
def sigmoid_cross_entropy_with_logits(labels, logits):
    """``tf.nn.sigmoid_cross_entropy_with_logits(labels, logits)``: elementwise binary CE."""
    return _losses.sigmoid_binary_cross_entropy(as_tensor(logits), as_tensor(labels),
                                                reduction="none")


@_on_logits
def weighted_cross_entropy_with_logits(labels, logits, pos_weight):
    """``tf.nn.weighted_cross_entropy_with_logits(labels, logits, pos_weight)``: elementwise binary
    CE with the positive term weighted by ``pos_weight`` (a scalar or one per last-axis entry)."""
    return _losses.sigmoid_binary_cross_entropy(as_tensor(logits), as_tensor(labels),
                                                pos_weight=as_tensor(pos_weight),
                                                reduction="none")


def _ctc_gradient_axes(arguments):
    """The axes the CTC gradient has beyond the per-example value: T and C of (T, N, C), or
    the trailing ones of (N, T, C)."""
    return (0, 2) if arguments["logits_time_major"] else None


@functools.partial(_ad.tensor_aware, prediction="logits", axis=_ctc_gradient_axes)
def ctc_loss(labels, logits, label_length, logit_length, logits_time_major=True, unique=None,
             blank_index=None, name=None):
    """``tf.nn.ctc_loss(labels, logits, label_length, logit_length, logits_time_major=True,
    unique=None, blank_index=None, name=None)``: per-example CTC of dense labels (N, S) padded
    past ``label_length`` under logits (T, N, C), or (N, T, C) with ``logits_time_major=False``.
    ``blank_index`` None is 0 and a negative one counts from C. ``unique`` (TensorFlow's TPU
    speed-up) and ``name`` change nothing; SparseTensor labels are not taken. TensorFlow computes
    float32 only; lossgrad computes float64 as well."""
    logits = as_tensor(logits)
    swap = logits_time_major and logits.ndim == 3
    blank = 0 if blank_index is None else blank_index
    if isinstance(blank, (int, np.integer)) and blank < 0 and logits.ndim:
        blank += logits.shape[-1]
    result = _losses.softmax_ctc(np.swapaxes(logits, 0, 1) if swap else logits,
                                 as_tensor(labels), as_tensor(logit_length),
                                 as_tensor(label_length), blank=blank, reduction="none")
    if not swap:
        return result
    grads = {key: np.swapaxes(g, 0, 1) for key, g in result.grads.items()}
    return replace(result, grad=grads.get("logits"), grads=grads)


@functools.partial(_ad.tensor_aware, prediction="log_input")
def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """``tf.nn.log_poisson_loss(targets, log_input, compute_full_loss=False, name=None)``:
    e^x − y·x per entry of the log-rates x; ``compute_full_loss`` adds Stirling's term where
    y > 1 (TensorFlow also adds it, as NaN, for negative counts, which lossgrad refuses)."""
    return _losses.log_poisson(as_tensor(log_input), as_tensor(targets), full=compute_full_loss,
                               reduction="none")


# ---------------------------------------------------------------------------------------------
# namespaces

#: ``tf.nn``.
nn = namespace(softmax, softmax_cross_entropy_with_logits, sparse_softmax_cross_entropy_with_logits,
               sigmoid_cross_entropy_with_logits, weighted_cross_entropy_with_logits, ctc_loss,
               log_poisson_loss)


def _on_tensors(keras_loss):
    """A compat.keras loss function or class whose calls also take Tensors (``y_pred`` gets the
    gradient); calls on arrays are unchanged."""
    if not isinstance(keras_loss, type):
        return _ad.tensor_aware(keras_loss, prediction="y_pred")
    call = _ad.tensor_aware(keras_loss.__call__, prediction="y_pred", name=keras_loss.__name__,
                            axis=lambda arguments: arguments["self"].options.get("axis"))
    return type(keras_loss.__name__, (keras_loss,),
                {"__call__": call, "__doc__": keras_loss.__doc__, "__module__": __name__})


def _keras_losses() -> dict:
    """Every compat.keras name, Tensor-aware; aliases (MSE, mse) stay one object."""
    wrapped = {}
    for name in _keras.__all__:
        keras_loss = getattr(_keras, name)
        if id(keras_loss) not in wrapped:
            wrapped[id(keras_loss)] = _on_tensors(keras_loss)
    return {name: wrapped[id(getattr(_keras, name))] for name in _keras.__all__}


#: ``tf.losses``: Keras's loss functions and classes, as in TensorFlow 2 (``tf.losses.MSE`` too),
#: taking Tensors as well as arrays.
losses = namespace(**_keras_losses())
#: ``tf.keras``: ``tf.keras.losses.X`` is ``tf.losses.X``.
keras = namespace(losses=losses)
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
        return Tensor(rng.normal(mean, stddev, size=shape).astype(np.dtype(dtype)))


#: ``tf.random``.
random = _Random()

__all__ = ["nn", "losses", "keras", "math", "random", "constant", "zeros", "ones", "one_hot",
           "reduce_mean", "reduce_sum", "matmul", "Variable", "GradientTape", "gradients"]
