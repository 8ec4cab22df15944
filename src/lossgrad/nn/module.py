"""Module, Parameter and Sequential: the containers layers and models are built from.

A :class:`Module` registers every :class:`Parameter` and every sub-module assigned to one of its
attributes, in assignment order, as PyTorch's ``torch.nn.Module`` does. Parameter names are
PyTorch's dotted paths (``conv1.weight``, ``0.bias``), so a lossgrad state dict loads into the
PyTorch module of the same structure with ``load_state_dict`` and back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from ..autodiff.tensor import Tensor
from ..checkpoint import check_state, compare_state
from ..errors import DTypeError, OptionError, ShapeError


class Parameter(Tensor):
    """A Tensor that is a trainable weight of a Module: it requires a gradient by default.

    >>> Parameter(np.zeros(2))
    Parameter([0., 0.], requires_grad=True)
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` left out: names the model has that the state lacked,
    and names the state had that the model lacks (both empty under strict=True)."""

    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class of layers and models.

    Subclasses call ``super().__init__()`` first, assign Parameters and sub-modules as attributes,
    and define ``forward``; calling the module calls ``forward``.

    >>> class Scale(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.factor = Parameter(np.array([2.0]))
    ...     def forward(self, x):
    ...         return x * self.factor
    >>> m = Scale()
    >>> print(m(Tensor(np.array([1.0, 3.0]))).numpy(), list(m.state_dict()))
    [2. 6.] ['factor']
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # --- registration ----------------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        registry = self.__dict__.get("_parameters")
        if registry is None:
            raise AttributeError(f"{type(self).__name__}.{name}: call super().__init__() before "
                                 "assigning attributes to a Module")
        if name in registry and isinstance(value, Tensor) and not isinstance(value, Parameter):
            # Rebinding a weight to a computed tensor would silently drop it from training.
            raise DTypeError(f"{type(self).__name__}.{name} is a Parameter; assign a Parameter (or "
                             "None to remove it), or update it in place through .data")
        # A name rebound to the same kind keeps its place in the order, as in PyTorch.
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            registry[name] = value
        elif isinstance(value, Module):
            registry.pop(name, None)
            self._modules[name] = value
        else:
            registry.pop(name, None)
            self._modules.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # --- parameters and state ----------------------------------------------------------------------
    def _all_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every (dotted name, parameter), a shared parameter once per name."""
        for name, p in self._parameters.items():
            yield prefix + name, p
        for name, child in self._modules.items():
            yield from child._all_parameters(f"{prefix}{name}.")

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs in registration order; a parameter shared by several
        modules is listed once, under its first name (as PyTorch)."""
        seen, pairs = set(), []
        for name, p in self._all_parameters():
            if id(p) not in seen:
                seen.add(id(p))
                pairs.append((name, p))
        return pairs

    def parameters(self) -> list[Parameter]:
        """The parameters in registration order, each once (a list, so it can be reused)."""
        return [p for _, p in self.named_parameters()]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Name → a copy of the parameter's array, with PyTorch's names (a shared parameter under
        each of its names, as PyTorch). Copies, so later training does not change a saved state."""
        return {name: p.data.copy() for name, p in self._all_parameters()}

    def load_state_dict(self, state, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the parameters, in place (optimizers keep their references).

        strict=True: the names, shapes and dtypes must match exactly; one ShapeError lists every
        missing, unexpected, mis-shaped and mis-typed name. strict=False: missing and unexpected
        names are returned instead, shapes and dtypes of the common names must still match.
        Nothing is copied unless everything that must fit does.
        """
        got = {name: np.asarray(value) for name, value in state.items()}
        mine = dict(self._all_parameters())
        if strict:
            check_state({name: p.data for name, p in mine.items()}, got)
        else:
            diff = compare_state({name: p.data for name, p in mine.items() if name in got},
                                 {name: got[name] for name in got if name in mine})
            if not diff.fits:
                raise ShapeError(f"the state does not fit: {diff.describe()}; load a state of the "
                                 "same architecture, or reshape or cast its entries first")
        for name, p in mine.items():
            if name in got:
                p.data[...] = got[name]
        return IncompatibleKeys([name for name in mine if name not in got],
                                [name for name in got if name not in mine])

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``grad = None``, PyTorch's default)."""
        for p in self.parameters():
            p.grad = None

    # --- modes and calls ---------------------------------------------------------------------------
    def children(self) -> list[Module]:
        """The direct sub-modules in registration order."""
        return list(self._modules.values())

    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active) on this module and every sub-module; returns self."""
        if not isinstance(mode, bool):
            raise OptionError(f"train(mode) takes True or False, got {mode!r}")
        object.__setattr__(self, "training", mode)
        for child in self._modules.values():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (Dropout is the identity); returns self."""
        return self.train(False)

    def forward(self, *args, **kwargs):
        """The computation; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of this module's repr."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied in order; their names are "0", "1", … as in ``torch.nn.Sequential``.

    Indexable (``seq[0]``, ``seq[-1]``, a slice gives a Sequential), iterable, with ``len``.

    >>> from lossgrad.nn import Dense, ReLU
    >>> net = Sequential(Dense(2, 3), ReLU(), Dense(3, 1))
    >>> [name for name, _ in net.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, *modules: Module):
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise DTypeError(f"Sequential: argument {i} is a {type(module).__name__}, not a "
                                 "Module; wrap functions in a Module subclass")
            setattr(self, str(i), module)

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        return modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))

    def forward(self, x):
        """Each module applied to the previous one's output."""
        for module in self._modules.values():
            x = module(x)
        return x
