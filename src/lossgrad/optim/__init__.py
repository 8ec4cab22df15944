"""Optimizers, learning-rate schedules and gradient clipping, with PyTorch's rules and numbers.

The index: every public name, one line each.
"""

from .clipping import clip_grad_norm_, clip_grad_value_  # by total norm / by value, in place
from .optimizers import SGD, Adam, AdamW, Optimizer, RMSprop  # torch.optim's update rules
from .schedules import (  # torch.optim.lr_scheduler's numbers
    CosineAnnealingLR,
    LinearLR,
    LRScheduler,
    SequentialLR,
    StepLR,
    warmup_cosine,
)

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop",
    "LRScheduler", "StepLR", "LinearLR", "CosineAnnealingLR", "SequentialLR", "warmup_cosine",
    "clip_grad_norm_", "clip_grad_value_",
]
