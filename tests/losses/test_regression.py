"""Regression losses beyond the generic contract: framework reductions and seed 000's use of MSE."""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad import losses, one_hot, softmax, softmax_jacobian
from lossgrad.errors import ShapeError
from tests import tolerances as tol


def test_squared_error_value_and_gradient_with_integer_targets():
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    y = np.array([[1, 0], [2, 5]])
    r = losses.squared_error(x, y, reduction="none")
    np.testing.assert_array_equal(r.value, (x - y) ** 2)
    np.testing.assert_array_equal(r.grad, 2 * (x - y))


def test_targets_are_never_broadcast():
    with pytest.raises(ShapeError, match=r"\(4, 1\).*\(4,\)"):
        losses.squared_error(np.zeros(4), np.zeros((4, 1)))


def test_keras_mse_is_the_mean_over_the_last_axis_then_the_batch():
    rng = np.random.default_rng(0)
    x, y, w = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), rng.uniform(0.1, 2.0, size=5)
    per_sample = np.mean((x - y) ** 2, axis=-1)  # keras.losses.mean_squared_error
    tol.assert_close(float(losses.squared_error(x, y)), np.mean(per_sample), np.float64)
    # Keras's default reduction with sample weights: Σ w·mse / N.
    weighted = losses.squared_error(x, y, sample_weight=w, reduction="sum_over_batch_size")
    tol.assert_close(float(weighted), np.sum(w * per_sample) / 5, np.float64)


def test_seed_000_mse_on_softmax_probabilities_and_its_bias_gradient():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4)), rng.standard_normal((4, 3))
    target = one_hot([2, 0], 3, dtype=np.float64)

    def loss_of_bias(b):
        return np.mean((softmax(x @ w + b) - target) ** 2)

    logits = x @ w
    r = losses.squared_error(softmax(logits), target)
    tol.assert_close(float(r), loss_of_bias(np.zeros(3)), np.float64)
    db = np.einsum("ni,nij->j", r.grad, softmax_jacobian(logits))
    h = tol.CENTRAL_STEP
    numeric = [(loss_of_bias(h * e) - loss_of_bias(-h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(db, numeric, rtol=tol.CENTRAL[0], atol=tol.CENTRAL[1])


@pytest.mark.parametrize("alias", ["MeanSquaredError", "mean_squared_error", "mse", "MSE",
                                   "MSELoss", "mse_loss", "squared_error"])
def test_framework_names_resolve(alias):
    assert losses.get(alias) is losses.squared_error
