"""Regression losses: elementwise errors between a real prediction and a real target.

Every function here is a loss body (see :mod:`lossgrad.losses.core`): the unreduced value and its
gradient with respect to the prediction, computed together.
"""

from __future__ import annotations

import numpy as np  # noqa: F401 - the doctests use it

from .core import Parts, as_targets, loss


@loss(rows=False)
def squared_error(prediction, targets, ctx):
    """Squared error, entry by entry; its mean is the mean squared error (MSE).

    **Value:** ℓ = (x − y)².

    **Gradient:** ∂ℓ/∂x = 2(x − y).

    **Shapes:** prediction and targets of the same shape, never broadcast ((N,) against (N, 1) is
    a ShapeError, not an (N, N) loss); value of that shape.

    **Stability:** one subtraction, squared; the gradient reuses the difference.

    **Parity:** reduction="mean" is ``torch.nn.MSELoss()`` / ``F.mse_loss`` and
    ``keras.losses.MeanSquaredError()`` (Keras averages over the last axis, then over the batch:
    the same number for unweighted rows, and "sum_over_batch_size" with per-sample weights);
    ``keras.losses.mean_squared_error`` / ``tf.losses.MSE`` are reduction="none" averaged over the
    last axis; reduction="none" is ``optax.squared_error`` (optax's ``l2_loss`` is half of it).

    **Example** (seed 000: MSE between softmax probabilities and one-hot labels, and the bias
    gradient chained through the softmax Jacobian):
        >>> from lossgrad import one_hot, softmax, softmax_jacobian
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.standard_normal((2, 4)), rng.standard_normal((4, 3))
        >>> logits = x @ w
        >>> r = squared_error(softmax(logits), one_hot([2, 0], 3, dtype=np.float64))
        >>> print(f"{float(r):.4f}")
        0.3235
        >>> db = np.einsum("ni,nij->j", r.grad, softmax_jacobian(logits))
        >>> print(np.round(db, 4))
        [-0.0241  0.0403 -0.0162]
    """
    diff = prediction - as_targets(targets, prediction, loss=ctx.name)
    return Parts(diff * diff, 2 * diff if ctx.want_grad else None)
