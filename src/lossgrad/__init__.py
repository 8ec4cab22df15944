"""lossgrad: neural-network losses with exact, stable values and closed-form gradients."""

from . import losses
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
from .losses import LossResult
from .numerics import log_sigmoid, log_softmax, logsumexp, one_hot, sigmoid, softmax, softmax_jacobian

__version__ = "0.1.0"

__all__ = [
    "losses", "LossResult",
    "log_sigmoid", "log_softmax", "logsumexp", "one_hot", "sigmoid", "softmax", "softmax_jacobian",
    "LossgradError", "ShapeError", "DTypeError", "LabelRangeError", "DomainError", "OptionError",
    "CorruptFileError", "UnsafeFileError", "LossgradWarning", "ProbabilitiesAsLogitsWarning",
]
