"""lossgrad.compat.tf: the seed documents' TensorFlow code, run with ``import lossgrad.compat.tf as
tf``, gives TensorFlow's numbers (tests/golden/seeds.json, written by TensorFlow 2.21); the ops'
argument names, defaults and dtypes are TensorFlow's; ops return Tensors on lossgrad's graph and
the losses take them, so GradientTape reaches the weights. The live test runs one program under
both and compares."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import lossgrad.compat.tf as tf
from lossgrad import losses
from lossgrad.autodiff import GradientTape, Tensor, Variable
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


def test_seed_000_with_variables_and_one_persistent_tape():
    given = seed_000_inputs()
    x, y = given["x"], given["y"]
    w, b = tf.Variable(given["w"]), tf.Variable(given["b"])
    with tf.GradientTape(persistent=True) as tape:
        prob = tf.nn.softmax(x @ w + b, axis=1)
        mse = tf.reduce_mean(tf.losses.MSE(tf.one_hot(y, depth=3), prob))
        logits = x @ w + b
        ce = tf.reduce_mean(tf.losses.categorical_crossentropy(tf.one_hot(y, depth=3), logits,
                                                               from_logits=True))
    for key, loss in (("mse", mse), ("ce", ce)):
        dw, db = tape.gradient(loss, [w, b])
        close(loss.numpy(), f"{key}_loss")
        close(dw.numpy(), f"{key}_dw")
        close(db.numpy(), f"{key}_db")
        assert loss.dtype == dw.dtype == np.float32


def test_loss_calls_on_arrays_still_return_loss_results():
    x, w, b, y = (v.numpy() for v in seed_000_inputs().values())
    loss = tf.reduce_mean(tf.losses.categorical_crossentropy(np.eye(3, dtype=np.float32)[y],
                                                             x @ w + b, from_logits=True))
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
    assert tf.zeros([3]).dtype == np.float32 and not tf.zeros([3]).numpy().any()
    assert tf.ones([2], dtype="float64").numpy().tolist() == [1.0, 1.0]
    np.testing.assert_array_equal(tf.one_hot([1, 0], depth=2), [[0, 1], [1, 0]])
    assert tf.keras.losses is tf.losses
    assert tf.losses.categorical_crossentropy.__wrapped__ is keras.categorical_crossentropy
    assert tf.losses.MSE is tf.losses.mse is tf.losses.mean_squared_error
    assert issubclass(tf.losses.MeanSquaredError, keras.MeanSquaredError)
    np.testing.assert_allclose(tf.nn.softmax([[0.0, 0.0]]), [[0.5, 0.5]])
    np.testing.assert_allclose(tf.math.softmax([[0.0, 0.0]], axis=0), [[1.0, 1.0]])


def test_ops_return_tensors_on_the_graph():
    w = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(w, Variable) and w.dtype == np.float32 and w.requires_grad
    assert tf.Variable([1, 2]).dtype == np.int32  # TensorFlow's conversion, not NumPy's
    x = tf.constant([[1.0, 0.5]])
    for result in (tf.matmul(x, w), tf.nn.softmax(x), tf.math.log(x), tf.reduce_sum(x, axis=1),
                   tf.reduce_mean(x, keepdims=True), tf.one_hot([0], 2), tf.random.normal([2])):
        assert isinstance(result, Tensor)
    assert tf.GradientTape is GradientTape
    np.testing.assert_array_equal(tf.matmul(x, w, transpose_b=True).numpy(), x.numpy() @ w.data.T)
    np.testing.assert_array_equal(tf.matmul(w, x, transpose_a=True, transpose_b=True).numpy(),
                                  w.data.T @ x.numpy().T)


def test_gradients_is_tensorflow_1s_call():
    a, unused = tf.Variable([2.0, 3.0]), tf.Variable([1.0])
    y = tf.reduce_sum(a * a)
    da, none = tf.gradients(y, [a, unused])
    np.testing.assert_array_equal(da.numpy(), [4.0, 6.0])
    assert none is None
    (da,) = tf.gradients([y, a], a, grad_ys=[tf.constant(1.0), tf.constant([10.0, 0.0])])
    np.testing.assert_array_equal(da.numpy(), [14.0, 6.0])


def test_nn_losses_on_tensors_backpropagate_their_closed_form():
    logits = np.array([[2.0, -1.0, 0.5], [0.3, 0.1, -2.0]])
    labels = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    calls = [
        (lambda z: tf.nn.softmax_cross_entropy_with_logits(labels=labels / 2, logits=z),
         losses.softmax_cross_entropy(logits, labels / 2, reduction="none")),
        (lambda z: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=np.array([0, 2]),
                                                                  logits=z),
         losses.sparse_softmax_cross_entropy(logits, [0, 2], reduction="none")),
        (lambda z: tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=z),
         losses.sigmoid_binary_cross_entropy(logits, labels, reduction="none")),
        (lambda z: tf.nn.weighted_cross_entropy_with_logits(labels, z, 3.0),
         losses.sigmoid_binary_cross_entropy(logits, labels, pos_weight=3.0, reduction="none")),
    ]
    for call, expected in calls:
        z = Tensor(logits.copy(), requires_grad=True)
        per_example = call(z)
        np.testing.assert_array_equal(per_example.numpy(), expected.value)
        tf.reduce_sum(per_example).backward()
        np.testing.assert_array_equal(z.grad, expected.grad)


def test_keras_loss_classes_on_tensors_use_their_axis():
    logits = np.random.default_rng(1).standard_normal((2, 3, 4))
    targets = np.moveaxis(np.eye(3)[[[0, 1, 2, 0], [2, 2, 1, 0]]], -1, 1)
    loss = tf.keras.losses.CategoricalCrossentropy(from_logits=True, axis=1, reduction=None,
                                                   dtype="float64")
    z = Tensor(logits.copy(), requires_grad=True)
    per_example = loss(targets, z)
    assert per_example.shape == (2, 4)
    tf.reduce_sum(per_example).backward()
    expected = keras.CategoricalCrossentropy(from_logits=True, axis=1, reduction="sum",
                                             dtype="float64")(targets, logits)
    np.testing.assert_allclose(z.grad, expected.grad, rtol=1e-15)
    assert "CategoricalCrossentropy(" in repr(loss)


#: One program, run with ``tf`` = TensorFlow and with ``tf`` = lossgrad.compat.tf (live test).
PROGRAM = """
x = tf.constant(X)
w = tf.Variable(W)
with tf.GradientTape() as tape:
    logits = tf.matmul(x, w)
    a = tf.keras.losses.CategoricalCrossentropy(from_logits=True)(Y, logits)
    b = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=LABELS, logits=logits))
    c = tf.reduce_mean(tf.losses.MSE(Y, tf.nn.softmax(logits)))
    d = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=Y, logits=logits), axis=0)
    e = -tf.reduce_sum(Y * tf.math.log(tf.nn.softmax(logits, axis=-1)), 1)
    loss = a + b + c + tf.reduce_sum(d * tf.constant([1.0, 2.0, 3.0])) + tf.reduce_mean(e)
