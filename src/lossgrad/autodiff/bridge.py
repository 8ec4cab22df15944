"""Losses on Tensors: a lossgrad loss computed on the arrays and put on the graph, its VJP the
loss's own closed-form gradient — the engine never differentiates inside a loss.

A loss's ``result.grads`` holds ∂(Σ value)/∂input for each differentiable input, by argument
name, and each value entry depends only on its own slice of the inputs (DESIGN.md §3). So for a
cotangent g of the value's shape, the cotangent of an input is g, with the axes the value lacks
(the class axis of a row loss, the axes a per-sample mean averaged) put back as length 1,
times that gradient; for a reduced (0-d) value it is the scalar g times the gradient.

The closed-form gradient is a constant to the engine, so it is not differentiated again: a second
derivative through a loss (``grad(create_graph=True)`` and then a backward through that
gradient) raises NotImplementedError naming the loss. Compose the loss from engine ops to get one.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from .ops import mul
from .tensor import Tensor, is_grad_enabled, record


def loss_on_tensors(public, args, kwargs) -> Tensor:
    """``public(*args, **kwargs)`` (a lossgrad loss's public function) with Tensor inputs: its
    value as a Tensor on the graph; each Tensor input gets ``result.grads`` of its argument name.

    The loss runs on the arrays, with grad=True only when a Tensor input requires a gradient and
    recording is on.

    >>> from lossgrad import losses
    >>> logits = Tensor([[2.0, 1.0, 0.1]], requires_grad=True)
    >>> loss = loss_on_tensors(losses.softmax_cross_entropy, (logits, [[1.0, 0.0, 0.0]]), {})
    >>> loss.backward()
    >>> print(round(loss.item(), 4), logits.grad.round(4))
    0.417 [[-0.341   0.2424  0.0986]]
    """
    signature = getattr(public, "__signature__", None) or inspect.signature(public)
    names = [p.name for p in signature.parameters.values()
             if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    named = {**dict(zip(names, args)), **kwargs}
    arrays = {key: _array(value) for key, value in named.items()}
    # ``grad`` is the engine's business here: a caller's grad= is replaced, not an error.
    result = public(*(arrays[n] for n in names[:len(args)]),
                    **{k: arrays[k] for k in kwargs if k != "grad"},
                    grad=_wants_gradient(named.values()))
    inputs = {key: value for key, value in named.items() if isinstance(value, Tensor)}
    return on_graph(result, {key: (t, result.grads.get(key)) for key, t in inputs.items()},
                    loss=public.__name__, axis=kwargs.get("axis"))


def tensor_aware(fn, *, prediction: str, name: str | None = None, axis=None):
    """Wrap a framework front end's loss function (it returns a LossResult whose ``grad`` is
    with respect to the argument named ``prediction``) so that Tensor inputs give a Tensor on the
    graph; without Tensor inputs the call is unchanged.

    name: the loss named in error messages (the function's name when None).
    axis: arguments ↦ where the gradient has axes the value lacks (see :func:`on_graph`); by
        default the call's ``axis`` argument, or the trailing axes when it has none.
    """
    signature = inspect.signature(fn)
    axis = axis or (lambda arguments: arguments.get("axis"))

    @functools.wraps(fn)
    def call(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        inputs = {k: v for k, v in bound.arguments.items() if isinstance(v, Tensor)}
        if not inputs:
            return fn(*args, **kwargs)
        for key, value in inputs.items():
            bound.arguments[key] = value.data
        result = fn(*bound.args, **bound.kwargs)
        bound.apply_defaults()
        gradients = {key: (t, result.grad if key == prediction else None)
                     for key, t in inputs.items()}
        return on_graph(result, gradients, loss=name or fn.__name__,
                        axis=axis(bound.arguments), keys={prediction: next(iter(result.grads), None)})

    return call


def on_graph(result, inputs: dict, *, loss: str, axis=None, keys: dict | None = None) -> Tensor:
    """``result.value`` as a Tensor whose VJP scales each input's closed-form gradient.

    inputs: argument name → (Tensor, ∂(Σ value)/∂that input as an array, or None where the
        loss has no closed form for it — a backward that needs it raises NotImplementedError).
    axis: where the gradients have axes the value lacks (an int or tuple; None: trailing).
    keys: argument name → its name in ``result.grads`` where they differ (a front end's
        ``y_pred`` is the loss's first input).

    A coupled loss (each value depends on the whole batch: ``result.vjp`` is set) cannot have its
    cotangent broadcast against per-value gradients; its own VJP weighs the values instead.
    """
    value = np.asarray(result.value)
    names = list(inputs)
    keys = keys or {}

    def vjp(g, out):
        whole = None if result.vjp is None else result.vjp(g.data)
        cotangents = []
        for name in names:
            tensor, gradient = inputs[name]
            if not tensor.requires_grad:
                cotangents.append(None)
                continue
            if whole is not None:
                gradient = whole.get(keys.get(name, name))
                product = None if gradient is None else Tensor(gradient.astype(tensor.dtype))
            else:
                product = None if gradient is None else mul(
                    _expanded(g, value.ndim, gradient.ndim, axis),
                    gradient.astype(tensor.dtype, copy=False))
            cotangents.append(_constant(product, g, tensor, loss, name))
        return tuple(cotangents)

    return record(value, tuple(t for t, _ in inputs.values()), vjp)


def _constant(product: Tensor | None, g: Tensor, tensor: Tensor, loss: str, name: str) -> Tensor:
    """The cotangent of one input; under create_graph, a node that refuses differentiation."""
    if product is None:
        raise NotImplementedError(
            f"{loss}: no closed-form gradient with respect to {name}, which requires a gradient; "
            f"pass {name}.detach() (or a plain array), or build the loss from engine ops")
    if not is_grad_enabled():
        return product

    def refuse(gg, out):
        raise NotImplementedError(
            f"{loss}: its closed-form gradient is not differentiable again (a second derivative "
            f"with respect to {name} was asked for); build the loss from engine ops to get one")

    # create_graph=True: the cotangent depends on g and, through the constant closed form, on the
    # input; neither dependence is recorded, so this node refuses to be differentiated.
    return record(product.data, (g, tensor), refuse)


def _expanded(g: Tensor, value_ndim: int, grad_ndim: int, axis) -> Tensor:
    """The cotangent with length-1 axes where the gradient has axes the value lacks."""
    if g.ndim == 0 or value_ndim == grad_ndim:
        return g
    if axis is None:
        missing = range(value_ndim, grad_ndim)
    else:
        missing = sorted(int(a) % grad_ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
    shape = list(g.shape)
    for a in missing:
        shape.insert(a, 1)
    return g.reshape(tuple(shape))


def _array(value):
    return value.data if isinstance(value, Tensor) else value


def _wants_gradient(values) -> bool:
    return is_grad_enabled() and any(isinstance(v, Tensor) and v.requires_grad for v in values)
