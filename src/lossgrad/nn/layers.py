"""Layers: Dense (Linear), Conv1D, Conv2D, pooling, Flatten, Dropout and the activations.

Weights are stored in PyTorch's layout — Dense (out_features, in_features), ConvND (out_channels,
in_channels/groups, *kernel) — and named ``weight`` and ``bias``, so a state dict loads into
``torch.nn.Linear`` / ``Conv1d`` / ``Conv2d`` unchanged. Layers only compose ops
(:mod:`lossgrad.autodiff`); convolution and pooling are primitives of :mod:`lossgrad.autodiff.conv`.

Initialisation: by default PyTorch's scheme (weights U(±1/√fan_in) — ``kaiming_uniform`` with
a = √5 — and biases U(±1/√fan_in)); ``weight_init`` / ``bias_init`` take a name or a function
from :mod:`lossgrad.nn.init` (``"glorot_uniform"`` and ``"zeros"`` give Keras's defaults). ``rng``
is a NumPy Generator or a seed; the weight is drawn before the bias.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import conv, nnops, ops
from ..errors import OptionError
from . import init
from .module import Module, Parameter


def generator(rng) -> np.random.Generator:
    """A NumPy Generator from a Generator (used as it is), a seed, or None (fresh entropy)."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _weights(layer: Module, shape: tuple, bias: bool, weight_init, bias_init, rng, dtype) -> None:
    """Give ``layer`` its ``weight`` of ``shape`` and its ``bias`` (one per output) or None."""
    rng, dtype = generator(rng), np.dtype(dtype)
    if dtype.kind != "f":
        raise OptionError(f"{type(layer).__name__}: dtype must be a floating dtype, got {dtype}")
    make = init.torch_default if weight_init is None else init.get(weight_init)
    layer.weight = Parameter(make(shape, rng, dtype=dtype))
    if not bias:
        layer.bias = None
    elif bias_init is None:
        layer.bias = Parameter(init.torch_default_bias(shape[:1], init.fans(shape)[0], rng, dtype))
    else:
        layer.bias = Parameter(init.get(bias_init)(shape[:1], rng, dtype=dtype))


def _positive(layer: str, **sizes) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise OptionError(f"{layer}: {name} must be an int ≥ 1, got {value!r}")


