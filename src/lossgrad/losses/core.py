"""The loss contract: what every loss returns, how it is reduced and weighted, how inputs are checked.

A loss is written as a *body*: a function that receives its inputs (the prediction validated,
class axis last, in the compute dtype) and returns :class:`Parts` — the unreduced value and the
gradient of each value entry with respect to each differentiable input, computed together. The
:func:`loss` decorator turns the body into the public function: it binds and checks the inputs,
moves the class axis, computes float16/bfloat16 in float32, applies ``sample_weight`` and the
reduction, scales every gradient to match, sums a broadcast input's gradient down to its shape, and
returns a :class:`LossResult`. Weighting, masking and reduction live here and nowhere else.
"""

from __future__ import annotations

import functools
import inspect
import os
import textwrap
import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ..autodiff.bridge import loss_on_tensors
from ..autodiff.tensor import Tensor
from ..errors import DomainError, DTypeError, LabelRangeError, OptionError, ShapeError

REDUCTIONS = ("none", "sum", "mean", "sum_over_batch_size")
CONVENTIONS = ("exact", "keras", "torch")
EMPTY_POLICIES = ("nan", "zero")
#: What a loss's value is: one per prediction entry, one per row along a class axis, or one per
#: sample (entry of the first axis).
KINDS = ("elementwise", "rows", "per_sample")
#: Reductions a loss may accept beyond the common four (``@loss(reductions=…)``), each with the line
#: the decorator adds to the docstrings of the losses that have it.
EXTRA_REDUCTIONS = {
    "batchmean": '"batchmean" = Σ wℓ / N with N the batch size, the value\'s first axis '
                 "(PyTorch's KLDivLoss divides by input.size(0)); N = 0 follows ``empty``.",
}

#: Shared by every loss; the decorator appends it to each docstring so it is written once.
COMMON_ARGUMENTS = """
Common arguments (every loss):
    reduction: "none" (per-entry values), "sum" = Σ wℓ, "mean" = Σ wℓ / Σ w (PyTorch's
        normalisation: class weights and ignored entries included in w), "sum_over_batch_size" =
        Σ wℓ / (number of non-ignored entries) (Keras's default).
    sample_weight: weights of the value's shape, of a leading part of it (one per sample), or a
        scalar; finite and ≥ 0.
    empty: what a reduction that divides returns when its divisor is 0 (every entry ignored or
        weighted 0, or an empty batch): "nan" (PyTorch) or "zero" (Keras). The gradient is all
        zeros either way.
    grad: False skips the gradient work (``result.grad`` is None, ``result.grads`` empty).
    check_finite: True raises DomainError at the first NaN/inf entry of any floating input instead
        of propagating it.

Returns a LossResult: ``.value`` (NumPy array, 0-d when reduced), ``.grad`` = ∂ value.sum() /
∂ prediction with the prediction's shape and dtype; ``.grads`` holds that gradient for every
differentiable input by argument name, each in its input's shape and dtype; ``float(result)``
works when reduced.
"""


