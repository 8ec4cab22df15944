"""The seed documents' numbers (shared/seeds/README.md), reproduced by lossgrad.

Four kinds of check:
- the numbers as the documents print them, quoted below with the file they come from, at the
  precision printed;
- tests/golden/seeds.json, written by tools/make_seed_golden.py from TensorFlow 2.21, against the
  demo's numbers (``lossgrad.cli.SEEDS``) at tolerances.FRAMEWORK[float32], with NumPy only;
- seed 000's own code, copied verbatim into seeds.json by the same script, run unchanged with
  ``tf`` = lossgrad.compat.tf, its printed and returned gradients against the golden numbers;
- live: TensorFlow rerun, so the golden file cannot drift from the framework, and seed 000's code
  run under TensorFlow itself.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from lossgrad import cli, losses, one_hot, softmax, softmax_jacobian
from lossgrad.errors import ProbabilitiesAsLogitsWarning
from tests import tolerances as tol

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = json.loads((ROOT / "tests" / "golden" / "seeds.json").read_text())


def printed(text: str) -> tuple[np.ndarray, float]:
    """The numbers in a printed array or scalar, and one unit of its last printed decimal."""
    tokens = re.findall(r"-?\d+\.\d+", text)
    decimals = max(len(token.partition(".")[2]) for token in tokens)
    return np.array([float(token) for token in tokens]), 10.0**-decimals


def assert_as_printed(actual, text: str) -> None:
    """``actual`` shows ``text``'s digits: within one unit of the last printed decimal, plus the
    float32 rounding of the framework that printed them (TF computes in float32, so its 8th and 9th
    significant digits are rounding: the exact rel1[1] is 3.09967364, TF prints 3.09967351)."""
    expected, unit = printed(text)
    np.testing.assert_allclose(np.ravel(actual).astype(np.float64), expected,
                               rtol=np.finfo(np.float32).eps, atol=unit)


# ---------------------------------------------------------------------------------------------
# seed 001: softmax, softmax cross-entropy, the double softmax

# 001_c03c273e3ae923ed.txt: the seed's inputs, and the output of its print() calls. TF took the
# Python lists as float32, and so do these tests: the printed digits past float32's precision are
# TF's float32 rounding (rel3 differs from rel1 only by it), which float32 reproduces.
LABELS = np.array([[0, 0, 1], [0, 1, 0]], dtype=np.float32)
LOGITS = np.array([[2, 0.5, 6], [0.1, 0, 3]], dtype=np.float32)
SEED_001 = {
    "scaled": "[[ 0.01791432 0.00399722 0.97808844] [ 0.04980332 0.04506391 0.90513283]]",
    "scaled2": "[[ 0.21747023 0.21446465 0.56806517] [ 0.2300214 0.22893383 0.54104471]]",
    "rel1": "[ 0.02215516 3.09967351]",
    "rel2": "[ 0.56551915 1.47432232]",
    "rel3": "[ 0.02215518 3.09967351]",
}


def test_seed_001_scaled_and_scaled2():
    scaled = softmax(LOGITS)
    assert_as_printed(scaled, SEED_001["scaled"])
    assert_as_printed(softmax(scaled), SEED_001["scaled2"])


def test_seed_001_rel1_from_logits_exact():
    # The exact (float64) values show the printed digits too: TF's float32 result is that close.
    rel1 = losses.softmax_cross_entropy(LOGITS.astype(np.float64), LABELS, reduction="none")
    assert_as_printed(rel1.value, SEED_001["rel1"])


def test_seed_001_rel1_from_logits_float32():
    rel1 = losses.softmax_cross_entropy(LOGITS, LABELS, reduction="none")
    assert_as_printed(rel1.value, SEED_001["rel1"])


def test_seed_001_rel2_double_softmax_is_reproduced_and_warned_about():
    with pytest.warns(ProbabilitiesAsLogitsWarning, match="look like probabilities"):
        rel2 = losses.softmax_cross_entropy(softmax(LOGITS), LABELS, reduction="none")
    assert_as_printed(rel2.value, SEED_001["rel2"])


def test_seed_001_rel3_cross_entropy_on_probabilities():
    rel3 = losses.categorical_cross_entropy(softmax(LOGITS), LABELS, reduction="none")
    assert_as_printed(rel3.value, SEED_001["rel3"])


# ---------------------------------------------------------------------------------------------
# seed 002: the softmax Jacobian p_i(δ_ij − p_j)


def softmax_by_central_differences(x: np.ndarray) -> np.ndarray:
    """J[i, j] = ∂softmax(x)_i/∂x_j, column j from x ± h·e_j."""
    h = tol.CENTRAL_STEP
    return np.stack([(softmax(x + h * e) - softmax(x - h * e)) / (2 * h) for e in np.eye(x.size)],
                    axis=-1)


@pytest.mark.parametrize("x", [np.array([2.0, 1.0, 0.1]),
                               np.random.default_rng(2).normal(scale=3.0, size=6)],
                         ids=["seed-000-logits", "random"])
def test_seed_002_softmax_jacobian_matches_central_differences(x):
    rtol, atol = tol.CENTRAL
    np.testing.assert_allclose(softmax_jacobian(x), softmax_by_central_differences(x),
                               rtol=rtol, atol=atol)


def test_seed_002_softmax_jacobian_of_a_batch_is_one_jacobian_per_row():
    x = np.random.default_rng(3).normal(size=(4, 5))
    jacobians = softmax_jacobian(x)
    assert jacobians.shape == (4, 5, 5)
    for row, jacobian in zip(x, jacobians):
        np.testing.assert_allclose(jacobian, softmax_jacobian(row), rtol=1e-15, atol=0)


# ---------------------------------------------------------------------------------------------
# seed 003: Keras's SparseCategoricalCrossentropy on probabilities


def test_seed_003_keras_sparse_categorical_cross_entropy():
    # 003_2b45fb3ef6f0cab9.txt: y_true, y_pred; it prints 1.1769392490386963, the float32 result
    # as a double; shared/seeds/README.md quotes it as 1.1769392, the precision used here.
    y_pred = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]], dtype=np.float32)
    y_true = np.array([1, 2])
    result = losses.sparse_categorical_cross_entropy(y_pred, y_true, convention="keras")
    assert result.value.dtype == np.float32
    assert_as_printed(result.value, "1.1769392")


def test_seed_003_one_hot_is_to_categorical():
    # 003_2b45fb3ef6f0cab9.txt: print(to_categorical([1, 2], num_classes=3, dtype="float32"))
    np.testing.assert_array_equal(one_hot([1, 2], num_classes=3),
                                  np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32))


# ---------------------------------------------------------------------------------------------
# seed 000: the linear 4→3 classifier, gradients chained by hand from the closed-form loss gradients

# shared/seeds/README.md, "Reference values computed with TensorFlow 2.21 (float32)".
SEED_000 = {
    "mse_loss": "0.32345903",
    "mse_db": "[-0.02408312, 0.04025574, -0.01617263]",
    "ce_loss": "1.6704179",
    "ce_db": "[-0.3508622, 0.29952443, 0.05133778]",
}


def test_seed_000_losses_and_bias_gradients():
    shown = {s.key: s.value for s in cli.seed_000()}
    for key, text in SEED_000.items():
        assert shown[key].dtype == np.float32, key
        assert_as_printed(shown[key], text)


# ---------------------------------------------------------------------------------------------
# seed 000 as written: its two GradientTape programs, unchanged but for `import ... as tf`

SEED_000_SOURCE = GOLDEN["sources"]["000"]
SEED_000_PROGRAMS = dict(zip(("mse", "ce"), SEED_000_SOURCE["programs"]))


def run_as_written(tf, program: str, monkeypatch) -> tuple[dict, str]:
    """Run one program with ``tf.random.normal`` returning the golden x, then w (the seeds
    README's inputs); return its variables and what it printed."""
    draws = iter(np.float32(GOLDEN["inputs"][key]) for key in ("x", "w"))

    def normal(shape, *args, **kwargs):
        value = next(draws)
        if tuple(shape) != value.shape:
            raise AssertionError(f"the program drew {shape}, expected {value.shape}")
        return tf.constant(value)

    monkeypatch.setattr(tf.random, "normal", normal)
    variables, printed = {"tf": tf}, io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(program, SEED_000_SOURCE["document"], "exec"), variables)
    return variables, printed.getvalue()


