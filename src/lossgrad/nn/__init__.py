"""lossgrad.nn: modules, layers, initialisers and ready models on the autodiff engine.

Layout and names are PyTorch's (NCHW inputs, weights (out, in, *kernel), dotted parameter names),
so weights move between lossgrad and PyTorch with ``state_dict`` / ``load_state_dict``.

>>> import numpy as np
>>> from lossgrad.autodiff import Tensor
>>> net = mlp([2, 3, 1], "tanh", rng=0)
>>> out = net(Tensor(np.ones((4, 2), np.float32)))
>>> out.sum().backward()
>>> out.shape, net[0].weight.grad.shape
((4, 1), (3, 2))
"""

from . import init
from .layers import (
    ACTIVATIONS,
    GELU,
    AvgPool1D,
    AvgPool2D,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Linear,
    LogSoftmax,
    MaxPool1D,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    activation,
)
from .models import LeNet5, lenet5, mlp
from .module import IncompatibleKeys, Module, Parameter, Sequential

__all__ = [
    "ACTIVATIONS",
    "GELU",
    "AvgPool1D",
    "AvgPool2D",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "IncompatibleKeys",
    "LeNet5",
    "Linear",
    "LogSoftmax",
    "MaxPool1D",
    "MaxPool2D",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "activation",
    "init",
    "lenet5",
    "mlp",
]