@dataclass(frozen=True)
class LossResult:
    """A loss value together with its gradient.

    ``grad`` is the gradient of ``value.sum()`` with respect to the prediction, with the prediction's
    shape and dtype. ``grads`` holds the gradient of every differentiable input by argument name;
    ``aux`` holds by-products a caller may want (the log-sum-exp, …).
    """

    value: np.ndarray
    grad: np.ndarray | None
    grads: Mapping[str, np.ndarray] = field(default_factory=dict)
    aux: Mapping[str, np.ndarray] = field(default_factory=dict)
    #: For a loss whose values depend on the whole batch (``Parts.grad`` a callable): cotangent of
    #: ``value`` ↦ the gradient of every differentiable input, by name. None otherwise, where each
    #: value depends only on its own slice and the cotangent times ``grads`` is the same thing.
    vjp: Callable | None = None

    def __float__(self) -> float:
        if self.value.size != 1:
            raise ShapeError(
                f"float() needs a single value, got a loss of shape {self.value.shape}; "
                'use reduction="mean" or "sum", or read result.value'
            )
        return float(self.value.reshape(()))

    def item(self) -> float:
        """The value as a Python float (PyTorch's spelling)."""
        return float(self)

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (TensorFlow's spelling)."""
        return self.value

    def __repr__(self) -> str:
        grad = "None" if self.grad is None else f"array{self.grad.shape}"
        return f"LossResult(value={np.array2string(self.value, precision=6)}, grad={grad})"


@dataclass
class Parts:
    """What a loss body returns: unreduced values and their per-entry gradients.

    value: the unreduced loss, already including class weights.
    grad: ∂value[i]/∂prediction[i] (prediction's shape, class axis last), or None when not asked.
        A body with several differentiable inputs gives a dict keyed by input name, the
        prediction's first. Each gradient is laid out as the value followed by any trailing axes
        (the class axis, a per-sample loss's feature axes); for an input with fewer or size-1 axes
        it is the gradient of the broadcast input, which the decorator sums down to the input's
        shape. The decorator scales a fresh buffer in place (inputs and shared buffers are copied
        first).
        A *coupled* body, whose values each depend on the whole batch (pairwise similarities),
        has no per-entry gradient to scale: it gives a callable ``factor ↦ gradient(s)`` instead,
        the vector-Jacobian product of the batch, where ``factor`` holds ∂ reduced / ∂ value
        (the value's shape); it returns an array or a dict as above, already weighted, and the
        decorator calls it instead of multiplying.
    norm: the weight of each entry in the "mean" divisor (class weight of its label, 0 where
        ignored); None means 1 for every valid entry.
    valid: False where an entry is ignored; None means every entry counts.
    aux: by-products to return (unreduced, value-shaped).
    fill: a fused body's single pass (lossgrad.losses.kernels), or None. Such a body returns
        ``value`` unfilled and ``grad`` None; the decorator computes the reduction's factor first
        (it needs only the value's shape, ``norm``, ``valid`` and the sample weights) and calls
        ``fill(factor)`` — or ``fill(None)`` when no gradient is asked — which writes the values
        into ``value`` and returns the gradient already multiplied by the factor.
    coupled: with ``fill``, a gradient that is not one slice per value (a shared weight's, summed
        over the batch), so a cotangent of the values cannot be multiplied into it: the result's
        ``vjp`` calls ``fill`` again with cotangent × factor.
    """

    value: np.ndarray
    grad: np.ndarray | dict | None
    norm: np.ndarray | None = None
    valid: np.ndarray | None = None
    aux: dict = field(default_factory=dict)
    fill: Callable | None = None
    coupled: bool = False


@dataclass(frozen=True)
class Context:
    """What a body may need to know beyond its arrays."""

    name: str
    dtype: np.dtype  # the caller's dtype (Keras's clip bounds are computed in it)
    want_grad: bool
    validate: bool
    given: object = None  # the prediction as the caller passed it (an in-place gradient goes there)


# ---------------------------------------------------------------------------------------------
# input conversion and checks


def first_index(bad: np.ndarray) -> tuple:
    """The first True entry of ``bad`` as an index tuple (for error messages)."""
    return tuple(int(i) for i in np.argwhere(bad)[0])


def index_str(where: tuple) -> str:
    return ", ".join(map(str, where))


def times(w, x):
    """w·x with 0·(±inf) = 0: a zero weight never turns an infinite term into NaN."""
    return np.where(w != 0, w * x, 0)


def check_option(name: str, value, choices) -> None:
    """Raise OptionError unless ``value`` is one of ``choices``, listing them."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise OptionError(f"{name}={value!r} is not valid; choose one of {listed}")


def check_range(name: str, value: float, *, low=None, high=None, low_open=False) -> None:
    """Raise OptionError unless low ≤ value ≤ high (low < value with low_open)."""
    # NaN fails every comparison; a bool is not a number here (label_smoothing=True is a mistake).
    ok = not isinstance(value, (bool, np.bool_)) and value == value and abs(value) != np.inf
    if low is not None:
        ok = ok and (value > low if low_open else value >= low)
    if high is not None:
        ok = ok and value <= high
    if not ok:
        lo = "" if low is None else (f"> {low}" if low_open else f"≥ {low}")
        hi = "" if high is None else f"≤ {high}"
        bounds = " and ".join(filter(None, (lo, hi, "finite")))
        raise OptionError(f"{name} must be {bounds}, got {value!r}")


_COMPUTE = {np.dtype(np.float16): np.dtype(np.float32), np.dtype(np.float32): np.dtype(np.float32),
            np.dtype(np.float64): np.dtype(np.float64)}


def _bfloat16():
    try:
        import ml_dtypes
    except ImportError:
        return None
    return np.dtype(ml_dtypes.bfloat16)


def compute_dtype(dtype: np.dtype, name: str) -> np.dtype:
    """float16/bfloat16 compute in float32; float32 and float64 in themselves; others are refused."""
    if dtype in _COMPUTE:
        return _COMPUTE[dtype]
    if dtype == _bfloat16():
        return np.dtype(np.float32)
    hint = "" if _bfloat16() is not None or dtype.name != "bfloat16" else " (bfloat16 needs ml_dtypes)"
    raise DTypeError(
        f"{name} must be float16, float32 or float64 (or bfloat16), got {dtype}{hint}; "
        f"convert with {name}.astype(np.float32)"
    )


def as_floats(x, name: str) -> np.ndarray:
    """A floating array; a plain Python list of numbers is taken as float64.

    Integer, boolean, complex and object *arrays* are refused: a prediction that is an integer
    array is almost always labels passed in the wrong place.
    """
    if not isinstance(x, np.ndarray) and not np.isscalar(x) and not hasattr(x, "__array__"):
        x = np.asarray(x)
        if x.dtype.kind in "iu":
            x = x.astype(np.float64)
    elif np.isscalar(x) and isinstance(x, (int, float)) and not isinstance(x, bool):
        x = np.asarray(x, dtype=np.float64)
    x = np.asarray(x)
    if x.dtype.kind != "f" and x.dtype != _bfloat16():
        raise DTypeError(
            f"{name} must be a floating array, got dtype {x.dtype}; "
            f"convert with np.asarray({name}, dtype=np.float32)"
        )
    return x


def as_labels(labels, num_classes: int, *, name: str, loss: str, ignore_index=None,
              instead: str | None = None) -> np.ndarray:
    """Integer class labels in [0, num_classes) (or equal to ``ignore_index``), never clamped."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        fix = f"; for probability or one-hot targets use {instead}" if instead else ""
        raise DTypeError(
            f"{loss}: {name} must be integer class labels, got dtype {labels.dtype}{fix}"
        )
    bad = (labels < 0) | (labels >= num_classes)
    if ignore_index is not None:
        bad &= labels != ignore_index
    if bad.any():
        where = first_index(bad)
        ignore = "" if ignore_index is None else f" (or ignore_index={ignore_index})"
        raise LabelRangeError(
            f"{loss}: {name}[{index_str(where)}] = {labels[where]} is outside "
            f"[0, {num_classes}){ignore}; lossgrad never clamps labels — fix the label or the "
            "number of classes"
        )
    return labels


def check_same_shape(prediction: np.ndarray, target: np.ndarray, *, loss: str,
                     names=("prediction", "target")) -> None:
    """Targets are never broadcast: (N,) against (N, 1) is an error, not an (N, N) loss."""
    if prediction.shape != target.shape:
        raise ShapeError(
            f"{loss}: {names[1]} of shape {target.shape} does not match {names[0]} of shape "
            f"{prediction.shape}; lossgrad never broadcasts targets — reshape {names[1]} to "
            f"{prediction.shape}"
        )


def as_targets(targets, prediction: np.ndarray, *, loss: str, name: str = "targets") -> np.ndarray:
    """Real-valued targets of the prediction's shape, in the prediction's (compute) dtype."""
    targets = np.asarray(targets)
    if targets.dtype.kind not in "fiub":
        raise DTypeError(f"{loss}: {name} must be real numbers, got dtype {targets.dtype}; convert "
                         f"with np.asarray({name}, dtype=np.float32)")
    check_same_shape(prediction, targets, loss=loss, names=("prediction", name))
    return targets.astype(prediction.dtype, copy=False)


def check_finite(x: np.ndarray, name: str, loss: str) -> None:
    """Raise DomainError naming the first NaN or inf entry."""
    bad = ~np.isfinite(x)
    if bad.any():
        where = first_index(bad)
        raise DomainError(f"{loss}: {name}[{index_str(where)}] = {x[where]}, expected a finite "
                          "number; remove the NaN/inf or pass check_finite=False to let it "
                          "propagate into its own row")


def check_interval(x: np.ndarray, name: str, loss: str, low=0.0, high=1.0, fix: str = "") -> None:
    """Raise DomainError naming the first entry outside [low, high] (NaN passes: it propagates)."""
    bad = (x < low) | (x > high)
    if bad.any():
        where = first_index(bad)
        raise DomainError(
            f"{loss}: {name}[{index_str(where)}] = {x[where]} is outside [{low}, {high}]"
            + (f"; {fix}" if fix else "")
        )


def _user_stacklevel() -> int:
    """The stacklevel of the first frame outside lossgrad, so a warning names the user's line."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = inspect.currentframe(), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(here):
        frame, level = frame.f_back, level + 1
    return level - 1


def warn(message: str, category: type[Warning]) -> None:
    """Warn at the user's call site (Python then shows it once per call site)."""
    warnings.warn(message, category, stacklevel=_user_stacklevel())


def as_weights(weights, value_shape: tuple, *, name: str, loss: str, dtype) -> np.ndarray:
    """Weights of the value's shape, of a leading part of it, or a scalar; finite and ≥ 0."""
    w = np.asarray(weights)
    if w.dtype.kind not in "fiub":
        raise DTypeError(f"{loss}: {name} must be real numbers, got dtype {w.dtype}; convert "
                         f"with np.asarray({name}, dtype=np.float32)")
    w = w.astype(dtype)
    if w.shape != value_shape[: w.ndim]:
        raise ShapeError(
            f"{loss}: {name} of shape {w.shape} does not fit the loss values of shape {value_shape}; "
            f"give one weight per entry {value_shape} or per leading index {value_shape[:1]}"
        )
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        bad = first_index(~(np.isfinite(w) & (w >= 0)))
        at = f"[{index_str(bad)}]" if bad else ""  # a scalar weight has no index
        raise DomainError(f"{loss}: {name}{at} = {w[bad]}, expected a finite weight "
                          "≥ 0; fix that weight (use 0 to leave an entry out)")
    return w.reshape(w.shape + (1,) * (len(value_shape) - w.ndim))


def class_weights(class_weight, num_classes: int, *, loss: str, dtype) -> np.ndarray:
    """A (C,) vector of finite, non-negative class weights."""
    shape = np.shape(class_weight)
    if shape != (num_classes,):
        raise ShapeError(f"{loss}: class_weight must have one weight per class, shape "
                         f"({num_classes},), got shape {shape}")
    return as_weights(class_weight, (num_classes,), name="class_weight", loss=loss, dtype=dtype)


# ---------------------------------------------------------------------------------------------
# reduction


def reduce(parts: Parts, *, reduction: str, sample_weight: np.ndarray | None, empty: str):
    """Apply weights and the reduction; return (value, factor) where grad·factor is the final grad.

    ``factor`` has the value's shape; it broadcasts over a gradient's trailing (class) axes.
    """
    v = parts.value
    w, denom = _weights(parts, reduction, sample_weight)
    if reduction == "none":
        return (v if sample_weight is None else w * v), w
    if reduction == "sum":
        return np.sum(w * v), w
    if denom == 0:
        return np.asarray(np.nan if empty == "nan" else 0.0, dtype=v.dtype), np.zeros_like(v)
    return np.sum(w * v) / denom, _divided(w, denom)


def reduction_factor(parts: Parts, *, reduction: str, sample_weight: np.ndarray | None):
    """The factor of :func:`reduce` alone, before the values exist (a fused body's ``fill``)."""
    w, denom = _weights(parts, reduction, sample_weight)
    if denom is None:
        return w
    return np.zeros(w.shape, w.dtype) if denom == 0 else _divided(w, denom)


def _weights(parts: Parts, reduction: str, sample_weight):
    """Each value's weight (a read-only broadcast 1 without sample weights, so an elementwise loss
    never allocates a value-sized array of ones) and the reduction's divisor (None: it has none)."""
    v = parts.value
    w = (np.broadcast_to(np.ones((), v.dtype), v.shape) if sample_weight is None
         else np.broadcast_to(sample_weight, v.shape))
    if reduction in ("none", "sum"):
        return w, None
    if reduction == "mean":
        norm = parts.norm if parts.norm is not None else parts.valid
        return w, (np.sum(w) if norm is None else np.sum(w * norm))
    if reduction == "batchmean":
        return w, (v.shape[0] if v.ndim else 1)  # a 0-d value is one sample
    return w, (v.size if parts.valid is None else np.count_nonzero(parts.valid))


def _divided(w: np.ndarray, denom) -> np.ndarray:
    """w / denom, still a broadcast view when w is one (see ``_weights``)."""
    if w.size and not any(w.strides):
        return np.broadcast_to(w.reshape(-1)[0] / denom, w.shape)
    return w / denom


def mean_then_reduce(result: LossResult, axis=-1, *, reduction: str = "none",
                     sample_weight=None, empty: str = "nan", name: str = "loss") -> LossResult:
    """Average a reduction="none" result over ``axis``, then reduce those means like any loss.

    Keras's elementwise losses (binary cross-entropy, hinge, MSE, binary focal) return the mean over
    the last axis as each sample's loss and weight and reduce *those*; ``tf.reduce_mean`` of a
    per-example result is the same with ``axis=None``. The means are m_s = Σ_{i∈s} ℓ_i / K over
    the K entries of group s, and ``reduce`` then weights and reduces m exactly as it reduces a
    loss's values, so ∂/∂x_i = factor_s / K · ∂ℓ_i/∂x_i.

    result: a LossResult of reduction="none" whose gradient has the value's shape, possibly followed
        by trailing axes (a row loss computed with its class axis last); ShapeError otherwise.
    axis: an int, a tuple of ints, or None (every axis) of ``result.value``; () averages nothing.
    reduction, sample_weight, empty: as for every loss (sample weights fit the means' shape).
    name: the loss named in error messages.

    >>> r = mean_then_reduce(LossResult(np.array([[1.0, 3.0], [2.0, 6.0]]), np.ones((2, 2))),
    ...                      reduction="sum", sample_weight=[1.0, 0.5])
    >>> print(r.value, r.grad.tolist())
    4.0 [[0.5, 0.5], [0.25, 0.25]]
    """
    check_option("reduction", reduction, REDUCTIONS)
    check_option("empty", empty, EMPTY_POLICIES)
    value = np.asarray(result.value)
    axes = _axes(axis, value.ndim, name)
    count = int(np.prod([value.shape[a] for a in axes]))
    with np.errstate(all="ignore"):  # an empty group's mean is 0/0 = NaN, as np.mean gives
        means = np.sum(value, axis=axes) / value.dtype.type(count)
        sw = None if sample_weight is None else as_weights(
            sample_weight, means.shape, name="sample_weight", loss=name, dtype=value.dtype)
        reduced, factor = reduce(Parts(means, None), reduction=reduction, sample_weight=sw,
                                 empty=empty)
        per_entry = np.expand_dims(factor, axes) / value.dtype.type(count)
        # The prediction's gradient is usually also in ``grads``: scale each array once.
        scaled = {id(g): _spread(g, per_entry, value.shape, name)
                  for g in (result.grad, *result.grads.values()) if g is not None}
    grad = None if result.grad is None else scaled[id(result.grad)]
    grads = {key: scaled[id(g)] for key, g in result.grads.items()}
    return LossResult(value=np.asarray(reduced).astype(value.dtype, copy=False), grad=grad,
                      grads=grads)


def _axes(axis, ndim: int, name: str) -> tuple[int, ...]:
    """``axis`` (int, tuple or None) as a tuple of distinct non-negative axes of an ndim array."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if not all(isinstance(a, (int, np.integer)) and -ndim <= a < ndim for a in axes):
        raise OptionError(f"{name}: axis={axis!r} is not an axis of a loss value with {ndim} axes")
    out = tuple(sorted({int(a) % ndim for a in axes}))
    if len(out) != len(axes):
        raise OptionError(f"{name}: axis={axis!r} repeats an axis")
    return out


def _spread(grad: np.ndarray, per_entry: np.ndarray, value_shape: tuple, name: str) -> np.ndarray:
    """grad times each entry's factor, broadcast over the gradient's trailing (class) axes."""
    factor = _per_entry(per_entry, grad, value_shape, name)
    return (grad * factor).astype(grad.dtype, copy=False)


def _per_entry(factor: np.ndarray, grad: np.ndarray, value_shape: tuple, name: str) -> np.ndarray:
    """``factor`` (one per value entry) shaped to broadcast over ``grad``'s trailing axes."""
    if grad.shape[: len(value_shape)] != value_shape:
        raise ShapeError(
            f"{name}: a gradient of shape {grad.shape} does not start with the value's shape "
            f"{value_shape}; lay gradients out as the value followed by any trailing axes, with "
            "the class axis last"
        )
    return factor.reshape(factor.shape + (1,) * (grad.ndim - factor.ndim))


# ---------------------------------------------------------------------------------------------
# the decorator


def loss(*, kind: str, reductions: tuple[str, ...] = ()) -> Callable:
    """Turn a loss body into its public function (see the module docstring).

    kind: what the value is, one of KINDS —
        "elementwise": one value per prediction entry (the prediction's shape);
        "rows": one value per row along a class axis, which the value drops; the public function
            takes ``axis`` and the body sees the class axis last;
        "per_sample": one value per entry of the prediction's first axis (shape (N,)); sample
            weights and the reduction factor broadcast over each gradient's trailing axes. A loss
            defined on the batch as a whole (batch-level Dice) may give one 0-d value instead.
        Elementwise and per-sample losses refuse ``axis`` (a body may name its own axis option).
    reductions: the reductions this loss takes beyond the common four (keys of EXTRA_REDUCTIONS).

    Every body parameter before ``ctx`` is an input, in order; the public function takes them
    positionally or by name. The first is the prediction, given to the body as a floating array in
    the compute dtype. The others are given as passed, and the body converts them with the helpers
    above (labels, dense targets, …); for a row loss every input of the prediction's shape is moved
    class-last like the prediction, and its gradient moved back. The parameters after ``ctx`` are
    the loss's options. The body is called as ``body(*inputs, ctx, **options)``.
    """
    check_option("kind", kind, KINDS)
    for extra in reductions:
        check_option("reductions", extra, tuple(EXTRA_REDUCTIONS))
    valid = REDUCTIONS + tuple(reductions)

    def decorate(body: Callable) -> Callable:
        name = body.__name__
        sig = inspect.signature(body)
        params = list(sig.parameters.values())
        at = [p.name for p in params].index("ctx")
        inputs = inspect.Signature(params[:at])
        first = params[0].name

        @functools.wraps(body)
        def public(*args, **kwargs):
            # A Tensor input puts the loss on the engine's graph, its VJP this closed form.
            if any(isinstance(a, Tensor) for a in (*args, *kwargs.values())):
                return loss_on_tensors(public, args, kwargs)
            return compute(*args, **kwargs)

        def compute(*args, reduction="mean", sample_weight=None, axis=-1, empty="nan", grad=True,
                    check_finite=False, validate=True, **options):
            check_option("reduction", reduction, valid)
            check_option("empty", empty, EMPTY_POLICIES)
            given = _bind(inputs, args, options, name)
            pred = as_floats(given[first], first)
            dtype = pred.dtype
            work = compute_dtype(dtype, first)
            arrays = {**given, first: pred.astype(work, copy=False)}
            if check_finite:
                _check_inputs_finite(arrays, name)
            arrays, moved, axis = _layout(kind, arrays, axis, name)
            ctx = Context(name=name, dtype=dtype, want_grad=bool(grad), validate=bool(validate),
                          given=given[first])
            with np.errstate(all="ignore"):
                parts = body(*arrays.values(), ctx, **options)
                sw = None if sample_weight is None else as_weights(
                    sample_weight, parts.value.shape, name="sample_weight", loss=name, dtype=work)
                if parts.fill is not None:
                    parts.grad = parts.fill(reduction_factor(
                        parts, reduction=reduction, sample_weight=sw) if ctx.want_grad else None)
                value, factor = reduce(parts, reduction=reduction, sample_weight=sw, empty=empty)
                finish = functools.partial(_finish_grads, grad=parts.grad, arrays=arrays,
                                           given=given, moved=moved, axis=axis, dtype=dtype,
                                           name=name, scaled=parts.fill is not None)
                grads = finish(factor)
                # Inside errstate: a float32 value beyond float16's range becomes inf, silently.
                aux = {k: np.asarray(a).astype(dtype, copy=False) for k, a in parts.aux.items()}
                value = np.asarray(value).astype(dtype, copy=False)
            if parts.fill is not None and parts.coupled:
                vjp = _coupled_vjp(lambda f: finish(f, grad=parts.fill(f)), factor, value.shape)
            else:
                vjp = _coupled_vjp(finish, factor, value.shape) if callable(parts.grad) else None
            return LossResult(value=value, grad=grads.get(first), grads=grads, aux=aux, vjp=vjp)

        common = [
            inspect.Parameter("reduction", inspect.Parameter.KEYWORD_ONLY, default="mean"),
            inspect.Parameter("sample_weight", inspect.Parameter.KEYWORD_ONLY, default=None),
        ]
        if kind == "rows":
            common.append(inspect.Parameter("axis", inspect.Parameter.KEYWORD_ONLY, default=-1))
        common += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d) for n, d in
                   (("empty", "nan"), ("grad", True), ("check_finite", False), ("validate", True))]
        public.__signature__ = sig.replace(parameters=params[:at] + params[at + 1:] + common)
        public.__doc__ = ((body.__doc__ or "").rstrip() + "\n" + COMMON_ARGUMENTS
                          + _reductions_doc(reductions))
        public.body = body
        public.kind = kind
        public.rows = kind == "rows"  # the command line's input makers read it
        public.inputs = tuple(inputs.parameters)
        public.reductions = valid
        return public

    return decorate


