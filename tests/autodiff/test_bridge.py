"""Losses on Tensors (bridge.py): the value is the loss's value on the arrays, and the backward
through an upstream op (logits = x @ w + b) equals the chain rule written out by hand and central
differences — for a row loss, an elementwise loss, every reduction, sample weights and a class axis
that is not last. Also: inputs without a closed-form gradient, second derivatives, recording modes
and the front-end wrapper (tensor_aware)."""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad import losses
from lossgrad.autodiff import Tensor, grad, loss_on_tensors, no_grad, tensor_aware
from lossgrad.compat import keras
from lossgrad.losses.core import REDUCTIONS
from tests import tolerances as tol
from tests.gradcheck import central_differences

RNG = np.random.default_rng(11)
X = RNG.standard_normal((5, 4))
W = RNG.standard_normal((4, 3))
B = RNG.standard_normal(3)
LABELS = np.array([0, 2, 1, 1, 0])
DENSE = np.eye(3)[LABELS] * 0.8 + 0.2 / 3
WEIGHTS = RNG.uniform(0.5, 2.0, size=5)

#: (loss, target, options): a row loss with integer and dense targets, elementwise losses.
LOSSES = {
    "sparse_softmax_cross_entropy": (losses.sparse_softmax_cross_entropy, LABELS, {}),
    "softmax_cross_entropy": (losses.softmax_cross_entropy, DENSE, {}),
    "squared_error": (losses.squared_error, RNG.standard_normal((5, 3)), {}),
    "sigmoid_binary_cross_entropy": (losses.sigmoid_binary_cross_entropy,
                                     (RNG.random((5, 3)) > 0.5).astype(float), {}),
}
CASES = [(name, reduction, weighted) for name in LOSSES for reduction in REDUCTIONS
         for weighted in (False, True)]


def options(name, reduction, weighted):
    fn, target, extra = LOSSES[name]
    return fn, target, {**extra, "reduction": reduction,
                        **({"sample_weight": WEIGHTS} if weighted else {})}


def cotangent_for(value_shape):
    return np.random.default_rng(3).standard_normal(value_shape)


@pytest.mark.parametrize("name, reduction, weighted", CASES)
def test_value_equals_the_loss_on_arrays(name, reduction, weighted):
    fn, target, kwargs = options(name, reduction, weighted)
    logits = X @ W + B
    on_tensors = loss_on_tensors(fn, (Tensor(logits, requires_grad=True), target), kwargs)
    np.testing.assert_array_equal(on_tensors.data, fn(logits, target, **kwargs).value)
    assert on_tensors.requires_grad


