"""The errors and warnings lossgrad raises.

Every error derives from :class:`LossgradError` *and* from the built-in exception a Python user would
already catch, so ``except ValueError`` keeps working. A message names the argument, what was
expected, what was got, the first bad index where there is one, and the fix.
"""

from __future__ import annotations


class LossgradError(Exception):
    """Base class of every error lossgrad raises on purpose."""


class ShapeError(LossgradError, ValueError):
    """Arrays whose shapes do not fit together (lossgrad never broadcasts a target)."""


class DTypeError(LossgradError, TypeError):
    """An array of a dtype the operation does not take (integer predictions, float labels, …)."""


class LabelRangeError(LossgradError, ValueError, IndexError):
    """A class label outside ``[0, C)`` that is not the ``ignore_index``."""


class DomainError(LossgradError, ValueError):
    """A value outside the function's domain: probabilities outside [0, 1], NaN with check_finite, …"""


class OptionError(LossgradError, ValueError):
    """An option outside its valid values (unknown reduction or convention, γ < 0, δ ≤ 0, …)."""


class CorruptFileError(LossgradError, ValueError):
    """A data or checkpoint file whose bytes do not match its declared format."""


class UnsafeFileError(CorruptFileError):
    """A file that would need an unsafe loader (pickle) to read."""


class LossgradWarning(UserWarning):
    """Base class of lossgrad's warnings."""


class ProbabilitiesAsLogitsWarning(LossgradWarning):
    """A logits loss received rows that already look like probabilities (a double softmax)."""
