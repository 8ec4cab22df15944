"""PyTorch as a framework for the driver in tests/optim/problem.py (torch.optim, lr_scheduler,
torch.nn.utils' clipping).

torch is imported by :func:`load` only, never when this module is imported: pytest's
``--doctest-modules`` imports every module under tests/ in the default, torch-free run. Only
tools/make_optim_golden.py and tests/optim/test_live.py call it. Optimizers run with
``foreach=False``, the single-tensor path PyTorch takes on CPU anyway, whose order of operations
lossgrad follows.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np


@functools.cache
def load():
    """Import torch once; an ImportError propagates (the live tests must fail, not skip)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # import-time notices are not lossgrad's concern
        import torch
    return torch


class Torch:
    """torch.optim as a framework for the driver."""

    def __init__(self):
        self.torch = load()

    def parameter(self, array: np.ndarray):
        return self.torch.tensor(array, requires_grad=True)

    @staticmethod
    def weights(p) -> np.ndarray:
        return p.detach().numpy().copy()

    def set_grad(self, p, grad: np.ndarray | None) -> None:
        p.grad = None if grad is None else self.torch.from_numpy(grad.copy())

    @staticmethod
    def grad(p) -> np.ndarray:
        return p.grad.numpy().copy()

    def optimizer(self, name: str, groups, options: dict):
        return getattr(self.torch.optim, name)(groups, foreach=False, **options)

    def schedule(self, name: str):
        return getattr(self.torch.optim.lr_scheduler, name)

    def clip(self, name: str, params, options: dict):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a deprecation here means the reference moved
            total = getattr(self.torch.nn.utils, name)(params, **options)
        return None if total is None else total.numpy().copy()


def versions() -> dict[str, str]:
    """The versions the golden numbers come from (NumPy too: it draws the weights)."""
    return {"torch": load().__version__, "numpy": np.__version__}