def _reductions_doc(reductions) -> str:
    """The docstring lines of a loss's extra reductions (none for most losses)."""
    if not reductions:
        return ""
    lines = [textwrap.fill(EXTRA_REDUCTIONS[r], 96, initial_indent="    ",
                           subsequent_indent="        ") for r in reductions]
    return "\nReductions of this loss beyond the common four:\n" + "\n".join(lines) + "\n"


def _bind(inputs: inspect.Signature, args: tuple, named: dict, loss: str) -> dict:
    """The inputs by name, from ``args`` and the entries of ``named`` that name an input (taken
    out of ``named``, which keeps the options)."""
    picked = {k: named.pop(k) for k in list(named) if k in inputs.parameters}
    try:
        bound = inputs.bind(*args, **picked)
    except TypeError as error:
        raise TypeError(f"{loss}(): {error}; its inputs are "
                        f"{', '.join(inputs.parameters)}") from None
    bound.apply_defaults()
    return dict(bound.arguments)


def _layout(kind: str, arrays: dict, axis, name: str):
    """The inputs as the body sees them, the names of those moved class-last, and the class axis."""
    first, pred = next(iter(arrays.items()))
    if kind == "rows":
        return _class_axis_last(arrays, axis, name)
    if axis != -1:
        what = "works entry by entry" if kind == "elementwise" else "gives one value per sample"
        raise OptionError(f"{name} {what} and takes no axis (got axis={axis!r}); reduce the "
                          "result instead")
    if kind == "per_sample" and pred.ndim == 0:
        raise ShapeError(f"{name}: {first} needs a first (sample) axis, got a scalar")
    return arrays, set(), axis


