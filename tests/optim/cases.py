"""The golden cases: each optimizer under several option sets, each schedule, the clipping rules;
and the table of refused optimizer options.

A case is declarative — names and options that mean the same thing in lossgrad.optim and
torch.optim — so tests/optim/problem.py runs it on either framework unchanged. The golden index
records each case's description; a case edited after the golden files were written is caught.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

DTYPES = ("float64", "float32")
STEPS = 8


def _plain(value):
    """The JSON form of a case's options (tuples become lists), as the index stores them."""
    return json.loads(json.dumps(value))


@dataclass(frozen=True)
class OptimizerCase:
    """Run ``optimizer(groups, **options)`` (with ``schedule``, if any) for ``steps`` steps.

    groups: ((parameter indices, per-group options), …); empty means one group of all three.
    schedule: ``[name, options]`` as in :func:`tests.optim.problem.build_schedule`.
    """

    id: str
    optimizer: str
    options: dict
    groups: tuple = ()
    schedule: tuple | None = None
    steps: int = STEPS

    def describe(self) -> dict:
        return _plain({"optimizer": self.optimizer, "options": self.options,
                       "groups": self.groups, "schedule": self.schedule, "steps": self.steps})


@dataclass(frozen=True)
class ClipCase:
    """Call ``function(params, **options)`` on the seeded gradients (one parameter without)."""

    id: str
    function: str
    options: dict
    with_inf: bool = False

    def describe(self) -> dict:
        return _plain({"function": self.function, "options": self.options,
                       "with_inf": self.with_inf})


TWO_GROUPS = (((0, 1), {"lr": 0.1}), ((2,), {"lr": 0.02}))

OPTIMIZERS = (
    OptimizerCase("sgd", "SGD", {"lr": 0.1}),
    OptimizerCase("sgd_momentum_dampening", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.2}),
    OptimizerCase("sgd_nesterov_decay", "SGD",
                  {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    OptimizerCase("sgd_maximize", "SGD", {"lr": 0.01, "momentum": 0.5, "maximize": True}),
    OptimizerCase("sgd_groups", "SGD", {"lr": 0.1, "momentum": 0.9},
                  groups=(((0,), {}), ((1, 2), {"lr": 0.01, "weight_decay": 0.1}))),
    OptimizerCase("adam", "Adam", {"lr": 0.01}),
    OptimizerCase("adam_decay_amsgrad", "Adam",
                  {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05,
                   "amsgrad": True}),
    # β₁ < 0.5: PyTorch's lerp takes its other branch (weight 1 − β₁ ≥ 0.5)
    OptimizerCase("adam_low_beta1_maximize", "Adam",
                  {"lr": 0.01, "betas": (0.3, 0.9), "maximize": True}),
    OptimizerCase("adam_groups", "Adam", {"lr": 0.01},
                  groups=(((0, 2), {"betas": (0.5, 0.9)}), ((1,), {"lr": 0.05}))),
    OptimizerCase("adamw", "AdamW", {"lr": 0.01}),
    OptimizerCase("adamw_amsgrad", "AdamW", {"lr": 0.02, "weight_decay": 0.1, "amsgrad": True}),
    OptimizerCase("rmsprop", "RMSprop", {"lr": 0.01}),
    OptimizerCase("rmsprop_momentum_decay", "RMSprop",
                  {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01}),
    OptimizerCase("rmsprop_centered_momentum", "RMSprop",
                  {"lr": 0.005, "alpha": 0.9, "eps": 1e-6, "momentum": 0.8, "centered": True}),
    OptimizerCase("rmsprop_centered_maximize", "RMSprop",
                  {"lr": 0.001, "centered": True, "maximize": True}),
)

_SCHEDULE_STEPS = 16
SCHEDULES = tuple(
    OptimizerCase(f"schedule_{name}", "SGD", {"lr": 0.1, "momentum": 0.9}, TWO_GROUPS, spec,
                  _SCHEDULE_STEPS)
    for name, spec in (
        ("step", ("StepLR", {"step_size": 3, "gamma": 0.5})),
        ("linear_warmup", ("LinearLR", {"start_factor": 0.25, "total_iters": 4})),
        ("linear_decay", ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 5})),
        # past T_max: through the trough (its special branch) and back up
        ("cosine", ("CosineAnnealingLR", {"T_max": 6, "eta_min": 0.001})),
        ("cosine_no_min", ("CosineAnnealingLR", {"T_max": 10})),
        ("warmup_cosine", ("SequentialLR", {
            "schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 3}),
                           ("CosineAnnealingLR", {"T_max": 10, "eta_min": 1e-4})],
            "milestones": [3]})),
        ("warmup_step", ("SequentialLR", {
            "schedulers": [("LinearLR", {"start_factor": 0.5, "total_iters": 2}),
                           ("StepLR", {"step_size": 3, "gamma": 0.3}),
                           ("CosineAnnealingLR", {"T_max": 4})],
            "milestones": [2, 9]})),
    )
)

