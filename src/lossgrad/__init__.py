"""lossgrad: neural-network losses with exact, stable values and closed-form gradients."""

from . import autodiff, checkpoint, data, losses, nn, optim, train
from .autodiff import GradientTape, Tensor, Variable, enable_grad, grad, no_grad
from .errors import (
    CorruptFileError,
    DomainError,
    DTypeError,
    LabelRangeError,
    LossgradError,
    LossgradWarning,
    OptionError,
    ProbabilitiesAsLogitsWarning,
    ShapeError,
    UnsafeFileError,
)
from .losses import LossResult, kernels
from .losses.sparsemax import sparsemax
from .train import History, evaluate, fit
from .numerics import log_sigmoid, log_softmax, logsumexp, one_hot, sigmoid, softmax, softmax_jacobian

__version__ = "0.1.0"

__all__ = [
    "losses", "LossResult", "kernels", "autodiff", "nn", "optim", "data", "checkpoint", "train",
    "fit", "evaluate", "History",
    "Tensor", "Variable", "GradientTape", "grad", "no_grad", "enable_grad",
    "log_sigmoid", "log_softmax", "logsumexp", "one_hot", "sigmoid", "softmax", "softmax_jacobian",
    "sparsemax",
    "LossgradError", "ShapeError", "DTypeError", "LabelRangeError", "DomainError", "OptionError",
    "CorruptFileError", "UnsafeFileError", "LossgradWarning", "ProbabilitiesAsLogitsWarning",
]
