"""Ready models: a multi-layer perceptron and LeNet-5, with PyTorch-compatible parameter names."""

from __future__ import annotations

import numpy as np

from ..errors import OptionError
from . import layers
from .layers import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, generator
from .module import Module, Sequential


def mlp(sizes, activation: str | None = "relu", output_activation: str | None = None, *,
        bias: bool = True, rng=None, dtype=np.float32) -> Sequential:
    """Dense layers of the given widths with an activation between them.

    sizes: [in, hidden…, out], at least two widths. activation: the hidden activation's name
    (see ``lossgrad.nn.ACTIVATIONS``) or None; output_activation: one after the last layer, or None
    for raw outputs (logits). The result is a Sequential — Dense, activation, Dense, … — named
    like the ``torch.nn.Sequential`` of the same layers ("0.weight", "2.weight", …). One ``rng``
    (a Generator or a seed) initialises every layer in order.

    ``mlp([2, 3, 2, 1], "sigmoid")`` is the 2-3-2-1 XOR network of seed 004, with logits out.

    >>> net = mlp([2, 3, 2, 1], "sigmoid", rng=0)
    >>> [name for name, _ in net.named_parameters()][:3], len(net)
    (['0.weight', '0.bias', '2.weight'], 5)
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise OptionError(f"mlp: sizes needs at least an input and an output width, got {sizes}")
    hidden, out = (None if name is None else layers.activation_class(name)
                   for name in (activation, output_activation))  # checked even when unused
    classes = [hidden] * (len(sizes) - 2) + [out]
    rng = generator(rng)
    stack = []
    for n_in, n_out, cls in zip(sizes, sizes[1:], classes):
        stack.append(Dense(n_in, n_out, bias, rng=rng, dtype=dtype))
        if cls is not None:
            stack.append(cls())
    return Sequential(*stack)


class LeNet5(Module):
    """LeNet-5 for 32×32 inputs: conv(in→6, 5) → act → pool 2 → conv(6→16, 5) → act → pool 2 →
    flatten → fc(400→120) → act → fc(120→84) → act → fc(84→classes).

    Parameters ``conv1``, ``conv2``, ``fc1``, ``fc2``, ``fc3`` (weight and bias each), the names of
    the usual PyTorch LeNet5 class, so its state dict loads there and back. Build it with
    :func:`lenet5`.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, activation: str = "relu",
                 pool: str = "max", *, rng=None, dtype=np.float32):
        super().__init__()
        pools = {"max": MaxPool2D, "avg": AvgPool2D}
        if pool not in pools:
            raise OptionError(f"lenet5: pool must be one of {', '.join(pools)}, got {pool!r}")
        rng = generator(rng)
        self.conv1 = Conv2D(in_channels, 6, 5, rng=rng, dtype=dtype)
        self.conv2 = Conv2D(6, 16, 5, rng=rng, dtype=dtype)
        self.fc1 = Dense(16 * 5 * 5, 120, rng=rng, dtype=dtype)
        self.fc2 = Dense(120, 84, rng=rng, dtype=dtype)
        self.fc3 = Dense(84, num_classes, rng=rng, dtype=dtype)
        self.act = layers.activation(activation)
        self.pool = pools[pool](2)
        self.flatten = Flatten()

    def forward(self, x):
        """Images (N, in_channels, 32, 32) ↦ class scores (N, num_classes)."""
        x = self.pool(self.act(self.conv1(x)))
        x = self.pool(self.act(self.conv2(x)))
        x = self.act(self.fc1(self.flatten(x)))
        return self.fc3(self.act(self.fc2(x)))


def lenet5(in_channels: int = 1, num_classes: int = 10, activation: str = "relu",
           pool: str = "max", *, rng=None, dtype=np.float32) -> LeNet5:
    """LeNet-5 (see :class:`LeNet5`); pool is "max" or "avg", rng a Generator or a seed.

    >>> net = lenet5(rng=0)
    >>> [name for name, _ in net.named_parameters()][::2]
    ['conv1.weight', 'conv2.weight', 'fc1.weight', 'fc2.weight', 'fc3.weight']
    """
    return LeNet5(in_channels, num_classes, activation, pool, rng=rng, dtype=dtype)