CLIPS = tuple(
    [ClipCase(f"norm{p}_{which}", "clip_grad_norm_", {"max_norm": m, "norm_type": p})
     for p in (2.0, 1.0, 3.0) for which, m in (("clipped", 1.0), ("unclipped", 1e4))]
    + [ClipCase("norm_inf_clipped", "clip_grad_norm_", {"max_norm": 0.5, "norm_type": "inf"}),
       ClipCase("norm_inf_unclipped", "clip_grad_norm_", {"max_norm": 1e4, "norm_type": "inf"}),
       ClipCase("norm2_infinite_grad", "clip_grad_norm_", {"max_norm": 1.0}, with_inf=True),
       ClipCase("value", "clip_grad_value_", {"clip_value": 0.5}),
       ClipCase("value_infinite_grad", "clip_grad_value_", {"clip_value": 2.0}, with_inf=True)]
)

#: (optimizer, options, what the message says, whether PyTorch refuses it too — test_live checks)
INVALID_OPTIONS = [
    ("SGD", {"lr": -0.1}, "lr must be ≥ 0 and finite, got -0.1", True),
    ("SGD", {"lr": 0.1, "momentum": -0.5}, "momentum must be ≥ 0", True),
    ("SGD", {"lr": 0.1, "weight_decay": -1.0}, "weight_decay must be ≥ 0", True),
    ("SGD", {"lr": 0.1, "nesterov": True},
     "nesterov=True needs momentum > 0 and dampening = 0", True),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True},
     "got momentum=0.9, dampening=0.1", True),
    ("Adam", {"lr": -1e-3}, "lr must be ≥ 0", True),
    ("Adam", {"eps": -1e-8}, "eps must be ≥ 0", True),
    ("Adam", {"betas": (1.0, 0.999)}, r"betas\[0\] must be ≥ 0 and < 1, got 1.0", True),
    ("Adam", {"betas": (0.9, -0.1)}, r"betas\[1\] must be ≥ 0", True),
    ("AdamW", {"betas": (0.9, 1.5)}, r"betas\[1\] must be ≥ 0 and ≤ 1", True),
    ("AdamW", {"weight_decay": -0.01}, "weight_decay must be ≥ 0", True),
    ("RMSprop", {"alpha": -0.1}, "alpha must be ≥ 0", True),
    ("RMSprop", {"momentum": -0.9}, "momentum must be ≥ 0", True),
    ("RMSprop", {"eps": -1.0}, "eps must be ≥ 0", True),
    # lossgrad is stricter where PyTorch accepts nonsense that later gives NaN or silently ignores
    ("SGD", {"lr": float("nan")}, "lr must be ≥ 0 and finite, got nan", False),
    ("Adam", {"lr": float("inf")}, "lr must be ≥ 0 and finite", False),
    ("Adam", {"betas": (0.9,)}, r"betas must be a pair \(beta1, beta2\)", False),
    ("Adam", {"amsgrad": "yes"}, "amsgrad must be True or False, got 'yes'", False),
    ("RMSprop", {"alpha": 1.5}, "alpha must be ≥ 0 and ≤ 1", False),
    ("SGD", {"lr": True}, "lr must be ≥ 0 and finite, got True", False),
]

CASES = OPTIMIZERS + SCHEDULES + CLIPS
BY_ID = {case.id: case for case in CASES}


def params():
    """(case, dtype) pairs for pytest.mark.parametrize, with readable ids."""
    return [pytest.param(case, dtype, id=f"{case.id}-{dtype}")
            for case in CASES for dtype in DTYPES]
