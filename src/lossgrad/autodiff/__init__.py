"""lossgrad's reverse-mode autodiff: Tensors, primitive ops with closed-form VJPs, two doors into
the same engine (PyTorch's ``backward()``/``.grad`` and TensorFlow's ``GradientTape``), gradient
checks, and losses on Tensors.

>>> from lossgrad.autodiff import Tensor, relu
>>> w = Tensor([[1.0, -2.0]], requires_grad=True)
>>> relu(w * 3).sum().backward()
>>> print(w.grad)
[[3. 0.]]
"""

from . import nnops as _nnops
from . import ops as _ops
from .bridge import loss_on_tensors, on_graph, tensor_aware
from .conv import avg_pool1d, avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d
from .check import GradcheckError, gradcheck, gradgradcheck
from .nnops import dropout, gelu, log_softmax, logsumexp, relu, sigmoid, softmax
from .ops import (abs, add, astype, broadcast_to, clip, concat, div, equal, erf, exp, flatten,
                  getitem, greater, greater_equal, less, less_equal, log, matmul, max, maximum,
                  mean, min, minimum, mul, neg, not_equal, pad, permute, pow, reshape,
                  scatter_add, sqrt, squeeze, stack, sub, sum, swapaxes, tanh, tensor, transpose,
                  unsqueeze, where)
from .tape import GradientTape, Variable
from .tensor import Tensor, enable_grad, grad, is_grad_enabled, no_grad, record, unbroadcast

# Tensor's operators and methods live beside their VJPs; attaching them here, once the ops exist,
# works whichever module of the package is imported first.
_ops.install(Tensor)
_nnops.install(Tensor)

__all__ = [
    "Tensor", "Variable", "GradientTape", "grad", "no_grad", "enable_grad", "is_grad_enabled",
    "record", "unbroadcast", "tensor",
    "gradcheck", "gradgradcheck", "GradcheckError",
    "loss_on_tensors", "on_graph", "tensor_aware",
    # ops
    "add", "sub", "mul", "div", "neg", "pow", "abs", "matmul",
    "less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
    "exp", "log", "sqrt", "tanh", "erf", "sum", "mean", "max", "min",
    "reshape", "flatten", "unsqueeze", "squeeze", "permute", "swapaxes", "transpose",
    "broadcast_to", "concat", "stack", "pad", "getitem", "scatter_add",
    "where", "maximum", "minimum", "clip", "astype",
    "relu", "sigmoid", "gelu", "softmax", "log_softmax", "logsumexp", "dropout",
    "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
]
