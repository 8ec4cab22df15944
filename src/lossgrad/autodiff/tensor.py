"""The Tensor, the graph it records, and reverse-mode differentiation over that graph.

A Tensor holds a NumPy array (``.data``) and, when it was computed from tensors that require a
gradient while recording is on, its parents and a vector-Jacobian product (VJP): a function
``vjp(g, out)`` from the cotangent ``g`` of the output ``out`` (passed in, so an op like exp or
softmax reuses its result instead of recomputing it or keeping a reference cycle) to one
cotangent per parent. Primitive ops (:mod:`.ops`, :mod:`.nnops`) make such tensors with
:func:`record`; nothing else creates graph edges. A parent that is not a Tensor (a Python
number, say) is a constant: it gets no cotangent.

Differentiation walks the graph once in reverse topological order — computed iteratively, so
depth is not bounded by Python's recursion limit, and in a deterministic order (it depends only
on the graph: each op's parents in argument order). Broadcasting is undone in one place: every
cotangent is summed down to its parent's shape by :func:`unbroadcast` before it is accumulated.

VJPs are written with Tensor ops, so the backward pass is itself differentiable: with
``create_graph=True`` it is recorded and can be differentiated again (gradients of gradients);
without it the backward pass runs with recording off and costs what NumPy costs.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from typing import Callable, Iterable, Sequence

import numpy as np

from ..errors import DTypeError, ShapeError

_state = threading.local()


def is_grad_enabled() -> bool:
    """Whether new ops are recorded on the graph (True unless inside :func:`no_grad`)."""
    return getattr(_state, "enabled", True)


@contextlib.contextmanager
def _grad_mode(enabled: bool):
    previous = is_grad_enabled()
    _state.enabled = enabled
    try:
        yield
    finally:
        _state.enabled = previous


def no_grad():
    """A context in which ops are not recorded (evaluation, optimizer updates).

    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> with no_grad():
    ...     print((w * 2).requires_grad)
    False
    """
    return _grad_mode(False)


def enable_grad():
    """A context in which ops are recorded again (inside a :func:`no_grad` block)."""
    return _grad_mode(True)


def as_array(value, dtype=None) -> np.ndarray:
    """NumPy arrays keep their dtype; Python floats become float32 and ints int64 (PyTorch's
    defaults), so ``Tensor([1.0, 2.0])`` is float32 like ``torch.tensor([1.0, 2.0])``."""
    if isinstance(value, Tensor):
        value = value.data
    if dtype is not None:
        return np.asarray(value, dtype=np.dtype(dtype))
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    array = np.asarray(value)
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if array.dtype.kind in "OUSc":
        raise DTypeError(f"a Tensor holds real numbers, got {array.dtype} from "
                         f"{type(value).__name__}; pass numbers or a numeric array")
    return array


class Tensor:
    """An array that remembers how it was computed, so gradients can flow back through it.

    data: the NumPy array (optimizers update it in place).
    grad: after :meth:`backward`, ∂(output)/∂(this tensor) as a NumPy array of this shape and dtype,
        accumulated over backward calls (None until then); set only on leaves that require a
        gradient, as in PyTorch.
    requires_grad: whether gradients flow to this tensor; ops on it are recorded.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> print(y.item(), x.grad)
    14.0 [2. 4. 6.]
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_parents", "_vjp", "__weakref__")
    # NumPy defers to Tensor's reflected operators: ndarray + Tensor is a Tensor, not an ndarray.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        self.data = as_array(data, dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad = False
        self.name = name
        self._parents: tuple = ()
        self._vjp: Callable | None = None
        if requires_grad:
            self.requires_grad_()

    @classmethod
    def _wrap(cls, data: np.ndarray) -> Tensor:
        """A constant around an array the caller made (no conversion: the ops' fast path)."""
        t = cls.__new__(cls)
        t.data, t.grad, t.requires_grad, t.name = data, None, False, None
        t._parents, t._vjp = (), None
        return t

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark (or unmark) this tensor as one gradients flow to; returns it (PyTorch's spelling).

        Only floating tensors can require a gradient: DTypeError otherwise.
        """
        if requires_grad and self.data.dtype.kind != "f":
            raise DTypeError(f"only floating tensors can require a gradient, got dtype "
                             f"{self.data.dtype}; convert with .astype(np.float32) first")
        self.requires_grad = bool(requires_grad)
        return self

    # --- array-like attributes -----------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._vjp is None)

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (TensorFlow's and PyTorch's spelling)."""
        return self.data

    def item(self) -> float:
        """The single value as a Python number."""
        if self.data.size != 1:
            raise ShapeError(f"item() needs a single value, got a tensor of shape {self.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def __bool__(self) -> bool:
        # NumPy's rule: one value has a truth value, several are ambiguous (ValueError).
        return bool(self.data)

    # Tensors compare elementwise (ops.install gives them ==), yet stay usable as dict keys and
    # in sets by identity, as PyTorch's tensors are.
    __hash__ = object.__hash__

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        return f"Tensor({body}{grad})"

    # --- differentiation -----------------------------------------------------------------------
    def backward(self, gradient=None) -> None:
        """Accumulate ∂self/∂leaf into ``leaf.grad`` for every leaf that requires a gradient.

        gradient: the cotangent of ``self`` (ones for a single value, required otherwise), as
            ``Tensor.backward`` in PyTorch. The graph is kept, so backward may be called again.
        """
        if not self.requires_grad:
            raise ShapeError("backward() of a tensor that does not require a gradient: no input "
                             "of its computation has requires_grad=True")
        cotangents = _backpropagate([self], [_seed(self, gradient)], create_graph=False,
                                    keep=lambda t: t.is_leaf)
        for leaf, g in cotangents.items():
            g = g.data.astype(leaf.dtype, copy=False)
            leaf.grad = g.copy() if leaf.grad is None else leaf.grad + g


def record(data: np.ndarray, parents: Sequence[Tensor | None], vjp: Callable) -> Tensor:
    """The output of a primitive op: ``data``, on the graph when recording is on and a parent
    requires a gradient.

    parents: the op's inputs in order; anything that is not a Tensor is a constant.
    vjp: (g, out) ↦ one cotangent per parent (a Tensor, or None for no contribution), written
        with Tensor ops; a cotangent may have the broadcast shape: it is summed down to the
        parent's shape centrally.
    """
    out = Tensor._wrap(data if type(data) is np.ndarray else np.asarray(data))
    if getattr(_state, "enabled", True):  # is_grad_enabled(), inlined: this runs once per op
        for p in parents:
            if isinstance(p, Tensor) and p.requires_grad:
                out.requires_grad = True
                out._parents = tuple(parents)
                out._vjp = vjp
                break
    return out


def grad(outputs, inputs, grad_outputs=None, *, create_graph: bool = False,
         allow_unused: bool = False) -> list:
    """∂(Σ outputs·grad_outputs)/∂input for each input, as Tensors (``torch.autograd.grad``).

    create_graph: record the backward pass so the result can be differentiated again.
    allow_unused: an input the outputs do not depend on gives None instead of an error.

    >>> x = Tensor([3.0], requires_grad=True)
    >>> (dx,) = grad([(x * x * x).sum()], [x], create_graph=True)
    >>> (ddx,) = grad([dx.sum()], [x])
    >>> print(dx.data, ddx.data)
    [27.] [18.]
    """
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    seeds = [_seed(o, g) for o, g in zip(outputs, _as_list(grad_outputs) or [None] * len(outputs))]
    wanted = {id(t) for t in inputs}
    found = _backpropagate(outputs, seeds, create_graph=create_graph,
                           keep=lambda t: id(t) in wanted)
    result = []
    for t in inputs:
        if t in found:
            result.append(found[t])
        elif allow_unused:
            result.append(None)
        else:
            raise ShapeError("one of the inputs was not used to compute the outputs; pass "
                             "allow_unused=True to get None for it")
    return result


def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    """Sum a cotangent of a broadcast shape down to ``shape`` (the inverse of broadcasting)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes).reshape(shape)


def _as_list(x) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _seed(output: Tensor, gradient) -> Tensor:
    if gradient is None:
        if output.size != 1:
            raise ShapeError(f"backward of a tensor of shape {output.shape} needs a gradient of "
                             "that shape (or reduce it to one value first)")
        return Tensor(np.ones_like(output.data))
    g = gradient if isinstance(gradient, Tensor) else Tensor(np.asarray(gradient, output.dtype))
    if g.shape != output.shape:
        raise ShapeError(f"gradient of shape {g.shape} does not match the output's {output.shape}")
    return g


def _topological(roots: Iterable[Tensor]) -> list[Tensor]:
    """Every tensor requiring a gradient that the roots depend on, parents before children.

    Iterative depth-first search (no recursion limit) that visits each op's parents in argument
    order: the order depends only on the graph, never on memory addresses, so it — and the
    floating-point order of accumulation — is the same on every run.
    """
    order, done, stack = [], set(), [(r, False) for r in reversed(roots) if r.requires_grad]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        if expanded:
            done.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        for p in reversed(node._parents):
            if isinstance(p, Tensor) and p.requires_grad and id(p) not in done:
                stack.append((p, False))
    return order


#: The size of the block :func:`_keep_freed_memory` frees: above glibc's initial 128 KiB mmap
#: threshold, below the 32 MiB cap of its dynamic adjustment (64-bit).
_ROOMY_HEAP_BYTES = 30 << 20


@functools.cache  # once per process
def _keep_freed_memory() -> None:
    """Make glibc's malloc keep freed memory for reuse instead of returning it to the system.

    A training step allocates tens of MiB of activations, columns and gradients and frees them
    all when its graph goes. glibc returns the freed top of its heap to the system once it
    exceeds twice the largest mmap-allocated block freed so far (the dynamic threshold), so
    every step faulted ~14 MiB back in: ~3400 page faults, 40% of a LeNet-5 step at batch 128
    (measured). Freeing one 30 MiB block raises the thresholds to 30 MiB / 60 MiB, as any
    program that once frees an array that large gets; no page of it is touched. Elsewhere (other
    allocators, thresholds set by MALLOC_* variables) it is one harmless allocation.
    """
    np.empty(_ROOMY_HEAP_BYTES, dtype=np.uint8)  # allocated and freed at once


def _backpropagate(roots, seeds, *, create_graph: bool, keep: Callable) -> dict:
    """Cotangents of the kept tensors (keyed by tensor identity: see _Found)."""
    _keep_freed_memory()
    pending: dict[int, Tensor] = {}
    for r, s in zip(roots, seeds):
        if r.requires_grad:
            pending[id(r)] = pending[id(r)] + s if id(r) in pending else s
    kept = _Found()
    # A VJP meets the same infinities as its forward op (1/0 at log 0, 0·inf at a masked entry):
    # silent, as the forward ops are.
    with _grad_mode(create_graph), np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for node in reversed(_topological(roots)):
            g = pending.pop(id(node), None)
            if g is None:
                continue
            if keep(node):
                kept[node] = g
            if node._vjp is None:
                continue
            for parent, c in zip(node._parents, node._vjp(g, node)):
                if c is None or not isinstance(parent, Tensor) or not parent.requires_grad:
                    continue
                c = unbroadcast(c if isinstance(c, Tensor) else Tensor(c), parent.shape)
                key = id(parent)
                pending[key] = pending[key] + c if key in pending else c
    return kept


class _Found(dict):
    """A dict keyed by tensor identity (Tensors compare elementwise, so they cannot be keys)."""

    def __setitem__(self, tensor, value):
        super().__setitem__(id(tensor), (tensor, value))

    def __getitem__(self, tensor):
        return super().__getitem__(id(tensor))[1]

    def __contains__(self, tensor):
        return super().__contains__(id(tensor))

    def items(self):
        return list(super().values())