def _class_axis_last(arrays: dict, axis, name: str):
    first, pred = next(iter(arrays.items()))
    if pred.ndim == 0:
        raise ShapeError(f"{name}: {first} needs a class axis, got a scalar")
    if not isinstance(axis, (int, np.integer)) or not -pred.ndim <= axis < pred.ndim:
        raise OptionError(f"{name}: axis={axis!r} is not an axis of {first} with shape {pred.shape}")
    axis = int(axis) % pred.ndim
    if pred.shape[axis] == 0:
        raise ShapeError(f"{name}: {first} of shape {pred.shape} has no classes on axis {axis}")
    moved = {k for k, x in arrays.items() if k == first or np.shape(x) == pred.shape}
    return ({k: np.moveaxis(np.asarray(x), axis, -1) if k in moved else x
             for k, x in arrays.items()}, moved, axis)


def _floating(x) -> np.ndarray | None:
    """x as an array when it holds floating numbers (bfloat16 included), else None."""
    a = np.asarray(x)
    return a if a.dtype.kind == "f" or a.dtype == _bfloat16() else None


def _check_inputs_finite(arrays: dict, name: str) -> None:
    for key, x in arrays.items():
        a = _floating(x)
        if a is not None:
            check_finite(a, key, name)


def _finish_grads(factor, *, grad, arrays, given, moved, axis, dtype, name, scaled=False) -> dict:
    """Each body gradient times the reduction factor (a coupled body's VJP called with it instead;
    a fused body's, ``scaled``, already multiplied), summed down to its input's shape, moved back to
    the caller's layout, in its input's dtype (the prediction's: the caller's dtype)."""
    if grad is None:
        return {}
    coupled = callable(grad)
    if coupled:
        with np.errstate(all="ignore"):
            grad = grad(factor)
    first = next(iter(arrays))
    grads = grad if isinstance(grad, dict) else {first: grad}
    keep = (*arrays.values(), *given.values())
    out = {}
    for key, g in grads.items():
        g = np.asarray(g)
        if not (coupled or scaled):
            others = [h for k, h in grads.items() if k != key]
            g = _times_factor(g, _per_entry(factor, g, factor.shape, name), keep=(*keep, *others))
        g = _unbroadcast(g, np.shape(arrays[key]), name, key)
        if key in moved and axis != g.ndim - 1:  # a no-op move would still make a new view
            g = np.moveaxis(g, -1, axis)
        held = None if key == first else _floating(given[key])
        # Not np.ascontiguousarray: it turns the gradient of a 0-d input into shape (1,).
        out[key] = np.asarray(g, order="C").astype(dtype if held is None else held.dtype,
                                                   copy=False)
    return out