(dw,) = tape.gradient(loss, [w])
"""


@pytest.mark.live
def test_program_gives_tensorflows_numbers():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the frameworks' own deprecation notices are not ours
        import tensorflow as real

    rng = np.random.default_rng(5)
    data = {"X": rng.standard_normal((4, 5)).astype(np.float32),
            "W": rng.standard_normal((5, 3)).astype(np.float32),
            "Y": np.eye(3, dtype=np.float32)[[0, 2, 1, 1]],
            "LABELS": np.array([0, 2, 1, 1], dtype=np.int32)}
    results = []
    for module in (real, tf):
        variables = {"tf": module, **data}
        exec(PROGRAM, variables)
        results.append(variables)
    theirs, ours = results
    for key in ("loss", "dw"):
        tol.assert_close(ours[key].numpy(), theirs[key].numpy(), np.float32,
                         table=tol.FRAMEWORK, err_msg=key)


def test_ctc_loss_is_time_major_by_default_and_takes_tensors():
    rng = np.random.default_rng(6)
    logits = rng.normal(size=(5, 3, 4))  # (T, N, C)
    labels, frames, counts = np.array([[1, 3], [2, 2], [3, 0]]), [5, 4, 3], [2, 2, 1]
    expected = losses.softmax_ctc(np.swapaxes(logits, 0, 1), labels, frames, counts,
                                  reduction="none")
    r = tf.nn.ctc_loss(labels, logits, counts, frames)
    np.testing.assert_array_equal(r.value, expected.value)
    np.testing.assert_array_equal(r.grad, np.swapaxes(expected.grad, 0, 1))
    z = Tensor(logits.copy(), requires_grad=True)
    tf.reduce_sum(tf.nn.ctc_loss(labels, z, counts, frames)).backward()
    np.testing.assert_array_equal(z.grad, r.grad)
    last = tf.nn.ctc_loss(labels - 1, np.swapaxes(logits, 0, 1), counts, frames,
                          logits_time_major=False, blank_index=-1)
    blank_3 = losses.softmax_ctc(np.swapaxes(logits, 0, 1), labels - 1, frames, counts, blank=3,
                                 reduction="none")
    np.testing.assert_array_equal(last.value, blank_3.value)


def test_a_coupled_loss_on_tensors_uses_its_own_vjp_under_uneven_weights():
    """Circle's per-sample values depend on the whole batch: weighting them unevenly after the call
    must give the gradient of the weighted sum, not per-value gradients scaled by the weights."""
    rng = np.random.default_rng(7)
    emb = rng.normal(size=(6, 3))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = np.array([0, 0, 1, 1, 2, 2])
    u = rng.uniform(0.2, 2.0, size=6)
    x = Tensor(emb, requires_grad=True)
    (tf.losses.circle(labels, x) * u).sum().backward()
    expected = losses.circle(emb, labels, reduction="sum", sample_weight=u).grad
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)