class Dense(Module):
    """y = x·Wᵀ + b over the last axis; W of shape (out_features, in_features) as
    ``torch.nn.Linear`` (alias :data:`Linear`).

    >>> from lossgrad.autodiff import Tensor
    >>> layer = Dense(3, 2, rng=0)
    >>> layer.weight.shape, layer(Tensor(np.ones((4, 3), np.float32))).shape
    ((2, 3), (4, 2))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 weight_init=None, bias_init=None, rng=None, dtype=np.float32):
        super().__init__()
        _positive("Dense", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        _weights(self, (self.out_features, self.in_features), bias, weight_init, bias_init, rng,
                 dtype)

    def forward(self, x):
        """x (…, in_features) ↦ (…, out_features)."""
        y = ops.matmul(x, self.weight.T)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


Linear = Dense


class _ConvND(Module):
    """Shared by Conv1D and Conv2D: the weight (out, in/groups, *kernel) and the arguments."""

    dims = 0
    op = staticmethod(conv.conv2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, *, weight_init=None,
                 bias_init=None, rng=None, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        _positive(name, in_channels=in_channels, out_channels=out_channels, groups=groups)
        if in_channels % groups or out_channels % groups:
            raise OptionError(f"{name}: in_channels ({in_channels}) and out_channels "
                              f"({out_channels}) must both be divisible by groups ({groups})")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = conv._ints(name, "kernel_size", kernel_size, self.dims, 1)
        self.stride = conv._ints(name, "stride", stride, self.dims, 1)
        self.dilation = conv._ints(name, "dilation", dilation, self.dims, 1)
        # Refuse a bad padding ("full", "same" with a stride) now rather than at the first call.
        conv._conv_pads(name, padding, self.kernel_size, self.stride, self.dilation)
        self.padding = padding if isinstance(padding, str) else conv._ints(
            name, "padding", padding, self.dims, 0)
        shape = (out_channels, in_channels // groups) + self.kernel_size
        _weights(self, shape, bias, weight_init, bias_init, rng, dtype)

    def forward(self, x):
        """x (N, C_in, *spatial) or unbatched (C_in, *spatial) ↦ (N, C_out, *spatial_out)."""
        return self.op(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                       self.groups)

    def extra_repr(self) -> str:
        ones, zeros = (1,) * self.dims, (0,) * self.dims
        parts = [f"{self.in_channels}, {self.out_channels}", f"kernel_size={self.kernel_size}",
                 f"stride={self.stride}"]
        parts += [f"padding={self.padding}"] if self.padding != zeros else []
        parts += [f"dilation={self.dilation}"] if self.dilation != ones else []
        parts += [f"groups={self.groups}"] if self.groups != 1 else []
        parts += ["bias=False"] if self.bias is None else []
        return ", ".join(parts)


class Conv1D(_ConvND):
    """1-d convolution over (N, C, L) with weight (out_channels, in_channels/groups, kernel), as
    ``torch.nn.Conv1d`` (see :func:`lossgrad.autodiff.conv.conv1d`)."""

    dims = 1
    op = staticmethod(conv.conv1d)


class Conv2D(_ConvND):
    """2-d convolution over (N, C, H, W) with weight (out_channels, in_channels/groups, kh, kw),
    as ``torch.nn.Conv2d`` (see :func:`lossgrad.autodiff.conv.conv2d`).

    >>> from lossgrad.autodiff import Tensor
    >>> layer = Conv2D(1, 6, 5, rng=0)
    >>> layer.weight.shape, layer(Tensor(np.zeros((2, 1, 32, 32), np.float32))).shape
    ((6, 1, 5, 5), (2, 6, 28, 28))
    """

    dims = 2
    op = staticmethod(conv.conv2d)


class _Pool(Module):
    """Shared by the pooling layers: the arguments, kept to call the op and to show them."""

    op = staticmethod(conv.max_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, **options):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.options = options

    def forward(self, x):
        """x (N, C, *spatial) or unbatched ↦ pooled windows."""
        return self.op(x, self.kernel_size, self.stride, self.padding, **self.options)

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        options = "".join(f", {k}={v}" for k, v in self.options.items())
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}{options}"


class MaxPool1D(_Pool):
    """Max over windows of (N, C, L), as ``torch.nn.MaxPool1d`` (see
    :func:`lossgrad.autodiff.conv.max_pool1d`: the gradient goes to the first maximum)."""

    op = staticmethod(conv.max_pool1d)

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        super().__init__(kernel_size, stride, padding, dilation=dilation)


class MaxPool2D(_Pool):
    """Max over windows of (N, C, H, W), as ``torch.nn.MaxPool2d``."""

    op = staticmethod(conv.max_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        super().__init__(kernel_size, stride, padding, dilation=dilation)


class AvgPool1D(_Pool):
    """Mean over windows of (N, C, L), as ``torch.nn.AvgPool1d`` (count_include_pad=True by
    default, as PyTorch)."""

    op = staticmethod(conv.avg_pool1d)

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding, count_include_pad=count_include_pad)


class AvgPool2D(_Pool):
    """Mean over windows of (N, C, H, W), as ``torch.nn.AvgPool2d``."""

    op = staticmethod(conv.avg_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding, count_include_pad=count_include_pad)


class Flatten(Module):
    """Axes start_dim … end_dim merged into one (``torch.nn.Flatten``: the batch axis stays)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        """x with the axes merged."""
        return ops.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Inverted dropout with drop probability p, active only in training mode (identity after
    ``eval()``); masks come from this layer's own Generator (``rng``: a Generator or a seed).

    >>> from lossgrad.autodiff import Tensor
    >>> drop = Dropout(0.5, rng=0)
    >>> x = Tensor(np.ones(4, np.float32))
    >>> print(drop(x).numpy(), drop.eval()(x).numpy())
    [2. 0. 0. 0.] [1. 1. 1. 1.]
    """

    def __init__(self, p: float = 0.5, *, rng=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise OptionError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p, self.rng = float(p), generator(rng)

    def forward(self, x):
        """x with entries dropped and the rest scaled by 1/(1 − p) in training; x in evaluation."""
        return nnops.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _Activation(Module):
    """A parameterless module around one activation op."""

    fn = staticmethod(nnops.relu)

    def forward(self, x):
        """The activation applied to x."""
        return self.fn(x)


class ReLU(_Activation):
    """max(x, 0) (relu′(0) = 0, as PyTorch)."""

    fn = staticmethod(nnops.relu)


class Sigmoid(_Activation):
    """1 / (1 + e^(−x)), computed without overflow."""

    fn = staticmethod(nnops.sigmoid)


class Tanh(_Activation):
    """tanh(x)."""

    fn = staticmethod(ops.tanh)


class GELU(_Activation):
    """x·Φ(x); approximate="tanh" for the tanh approximation (``torch.nn.GELU``)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        """GELU of x."""
        return nnops.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(_Activation):
    """Softmax along ``axis`` (default the last; PyTorch calls it ``dim``)."""

    fn = staticmethod(nnops.softmax)

    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        """Softmax of x along the axis."""
        return self.fn(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Softmax):
    """Log-softmax along ``axis``, exact where the softmax underflows."""

    fn = staticmethod(nnops.log_softmax)


#: Activation names (for :func:`lossgrad.nn.mlp` and :func:`lossgrad.nn.lenet5`) → module class.
ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "gelu": GELU, "softmax": Softmax,
               "log_softmax": LogSoftmax}


def activation_class(name: str) -> type:
    """The activation module class of a name (see ``ACTIVATIONS``); OptionError listing the valid
    names otherwise."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise OptionError(f"unknown activation {name!r}; valid names: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def activation(name: str) -> Module:
    """A new activation module from its name (see ``ACTIVATIONS``)."""
    return activation_class(name)()