def _coupled_vjp(finish: Callable, factor: np.ndarray, shape: tuple) -> Callable:
    """LossResult.vjp of a coupled loss: a cotangent of the (reduced) value, times the factor
    that reduction gave each unreduced value, is the weight the body's VJP needs."""

    def vjp(cotangent) -> dict:
        g = np.asarray(cotangent, dtype=factor.dtype)
        if g.shape != shape:
            raise ShapeError(f"vjp: a cotangent of shape {g.shape} does not match the loss "
                             f"value's shape {shape}; give one cotangent per value")
        return finish(g * factor)

    return vjp


def _unbroadcast(g: np.ndarray, shape: tuple, name: str, key: str) -> np.ndarray:
    """g summed down to ``shape``: over the trailing axes ``shape`` lacks, and over the axes where
    it has size 1.

    An input with fewer axes lines up with the gradient's leading axes (the sample axis first), as
    ``sample_weight`` does and as PyTorch's GaussianNLLLoss takes var of shape (N,) against (N, D);
    not with the trailing ones as in NumPy broadcasting.
    """
    if g.shape == shape:
        return g
    lead = g.shape[: len(shape)]
    if len(shape) > g.ndim or any(s not in (1, n) for s, n in zip(shape, lead)):
        raise ShapeError(
            f"{name}: {key} of shape {shape} does not line up with the shape {g.shape} the loss "
            "broadcasts it to; an input with fewer axes matches the leading ones and may have "
            "size 1 where it is shared, e.g. (N,) or (N, 1) against (N, D)"
        )
    g = np.sum(g, axis=tuple(range(len(shape), g.ndim)))
    return np.sum(g, axis=tuple(i for i, (s, n) in enumerate(zip(shape, lead)) if s != n),
                  keepdims=True)