@pytest.mark.parametrize("name, reduction, weighted", CASES)
def test_backward_through_an_affine_layer(name, reduction, weighted):
    fn, target, kwargs = options(name, reduction, weighted)
    w, b = Tensor(W.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
    loss = loss_on_tensors(fn, (Tensor(X) @ w + b, target), kwargs)
    u = cotangent_for(loss.shape)
    loss.backward(u)

    # by hand: ∂logits = u (over the class axis of a row loss) · the loss's closed form
    closed = fn(X @ W + B, target, **{**kwargs, "reduction": "none"}).grad
    scaled = fn(X @ W + B, target, **kwargs).grad
    dlogits = u[..., None] * closed if reduction == "none" and closed.ndim > u.ndim else u * scaled
    np.testing.assert_allclose(w.grad, X.T @ dlogits, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(b.grad, dlogits.sum(axis=0), rtol=1e-14, atol=1e-14)

    # central differences of Σ u·loss
    def total(w_, b_):
        return float(np.sum(u * fn(X @ w_ + b_, target, **kwargs).value))

    rtol, atol = tol.CENTRAL
    np.testing.assert_allclose(w.grad, central_differences(lambda v: total(v, B), W.copy()),
                               rtol=rtol, atol=atol)
    np.testing.assert_allclose(b.grad, central_differences(lambda v: total(W, v), B.copy()),
                               rtol=rtol, atol=atol)


def test_class_axis_not_last_with_reduction_none():
    logits = Tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    labels = RNG.integers(0, 3, size=(2, 4))
    loss = loss_on_tensors(losses.sparse_softmax_cross_entropy, (logits, labels),
                           {"axis": 1, "reduction": "none"})
    assert loss.shape == (2, 4)
    u = cotangent_for(loss.shape)
    loss.backward(u)
    numeric = central_differences(lambda v: float(np.sum(u * losses.sparse_softmax_cross_entropy(
        v, labels, axis=1, reduction="none").value)), logits.data.copy())
    rtol, atol = tol.CENTRAL
    np.testing.assert_allclose(logits.grad, numeric, rtol=rtol, atol=atol)


def test_dtype_and_keyword_inputs():
    logits = Tensor(RNG.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    loss = loss_on_tensors(losses.softmax_cross_entropy, (),
                           {"logits": logits, "targets": np.eye(4, dtype=np.float32)[[0, 1, 3]]})
    assert loss.dtype == np.float32
    loss.backward()
    assert logits.grad.dtype == np.float32


def test_no_gradient_work_when_nothing_requires_one():
    loss = loss_on_tensors(losses.squared_error, (Tensor(np.ones(3)), np.zeros(3)), {})
    assert not loss.requires_grad and loss.item() == 1.0
    x = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        assert not loss_on_tensors(losses.squared_error, (x, np.zeros(3)), {}).requires_grad


def test_a_target_requiring_a_gradient_has_no_closed_form():
    x, y = Tensor(np.ones(3), requires_grad=True), Tensor(np.zeros(3), requires_grad=True)
    loss = loss_on_tensors(losses.squared_error, (x, y), {})
    with pytest.raises(NotImplementedError, match="squared_error.*targets.*detach"):
        loss.backward()
    loss_on_tensors(losses.squared_error, (x, y.detach()), {}).backward()
    np.testing.assert_array_equal(x.grad, np.full(3, 2 / 3))


def test_second_derivative_through_a_loss_is_refused():
    x = Tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    loss = loss_on_tensors(losses.sparse_softmax_cross_entropy, (x, np.array([0, 2])), {})
    (dx,) = grad([loss], [x], create_graph=True)  # first order works, recorded
    np.testing.assert_allclose(dx.data, losses.sparse_softmax_cross_entropy(
        x.data, np.array([0, 2])).grad, rtol=1e-15)
    with pytest.raises(NotImplementedError, match="sparse_softmax_cross_entropy.*not "
                                                  "differentiable again"):
        grad([(dx * dx).sum()], [x])


def test_tensor_aware_front_end():
    mse = tensor_aware(keras.mean_squared_error, prediction="y_pred")
    y_true, y_pred = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    unchanged = mse(y_true, y_pred)
    assert unchanged.grad is not None  # arrays in, LossResult out
    p = Tensor(y_pred.copy(), requires_grad=True)
    per_sample = mse(y_true, p)
    np.testing.assert_array_equal(per_sample.data, unchanged.value)
    per_sample.mean().backward()
    np.testing.assert_allclose(p.grad, unchanged.grad / 4, rtol=1e-15)


def test_tensor_aware_uses_the_axis_argument():
    cce = tensor_aware(keras.categorical_crossentropy, prediction="y_pred")
    logits = RNG.standard_normal((2, 3, 4))
    targets = np.moveaxis(np.eye(3)[RNG.integers(0, 3, size=(2, 4))], -1, 1)
    p = Tensor(logits.copy(), requires_grad=True)
    value = cce(targets, p, from_logits=True, axis=1)
    u = cotangent_for(value.shape)
    value.backward(u)
    numeric = central_differences(lambda v: float(np.sum(u * keras.categorical_crossentropy(
        targets, v, from_logits=True, axis=1).value)), logits.copy())
    rtol, atol = tol.CENTRAL
    np.testing.assert_allclose(p.grad, numeric, rtol=rtol, atol=atol)
