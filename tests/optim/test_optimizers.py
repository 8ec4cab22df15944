"""The optimizers beyond the golden trajectories: state-dict round trips, zero_grad, skipped
parameters, param groups, dtypes, in-place updates, and every refused option or input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load as safetensors_load
from safetensors.numpy import save as safetensors_save

from lossgrad.errors import DTypeError, OptionError, ShapeError
from lossgrad.optim import SGD, Adam, AdamW, RMSprop
from tests.optim import problem
from tests.optim.cases import INVALID_OPTIONS, OPTIMIZERS, SCHEDULES
from tests.optim.problem import Lossgrad, Param

ALL = (SGD, Adam, AdamW, RMSprop)


def params(dtype="float64") -> list[Param]:
    return [Param(w) for w in problem.initial_weights(dtype)]


def run(optimizer, schedule, ps, steps) -> None:
    for k in steps:
        problem.set_gradients(Lossgrad, ps, k)
        optimizer.step()
        if schedule:
            schedule.step()


def through_files(state: dict) -> dict:
    """The state as a checkpoint stores it: tensors through safetensors, meta through JSON."""
    return {"tensors": safetensors_load(safetensors_save(state["tensors"])),
            "meta": json.loads(json.dumps(state["meta"]))}


# -------------------------------------------------------------------------------------------------
# state dict


@pytest.mark.parametrize("case", OPTIMIZERS + SCHEDULES, ids=lambda c: c.id)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_resuming_from_the_state_dict_is_bit_identical(case, dtype):
    straight = params(dtype)
    optimizer, schedule = problem.make_optimizer(Lossgrad, case, straight)
    run(optimizer, schedule, straight, range(case.steps))

    first = params(dtype)
    optimizer, schedule = problem.make_optimizer(Lossgrad, case, first)
    run(optimizer, schedule, first, range(4))
    saved = through_files(optimizer.state_dict())
    saved_schedule = json.loads(json.dumps(schedule.state_dict())) if schedule else None

    resumed = [Param(p.data.copy()) for p in first]
    optimizer, schedule = problem.make_optimizer(Lossgrad, case, resumed)
    optimizer.load_state_dict(saved)
    if schedule:
        schedule.load_state_dict(saved_schedule)
    run(optimizer, schedule, resumed, range(4, case.steps))
    for a, b in zip(resumed, straight):
        np.testing.assert_array_equal(a.data, b.data)
        assert a.data.dtype == b.data.dtype


def test_state_dict_format():
    ps = params()
    opt = Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.5}], amsgrad=True)
    run(opt, None, ps, range(3))  # parameter 2 has no gradient at step 1
    state = opt.state_dict()
    names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    assert sorted(state["tensors"]) == sorted(f"state/{i}/{n}" for i in range(3) for n in names)
    meta = state["meta"]
    assert meta["format"] == 1 and meta["optimizer"] == "Adam"
    assert meta["state"] == {"0": {"step": 3}, "1": {"step": 3}, "2": {"step": 2}}
    assert [g["params"] for g in meta["param_groups"]] == [[0, 1], [2]]
    assert meta["param_groups"][1] == {"params": [2], "lr": 0.5, "betas": [0.9, 0.999],
                                       "eps": 1e-8, "weight_decay": 0.0, "amsgrad": True,
                                       "maximize": False}


def test_state_dict_is_a_copy():
    ps = params()
    opt = SGD(ps, lr=0.1, momentum=0.9)
    run(opt, None, ps, range(2))
    state = opt.state_dict()
    before = state["tensors"]["state/0/momentum_buffer"].copy()
    run(opt, None, ps, range(2, 3))
    np.testing.assert_array_equal(state["tensors"]["state/0/momentum_buffer"], before)


def _stepped_adam(dtype="float64"):
    ps = params(dtype)
    opt = Adam(ps, lr=0.01)
    run(opt, None, ps, range(3))
    return opt


def test_a_refused_state_leaves_the_optimizer_as_it_was():
    opt = _stepped_adam()
    before = opt.state_dict()
    bad = _stepped_adam().state_dict()
    bad["tensors"]["state/0/exp_avg"] = np.zeros((2, 2))
    bad["meta"]["param_groups"][0]["lr"] = 0.5
    with pytest.raises(ShapeError):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["meta"] == before["meta"]
    for key, array in before["tensors"].items():
        np.testing.assert_array_equal(after["tensors"][key], array)


def test_every_misfit_is_listed_in_one_error():
    opt = _stepped_adam()
    bad = _stepped_adam().state_dict()
    bad["tensors"]["state/0/exp_avg"] = np.zeros((2, 2))
    bad["tensors"]["state/1/exp_avg_sq"] = bad["tensors"]["state/1/exp_avg_sq"].astype(np.float32)
    del bad["tensors"]["state/2/exp_avg"]
    bad["tensors"]["state/7/exp_avg"] = np.zeros(3)
    bad["meta"]["state"]["1"]["step"] = -1
    with pytest.raises(ShapeError) as err:
        opt.load_state_dict(bad)
    message = str(err.value)
    for part in ("state/0 (param_groups[0]['params'][0])/exp_avg is float64[2, 2], expected "
                 + "float64[3, 4]",
                 "state/1 (param_groups[0]['params'][1])/exp_avg_sq is float32",
                 "state/2 (param_groups[0]['params'][2]): missing 'exp_avg'",
                 "unexpected tensor 'state/7/exp_avg'", "step must be an integer ≥ 0, got -1"):
        assert part in message


@pytest.mark.parametrize("change,error,match", [
    (lambda s: s["meta"].update(optimizer="SGD"), OptionError,
     "of 'SGD'; this is format 1 of Adam"),
    (lambda s: s["meta"].update(format=2), OptionError, "format 2"),
    (lambda s: s["meta"]["param_groups"][0]["params"].pop(), ShapeError, "hold parameters"),
    (lambda s: s["meta"].update(param_groups=s["meta"]["param_groups"][0]), ShapeError,
     "hold parameters"),
    (lambda s: s["meta"]["param_groups"][0].pop("eps"), OptionError, r"missing options \['eps'\]"),
    (lambda s: s["meta"]["param_groups"][0].update(lr=-1), OptionError, "lr must be ≥ 0"),
    (lambda s: s["meta"]["param_groups"][0].update(momentum=0.9), OptionError,
     r"unknown options \['momentum'\]"),
    (lambda s: s.pop("meta"), OptionError, "'tensors': dict, 'meta': dict"),
])
def test_a_state_that_does_not_fit_is_refused(change, error, match):
    state = _stepped_adam().state_dict()
    change(state)
    with pytest.raises(error, match=match):
        _stepped_adam().load_state_dict(state)


def test_loading_into_another_layout_is_refused():
    state = _stepped_adam().state_dict()
    ps = params()
    with pytest.raises(ShapeError, match=r"hold parameters \[\[0, 1, 2\]\]; this optimizer's hold "
                                         r"\[\[0\], \[1, 2\]\]"):
        Adam([{"params": ps[:1]}, {"params": ps[1:]}]).load_state_dict(state)


# -------------------------------------------------------------------------------------------------
# stepping


@pytest.mark.parametrize("cls", ALL)
def test_zero_grad_sets_none_by_default(cls):
    ps = params()
    problem.set_gradients(Lossgrad, ps, 0)
    cls(ps, lr=0.1).zero_grad()
    assert all(p.grad is None for p in ps)


def test_zero_grad_can_fill_zeros_in_place():
    ps = params()
    problem.set_gradients(Lossgrad, ps, 1)  # parameter 2 has no gradient at step 1
    grads = [p.grad for p in ps]
    SGD(ps, lr=0.1).zero_grad(set_to_none=False)
    assert ps[0].grad is grads[0] and not ps[0].grad.any() and not ps[1].grad.any()
    assert ps[2].grad is None


@pytest.mark.parametrize("cls,options", [(SGD, {"momentum": 0.9}), (Adam, {}), (AdamW, {}),
                                         (RMSprop, {"momentum": 0.5, "centered": True})])
def test_a_parameter_without_gradient_is_skipped(cls, options):
    ps = params()
    opt = cls(ps, lr=0.1, **options)
    run(opt, None, ps, range(1))
    before, state = ps[2].data.copy(), {k: np.array(v) for k, v in opt.state[2].items()}
    run(opt, None, ps, range(1, 2))  # step 1: parameter 2 has no gradient
    np.testing.assert_array_equal(ps[2].data, before)
    assert opt.state[2].keys() == state.keys()
    for k, v in state.items():
        np.testing.assert_array_equal(opt.state[2][k], v)


def test_a_parameter_never_given_a_gradient_has_no_state():
    ps = params()
    opt = Adam(ps)
    ps[0].grad = np.ones_like(ps[0].data)
    opt.step()
    assert opt.state[1] == {} and opt.state[2] == {}
    assert set(opt.state_dict()["meta"]["state"]) == {"0"}


def test_each_group_uses_its_own_rate_and_a_changed_rate_applies():
    ps = params()
    opt = SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.01}], lr=0.1)
    start = [p.data.copy() for p in ps]
    problem.set_gradients(Lossgrad, ps, 0)
    opt.step()
    for p, w, lr in zip(ps, start, (0.1, 0.01, 0.01)):
        np.testing.assert_array_equal(p.data, w - lr * p.grad)
    opt.param_groups[1]["lr"] = 0.0
    frozen = ps[1].data.copy()
    opt.step()
    np.testing.assert_array_equal(ps[1].data, frozen)


@pytest.mark.parametrize("cls,options", [
    (SGD, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    (Adam, {"amsgrad": True, "weight_decay": 0.1}), (AdamW, {"amsgrad": True}),
    (RMSprop, {"momentum": 0.9, "centered": True, "weight_decay": 0.1})])
@pytest.mark.parametrize("maximize", [False, True])
def test_float32_stays_float32_in_place_and_grads_are_never_written(cls, options, maximize):
    ps = params("float32")
    arrays = [p.data for p in ps]
    opt = cls(ps, lr=0.01, maximize=maximize, **options)
    for k in range(3):
        problem.set_gradients(Lossgrad, ps, k)
        grads = [None if p.grad is None else p.grad.copy() for p in ps]
        opt.step()
        for p, g in zip(ps, grads):
            if g is not None:
                np.testing.assert_array_equal(p.grad, g)
    assert all(p.data is a and a.dtype == np.float32 for p, a in zip(ps, arrays))
    assert all(v.dtype == np.float32 for s in opt.state for v in s.values()
               if isinstance(v, np.ndarray))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_with_beta1_0_the_first_moment_is_the_gradient_exactly(dtype):
    # PyTorch's lerp switches form at weight ≥ 0.5 so that weight 1 gives the end point exactly;
    # m + 1·(g − m) misses g by an ulp when m and g differ in scale, which the golden tolerance
    # cannot see
    p = Param(np.zeros(1000, dtype))
    opt = Adam([p], betas=(0.0, 0.9))
    rng = np.random.default_rng(5)
    for scale in (100.0, 0.01, 3.0):
        p.grad = (rng.standard_normal(p.data.shape) * scale).astype(dtype)
        opt.step()
        np.testing.assert_array_equal(opt.state[0]["exp_avg"], p.grad)


# -------------------------------------------------------------------------------------------------
# refused options and inputs


@pytest.mark.parametrize("name,options,match,_", INVALID_OPTIONS,
                         ids=lambda v: v if isinstance(v, str) else "")
def test_invalid_options_are_refused(name, options, match, _):
    cls = {c.__name__: c for c in ALL}[name]
    with pytest.raises(OptionError, match=match):
        cls(params(), **options)


def test_invalid_group_options_are_refused():
    ps = params()
    with pytest.raises(OptionError, match="lr must be ≥ 0"):
        Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": -1.0}])
    with pytest.raises(OptionError, match="Adam has no option learning_rate; valid options: lr, "):
        Adam([{"params": ps, "learning_rate": 0.1}])


@pytest.mark.parametrize("make,error,match", [
    (lambda ps: ps[0], DTypeError, r"got a single Param; wrap it in a list: \[param\]"),
    (lambda ps: [], OptionError, "params is empty"),
    (lambda ps: [Param(np.arange(3))], DTypeError,
     r"param_groups\[0\]\['params'\]\[0\] must have \.data \(a floating NumPy array\).*int64"),
    (lambda ps: [np.zeros(3)], DTypeError, r"must have \.data .*got ndarray"),
    (lambda ps: [[1.0, 2.0]], DTypeError, "got list"),
    (lambda ps: [ps[0], ps[1], ps[0]], OptionError, "appears more than once"),
    (lambda ps: [{"params": ps[:2]}, {"params": ps[1:]}], OptionError, "appears more than once"),
    (lambda ps: [{"lr": 0.1}], OptionError, "a param group must be a dict with a 'params' entry"),
])
def test_invalid_params_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        SGD(make(params()), lr=0.1)


def test_read_only_weights_are_refused():
    p = Param(np.zeros(3))
    p.data.flags.writeable = False
    with pytest.raises(OptionError, match=r"\.data is read-only"):
        SGD([p], lr=0.1)


@pytest.mark.parametrize("grad,error,match", [
    (np.zeros(4), ShapeError,
     r"\[1\]\['params'\]\[0\]\.grad has shape \(4,\), its parameter \(5,\)"),
    (np.zeros(5, np.float32), DTypeError, r"\.grad is float32, its parameter float64; cast"),
    ([0.0] * 5, DTypeError, r"\.grad must be a NumPy array or None, got list"),
])
def test_a_bad_gradient_is_refused_before_any_update(grad, error, match):
    ps = [Param(np.ones(3)), Param(np.ones(5))]
    ps[0].grad, ps[1].grad = np.ones(3), grad
    opt = SGD([{"params": ps[:1]}, {"params": ps[1:]}], lr=0.1)
    with pytest.raises(error, match=match):
        opt.step()
    np.testing.assert_array_equal(ps[0].data, np.ones(3))