def _times_factor(g: np.ndarray, f: np.ndarray, keep) -> np.ndarray:
    """g·f, in g's own buffer when that buffer is the body's to give away.

    A gradient is as large as the prediction (N×V logits for a sparse CE); scaling it into a second
    buffer would double the peak memory. It is scaled in place unless it is read-only, would change
    shape or dtype, or shares memory with an input or another returned gradient.
    """
    own = (g.flags.writeable and np.broadcast_shapes(g.shape, f.shape) == g.shape
           and np.result_type(g, f) == g.dtype
           and not any(np.may_share_memory(g, np.asarray(x)) for x in keep))
    return np.multiply(g, f, out=g) if own else g * f


def sparse_weights(labels: np.ndarray, *, num_classes: int, class_weight, ignore_index, loss: str,
                   dtype):
    """Labels safe to gather with, each entry's class weight and validity, and the class weights.

    Returns (safe_labels, norm, valid, weights): ignored entries point at class 0 in
    ``safe_labels`` and have norm 0; ``norm`` is None when there are no class weights and nothing
    is ignored; ``weights`` is the checked (C,) vector, or None without class weights.
    """
    valid = None if ignore_index is None else labels != ignore_index
    safe = labels if valid is None else np.where(valid, labels, 0)
    if class_weight is None:
        return safe, (None if valid is None else valid.astype(dtype)), valid, None
    cw = class_weights(class_weight, num_classes, loss=loss, dtype=dtype)
    norm = cw[safe] if valid is None else np.where(valid, cw[safe], 0).astype(dtype)
    return safe, norm, valid, cw


def take_class(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """x[..., labels] along the last axis, one entry per label (no one-hot is built)."""
    return np.take_along_axis(x, labels[..., None], axis=-1)[..., 0]
