"""The schedules beyond the golden rates: the warm-up helper, the closed forms the recursions
approximate, state and checks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lossgrad.errors import DTypeError, OptionError
from lossgrad.optim import (
    SGD,
    CosineAnnealingLR,
    LinearLR,
    SequentialLR,
    StepLR,
    warmup_cosine,
)
from tests.optim.problem import Param

BASES = (0.1, 0.02)


def sgd() -> SGD:
    return SGD([{"params": [Param(np.zeros(2))], "lr": BASES[0]},
                {"params": [Param(np.zeros(3))], "lr": BASES[1]}], lr=1.0)


def rates(schedule, steps: int) -> np.ndarray:
    out = [schedule.get_last_lr()]
    for _ in range(steps):
        schedule.step()
        out.append(schedule.get_last_lr())
    return np.array(out)


def test_warmup_cosine_is_the_linear_then_cosine_sequence():
    opt = sgd()
    expected = rates(SequentialLR(opt, [LinearLR(opt, 0.1, 1.0, 3),
                                        CosineAnnealingLR(opt, 9, 1e-4)], [3]), 15)
    np.testing.assert_array_equal(
        rates(warmup_cosine(sgd(), 3, 12, start_factor=0.1, eta_min=1e-4), 15), expected)


@pytest.mark.parametrize("make,closed", [
    (lambda o: StepLR(o, 3, 0.5), lambda b, e: b * 0.5 ** (e // 3)),
    (lambda o: LinearLR(o, 0.2, 0.9, 4), lambda b, e: b * (0.2 + 0.7 * min(e, 4) / 4)),
    (lambda o: CosineAnnealingLR(o, 7, 1e-3),
     lambda b, e: 1e-3 + (b - 1e-3) * (1 + math.cos(math.pi * e / 7)) / 2),
])
def test_the_recursions_follow_their_closed_forms(make, closed):
    # PyTorch's recursive forms drift from the closed forms only by rounding
    got = rates(make(sgd()), 20)
    expected = np.array([[closed(b, e) for b in BASES] for e in range(21)])
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-16)


def test_a_rate_changed_between_steps_carries_on_as_in_pytorch():
    # StepLR multiplies the current rate: a hand-made change persists (PyTorch's semantics)
    opt = sgd()
    schedule = StepLR(opt, step_size=2, gamma=0.5)
    schedule.step()
    opt.param_groups[0]["lr"] = 1.0
    schedule.step()
    assert schedule.get_last_lr()[0] == 0.5


def test_get_last_lr_is_a_copy():
    schedule = StepLR(sgd(), 2)
    schedule.get_last_lr()[0] = 7.0
    assert schedule.get_last_lr() == list(BASES)


def test_a_second_schedule_keeps_the_first_base_rates():
    opt = sgd()
    StepLR(opt, step_size=1, gamma=0.5).step()
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASES)
    assert CosineAnnealingLR(opt, T_max=5).base_lrs == list(BASES)


@pytest.mark.parametrize("make", [
    lambda o: StepLR(o, 2, 0.5), lambda o: LinearLR(o, 0.5, 1.0, 3),
    lambda o: CosineAnnealingLR(o, 4, 0.01), lambda o: warmup_cosine(o, 2, 6, start_factor=0.2),
])
def test_state_dict_round_trip_through_json(make):
    opt_a, opt_b = sgd(), sgd()
    a, b = make(opt_a), make(opt_b)
    rates(a, 3)
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    for group_a, group_b in zip(opt_a.param_groups, opt_b.param_groups):
        group_b["lr"] = group_a["lr"]  # the rate itself is the optimizer's state
    np.testing.assert_array_equal(rates(b, 8), rates(a, 8))


@pytest.mark.parametrize("make,state,match", [
    (lambda o: StepLR(o, 2), {"scheduler": "LinearLR"}, "the state is of 'LinearLR', not StepLR"),
    (lambda o: StepLR(o, 2), {"scheduler": "StepLR", "last_epoch": 3},
     "lacks base_lrs, gamma, last_lr, step_size"),
    (lambda o: warmup_cosine(o, 2, 6),
     {"scheduler": "SequentialLR", "last_epoch": 1, "milestones": [3], "last_lr": [0.1, 0.1],
      "schedulers": []}, "milestones \\[3\\] and 0 schedules; this SequentialLR has \\[2\\] and 2"),
])
def test_a_foreign_state_is_refused(make, state, match):
    with pytest.raises(OptionError, match=match):
        make(sgd()).load_state_dict(state)


@pytest.mark.parametrize("make,match", [
    (lambda o: StepLR(o, 0), "step_size must be an integer ≥ 1, got 0"),
    (lambda o: StepLR(o, 2.0), "step_size must be an integer ≥ 1, got 2.0"),
    (lambda o: StepLR(o, 2, gamma=-0.5), "gamma must be ≥ 0"),
    (lambda o: LinearLR(o, start_factor=0.0), "start_factor must be > 0 and ≤ 1"),
    (lambda o: LinearLR(o, start_factor=1.5), "start_factor must be > 0 and ≤ 1"),
    (lambda o: LinearLR(o, end_factor=-0.1), "end_factor must be ≥ 0 and ≤ 1"),
    (lambda o: LinearLR(o, total_iters=0), "total_iters must be an integer ≥ 1"),
    (lambda o: CosineAnnealingLR(o, T_max=0), "T_max must be an integer ≥ 1"),
    (lambda o: CosineAnnealingLR(o, T_max=5, eta_min=-1e-3), "eta_min must be ≥ 0"),
    (lambda o: SequentialLR(o, [StepLR(o, 2), StepLR(o, 3)], []),
     "milestones must be 1 increasing"),
    (lambda o: SequentialLR(o, [StepLR(o, 2), StepLR(o, 3), StepLR(o, 4)], [5, 5]),
     "milestones must be 2 increasing epochs"),
    (lambda o: SequentialLR(o, [StepLR(o, 2), StepLR(sgd(), 3)], [4]),
     r"schedulers\[1\] drives another optimizer"),
    (lambda o: SequentialLR(o, [], []), "schedulers must be a non-empty list"),
    (lambda o: warmup_cosine(o, 5, 5), r"total_steps must be > warmup_steps \(5\), got 5"),
])
def test_invalid_schedules_are_refused(make, match):
    with pytest.raises(OptionError, match=match):
        make(sgd())


def test_a_schedule_needs_a_lossgrad_optimizer():
    with pytest.raises(DTypeError, match="optimizer must be a lossgrad optimizer, got dict"):
        StepLR({"param_groups": []}, 2)