def assert_seed_000_gradients(variables: dict, printed: str, key: str) -> None:
    dw, db = variables["grads"]
    for name, value in (("loss", variables["loss"]), ("dw", dw), ("db", db)):
        tol.assert_close(value.numpy(), GOLDEN["values"][f"{key}_{name}"], np.float32,
                         table=tol.FRAMEWORK, err_msg=f"{key}_{name}")
    shown = [float(t) for t in re.findall(r"-?\d+\.\d*(?:e[-+]?\d+)?", printed)]
    expected = np.concatenate([np.ravel(GOLDEN["values"][f"{key}_{n}"]) for n in ("dw", "db")])
    tol.assert_close(shown, expected, np.float32, table=tol.FRAMEWORK, err_msg=printed)


def test_seed_000_programs_are_the_documents_tape_code():
    for program in SEED_000_PROGRAMS.values():
        assert "with tf.GradientTape() as tape:" in program
        assert "grads = tape.gradient(loss, [w" in program


@pytest.mark.parametrize("key", SEED_000_PROGRAMS)
def test_seed_000_runs_unchanged_through_compat_tf(key, monkeypatch):
    import lossgrad.compat.tf as tf

    assert_seed_000_gradients(*run_as_written(tf, SEED_000_PROGRAMS[key], monkeypatch), key)


