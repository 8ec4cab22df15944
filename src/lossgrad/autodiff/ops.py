"""Primitive ops: each computes its result and defines its vector-Jacobian product in one place.

An op takes Tensors (or constants: Python numbers, NumPy arrays, lists), computes the output with
NumPy, and returns ``record(out, parents, vjp)``; ``vjp(g, out)`` gives one cotangent per parent,
written with Tensor ops so gradients of gradients work, and skips the parents that need none
(``x @ w`` with data ``x`` computes only ``∂w``). Broadcasting is undone centrally
(tensor.unbroadcast): a VJP may return a cotangent of the broadcast shape.

Dtypes follow NumPy: a Python number takes the tensor's dtype (``x * 2.0`` stays float32), arrays
keep theirs. Where the mathematics gives ±inf or NaN (log 0, 1/0, √x for x < 0, exp overflow) an
op returns it silently, as PyTorch does, instead of NumPy's RuntimeWarning.

Subgradients at kinks (each pinned by a test): |x|′(0) = 0; max/min over an axis split the
gradient evenly among tied entries (``torch.amax``); maximum/minimum of two tensors give half to
each at a tie (``torch.maximum``); clip passes the gradient at the bounds themselves
(``torch.clamp``: lo ≤ x ≤ hi).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .tensor import Tensor, record

#: What an op keeps as a scalar constant (NumPy's weak-scalar rule then gives it the tensor's
#: dtype); anything else that is not a Tensor becomes a constant Tensor.
_SCALARS = (int, float, np.number, np.bool_)
_KEPT = (Tensor, *_SCALARS)
_QUIET = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


def tensor(x) -> Tensor:
    """x as a Tensor: a Tensor as it is, anything else as a constant (Tensor's dtype rules).

    >>> tensor([1.0, 2.0]).dtype
    dtype('float32')
    """
    return x if isinstance(x, Tensor) else Tensor(x)


def _operand(x):
    return x if isinstance(x, _KEPT) else Tensor(x)


def _operands(a, b):
    """Both operands, with at least one a Tensor (two plain numbers: the first is wrapped)."""
    a, b = _operand(a), _operand(b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    return a, b


def _d(x):
    return x.data if isinstance(x, Tensor) else x


def _needs(x) -> bool:
    """Whether the VJP must produce a cotangent for this parent."""
    return isinstance(x, Tensor) and x.requires_grad


def _constant(array) -> Tensor:
    return Tensor._wrap(np.asarray(array))


# --- arithmetic --------------------------------------------------------------------------------


def add(a, b) -> Tensor:
    """a + b, broadcasting."""
    a, b = _operands(a, b)
    return record(_d(a) + _d(b), (a, b), lambda g, out: (g, g))


def sub(a, b) -> Tensor:
    """a − b, broadcasting."""
    a, b = _operands(a, b)
    return record(_d(a) - _d(b), (a, b), lambda g, out: (g, -g))


def mul(a, b) -> Tensor:
    """a · b, broadcasting."""
    a, b = _operands(a, b)
    return record(_d(a) * _d(b), (a, b), lambda g, out: (g * b if _needs(a) else None,
                                                         g * a if _needs(b) else None))


def div(a, b) -> Tensor:
    """a / b: ∂a = g/b, ∂b = −g·(a/b)/b."""
    a, b = _operands(a, b)
    with np.errstate(**_QUIET):
        data = _d(a) / _d(b)
    return record(data, (a, b), lambda g, out: (g / b if _needs(a) else None,
                                                -(g * out) / b if _needs(b) else None))


def neg(a) -> Tensor:
    """−a."""
    a = tensor(a)
    return record(-a.data, (a,), lambda g, out: (-g,))


def pow(a, b) -> Tensor:  # noqa: A001 - Tensor.pow's name
    """a ** b: ∂a = g·b·a^(b−1) (0 where b = 0, as PyTorch), ∂b = g·a^b·log a (0 where a = 0
    and b ≥ 0, the limit along the positive axis)."""
    a, b = _operands(a, b)
    with np.errstate(**_QUIET):
        data = _d(a) ** _d(b)

    def vjp(g, out):
        da = db = None
        if _needs(a):
            slope = b * a ** (b - 1)
            if isinstance(b, Tensor) or b == 0:  # b·a^(b−1) is 0·inf at a = 0 when b = 0
                slope = where(np.equal(_d(b), 0), 0, slope)
            da = g * slope
        if _needs(b):
            at_zero = np.equal(_d(a), 0) & np.greater_equal(_d(b), 0)
            db = where(at_zero, 0, g * out * log(a))
        return da, db

    return record(data, (a, b), vjp)


def abs(a) -> Tensor:  # noqa: A001 - Tensor.abs's name
    """|a|, with the subgradient 0 at 0 (PyTorch's sign(0) = 0)."""
    a = tensor(a)
    return record(np.abs(a.data), (a,), lambda g, out: (g * np.sign(a.data),))


def matmul(a, b) -> Tensor:
    """a @ b for 1-d and batched operands, as np.matmul (a 1-d operand is a row or column vector
    made 2-d and squeezed back, so the VJP handles matrices only)."""
    a, b = tensor(a), tensor(b)
    if a.ndim == 1 or b.ndim == 1:
        vectors = ((-2, a.ndim == 1), (-1, b.ndim == 1))
        product = matmul(unsqueeze(a, 0) if a.ndim == 1 else a,
                         unsqueeze(b, -1) if b.ndim == 1 else b)
        return squeeze(product, tuple(axis for axis, vector in vectors if vector))
    return record(a.data @ b.data, (a, b),
                  lambda g, out: (g @ swapaxes(b, -1, -2) if a.requires_grad else None,
                                  swapaxes(a, -1, -2) @ g if b.requires_grad else None))


# --- comparisons: Tensors of bools, never on the graph -----------------------------------------


def _comparison(ufunc):
    def compare(a, b) -> Tensor:
        return _constant(ufunc(_d(a), _d(b)))

    compare.__name__ = ufunc.__name__
    compare.__doc__ = f"Elementwise ``np.{ufunc.__name__}``: a Tensor of bools, off the graph."
    return compare


less, less_equal, greater, greater_equal, equal, not_equal = map(_comparison, (
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal))


# --- elementwise functions ---------------------------------------------------------------------


def exp(a) -> Tensor:
    """e^a: ∂ = g·e^a (the output, reused)."""
    a = tensor(a)
    with np.errstate(over="ignore"):
        data = np.exp(a.data)
    return record(data, (a,), lambda g, out: (g * out,))


def log(a) -> Tensor:
    """Natural log: ∂ = g/a; log 0 = −inf, log of a negative number = NaN."""
    a = tensor(a)
    with np.errstate(**_QUIET):
        data = np.log(a.data)
    return record(data, (a,), lambda g, out: (g / a,))


def sqrt(a) -> Tensor:
    """√a: ∂ = g/(2√a) (inf at 0, as PyTorch)."""
    a = tensor(a)
    with np.errstate(**_QUIET):
        data = np.sqrt(a.data)
    return record(data, (a,), lambda g, out: (g / (2 * out),))


def tanh(a) -> Tensor:
    """tanh a: ∂ = g·(1 − tanh²a)."""
    a = tensor(a)
    return record(np.tanh(a.data), (a,), lambda g, out: (g * (1 - out * out),))


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def erf(a) -> Tensor:
    """The error function: ∂ = g·(2/√π)·e^(−a²)."""
    a = tensor(a)
    return record(special.erf(a.data), (a,),
                  lambda g, out: (g * (_TWO_OVER_SQRT_PI * exp(-(a * a))),))


# --- reductions --------------------------------------------------------------------------------


def _axes(axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence) as non-negative axes (NumPy has checked them)."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(int(i) % ndim for i in axes)


def _kept_shape(shape: tuple, axis) -> tuple:
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(g: Tensor, shape: tuple, axis, keepdims: bool) -> Tensor:
    """A reduction's cotangent back on the input's shape (broadcast along the reduced axes)."""
    if not keepdims:
        g = g.reshape(_kept_shape(shape, axis))
    return g.broadcast_to(shape)


def _axis_arg(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def sum(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 - Tensor.sum's name
    """Σ over ``axis`` (every axis when None)."""
    a, axis = tensor(a), _axis_arg(axis)
    return record(np.sum(a.data, axis=axis, keepdims=keepdims), (a,),
                  lambda g, out: (_spread(g, a.shape, axis, keepdims),))


def mean(a, axis=None, keepdims: bool = False) -> Tensor:
    """The mean over ``axis`` (every axis when None); NaN over an empty axis, as PyTorch."""
    a, axis = tensor(a), _axis_arg(axis)
    count = math.prod(a.shape[i] for i in _axes(axis, a.ndim))
    if count:
        data = np.mean(a.data, axis=axis, keepdims=keepdims)
    else:
        with np.errstate(invalid="ignore"):
            data = np.sum(a.data, axis=axis, keepdims=keepdims) / a.dtype.type(0)
    return record(data, (a,),
                  lambda g, out: (_spread(g, a.shape, axis, keepdims) * (1.0 / (count or 1)),))


def _extremum(reduce, a, axis, keepdims: bool) -> Tensor:
    a, axis = tensor(a), _axis_arg(axis)

    def vjp(g, out):
        hit = a.data == out.data.reshape(_kept_shape(a.shape, axis))
        with np.errstate(**_QUIET):  # a slice holding NaN has no hit: its share is NaN
            share = (hit / np.sum(hit, axis=axis, keepdims=True)).astype(g.dtype, copy=False)
        return (_spread(g, a.shape, axis, keepdims) * share,)

    return record(reduce(a.data, axis=axis, keepdims=keepdims), (a,), vjp)


def max(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 - Tensor.max's name
    """The maximum over ``axis`` (``torch.amax``: values only). Tied maxima share the gradient
    equally (each of m ties gets g/m), so the gradient is a subgradient whatever the ties."""
    return _extremum(np.max, a, axis, keepdims)


def min(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 - Tensor.min's name
    """The minimum over ``axis`` (``torch.amin``); tied minima share the gradient equally."""
    return _extremum(np.min, a, axis, keepdims)


# --- shapes ------------------------------------------------------------------------------------


def _shape_arg(shape) -> tuple:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _back_to(a: Tensor):
    """The VJP of every op that only rearranges the same entries in a new shape."""
    return lambda g, out: (g.reshape(a.shape),)


def reshape(a, *shape) -> Tensor:
    """The same entries in a new shape (``reshape(2, 3)`` or ``reshape((2, 3))``; −1 inferred)."""
    a = tensor(a)
    return record(a.data.reshape(_shape_arg(shape)), (a,), _back_to(a))


def flatten(a, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Axes start_dim … end_dim merged into one (``torch.flatten``)."""
    a = tensor(a)
    if a.ndim == 0:
        return reshape(a, 1)
    start, end = start_dim % a.ndim, end_dim % a.ndim
    return reshape(a, a.shape[:start] + (-1,) + a.shape[end + 1:])


def unsqueeze(a, axis: int) -> Tensor:
    """A new axis of length 1 at ``axis`` (``np.expand_dims``)."""
    a = tensor(a)
    return record(np.expand_dims(a.data, axis), (a,), _back_to(a))


def squeeze(a, axis=None) -> Tensor:
    """Axes of length 1 removed (only ``axis`` when given)."""
    a = tensor(a)
    return record(np.squeeze(a.data, axis=_axis_arg(axis)), (a,), _back_to(a))


def permute(a, *axes) -> Tensor:
    """Axes reordered (``np.transpose``; reversed when none are given)."""
    a = tensor(a)
    axes = _shape_arg(axes) or tuple(reversed(range(a.ndim)))
    inverse = tuple(np.argsort(axes).tolist())
    return record(np.transpose(a.data, axes), (a,), lambda g, out: (permute(g, inverse),))


def swapaxes(a, axis1: int, axis2: int) -> Tensor:
    """Two axes exchanged (``np.swapaxes``)."""
    a = tensor(a)
    return record(np.swapaxes(a.data, axis1, axis2), (a,),
                  lambda g, out: (swapaxes(g, axis1, axis2),))


def transpose(a, dim0: int, dim1: int) -> Tensor:
    """Two axes exchanged: ``torch.transpose(a, dim0, dim1)``, not NumPy's permutation — use
    :func:`permute` (or ``.T`` to reverse every axis) for that."""
    return swapaxes(a, dim0, dim1)


def broadcast_to(a, shape) -> Tensor:
    """A read-only broadcast view; the VJP is the central unbroadcast (the cotangent passes
    through as it is)."""
    a = tensor(a)
    return record(np.broadcast_to(a.data, shape), (a,), lambda g, out: (g,))


def concat(tensors, axis: int = 0) -> Tensor:
    """Tensors joined along an existing axis (``np.concatenate``, ``tf.concat``)."""
    tensors = [tensor(t) for t in tensors]
    data = np.concatenate([t.data for t in tensors], axis=axis)
    axis = axis % data.ndim
    ends = np.cumsum([t.shape[axis] for t in tensors]).tolist()
    lead = (slice(None),) * axis

    def vjp(g, out):
        return tuple(g[lead + (slice(end - t.shape[axis], end),)] if t.requires_grad else None
                     for t, end in zip(tensors, ends))

    return record(data, tuple(tensors), vjp)


def stack(tensors, axis: int = 0) -> Tensor:
    """Tensors of one shape joined along a new axis (``np.stack``)."""
    return concat([unsqueeze(t, axis) for t in tensors], axis=axis)


def pad(a, pad_width, value=0) -> Tensor:
    """Constant padding (``np.pad(mode="constant")``): pad_width is an int, a (before, after)
    pair, or one pair per axis."""
    a = tensor(a)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (a.ndim, 2))
    data = np.pad(a.data, widths, constant_values=value)
    inside = tuple(slice(int(before), int(before) + n) for (before, _), n in zip(widths, a.shape))
    return record(data, (a,), lambda g, out: (g[inside],))


# --- indexing ----------------------------------------------------------------------------------


def _index_part(i):
    if isinstance(i, Tensor):
        return i.data
    return np.asarray(i) if isinstance(i, list) else i


def _index(index):
    """An index with Tensors and lists as arrays (NumPy's meaning otherwise unchanged)."""
    return tuple(map(_index_part, index)) if isinstance(index, tuple) else _index_part(index)


def _may_repeat(index) -> bool:
    """Integer arrays can pick an entry twice; slices, integers and boolean masks cannot."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


def getitem(a, index) -> Tensor:
    """a[index]: basic slices, integers, integer arrays and boolean masks, as NumPy. The VJP
    scatters the cotangent back, adding where an integer array repeats an entry."""
    a, index = tensor(a), _index(index)
    repeats = _may_repeat(index)
    return record(a.data[index], (a,),
                  lambda g, out: (scatter_add(g, index, a.shape, repeats=repeats),))


def scatter_add(values, index, shape, *, repeats: bool = True) -> Tensor:
    """zeros(shape) with ``values`` added at ``index`` (``np.add.at``); the VJP is the gather
    ``g[index]``. repeats=False promises no entry is indexed twice (a plain assignment, faster)."""
    values, index = tensor(values), _index(index)
    data = np.zeros(shape, dtype=values.dtype)
    if repeats:
        np.add.at(data, index, values.data)
    else:
        data[index] = values.data
    return record(data, (values,), lambda g, out: (g[index],))


# --- selection ---------------------------------------------------------------------------------


def where(condition, a, b) -> Tensor:
    """a where ``condition`` holds, else b (the condition is a constant)."""
    c = np.asarray(_d(condition), dtype=bool)
    a, b = _operands(a, b)
    return record(np.where(c, _d(a), _d(b)), (a, b),
                  lambda g, out: (where(c, g, 0) if _needs(a) else None,
                                  where(c, 0, g) if _needs(b) else None))


def _pairwise(ufunc, wins, a, b) -> Tensor:
    a, b = _operands(a, b)

    def vjp(g, out):
        ad, bd = _d(a), _d(b)
        share = np.where(wins(ad, bd), 1.0, np.where(ad == bd, 0.5, 0.0)).astype(g.dtype)
        return (g * share if _needs(a) else None), (g * (1 - share) if _needs(b) else None)

    return record(ufunc(_d(a), _d(b)), (a, b), vjp)


def maximum(a, b) -> Tensor:
    """The elementwise larger of a and b; at a tie each gets half the gradient (PyTorch)."""
    return _pairwise(np.maximum, np.greater, a, b)


def minimum(a, b) -> Tensor:
    """The elementwise smaller of a and b; at a tie each gets half the gradient (PyTorch)."""
    return _pairwise(np.minimum, np.less, a, b)


def clip(a, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's clamp(min, max)
    """a limited to [min, max] (either may be None); the gradient passes where
    min ≤ a ≤ max, bounds included (``torch.clamp``)."""
    a = tensor(a)

    def vjp(g, out):
        inside = np.ones(a.shape, dtype=bool)
        if min is not None:
            inside &= a.data >= min
        if max is not None:
            inside &= a.data <= max
        return (g * inside,)

    return record(np.clip(a.data, min, max), (a,), vjp)


def astype(a, dtype) -> Tensor:
    """The entries as ``dtype``; the gradient is cast back. A cast to an integer or bool dtype
    leaves the graph (its gradient would be zero everywhere)."""
    a, dtype = tensor(a), np.dtype(dtype)
    data = a.data.astype(dtype, copy=False)
    if dtype.kind != "f":
        return _constant(data)
    return record(data, (a,), lambda g, out: (g.astype(a.dtype),))


# --- Tensor's operators and methods ------------------------------------------------------------


def _reflected(op):
    return lambda self, other: op(other, self)


def install(cls) -> None:
    """Give Tensor its operators and methods (defined here, beside their VJPs)."""
    operators = {
        "__add__": add, "__radd__": _reflected(add), "__sub__": sub, "__rsub__": _reflected(sub),
        "__mul__": mul, "__rmul__": _reflected(mul), "__truediv__": div,
        "__rtruediv__": _reflected(div), "__pow__": pow, "__rpow__": _reflected(pow),
        "__matmul__": matmul, "__rmatmul__": _reflected(matmul), "__neg__": neg,
        "__abs__": abs, "__getitem__": getitem,
        "__lt__": less, "__le__": less_equal, "__gt__": greater, "__ge__": greater_equal,
        "__eq__": equal, "__ne__": not_equal,
    }
    methods = [add, sub, mul, div, pow, abs, matmul, exp, log, sqrt, tanh, erf, sum, mean, max,
               min, reshape, flatten, unsqueeze, squeeze, permute, swapaxes, transpose,
               broadcast_to, pad, maximum, minimum, clip, astype]
    for name, fn in {**operators, **{f.__name__: f for f in methods}}.items():
        setattr(cls, name, fn)
    cls.clamp = clip
    cls.T = property(permute)
