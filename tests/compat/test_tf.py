"""lossgrad.compat.tf: the seed documents' TensorFlow code, run with ``import lossgrad.compat.tf as
tf``, gives TensorFlow's numbers (tests/golden/seeds.json, written by TensorFlow 2.21); the ops'
argument names, defaults and dtypes are TensorFlow's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lossgrad.compat.tf as tf
from lossgrad import losses, softmax_jacobian
from lossgrad.compat import keras
from lossgrad.errors import OptionError, ProbabilitiesAsLogitsWarning
from tests import tolerances as tol

GOLDEN = json.loads((Path(__file__).resolve().parents[1] / "golden" / "seeds.json").read_text())
VALUES = GOLDEN["values"]


def close(actual, key):
    tol.assert_close(actual, VALUES[key], np.float32, table=tol.FRAMEWORK, err_msg=key)


def test_seed_001_as_written():
    labels = [[0, 0, 1], [0, 1, 0]]
    logits = [[2, 0.5, 6], [0.1, 0, 3]]
    logits_scaled = tf.nn.softmax(logits)
    logits_scaled2 = tf.nn.softmax(logits_scaled)
    result1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    with pytest.warns(ProbabilitiesAsLogitsWarning):
        result2 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits_scaled)
    result3 = -tf.reduce_sum(tf.constant(labels, "float32") * tf.math.log(logits_scaled), 1)
    close(logits_scaled, "scaled")
    close(logits_scaled2, "scaled2")
    close(result1.numpy(), "rel1")
    close(result2.numpy(), "rel2")
    close(result3, "rel3")
    assert result1.value.dtype == np.float32  # Python lists become float32, as in TF


def seed_000_inputs():
    return {k: tf.constant(np.asarray(v, dtype=np.int32 if k == "y" else np.float32))
            for k, v in GOLDEN["inputs"].items()}


def test_seed_000_mse_and_cross_entropy_loss_calls():
    x, w, b, y = seed_000_inputs().values()
    prob = tf.nn.softmax(x @ w + b, axis=1)
    loss = tf.reduce_mean(tf.losses.MSE(tf.one_hot(y, depth=3), prob))
    close(loss.numpy(), "mse_loss")
    # Until the engine lands, ∂loss/∂b is chained by hand from the gradient w.r.t. prob.
    close(np.einsum("ni,nij->j", loss.grad, softmax_jacobian(x @ w + b)), "mse_db")
    logits = x @ w + b
    loss = tf.reduce_mean(tf.losses.categorical_crossentropy(tf.one_hot(y, depth=3), logits,
                                                             from_logits=True))
    close(loss.numpy(), "ce_loss")
    close(loss.grad.sum(axis=0), "ce_db")


def test_random_normal_draws_the_seed_inputs_from_its_seed():
    tf.random.set_seed(0)
    x, w = tf.random.normal([2, 4]), tf.random.normal([4, 3])
    np.testing.assert_array_equal(x, np.float32(GOLDEN["inputs"]["x"]))
    np.testing.assert_array_equal(w, np.float32(GOLDEN["inputs"]["w"]))
    assert x.dtype == np.float32
    assert not np.array_equal(tf.random.normal([3], seed=1), tf.random.normal([3], seed=2))


def test_sparse_sigmoid_and_weighted_losses_are_per_example():
    logits = np.array([[2.0, -1.0, 0.5], [0.3, 0.1, -2.0]])
    labels = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    r = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=np.array([0, 2]), logits=logits)
    np.testing.assert_allclose(r.value, losses.sparse_softmax_cross_entropy(
        logits, [0, 2], reduction="none").value)
    r = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    assert r.value.shape == r.grad.shape == (2, 3)
    r = tf.nn.weighted_cross_entropy_with_logits(labels, logits, 3.0)
    expected = losses.sigmoid_binary_cross_entropy(logits, labels, pos_weight=3.0,
                                                   reduction="none")
    np.testing.assert_allclose(r.value, expected.value)
    np.testing.assert_allclose(r.grad, expected.grad)


def test_softmax_cross_entropy_axis():
    logits = np.random.default_rng(0).normal(size=(2, 3, 4))
    labels = np.moveaxis(np.eye(3)[[[0, 1, 2, 0], [2, 2, 1, 0]]], -1, 1)
    r = tf.nn.softmax_cross_entropy_with_logits(labels, logits, axis=1)
    assert r.value.shape == (2, 4) and r.grad.shape == logits.shape


def test_reduce_ops_on_arrays_and_on_loss_results():
    np.testing.assert_allclose(tf.reduce_mean([[1.0, 2.0], [3.0, 5.0]], axis=0), [2.0, 3.5])
    assert tf.reduce_sum([[1, 2]], keepdims=True).shape == (1, 1)
    per = tf.losses.mse(np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[1.0, 1.0], [1.0, 0.0]]))
    total = tf.reduce_sum(per)
    assert float(total.value) == 1.0
    np.testing.assert_allclose(total.grad, [[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(OptionError):
        tf.reduce_sum(per, axis=0)
    with pytest.raises(OptionError):
        tf.reduce_mean(per, keepdims=True)


def test_tensors_ops_and_namespaces():
    assert tf.constant([1.5]).dtype == np.float32 and tf.constant([1]).dtype == np.int32
    assert tf.constant(np.array([1.5])).dtype == np.float64
    assert tf.zeros([3]).dtype == np.float32 and not tf.zeros([3]).any()
    np.testing.assert_array_equal(tf.one_hot([1, 0], depth=2), [[0, 1], [1, 0]])
    assert tf.keras.losses is keras
    assert tf.losses.categorical_crossentropy is keras.categorical_crossentropy
    assert tf.losses.MSE is keras.mean_squared_error
    np.testing.assert_allclose(tf.nn.softmax([[0.0, 0.0]]), [[0.5, 0.5]])
    np.testing.assert_allclose(tf.math.softmax([[0.0, 0.0]], axis=0), [[1.0, 1.0]])
