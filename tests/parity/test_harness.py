"""The parity harness itself, on a loss with several differentiable inputs.

A toy Gaussian negative log-likelihood ℓ = ½(log v + (x − y)²/v), with the variance v of shape (N, 1)
against x and y of shape (N, D), is differentiated with respect to all three inputs. Its gradients
of Σℓ are ∂x = (x − y)/v, ∂y = −(x − y)/v and ∂v = Σ_d ½(1/v − (x − y)²/v²) (summed over the axis
v is shared along). The live tests check that every framework runner returns those gradients, each
in its input's shape, and that the whole path — spec, runner, lossgrad, check_same — compares each
of them; the other tests check the golden-file keys and the comparison without a framework.
"""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad import losses
from lossgrad.losses.core import Parts, as_targets, loss
from tests.parity import frameworks, golden
from tests.parity.spec import Call, Spec, check_same

WRT = ("prediction", "target", "var")


@loss(kind="elementwise")
def toy_gaussian_nll(input, target, var, ctx):
    """ℓ = ½(log v + (x − y)²/v), v of the input's shape or (N, 1)."""
    d = input - as_targets(target, input, loss=ctx.name)
    v = np.asarray(var, dtype=input.dtype)
    value = 0.5 * (np.log(v) + d * d / v)
    return Parts(value, {"input": d / v, "target": -d / v,
                         "var": 0.5 * (1 / v - d * d / (v * v))})


def gaussian_inputs(rng, dtype):
    return {"prediction": rng.normal(size=(4, 3)), "target": rng.normal(size=(4, 3)),
            "var": rng.uniform(0.5, 2.0, size=(4, 1))}


def analytic(a) -> dict[str, np.ndarray]:
    d, v = a["prediction"] - a["target"], a["var"]
    return {"prediction": d / v, "target": -d / v,
            "var": np.sum(0.5 * (1 / v - d * d / (v * v)), axis=1, keepdims=True)}


def _expression(ops):
    return lambda fw, a: 0.5 * (ops(fw).log(a.var) + ops(fw).square(a.prediction - a.target) / a.var)


CALLS = (
    Call("torch", "torch.nn.functional.gaussian_nll_loss",
         lambda fw, a: fw.F.gaussian_nll_loss(a.prediction, a.target, a.var, reduction="none"),
         "torch.nn.functional.gaussian_nll_loss(input, target, var, reduction='none')"),
    Call("tf", "tf.math (formula)", _expression(lambda fw: fw.tf.math),
         "0.5 * (tf.math.log(var) + tf.math.square(prediction - target) / var)"),
    Call("keras", "keras.ops (formula)", _expression(lambda fw: fw.keras.ops),
         "0.5 * (keras.ops.log(var) + keras.ops.square(prediction - target) / var)"),
    Call("optax", "jax.numpy (formula)", _expression(lambda fw: fw.jnp),
         "0.5 * (jnp.log(var) + jnp.square(prediction - target) / var)"),
)

SPEC = Spec(id="harness/toy_gaussian_nll", loss="toy_gaussian_nll", options={"reduction": "none"},
            inputs=gaussian_inputs, calls=CALLS, wrt=WRT)


@pytest.fixture
def toy_registered(monkeypatch):
    """The registry resolves "toy_gaussian_nll" to the toy (for Spec.run_lossgrad) and nothing else
    changes."""
    real = losses.get
    monkeypatch.setattr(losses, "get", lambda name: toy_gaussian_nll
                        if name == "toy_gaussian_nll" else real(name))


# ---------------------------------------------------------------------------------------------
# live: the runners and the whole path


@pytest.mark.live
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("call", CALLS, ids=[c.name for c in CALLS])
def test_each_runner_differentiates_every_input_of_wrt(call, dtype):
    arrays = SPEC.make_inputs(dtype)
    value, grads = frameworks.run(call, arrays, dtype, WRT)
    assert list(grads) == list(WRT)
    check_same(value, grads, toy_gaussian_nll(*arrays.values(), reduction="none").value,
               analytic({k: a.astype(np.float64) for k, a in arrays.items()}), dtype,
               f"{call.name} against the analytic gradients")
    assert all(grads[k].dtype == np.dtype(dtype) for k in WRT)


@pytest.mark.live
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("call", CALLS, ids=[c.name for c in CALLS])
def test_the_harness_compares_lossgrad_on_every_input(toy_registered, call, dtype):
    arrays = SPEC.make_inputs(dtype)
    value, grads = frameworks.run(call, arrays, dtype, SPEC.wrt)
    result = SPEC.run_lossgrad(arrays)
    check_same(result.value, SPEC.lossgrad_grads(result), value, grads, dtype, call.name)
    wrong = {**SPEC.lossgrad_grads(result), "var": 2 * result.grads["var"]}
    with pytest.raises(AssertionError, match="grad of var"):
        check_same(result.value, wrong, value, grads, dtype, call.name)


# ---------------------------------------------------------------------------------------------
# without a framework: the lossgrad side, the golden keys, the comparison


def test_lossgrad_gradients_are_mapped_to_the_specs_input_names(toy_registered):
    arrays = SPEC.make_inputs("float64")
    grads = SPEC.lossgrad_grads(SPEC.run_lossgrad(arrays))
    assert list(grads) == list(WRT)
    for name, expected in analytic(arrays).items():
        np.testing.assert_allclose(grads[name], expected, rtol=1e-14, err_msg=name)


def test_golden_files_keep_the_predictions_key_and_add_one_per_other_input(tmp_path):
    rng = np.random.default_rng(0)
    inputs = SPEC.make_inputs("float64")
    results = {(SPEC.id, "float64", c.name): (rng.normal(size=(4, 3)), {
        "prediction": rng.normal(size=(4, 3)), "target": rng.normal(size=(4, 3)),
        "var": rng.normal(size=(4, 1))}) for c in CALLS}
    golden.write([SPEC], {(SPEC.id, "float64"): inputs}, results, {"numpy": np.__version__},
                  tmp_path)
    stored = golden.Golden(tmp_path)
    call = CALLS[0].name
    prefix = f"{SPEC.id}|float64|{call}|"
    assert {k for k in stored.arrays if k.startswith(prefix)} == {
        prefix + "value", prefix + "grad", prefix + "grad:target", prefix + "grad:var"}
    assert stored.gradients_stored(SPEC.id, "float64", call) == set(WRT)
    value, grads = stored.result(SPEC.id, "float64", call, WRT)
    np.testing.assert_array_equal(value, results[SPEC.id, "float64", call][0])
    for name in WRT:
        np.testing.assert_array_equal(grads[name], results[SPEC.id, "float64", call][1][name])
    with pytest.raises(KeyError):
        stored.result(SPEC.id, "float64", call, ("prediction", "weights"))


def test_check_same_compares_every_gradient_and_their_names():
    a = {"prediction": np.ones(3), "var": np.ones(3)}
    check_same(1.0, a, 1.0, dict(a), "float64", "same")
    with pytest.raises(AssertionError, match="grad of var"):
        check_same(1.0, a, 1.0, {**a, "var": np.zeros(3)}, "float64", "differs")
    with pytest.raises(AssertionError, match="gradients of"):
        check_same(1.0, {"prediction": np.ones(3)}, 1.0, a, "float64", "missing")


def test_a_spec_differentiates_the_prediction_first():
    with pytest.raises(ValueError, match="must start with 'prediction'"):
        Spec(id="x", loss="squared_error", options={}, inputs=gaussian_inputs, calls=CALLS,
             wrt=("var",))
