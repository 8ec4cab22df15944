"""GradientTape and Variable: TensorFlow's calling conventions over lossgrad's engine (structures,
unconnected sources, persistence, nesting, stop_recording), the documented difference from
TensorFlow, and a live comparison with tf.GradientTape."""

from __future__ import annotations

import numpy as np
import pytest

from lossgrad.autodiff import GradientTape, Tensor, Variable
from lossgrad.errors import DTypeError, OptionError
from tests import tolerances as tol


def test_watched_tensor_gets_its_gradient():
    x = Tensor(np.array([1.0, 2.0]))
    with GradientTape() as tape:
        tape.watch(x)
        y = (x * x * x).sum()
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), 3 * x.data**2)


def test_variables_are_watched_unless_told_not_to():
    v, w = Variable(np.array([2.0])), Variable(np.array([3.0]))
    with GradientTape() as tape:
        y = (v * w).sum()
    assert [g.item() for g in tape.gradient(y, [v, w])] == [3.0, 2.0]
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(w)
        y = (v * w).sum()
    dv, dw = tape.gradient(y, [v, w])
    assert dv is None and dw.item() == 2.0
    assert tape.watched_variables() == (w,)


def test_result_has_the_sources_structure():
    a, b, c = (Variable(np.array([float(k)])) for k in (1, 2, 3))
    with GradientTape(persistent=True) as tape:
        y = (a * 10.0 + b * 20.0 + c * 30.0).sum()
    assert tape.gradient(y, a).item() == 10.0
    as_list, as_tuple = tape.gradient(y, [a, b]), tape.gradient(y, (a, b))
    assert isinstance(as_list, list) and isinstance(as_tuple, tuple)
    nested = tape.gradient(y, {"first": a, "rest": [b, (c,)]})
    assert nested["first"].item() == 10.0
    assert nested["rest"][0].item() == 20.0 and nested["rest"][1][0].item() == 30.0


def test_unconnected_sources():
    x, unused = Variable(np.array([1.0, 2.0])), Variable(np.array([5.0, 5.0]))
    with GradientTape(persistent=True) as tape:
        y = (x * 2.0).sum()
    assert tape.gradient(y, [x, unused])[1] is None
    zero = tape.gradient(y, unused, unconnected_gradients="zero")
    np.testing.assert_array_equal(zero.numpy(), [0.0, 0.0])
    with pytest.raises(OptionError, match="'zero'"):
        tape.gradient(y, x, unconnected_gradients="zeros")
    constant = Tensor([1.0])
    assert tape.gradient(constant * 2.0, x) is None  # a target that depends on no source


def test_non_persistent_tape_computes_once():
    x = Variable(np.array([1.0]))
    with GradientTape() as tape:
        y = (x * x).sum()
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent=True"):
        tape.gradient(y, x)


def test_persistent_tape_computes_again():
    x = Variable(np.array([3.0]))
    with GradientTape(persistent=True) as tape:
        y, z = (x * x).sum(), (x * 5.0).sum()
    assert tape.gradient(y, x).item() == 6.0 and tape.gradient(z, x).item() == 5.0


def test_target_list_and_output_gradients():
    x = Variable(np.array([1.0, 2.0]))
    with GradientTape(persistent=True) as tape:
        y, z = x * 3.0, x * x
    np.testing.assert_array_equal(tape.gradient([y, z], x).numpy(), 3.0 + 2 * x.data)
    np.testing.assert_array_equal(
        tape.gradient(y, x, output_gradients=Tensor(np.array([1.0, -1.0]))).numpy(), [3.0, -3.0])


def test_stop_recording():
    x = Variable(np.array([2.0]))
    with GradientTape() as tape:
        with tape.stop_recording():
            hidden = x * x
        y = (hidden + x).sum()
    assert tape.gradient(y, x).item() == 1.0


def test_nested_tapes_give_second_derivatives():
    x = Variable(np.array([2.0, -1.0]))
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = (x * x * x).sum()
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    np.testing.assert_array_equal(dy.numpy(), 3 * x.data**2)
    np.testing.assert_array_equal(d2y.numpy(), 6 * x.data)


def test_recording_is_not_limited_to_the_block():
    # Documented difference: TensorFlow returns None here, lossgrad follows the graph.
    x = Variable(np.array([2.0]))
    with GradientTape() as tape:
        pass
    y = (x * 4.0).sum()
    assert tape.gradient(y, x).item() == 4.0


def test_watch_takes_nested_lists_and_refuses_integers():
    a, b = Tensor([1.0]), Tensor([2.0])
    with GradientTape() as tape:
        tape.watch([a, (b,)])
    assert a.requires_grad and b.requires_grad
    with pytest.raises(DTypeError):
        tape.watch(Tensor([1]))
    with pytest.raises(TypeError, match="tf.constant"):
        tape.watch(np.ones(2))


def test_variable_updates_in_place():
    v = Variable(np.array([1.0, 2.0]))
    buffer = v.data
    assert v.assign([5.0, 6.0]) is v and v.assign_add(1.0) is v and v.assign_sub([0.5, 1.0]) is v
    np.testing.assert_array_equal(buffer, [5.5, 6.0])
    assert v.data is buffer
    assert not Variable([1.0], trainable=False).requires_grad
    assert not Variable(np.array([1, 2])).requires_grad  # integers: no gradient, as in TF
    assert Variable([1.0]).dtype == np.float32 and repr(v).startswith("Variable(")


@pytest.mark.live
def test_same_program_as_tensorflow():
    import tensorflow as tf

    rng = np.random.default_rng(7)
    x0, w0, b0 = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)

    def program(lib, Var, tape_cls):
        x, w, b = lib["constant"](x0), Var(w0), Var(b0)
        unused = Var(b0)
        with tape_cls(persistent=True) as tape:
            tape.watch(x)
            h = lib["tanh"](lib["matmul"](x, w) + b)
            y = lib["reduce_sum"](h * h)
        found = tape.gradient(y, {"x": x, "w": w, "b": b, "unused": unused},
                              unconnected_gradients="zero")
        return {k: v.numpy() for k, v in found.items()}

    theirs = program({"constant": tf.constant, "tanh": tf.tanh, "matmul": tf.matmul,
                      "reduce_sum": tf.reduce_sum}, tf.Variable, tf.GradientTape)
    ours = program({"constant": Tensor, "tanh": lambda t: t.tanh(),
                    "matmul": lambda a, b: a @ b, "reduce_sum": lambda t: t.sum()},
                   Variable, GradientTape)
    for key in theirs:
        tol.assert_close(ours[key], theirs[key], np.float64, table=tol.FRAMEWORK, err_msg=key)
