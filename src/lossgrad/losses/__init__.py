"""THE INDEX of lossgrad's losses: every loss on one line, and the registry of names and aliases.

``lossgrad.losses.get(name)`` resolves a lossgrad name or a framework spelling (Keras class or
function name, PyTorch class, ``tf.nn`` function); ``NAMES`` lists every loss.
"""

from __future__ import annotations

from ..errors import OptionError
from .core import LossResult
from .cross_entropy import softmax_cross_entropy, sparse_softmax_cross_entropy

# (imports of the other families go here, one line per module)

#: name → (function, aliases). One entry per loss; aliases are the frameworks' spellings. A Keras
#: name resolves to the loss for Keras's default input (probabilities: from_logits=False).
_INDEX = {
    "softmax_cross_entropy": (softmax_cross_entropy, (
        "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2")),
    "sparse_softmax_cross_entropy": (sparse_softmax_cross_entropy, (
        "CrossEntropyLoss", "cross_entropy", "sparse_softmax_cross_entropy_with_logits",
        "softmax_cross_entropy_with_integer_labels")),
    # --- cross-entropy on probabilities, sigmoid, NLL (cross_entropy.py) ---
    # --- focal, poly-1, generalized CE (focal.py) ---
    # --- hinge / margin family (margin.py) ---
    # --- regression (regression.py) ---
}

NAMES: tuple[str, ...] = tuple(_INDEX)

_ALIASES = {alias.lower(): name for name, (_, aliases) in _INDEX.items() for alias in aliases}


def get(name: str):
    """The loss function for a lossgrad name or any framework spelling (case-insensitive).

    >>> get("CrossEntropyLoss").__name__
    'sparse_softmax_cross_entropy'
    """
    key = name if name in _INDEX else _ALIASES.get(name.lower(), name.lower())
    if key not in _INDEX:
        raise OptionError(f"unknown loss {name!r}; lossgrad.losses.NAMES lists them all")
    return _INDEX[key][0]


__all__ = ["NAMES", "LossResult", "get", *NAMES]