@pytest.mark.live
@pytest.mark.parametrize("key", SEED_000_PROGRAMS)
def test_seed_000_runs_unchanged_in_tensorflow(key, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the frameworks' own deprecation notices are not ours
        import tensorflow as tf

    assert_seed_000_gradients(*run_as_written(tf, SEED_000_PROGRAMS[key], monkeypatch), key)


# ---------------------------------------------------------------------------------------------
# the golden file: the same computations in TensorFlow 2.21


SEED_IDS = [document for _, document, _ in cli.SEEDS]


def test_golden_inputs_are_the_demos():
    for key, value in cli.seed_000_inputs().items():
        np.testing.assert_array_equal(value, GOLDEN["inputs"][key], err_msg=key)


def test_every_demo_number_with_a_tensorflow_counterpart_has_a_golden_value():
    keys = {shown.key for _, _, compute in cli.SEEDS for shown in compute(dtype=np.float32)}
    # jacobian_error is lossgrad's own finite-difference check, with nothing to compare in TF.
    assert set(GOLDEN["values"]) == keys - {"jacobian_error"}


@pytest.mark.parametrize("compute", [compute for _, _, compute in cli.SEEDS], ids=SEED_IDS)
def test_demo_matches_tensorflow_golden(compute):
    for shown in compute(dtype=np.float32):
        if shown.key in GOLDEN["values"]:
            assert shown.value.dtype == np.float32, shown.key
            tol.assert_close(shown.value, GOLDEN["values"][shown.key], np.float32,
                             table=tol.FRAMEWORK, err_msg=shown.key)


def load_generator():
    spec = importlib.util.spec_from_file_location("make_seed_golden",
                                                  ROOT / "tools" / "make_seed_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.live
def test_golden_file_has_not_drifted_from_tensorflow():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the frameworks' own deprecation notices are not ours
        fresh = load_generator().compute()
    assert fresh["inputs"] == GOLDEN["inputs"]
    assert fresh["values"].keys() == GOLDEN["values"].keys()
    for key, expected in GOLDEN["values"].items():
        tol.assert_close(fresh["values"][key], expected, np.float32, table=tol.FRAMEWORK,
                         err_msg=f"{key}: rerun tools/make_seed_golden.py and review the diff")
