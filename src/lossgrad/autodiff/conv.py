"""Convolution and pooling over NCL / NCHW inputs (PyTorch's layout), with closed-form VJPs.

Every op here reads its input through *windows*: for each kernel offset k, the strided slice of the
padded input that offset k sees at every output position. A convolution copies those slices into
one im2col buffer and does one BLAS matmul per group; its backward does the transposed matmul and
adds the slices back (col2im), one strided add per kernel offset — no ``np.add.at``. Pooling
reduces over the same slices.

Layout. The ops take and return (N, C, *spatial) arrays, but work on them *batch-last*, as
(C, *spatial, N) in memory: a window slice is then a run of whole rows of N contiguous values (in
NCHW its rows would be a few values long, and the per-row cost of NumPy's strided loops would
dominate), the im2col buffer is one (K·C, P·N) matrix, and ∂w is a single matmul instead of one
per sample. Their outputs are (N, C, *spatial) views of batch-last arrays (a memory format, as
PyTorch's channels_last), so a chain conv → activation → pool → conv never transposes; a
C-ordered input costs one transposing copy.

Double backward. A convolution is bilinear: with L(x, w, g) = ⟨g, conv(x, w)⟩, its VJP with respect
to x is the transposed convolution T(g, w) = ∂L/∂x and with respect to w the correlation
W(x, g) = ∂L/∂w. Both are recorded ops whose own VJPs are again conv, T and W (⟨v, T(g, w)⟩ =
L(v, w, g) and ⟨v, W(x, g)⟩ = L(x, v, g)), so gradients of gradients work to any order. Max pooling's
VJP scatters the cotangent to the positions of the maxima; with those positions fixed the scatter
is linear and its VJP is the gather at the same positions (and vice versa). Average pooling is
linear; its VJP is its transpose. Everything computes in the input's dtype: float32 stays float32.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..errors import DTypeError, OptionError, ShapeError
from .ops import tensor
from .tensor import Tensor, record

# ---------------------------------------------------------------------------------------------
# layout and geometry: where each kernel offset reads

_BATCH = (slice(None),)  # the trailing batch axis of a batch-last array, taken whole


def _batch_last(a: np.ndarray) -> np.ndarray:
    """(C, *spatial, N) in contiguous memory from an (N, C, *spatial) array: a view when the array
    is a batch-last one seen batch-first (this module's outputs are), one copy otherwise."""
    moved = a.transpose(tuple(range(1, a.ndim)) + (0,))
    if moved.flags.c_contiguous:
        return moved
    out = np.empty(moved.shape, dtype=a.dtype)
    # Samples a multiple of 4 KiB apart (a batch of 32×32 float32 images) share cache sets, and
    # reading them all per output row thrashes: 8 samples at a time copies 2.6× faster (measured).
    step = 8 if a.strides[0] % 4096 == 0 else max(a.shape[0], 1)
    for start in range(0, a.shape[0], step):
        out[..., start:start + step] = moved[..., start:start + step]
    return out


def _batch_first(a: np.ndarray) -> np.ndarray:
    """The (N, C, *spatial) view of a batch-last array (C, *spatial, N)."""
    return a.transpose((a.ndim - 1,) + tuple(range(a.ndim - 1)))


@dataclass(frozen=True)
class _Windows:
    """The sliding-window geometry of one call, over the spatial axes of batch-last arrays
    (…, *spatial, N): the spatial axes come just before the last one.

    pads: (before, after) zero padding per spatial axis; out: the output's spatial sizes.
    """

    spatial: tuple
    kernel: tuple
    stride: tuple
    dilation: tuple
    pads: tuple
    out: tuple

    @property
    def size(self) -> int:
        """The number of kernel offsets (the window's element count)."""
        return math.prod(self.kernel)

    @property
    def disjoint(self) -> bool:
        """Whether no two windows share an entry (every stride at least the kernel's reach)."""
        return all(s >= d * (k - 1) + 1 for k, s, d in zip(self.kernel, self.stride, self.dilation))

    def offsets(self) -> tuple:
        """Per kernel offset: (its flat index in row-major kernel order, the slices of the padded
        input it reads)."""
        return self._offsets

    @functools.cached_property
    def _offsets(self) -> tuple:
        ranges = (range(k) for k in self.kernel)
        return tuple((i, (Ellipsis,) + tuple(
            slice(k * d, k * d + s * (o - 1) + 1, s)
            for k, d, s, o in zip(ks, self.dilation, self.stride, self.out)) + _BATCH)
            for i, ks in enumerate(itertools.product(*ranges)))

    def padded(self, x: np.ndarray, value) -> np.ndarray:
        """x (…, *spatial, N) with its spatial axes padded by ``value`` (x itself when there is
        no padding)."""
        if not any(lo or hi for lo, hi in self.pads):
            return x
        lead = x.shape[:x.ndim - len(self.spatial) - 1]
        out = np.full(lead + self._padded_spatial() + x.shape[-1:], value, dtype=x.dtype)
        out[self._interior()] = x
        return out

    def fold(self, lead: tuple, batch: int, dtype, add) -> np.ndarray:
        """The transpose of reading the windows: zeros of shape lead + padded spatial + (batch,),
        into whose slice for offset i ``add(view, i)`` adds that offset's contribution in place,
        cropped to the unpadded input. The views of two offsets share entries only where windows
        overlap (not :attr:`disjoint`)."""
        out = np.zeros(lead + self._padded_spatial() + (batch,), dtype=dtype)
        for i, where in self.offsets():
            add(out[where], i)
        if out.shape[len(lead):-1] == self.spatial:
            return out
        return np.ascontiguousarray(out[self._interior()])

    def first_inside(self) -> np.ndarray:
        """Per output position, the flat index of the first offset that reads the unpadded input
        (PyTorch's max pooling starts its search there, so padding is never chosen); shaped
        out + (1,) to broadcast over a batch-last array."""
        flat = np.zeros(self.out, dtype=np.intp)
        for axis, (o, s, d, (lo, _), k) in enumerate(
                zip(self.out, self.stride, self.dilation, self.pads, self.kernel)):
            first = np.maximum(0, -(-(lo - np.arange(o) * s) // d))  # ⌈(lo − o·s)/d⌉, ≥ 0
            shape = [1] * len(self.out)
            shape[axis] = o
            flat = flat * k + first.reshape(shape)
        return flat[..., None]

    def counts_inside(self, dtype) -> np.ndarray:
        """Per output position, how many window entries lie in the unpadded input (shaped
        out + (1,), as :meth:`first_inside`)."""
        count = np.ones(self.out, dtype=dtype)
        for axis, (n, o, s, d, (lo, _), k) in enumerate(
                zip(self.spatial, self.out, self.stride, self.dilation, self.pads, self.kernel)):
            where = np.arange(o)[:, None] * s + np.arange(k)[None, :] * d - lo
            shape = [1] * len(self.out)
            shape[axis] = o
            count = count * np.sum((where >= 0) & (where < n), axis=1).reshape(shape).astype(dtype)
        return count[..., None]

    def _padded_spatial(self) -> tuple:
        return tuple(n + lo + hi for n, (lo, hi) in zip(self.spatial, self.pads))

    def _interior(self) -> tuple:
        return (Ellipsis,) + tuple(slice(lo, lo + n)
                                   for n, (lo, _) in zip(self.spatial, self.pads)) + _BATCH


@functools.lru_cache(maxsize=256)  # a network asks for the same few geometries at every step
def _windows(op: str, spatial: tuple, kernel: tuple, stride: tuple, dilation: tuple,
             pads: tuple) -> _Windows:
    out = tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                for n, k, s, d, (lo, hi) in zip(spatial, kernel, stride, dilation, pads))
    if any(o < 1 for o in out):
        reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ShapeError(f"{op}: the input's spatial size {spatial} (padding {pads}) is smaller "
                         f"than the kernel's reach {reach}; pad the input or use a smaller kernel")
    return _Windows(spatial, kernel, stride, dilation, pads, out)


# ---------------------------------------------------------------------------------------------
# argument checks


def _ints(op: str, name: str, value, n: int, minimum: int) -> tuple:
    """An int or a sequence of n ints, each ≥ minimum, as a tuple of n ints."""
    items = (value,) * n if isinstance(value, (int, np.integer)) else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    if len(items) != n or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                              or v < minimum for v in items):
        raise OptionError(f"{op}: {name} must be an int ≥ {minimum} or a tuple of {n} such ints, "
                          f"got {value!r}")
    return tuple(int(v) for v in items)


def _input(op: str, x, dims: int) -> Tensor:
    """x as a floating Tensor of shape (N, C, *spatial) or unbatched (C, *spatial)."""
    x = tensor(x)
    if x.ndim not in (dims + 1, dims + 2):
        layout = ("N", "C", "L") if dims == 1 else ("N", "C", "H", "W")
        raise ShapeError(f"{op}: x must have shape ({', '.join(layout)}) or "
                         f"({', '.join(layout[1:])}), got {x.shape}")
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: x must be a floating array, got {x.dtype}; convert it with "
                         ".astype(np.float32)")
    return x


