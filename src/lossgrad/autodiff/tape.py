"""TensorFlow's door into the engine: ``GradientTape`` and ``Variable``.

The tape is a façade over the same graph ``backward()`` walks: ``watch`` marks a tensor as
requiring a gradient, and ``gradient`` asks the engine for the cotangents of the sources.

How it differs from TensorFlow: the engine records every op on a tensor that requires a
gradient, inside a tape's ``with`` block or not, so a gradient can also reach a source through
ops computed outside the block (TensorFlow would return None for them), and a watched tensor
stays watched after the block (``requires_grad`` stays True). ``stop_recording()`` turns
recording off for everyone (it is :func:`~lossgrad.autodiff.no_grad`).
"""

from __future__ import annotations

import threading

import numpy as np

from ..errors import OptionError
from .tensor import Tensor, grad, is_grad_enabled, no_grad

UNCONNECTED = ("none", "zero")
_active = threading.local()  # the tapes whose `with` block is running, innermost last


class Variable(Tensor):
    """``tf.Variable``: a Tensor that requires a gradient (when trainable and floating: an integer
    variable gets None, as in TensorFlow) and is updated in place.

    Updating a variable between a forward pass and its gradient changes the gradient (the VJPs
    read the current values, as PyTorch's in-place rule warns): assign after ``gradient``.

    >>> v = Variable([1.0, 2.0])
    >>> _ = v.assign_sub([0.5, 0.5])
    >>> print(v.numpy(), v.requires_grad, v.dtype)
    [0.5 1.5] True float32
    """

    __slots__ = ("trainable",)

    def __init__(self, initial_value, trainable: bool = True, name: str | None = None,
                 dtype=None):
        super().__init__(initial_value, dtype=dtype, name=name)
        self.trainable = bool(trainable)
        if trainable and self.dtype.kind == "f":
            self.requires_grad_()

    def assign(self, value) -> Variable:
        """Set the values (same shape), keeping the array: optimizers and views see the update."""
        with no_grad():
            self.data[...] = np.asarray(value.data if isinstance(value, Tensor) else value)
        return self

    def assign_add(self, delta) -> Variable:
        """Add ``delta`` in place."""
        with no_grad():
            self.data += np.asarray(delta.data if isinstance(delta, Tensor) else delta)
        return self

    def assign_sub(self, delta) -> Variable:
        """Subtract ``delta`` in place."""
        with no_grad():
            self.data -= np.asarray(delta.data if isinstance(delta, Tensor) else delta)
        return self

    def __repr__(self) -> str:
        return "Variable" + super().__repr__().removeprefix("Tensor")


class GradientTape:
    """``tf.GradientTape(persistent=False, watch_accessed_variables=True)``.

    persistent: allow several ``gradient`` calls; otherwise a second call raises RuntimeError.
    watch_accessed_variables: trainable Variables are sources without ``watch``; with False, a
        Variable that was not watched gets no gradient (None, or zeros with
        unconnected_gradients="zero").

    A ``gradient`` call made while a tape is recording (nested tapes, or inside the block)
    records its own computation, so it can be differentiated again.

    >>> x = Variable(3.0)
    >>> with GradientTape() as tape:
    ...     y = x * x
    >>> print(tape.gradient(y, x).numpy())
    6.0
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._watched: dict[int, Tensor] = {}
        self._used = False

    def __enter__(self) -> GradientTape:
        _stack().append(self)
        return self

    def __exit__(self, *exc) -> None:
        _stack().remove(self)

    def watch(self, tensor) -> None:
        """Make ``tensor`` (or every tensor in a nested list, tuple or dict) a source: it now
        requires a gradient, so the ops on it are recorded."""
        for t in _flatten(tensor):
            self._watched[id(t)] = t.requires_grad_()

    def watched_variables(self) -> tuple:
        """The tensors passed to ``watch``, in order."""
        return tuple(self._watched.values())

    def stop_recording(self):
        """A block in which ops are not recorded (:func:`~lossgrad.autodiff.no_grad`)."""
        return no_grad()

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients: str = "none"):
        """∂(Σ target)/∂source for each source, in the sources' structure (a single tensor, a
        list, tuple or dict of them): None for a source the target does not depend on, or
        zeros with unconnected_gradients="zero".

        target: a Tensor or a list of them (their gradients add up).
        output_gradients: the targets' cotangents (ones when None: the gradient of their sum).
        """
        if unconnected_gradients not in UNCONNECTED:
            raise OptionError(f"unconnected_gradients={unconnected_gradients!r} is not valid; "
                              "choose 'none' or 'zero'")
        if self._used and not self.persistent:
            raise RuntimeError("a non-persistent GradientTape can compute only one set of "
                               "gradients; create it with GradientTape(persistent=True) to call "
                               "gradient() more than once")
        self._used = True
        flat = _flatten(sources)
        found = self._cotangents(_flatten(target), output_gradients, flat)
        if unconnected_gradients == "zero":
            found = [Tensor(np.zeros_like(s.data)) if g is None else g
                     for s, g in zip(flat, found)]
        return _unflatten(sources, iter(found))

    def _cotangents(self, targets, output_gradients, sources) -> list:
        live = [s for s in sources if self._is_source(s)]
        seeds = None if output_gradients is None else _flatten(output_gradients)
        if seeds is None:
            seeds = [Tensor(np.ones_like(t.data)) for t in targets]
        pairs = [(t, s) for t, s in zip(targets, seeds) if t.requires_grad]
        found = grad([t for t, _ in pairs], live, [s for _, s in pairs],
                     create_graph=bool(_stack()) and is_grad_enabled(),
                     allow_unused=True) if pairs and live else [None] * len(live)
        by_source = dict(zip(map(id, live), found))
        return [by_source.get(id(s)) for s in sources]

    def _is_source(self, tensor: Tensor) -> bool:
        if not tensor.requires_grad:
            return False
        return (id(tensor) in self._watched or self.watch_accessed_variables
                or not isinstance(tensor, Variable))


def _stack() -> list:
    if not hasattr(_active, "tapes"):
        _active.tapes = []
    return _active.tapes


def _flatten(structure) -> list:
    if isinstance(structure, dict):
        return [t for value in structure.values() for t in _flatten(value)]
    if isinstance(structure, (list, tuple)):
        return [t for value in structure for t in _flatten(value)]
    if not isinstance(structure, Tensor):
        raise TypeError(f"expected a Tensor (or a list, tuple or dict of them), got "
                        f"{type(structure).__name__}; wrap arrays with tf.constant or Variable")
    return [structure]


def _unflatten(structure, values):
    if isinstance(structure, dict):
        return {key: _unflatten(value, values) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_unflatten(value, values) for value in structure)
    return next(values)