def _batched(fn, x: Tensor, dims: int) -> Tensor:
    """fn on x with a batch axis, which is added for an unbatched input and removed afterwards."""
    if x.ndim == dims + 2:
        return fn(x)
    out = fn(x.reshape((1,) + x.shape))
    return out.reshape(out.shape[1:])


# ---------------------------------------------------------------------------------------------
# convolution: the three bilinear primitives conv, T (∂/∂x) and W (∂/∂w)


def _im2col(x: np.ndarray, geo: _Windows, groups: int) -> np.ndarray:
    """(G, K·C/G, P·N): every window of every group's channels as a column, for x (N, C, …).

    Offset-major rows (k, then channel) and batch-last columns (position, then sample): each
    offset's copy is then one contiguous block, and so is each offset's slice of the column
    gradient that col2im adds back.
    """
    n, c = x.shape[:2]
    xp = geo.padded(_batch_last(x), 0)
    cols = np.empty((groups, geo.size, c // groups) + geo.out + (n,), dtype=x.dtype)
    for i, where in geo.offsets():
        cols[:, i] = xp[where].reshape((groups, c // groups) + geo.out + (n,))
    return cols.reshape(groups, -1, math.prod(geo.out) * n)


#: Columns per BLAS call in the convolutions' products. OpenBLAS runs a product with a few rows and
#: a long column dimension (LeNet-5's first layer: 6×25 by 25×100 352, and its ∂w) 2–4× slower
#: than the same product in blocks of 4096 columns; blocks change nothing for the wider layers
#: (measured in float32 on 1 and 2 threads).
_BLOCK = 4096


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a (G, M, K) @ b (G, K, L), computed in blocks of columns."""
    out = np.empty(a.shape[:-1] + b.shape[-1:], dtype=np.result_type(a, b))
    for start in range(0, b.shape[-1], _BLOCK):
        block = slice(start, start + _BLOCK)
        np.matmul(a, b[..., block], out=out[..., block])
    return out


def _product_t(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a (G, M, L) @ b (G, K, L)ᵀ, summed over blocks of the long axis L. Computed as (b @ aᵀ)ᵀ:
    with the convolution's columns as b (the wider side) OpenBLAS runs it 1.7× faster for
    LeNet-5's second layer (16×12 800 by 12 800×150), no slower elsewhere (measured)."""
    out = b[..., :_BLOCK] @ a[..., :_BLOCK].swapaxes(-1, -2)
    for start in range(_BLOCK, a.shape[-1], _BLOCK):
        block = slice(start, start + _BLOCK)
        out += b[..., block] @ a[..., block].swapaxes(-1, -2)
    return out.swapaxes(-1, -2)


def _rows(g: np.ndarray, groups: int) -> np.ndarray:
    """A cotangent of the output (N, O, …) as (G, O/G, P·N), the columns' order."""
    return _batch_last(g).reshape(groups, g.shape[1] // groups, -1)


def _grouped(w: np.ndarray, groups: int) -> np.ndarray:
    """Weights (O, C/G, *kernel) as (G, O/G, K·C/G), rows in the columns' (offset, channel) order."""
    o, c = w.shape[:2]
    return (w.reshape(groups, o // groups, c, -1).swapaxes(-1, -2)
            .reshape(groups, o // groups, -1))


def _ungrouped(dw: np.ndarray, w_shape: tuple) -> np.ndarray:
    """The inverse of :func:`_grouped`: (G, O/G, K·C/G) back to (O, C/G, *kernel)."""
    g, per_group = dw.shape[:2]
    k = math.prod(w_shape[2:])
    return dw.reshape(g, per_group, k, w_shape[1]).swapaxes(-1, -2).reshape(w_shape)


def _conv(x: Tensor, w: Tensor, b: Tensor | None, geo: _Windows, groups: int) -> Tensor:
    n, o = x.shape[0], w.shape[0]
    cols = _im2col(x.data, geo, groups)
    out = _product(_grouped(w.data, groups), cols).reshape((o,) + geo.out + (n,))
    if b is not None:
        out += b.data.reshape((o,) + (1,) * (len(geo.out) + 1))
    kept = cols if w.requires_grad else None  # W reuses the forward's columns

    def vjp(g, _out):
        return (_conv_input_grad(g, w, geo, groups, x.shape) if x.requires_grad else None,
                _conv_weight_grad(x, g, geo, groups, w.shape, kept) if w.requires_grad else None,
                g.sum(axis=(0,) + tuple(range(2, g.ndim))) if b is not None and b.requires_grad
                else None)

    return record(_batch_first(out), (x, w, b), vjp)


def _conv_input_grad(g: Tensor, w: Tensor, geo: _Windows, groups: int, x_shape: tuple) -> Tensor:
    """T(g, w) = ∂⟨g, conv(x, w)⟩/∂x: the transposed convolution (matmul, then col2im)."""
    n, c = x_shape[:2]
    weights = _grouped(w.data, groups).swapaxes(-1, -2)
    dcols = _product(weights, _rows(g.data, groups)).reshape(
        (groups, geo.size, c // groups) + geo.out + (n,))
    dx = geo.fold((groups, c // groups), n, g.dtype,
                  lambda view, i: np.add(view, dcols[:, i], out=view))
    dx = _batch_first(dx.reshape((c,) + x_shape[2:] + (n,)))

    def vjp(v, _out):
        return (_conv(v, w, None, geo, groups) if g.requires_grad else None,
                _conv_weight_grad(v, g, geo, groups, w.shape) if w.requires_grad else None)

    return record(dx, (g, w), vjp)


def _conv_weight_grad(x: Tensor, g: Tensor, geo: _Windows, groups: int, w_shape: tuple,
                      cols: np.ndarray | None = None) -> Tensor:
    """W(x, g) = ∂⟨g, conv(x, w)⟩/∂w: the correlation of the input with the cotangent."""
    if cols is None:
        cols = _im2col(x.data, geo, groups)
    dw = _ungrouped(_product_t(_rows(g.data, groups), cols), w_shape)

    def vjp(v, _out):
        return (_conv_input_grad(g, v, geo, groups, x.shape) if x.requires_grad else None,
                _conv(x, v, None, geo, groups) if g.requires_grad else None)

    return record(dw, (x, g), vjp)


def _conv_pads(op: str, padding, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """(before, after) per spatial axis from an int, a tuple, "valid" or "same"."""
    dims = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * dims
        if padding != "same":
            raise OptionError(f'{op}: padding must be an int, a tuple of {dims} ints, "valid" or '
                              f'"same", got {padding!r}')
        if any(s != 1 for s in stride):
            raise OptionError(f'{op}: padding="same" needs stride 1 (as in PyTorch), got stride '
                              f"{stride}; give the padding as numbers instead")
        # PyTorch puts the odd extra unit of an even kernel's padding after the input.
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                     for k, d in zip(kernel, dilation))
    return tuple((p, p) for p in _ints(op, "padding", padding, dims, 0))


def _convolution(op: str, dims: int, x, w, b, stride, padding, dilation, groups) -> Tensor:
    x = _input(op, x, dims)
    w, b = tensor(w), None if b is None else tensor(b)
    if w.ndim != dims + 2:
        raise ShapeError(f"{op}: w must have shape (out_channels, in_channels/groups, "
                         f"{'kernel' if dims == 1 else 'kh, kw'}), got {w.shape}")
    for name, t in (("w", w), ("b", b)):
        if t is not None and t.dtype != x.dtype:
            raise DTypeError(f"{op}: {name} has dtype {t.dtype} but x has {x.dtype}; convert one "
                             "so both match")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise OptionError(f"{op}: groups must be an int ≥ 1, got {groups!r}")
    channels = x.shape[-dims - 1]
    if channels % groups or w.shape[0] % groups or w.shape[1] * groups != channels:
        raise ShapeError(f"{op}: x has {channels} channels and w has shape {w.shape} with "
                         f"groups={groups}; need in_channels = groups·w.shape[1] and out_channels "
                         "divisible by groups")
    if b is not None and b.shape != (w.shape[0],):
        raise ShapeError(f"{op}: b must have shape ({w.shape[0]},) (one per output channel), got "
                         f"{b.shape}")
    kernel = w.shape[2:]
    stride = _ints(op, "stride", stride, dims, 1)
    dilation = _ints(op, "dilation", dilation, dims, 1)
    pads = _conv_pads(op, padding, kernel, stride, dilation)
    geo = _windows(op, x.shape[-dims:], kernel, stride, dilation, pads)
    return _batched(lambda xb: _conv(xb, w, b, geo, int(groups)), x, dims)


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-d convolution (cross-correlation, as in every framework) of x (N, C, L) with w (O, C/G, K).

    y[n, o, l] = b[o] + Σ_{c, k} w[o, c, k] · x̃[n, g·C/G + c, l·s + k·d], where x̃ is x zero-padded
    and g = o // (O/G) is the output channel's group.

    Gradient: ∂/∂x is the transposed convolution of the cotangent with w, ∂/∂w the correlation of
    x with the cotangent, ∂/∂b the cotangent summed over N and L; all three are differentiable again.
    padding: an int, a 1-tuple, "valid" (0) or "same" (stride 1 only; an odd total puts the extra
    unit after the input, as PyTorch does). Unbatched x of shape (C, L) gives (O, L_out).
    Parity: ``torch.nn.functional.conv1d`` with the same arguments.

    >>> x = Tensor(np.arange(5.0).reshape(1, 1, 5), requires_grad=True)
    >>> y = conv1d(x, np.array([[[1.0, 2.0]]]), padding=1)
    >>> y.sum().backward()
    >>> print(y.data, x.grad)
    [[[ 0.  2.  5.  8. 11.  4.]]] [[[3. 3. 3. 3. 3.]]]
    """
    return _convolution("conv1d", 1, x, w, b, stride, padding, dilation, groups)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-d convolution (cross-correlation) of x (N, C, H, W) with w (O, C/G, kh, kw).

    y[n, o, i, j] = b[o] + Σ_{c, p, q} w[o, c, p, q] · x̃[n, g·C/G + c, i·s₀ + p·d₀, j·s₁ + q·d₁],
    x̃ being x zero-padded and g the output channel's group.

    Gradient: as :func:`conv1d` — transposed convolution for x, correlation for w, sums for b, each
    differentiable again. stride, padding, dilation: an int or a pair; padding also "valid" or
    "same" (stride 1). Unbatched x (C, H, W) gives (O, H_out, W_out).
    Parity: ``torch.nn.functional.conv2d`` with the same arguments.

    >>> x = Tensor(np.arange(9.0).reshape(1, 1, 3, 3))
    >>> print(conv2d(x, np.ones((1, 1, 2, 2)), np.array([0.5])).data)
    [[[[ 8.5 12.5]
       [20.5 24.5]]]]
    """
    return _convolution("conv2d", 2, x, w, b, stride, padding, dilation, groups)


# ---------------------------------------------------------------------------------------------
# pooling


def _pool_windows(op: str, dims: int, x: Tensor, kernel_size, stride, padding,
                  dilation=1) -> _Windows:
    kernel = _ints(op, "kernel_size", kernel_size, dims, 1)
    stride = kernel if stride is None else _ints(op, "stride", stride, dims, 1)
    pads = _ints(op, "padding", padding, dims, 0)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise OptionError(f"{op}: padding {pads} must be at most half the kernel size {kernel} "
                          "(as in PyTorch), or no window would be mostly input")
    return _windows(op, x.shape[-dims:], kernel, stride, _ints(op, "dilation", dilation, dims, 1),
                    tuple((p, p) for p in pads))


def _max_pool(x: Tensor, geo: _Windows) -> Tensor:
    xp = geo.padded(_batch_last(x.data), -np.inf)
    offsets = iter(geo.offsets())
    best = xp[next(offsets)[1]].copy()
    for _, where in offsets:
        np.maximum(best, xp[where], out=best)  # propagates NaN, as PyTorch's value does
    chosen = []  # the argmax positions, found at the first backward pass and kept for the next

    def vjp(g, out):
        if not chosen:
            chosen.append(_argmax(geo.padded(_batch_last(x.data), -np.inf),
                                  _batch_last(out.data), geo))
        return (_max_scatter(g, chosen[0], geo, x.shape),)

    return record(_batch_first(best), (x,), vjp)


def _argmax(xp: np.ndarray, best: np.ndarray, geo: _Windows) -> np.ndarray:
    """Per output position of the batch-last maxima ``best``, the flat offset of the window entry
    (of the padded batch-last input ``xp``) that receives the gradient.

    PyTorch's rule (its kernel keeps a running max that a strictly greater value or a NaN
    replaces, starting at the window's first entry inside the input): among tied maxima the first
    in row-major window order; in a window holding NaN the last NaN; in a window whose maximum is
    −inf its first entry inside the input — never the padding. Found with branch-free passes
    (equality with the maximum), which beat a running masked update several times over: the
    first hit's offset is the number of offsets before it, so each offset but the last takes one
    comparison and two passes over bytes.
    """
    last = geo.size - 1
    index = np.full(best.shape, last, dtype=np.min_scalar_type(last))
    special = ~(best > -np.inf)  # a −inf or NaN maximum: set by the rules below
    settled = special.copy()
    for i, where in geo.offsets():
        if i == last:
            break
        settled |= xp[where] == best
        index -= settled.view(np.uint8)
    if special.any():
        floor = best == -np.inf
        index[floor] = np.broadcast_to(geo.first_inside(), best.shape)[floor]
        nan = np.isnan(best)
        for i, where in geo.offsets():
            np.copyto(index, i, where=nan & np.isnan(xp[where]))
    return index


def _max_scatter(g: Tensor, index: np.ndarray, geo: _Windows, x_shape: tuple) -> Tensor:
    """The max pool's VJP: each cotangent entry added at its window's chosen position."""
    gb = _batch_last(g.data)
    if np.isfinite(gb).all():
        # g·[index = i] is NumPy's fastest masking (np.where and masked ufuncs run 6–20× slower
        # here), exact while g is finite; an inf or NaN entry would leak 0·inf = NaN elsewhere.
        if geo.disjoint:  # each view holds zeros that no other offset writes: write, not add
            def add(view, i):
                np.multiply(gb, index == i, out=view)
        else:
            def add(view, i):
                view += gb * (index == i)
    else:
        zero = np.zeros((), dtype=g.dtype)

        def add(view, i):
            view += np.where(index == i, gb, zero)

    dx = geo.fold(x_shape[1:2], x_shape[0], g.dtype, add)
    return record(_batch_first(dx), (g,), lambda v, _out: (_max_gather(v, index, geo),))


def _max_gather(v: Tensor, index: np.ndarray, geo: _Windows) -> Tensor:
    """The scatter's VJP: each window's entry at the chosen position."""
    vp = geo.padded(_batch_last(v.data), 0)
    out = np.zeros(index.shape, dtype=v.dtype)
    for i, where in geo.offsets():
        np.copyto(out, vp[where], where=index == i)
    return record(_batch_first(out), (v,),
                  lambda g, _out: (_max_scatter(g, index, geo, v.shape),))


def _avg_pool(x: Tensor, geo: _Windows, divisor) -> Tensor:
    xp = geo.padded(_batch_last(x.data), 0)
    offsets = iter(geo.offsets())
    total = xp[next(offsets)[1]].copy()
    for _, where in offsets:
        total += xp[where]
    total /= divisor
    return record(_batch_first(total), (x,),
                  lambda g, _out: (_avg_spread(g, geo, divisor, x.shape),))


def _avg_spread(g: Tensor, geo: _Windows, divisor, x_shape: tuple) -> Tensor:
    """The average pool's VJP (its transpose): each cotangent entry / divisor, added over its window."""
    share = _batch_last(g.data) / divisor
    dx = geo.fold(x_shape[1:2], x_shape[0], g.dtype, lambda view, _: np.add(view, share, out=view))
    return record(_batch_first(dx), (g,), lambda v, _out: (_avg_pool(v, geo, divisor),))


def _max_pooling(op: str, dims: int, x, kernel_size, stride, padding, dilation) -> Tensor:
    x = _input(op, x, dims)
    geo = _pool_windows(op, dims, x, kernel_size, stride, padding, dilation)
    return _batched(lambda xb: _max_pool(xb, geo), x, dims)


def _avg_pooling(op: str, dims: int, x, kernel_size, stride, padding, count_include_pad) -> Tensor:
    x = _input(op, x, dims)
    geo = _pool_windows(op, dims, x, kernel_size, stride, padding)
    divisor = (np.asarray(geo.size, dtype=x.dtype) if count_include_pad
               else geo.counts_inside(x.dtype))
    return _batched(lambda xb: _avg_pool(xb, geo, divisor), x, dims)


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1) -> Tensor:
    """Max over each window of x (N, C, L): y[n, c, l] = max_k x̃[n, c, l·s + k·d], x̃ padded with −inf.

    Gradient: the cotangent goes to the window's maximum; among tied maxima to the first one in
    the window (PyTorch's rule; a NaN counts as the maximum, the last NaN in a window). The VJP is
    itself differentiable (a scatter whose VJP is the gather at the same positions).
    stride defaults to kernel_size; padding ≤ kernel_size // 2. Unbatched (C, L) works too.
    Parity: ``torch.nn.functional.max_pool1d`` (ceil_mode=False).

    >>> print(max_pool1d(Tensor([[[1.0, 3.0, 3.0, 2.0, 0.0]]]), 2).data)
    [[[3. 3.]]]
    """
    return _max_pooling("max_pool1d", 1, x, kernel_size, stride, padding, dilation)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1) -> Tensor:
    """Max over each window of x (N, C, H, W), padded with −inf; gradient and tie rule as
    :func:`max_pool1d` (the first maximum in row-major window order).

    Parity: ``torch.nn.functional.max_pool2d`` (ceil_mode=False).

    >>> x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    >>> max_pool2d(x, 2).sum().backward()
    >>> print(x.grad[0, 0])
    [[0. 0. 0. 0.]
     [0. 1. 0. 1.]
     [0. 0. 0. 0.]
     [0. 1. 0. 1.]]
    """
    return _max_pooling("max_pool2d", 2, x, kernel_size, stride, padding, dilation)


def avg_pool1d(x, kernel_size, stride=None, padding=0, count_include_pad=True) -> Tensor:
    """Mean over each window of x (N, C, L): y[n, c, l] = Σ_k x̃[n, c, l·s + k] / D, x̃ zero-padded.

    D is the kernel size when count_include_pad (PyTorch's default), else the number of window
    entries inside the unpadded input. Gradient: each cotangent entry / D spread over its window
    (the transpose of the op, which is linear, so every derivative order works).
    Parity: ``torch.nn.functional.avg_pool1d`` (ceil_mode=False).

    >>> print(avg_pool1d(Tensor([[[1.0, 3.0, 3.0, 2.0]]]), 2, padding=1).data)
    [[[0.5 3.  1. ]]]
    """
    return _avg_pooling("avg_pool1d", 1, x, kernel_size, stride, padding, count_include_pad)


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True) -> Tensor:
    """Mean over each window of x (N, C, H, W); divisor and gradient as :func:`avg_pool1d`.

    Parity: ``torch.nn.functional.avg_pool2d`` (ceil_mode=False, no divisor_override).

    >>> print(avg_pool2d(Tensor(np.arange(16.0).reshape(1, 1, 4, 4)), 2).data)
    [[[[ 2.5  4.5]
       [10.5 12.5]]]]
    """
    return _avg_pooling("avg_pool2d", 2, x, kernel_size, stride, padding, count_include_pad)
